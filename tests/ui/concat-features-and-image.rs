// Rule: `concat` joins flat features with flat features and images with
// images. Why: an image next to features has no channel to join on; the
// error says which branch to flatten.

use macrograd::prelude::*;

model! {
    struct Net;
    input [2, 4, 4];
    concat {
        Flatten => Linear(_, 8);
        Conv2d(2, 3, 1);
    }
    Linear(_, 2);
    loss MSE;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
