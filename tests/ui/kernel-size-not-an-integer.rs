// Rule: a kernel size, stride or padding is an integer or a pair `(h, w)` of
// integers, as in PyTorch. Why: a window has a whole number of pixels.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 4, 2.5);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
