// Rule: `add` adds up its branches, so they must have the same shape. Why:
// a sum of 16 and 8 features is not defined; the error names both branches.

use macrograd::prelude::*;

model! {
    struct Net;
    input 10;
    add {
        Linear(_, 16);
        Linear(_, 8) => ReLU;
    }
    Linear(_, 1);
    loss MSE;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
