// Rule: `Dropout`'s probability is in [0, 1). Why: below 0 or above 1 it is
// no probability; at 1 every value is dropped in training (PyTorch allows
// it), so nothing before the layer learns: never what a model means.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 64);
    ReLU;
    Dropout(1.0);
    Linear(64, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
