// All mistakes of a model are reported in one build, one error each.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 64);
    ReLU;
    Linear(32, 1);
    loss MSELoss;
    optim SGD(0.01, momentum = -1)
}

fn main() {
    let _ = Net::new();
}
