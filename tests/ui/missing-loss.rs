// A model needs exactly one loss to be trained.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
