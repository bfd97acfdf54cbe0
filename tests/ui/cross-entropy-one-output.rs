// CrossEntropy needs one output per class, at least two.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
