// `_` needs a layer or an `input N;` before it to take its size from.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(_, 4);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
