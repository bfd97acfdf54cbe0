// Rule: Adagrad's `lr_decay` is >= 0. Why: the step's learning rate is
// `lr / (1 + (t - 1) lr_decay)`; a negative decay grows it without bound and
// then divides by zero. PyTorch's Adagrad raises `ValueError` for it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim Adagrad(0.1, lr_decay = -0.5)
}

fn main() {
    let _ = Net::new();
}
