// Rule: a shape (`LayerNorm`'s `normalized_shape`) has at most 2^32
// values. Why: it is one sample, and its product would overflow.

use macrograd::prelude::*;

model! {
    pub struct Net;
    LayerNorm([4294967296, 4294967296, 2]);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
