// A layer with no outputs cannot learn anything.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 0);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
