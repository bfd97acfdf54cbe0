// Rule: every size (a pool's padding too) is at most 2^32. Why: twice a
// padding of 2^63 overflows; a padding that large has no use.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    MaxPool2d(2, padding = 9223372036854775808);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
