// Rule: one sample has at most 2^32 values. Why: `Flatten` of a
// 4294967296 x 4294967296 x 2 image would have 2^65 features, more than a
// `usize` holds; the error is on the `input`, and nothing after it adds
// a second one.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [4294967296, 4294967296, 2];
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
