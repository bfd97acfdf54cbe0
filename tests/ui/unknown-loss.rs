// Rule: loss names are the catalog's, PyTorch's without the `Loss` suffix.
// Why: `MSELoss` is PyTorch's spelling, so the error points to `MSE` rather
// than listing every loss.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSELoss;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
