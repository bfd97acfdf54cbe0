// Rule: every tensor of a model has at most 2^32 values (16 GiB of `f32`).
// Why: 10^8 x 10^8 weights (40 petabytes) cannot be allocated; without the
// limit the model compiles and aborts in `new()`.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(100000000, 100000000);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
