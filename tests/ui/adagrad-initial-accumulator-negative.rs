// Rule: Adagrad's `initial_accumulator_value` is >= 0. Why: it starts the
// sum of squared gradients, whose square root divides every step; a
// negative start leaves the sum negative while gradients are small, and the
// step NaN. PyTorch's Adagrad raises `ValueError` for it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim Adagrad(lr = 0.1, initial_accumulator_value = -0.1)
}

fn main() {
    let _ = Net::new();
}
