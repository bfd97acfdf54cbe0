// Rule: BCE's `pos_weight` values are >= 0. Why: a negative weight rewards
// wrong answers on the positive class.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss BCE(pos_weight = -1.0);
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
