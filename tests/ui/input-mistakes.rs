// Rule: several inputs are named, each once; a block names them at the
// start of its branches, and every input is used. Why: an input the model
// never reads, or a layer with no single input, is a model that cannot be
// what was meant.

use macrograd::prelude::*;

model! {
    struct Net;
    input measurements: 4;
    input island: category(3);
    input island: category(2);
    input sex: category(2);
    Linear(_, 8);
    concat {
        measurements;
        Linear(4, 2) => measurements;
    }
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
