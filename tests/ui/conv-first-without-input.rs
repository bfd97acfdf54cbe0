// Rule: a model whose first layer is a convolution declares its image,
// `input [C, H, W];`. Why: `Conv2d` says the channels but not the height
// and width, which every later size depends on.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    Conv2d(1, 4, 3);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
