// Rule: each size mistake is one error, all reported, and none follows
// from another. Why: fix them all in one compile.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(4294967296, 4294967296);
    ReLU;
    Linear(_, 99999999999999999999999);
    Dropout(2);
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
