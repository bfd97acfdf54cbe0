// Unknown loss names are reported with the closest known name (PyTorch spellings too).

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSELoss;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
