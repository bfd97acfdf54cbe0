// Rule: argument names are PyTorch's. Why: Keras calls RMSprop's smoothing
// constant `rho`; PyTorch, and this macro, call it `alpha`. The error names
// the argument meant.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim RMSprop(0.001, rho = 0.9)
}

fn main() {
    let _ = Net::new();
}
