// Rule: a category input holds class indices, which only `Embedding` reads.
// Why: `Linear` on indices would treat category 2 as twice category 1.

use macrograd::prelude::*;

model! {
    struct Net;
    input measurements: 4;
    input island: category(3);
    concat {
        measurements;
        island => Linear(1, 2);
    }
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
