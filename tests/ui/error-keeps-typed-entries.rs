// Rule: a model with a mistake reports that mistake only. Why: the code
// that uses the model (typed entries, `Default`, an f64 dtype, class-index
// targets) must not pile follow-on errors onto the real one.

use macrograd::prelude::*;

model! {
    pub struct Net;
    dtype f64;
    Linear(3, 0);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let mut net = Net::default();
    let _ = net.forward_rows(&[[1.0_f64, 2.0, 3.0]]);
    let loss: f64 = net.train_step_rows(&[[1.0, 2.0, 3.0]], &[0usize]);
    let _ = loss;
}
