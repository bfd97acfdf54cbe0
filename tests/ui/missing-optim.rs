// A model needs exactly one optimizer to be trained.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
}

fn main() {
    let _ = Net::new();
}
