// Named arguments must be parameters of the layer, loss or optimizer.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim SGD(0.01, momentun = 0.9)
}

fn main() {
    let _ = Net::new();
}
