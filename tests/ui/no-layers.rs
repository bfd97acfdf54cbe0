// Rule: a model has at least one layer. Why: with none there is nothing to
// train; the error points at the end of the model.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input 3;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
