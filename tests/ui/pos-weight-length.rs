// BCE's pos_weight has one value, or one per output.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 3);
    loss BCE(pos_weight = [1.0, 2.0]);
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
