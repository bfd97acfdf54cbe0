// Rule: a pooling window has at most 2^32 values. Why: the runtime
// multiplies its height by its width (the average's divisor); a window of
// 100000 x 100000 fits an 8 x 8 image padded by half of it, but is nothing a
// model means.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 8, 8];
    AvgPool2d(100000, padding = 50000);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
