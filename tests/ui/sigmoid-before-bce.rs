// BCE takes logits and applies the sigmoid itself; a Sigmoid before it trains badly.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    Sigmoid;
    loss BCE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
