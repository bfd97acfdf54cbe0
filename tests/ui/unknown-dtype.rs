// Rule: the element type is `f32` or `f64`. Why: those are the two types the
// runtime's kernels are written for.

use macrograd::prelude::*;

model! {
    pub struct Net;
    dtype f16;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
