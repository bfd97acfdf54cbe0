// Rule: `BatchNorm1d` normalises flat features and `BatchNorm2d` the
// channels of an image; written out, the form must match the position
// (`BatchNorm` takes it from there). Why: PyTorch raises "expected 2D or 3D
// input" at run time for the wrong one.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 4, 3);
    BatchNorm1d(4);
    ReLU;
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
