// Rule: the learning rate is > 0. Why: zero never trains and a negative one
// climbs the loss; PyTorch raises the same at run time, here it is a compile
// error.

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
