// Extra positional arguments are rejected, not ignored.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1, true, 4);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
