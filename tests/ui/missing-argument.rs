// Rule: parameters without a default must be given; `Linear` has no default
// sizes. Why: a guessed width would be silently wrong; the error names what is
// missing.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
