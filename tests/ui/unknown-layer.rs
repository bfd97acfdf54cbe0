// Unknown layer names are reported with the closest known name.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linaer(10, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
