// Rule: RMSprop's `alpha` is in [0, 1). Why: it is the decay rate of the
// running average of g^2; at 1 the average never leaves 0 and every step
// divides by `eps`, above 1 it turns negative and the step is NaN. (PyTorch
// checks only `alpha >= 0`; this is stricter, like Adam's betas.)

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 1);
    loss MSE;
    optim RMSprop(lr = 0.01, alpha = 1.0)
}

fn main() {
    let _ = Net::new();
}
