// Rule: only `in_features` can be `_` (taken from the layer before);
// `out_features` must be written. Why: nothing before a layer says how wide
// its output should be.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, _);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
