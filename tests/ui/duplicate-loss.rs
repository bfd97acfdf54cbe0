// Rule: exactly one `loss`. Why: with two, one would silently win; the error
// goes on the second.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    loss L1;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
