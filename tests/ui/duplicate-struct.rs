// Rule: one model, one `struct`. Why: a second `struct Name;` cannot name the
// same model twice.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    struct Other;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
