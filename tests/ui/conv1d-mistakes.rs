// Rule: convolutions and pools over time read sequences, and their window
// fits the steps (padding included), the arithmetic spelled out. Why: a
// window longer than the sequence, or a convolution over flat features,
// fails at run time in PyTorch.

use macrograd::prelude::*;

model! {
    struct Net;
    input [6, 2];
    Conv1d(2, 4, 9);
    GlobalAvgPool1d;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.1)
}

model! {
    struct Flat;
    input 12;
    Conv1d(2, 4, 3);
    Linear(_, 1);
    loss MSE;
    optim SGD(0.1)
}

fn main() {
    let _ = (Net::new(), Flat::new());
}
