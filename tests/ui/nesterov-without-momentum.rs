// Nesterov momentum needs momentum > 0 and no dampening (PyTorch raises the same).

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01, nesterov = true)
}

fn main() {
    let _ = Net::new();
}
