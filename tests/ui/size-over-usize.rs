// Rule: a size is an integer of at most 2^32. Why: a larger literal does
// not fit a `usize`, and no tensor of the model could hold it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(99999999999999999999999, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
