// Exactly one loss: a second one would silently win or be ignored.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    loss L1;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
