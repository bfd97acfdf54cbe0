// Rule: `nesterov = true` needs `momentum` > 0. Why: Nesterov's look-ahead is
// a momentum method; PyTorch's SGD raises `ValueError` for the same arguments.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01, nesterov = true)
}

fn main() {
    let _ = Net::new();
}
