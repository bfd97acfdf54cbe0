// Rule: one sample has at most 2^32 values, after every layer too. Why: a
// padding within the size limit can still make the output image larger
// than the limit (here [1, 4294967297, 4294967297]).

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 1, 1];
    Conv2d(1, 1, 1, padding = 2147483648);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
