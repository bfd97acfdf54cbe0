// Rule: a loss is written `loss Name;`. Why: a bare `MSE;` reads as a layer;
// the error says what `MSE` is and where it goes, and that one error is all:
// no "missing `loss`" on top of it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
