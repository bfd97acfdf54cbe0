// Rule: every size (a window too) is at most 2^32. Why: a window of
// `usize::MAX` cannot fit any image, and its area overflows.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    MaxPool2d(18446744073709551615);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
