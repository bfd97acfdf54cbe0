// Softmax is an output layer: inside a network it squashes the signal.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 4);
    Softmax;
    Linear(4, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
