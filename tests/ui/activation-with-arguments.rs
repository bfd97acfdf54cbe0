// Rule: a layer without parameters takes no arguments. Why: `ReLU(1)` means
// something the layer does not do; the error says it expects none.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 4);
    ReLU(1);
    Linear(4, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
