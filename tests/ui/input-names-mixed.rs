// Rule: inputs are either one unnamed `input` or all named. Why: an unnamed
// input among named ones could not be referred to.

use macrograd::prelude::*;

model! {
    struct Net;
    input 4;
    input island: category(3);
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
