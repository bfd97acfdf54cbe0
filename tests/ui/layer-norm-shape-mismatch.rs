// Rule: `LayerNorm`'s `normalized_shape`, when given, is the shape of the
// sample before it (a feature count, or `[C, H, W]`). Why: it keeps a scale
// and a shift per value of the sample.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    Conv2d(1, 8, 3);
    MaxPool2d(2);
    Flatten;
    LayerNorm(64);
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
