// Rule: an elementwise first layer needs `input N;`, since it keeps the width
// it is given and nothing gives one. Why: the model's input width must be
// known at compile time; the `_` after it follows from the same mistake and is
// not reported again.

use macrograd::prelude::*;

model! {
    pub struct Net;
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
