// Layers come first; the loss and the optimizer close the model.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 4);
    loss MSE;
    ReLU;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
