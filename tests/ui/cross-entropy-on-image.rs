// Rule: `CrossEntropy` reads one logit per class, flat. Why: PyTorch reads
// an image `[N, C, H, W]` as a class per pixel, a different loss; a
// classifier ends in `Flatten;` and a `Linear` to the class count.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 4, 3);
    MaxPool2d(2);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
