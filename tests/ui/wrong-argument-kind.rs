// Sizes are positive integers; a float is a mistake, not a size.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10.5, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
