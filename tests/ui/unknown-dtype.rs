// Only f32 and f64 models exist.

use macrograd::prelude::*;

model! {
    pub struct Net;
    dtype f16;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
