// Rule: `residual` adds its input to its body's output, so both must have
// the same shape. Why: PyTorch fails at run time on `x + body(x)`; here the
// error names both shapes, the layer that made the body's, and the
// shortcut that would fix it.

use macrograd::prelude::*;

model! {
    struct Net;
    input [16, 8, 8];
    residual {
        Conv2d(16, 32, 3, stride = 2, padding = 1);
        BatchNorm;
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
