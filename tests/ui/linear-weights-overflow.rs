// Rule: every tensor of a model has at most 2^32 values, and the arithmetic
// on sizes is checked. Why: 4294967296 x 4294967296 weights is 2^64, which
// does not even fit a `usize`; the error names the factors instead of a
// wrapped product.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(4294967296, 4294967296);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
