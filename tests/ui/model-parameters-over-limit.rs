// Rule: a model has at most 2^32 parameters in all. Why: each layer fits,
// but together they would need more memory than the limit allows; the
// error is on the layer that crosses the limit, with the total.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(65536, 65535);
    ReLU;
    Linear(65535, 65536);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
