// An argument given twice (positionally and by name) is ambiguous.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01, lr = 0.1)
}

fn main() {
    let _ = Net::new();
}
