// Rule: every size (a padding too) is at most 2^32. Why: `H + 2 padding`
// with a padding near 2^63 overflows; a padding that large has no use.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 9223372036854775807);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
