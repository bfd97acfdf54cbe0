// Rule: `Linear` reads flat features; after an image (`Conv2d`, a pool or
// `input [C, H, W]`) it needs `Flatten;` first. Why: PyTorch's `Linear` on a
// `[N, C, H, W]` tensor multiplies the last axis only, a shape error or a
// silent mistake; here the fix is named.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 8, 3);
    MaxPool2d(2);
    Linear(72, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
