// A layer's input must match the output of the layer before it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 64);
    ReLU;
    Linear(32, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
