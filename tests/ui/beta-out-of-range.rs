// Adam's betas are decay rates in [0, 1).

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim Adam(betas = (0.9, 1.0))
}

fn main() {
    let _ = Net::new();
}
