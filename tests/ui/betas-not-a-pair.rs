// Rule: `betas` is a pair `(beta1, beta2)`, as in PyTorch. Why: a single
// number leaves one of the two decay rates unsaid.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim Adam(betas = 0.9)
}

fn main() {
    let _ = Net::new();
}
