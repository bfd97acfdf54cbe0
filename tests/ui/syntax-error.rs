// Rule: statements are separated by `;`. Why: a syntax error stops parsing, so
// it is reported alone (the first one, as rustc does), and the `Net::new()`
// below adds no follow-on error.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1) ReLU;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
