// Rule: with a shortcut, `residual` adds the shortcut's output to its
// body's: the two must have the same shape. Why: a shortcut of the wrong
// stride cannot be added; the error names both shapes and the layers.

use macrograd::prelude::*;

model! {
    struct Net;
    input [16, 8, 8];
    residual(shortcut = Conv2d(16, 32, 1)) {
        Conv2d(16, 32, 3, stride = 2, padding = 1);
        ReLU;
    }
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
