// Rule: a block at the start needs the model's input declared. Why: its
// branches all start from it, and no single layer can say what it is.

use macrograd::prelude::*;

model! {
    struct Net;
    add {
        Linear(4, 2);
        Linear(4, 2);
    }
    loss MSE;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
