// Rule: every mistake in a model is reported in one build, one error each, in
// the order of the statements. Why: fixing them one compile at a time is slow;
// a wrong shape, an unknown loss and a bad momentum are three independent
// mistakes, so three errors and nothing else.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 64);
    ReLU;
    Linear(32, 1);
    loss MSELoss;
    optim SGD(0.01, momentum = -1)
}

fn main() {
    let _ = Net::new();
}
