// The first layer must take the feature count that `input N;` declares.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input 10;
    Linear(12, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
