// Rule: each layer's in_features equal the out_features of the layer before
// it. Why: a matrix product of the wrong width cannot run; the error goes on
// the wrong number, and checking carries on from the layer's declared output,
// so the rest of the model is not reported too.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 64);
    ReLU;
    Linear(32, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
