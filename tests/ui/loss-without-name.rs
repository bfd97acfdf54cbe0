// Rule: `loss` is followed by the loss's name. Why: a bare `loss;` is a syntax
// error; the error shows an example.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
