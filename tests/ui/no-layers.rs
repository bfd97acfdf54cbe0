// A model without layers has nothing to train.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input 3;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
