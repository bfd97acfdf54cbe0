// Rule: a convolution's unfolded input (a kernel-sized patch per output
// position, which the runtime allocates in `new()`) has at most 2^32
// values. Why: a large image times the kernel's area can exceed it when the
// image alone does not.

use macrograd::prelude::*;

model! {
    pub struct Net;
    input [1, 65535, 65536];
    Conv2d(1, 1, 3, padding = 1);
    Flatten;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
