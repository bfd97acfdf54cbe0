// Rule: hyperparameters are number literals. Why: the macro checks values
// while compiling, so a string (or any expression) cannot be checked and is
// refused.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD("0.01")
}

fn main() {
    let _ = Net::new();
}
