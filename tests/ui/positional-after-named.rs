// Positional arguments come before named ones, as in Rust and Python.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(lr = 0.01, 0.9)
}

fn main() {
    let _ = Net::new();
}
