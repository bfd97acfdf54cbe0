// Rule: `input` and `dtype` come before the layers. Why: they describe what
// the first layer receives, so the model reads top to bottom like the data
// flows.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    input 10;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
