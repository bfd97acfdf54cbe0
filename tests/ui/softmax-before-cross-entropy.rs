// CrossEntropy takes logits and applies log-softmax itself; a Softmax before it trains badly.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 3);
    Softmax;
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
