// `Linear` needs both its sizes.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
