// A learning rate must be positive: zero never trains, a negative one climbs the loss.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(-0.01)
}

fn main() {
    let _ = Net::new();
}
