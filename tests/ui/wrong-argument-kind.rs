// Rule: sizes are integers. Why: `10.5` features is a mistake, not a size to
// round; the error names the kind expected and the one found.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10.5, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
