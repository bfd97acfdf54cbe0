// Rule: a model has exactly one `loss`. Why: without one there is nothing to
// train against; the error points at the end of the model, where it goes.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
