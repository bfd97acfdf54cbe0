// Rule: a pool's padding is at most half its window, as PyTorch requires
// ("pad should be at most half of effective kernel size"). Why: a window
// could otherwise cover padding only.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    MaxPool2d(3, padding = 2);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
