// Rule: each parameter is given once. Why: `lr` given positionally and again
// by name is ambiguous; neither value may silently win.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01, lr = 0.1)
}

fn main() {
    let _ = Net::new();
}
