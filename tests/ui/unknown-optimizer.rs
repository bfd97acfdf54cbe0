// Unknown optimizer names are reported with the closest known name.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim Adma(lr = 1e-3)
}

fn main() {
    let _ = Net::new();
}
