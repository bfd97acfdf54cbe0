// Rule: `Softmax` reads flat features. Why: over an image it would sum to 1
// over every value of the sample, not over the channels of each pixel as
// PyTorch's `Softmax(dim=1)` does; `Flatten;` first says which is meant.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 4, 4];
    Conv2d(1, 2, 3, padding = 1);
    Softmax;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
