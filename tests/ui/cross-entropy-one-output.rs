// Rule: `CrossEntropy` needs one output per class, at least 2. Why: softmax
// over one logit is always 1, so nothing is learned; a yes/no target is 1
// output with `BCE`.

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
