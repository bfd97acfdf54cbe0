// Rule: `Conv2d` and the pools read images; after flat features (a
// `Linear`, a `Flatten`) there is no height or width to slide over. Why:
// the order of the layers is the mistake, and the error says which layer
// made the features flat.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    Flatten;
    Conv2d(1, 4, 3);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
