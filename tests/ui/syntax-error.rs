// Statements are separated by `;`; a syntax error stops at the first.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1) ReLU;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
