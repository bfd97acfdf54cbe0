// The typed entry takes rows of exactly the model's input width, so two
// features for a three-feature model is a type error in the user's code.

use macrograd::prelude::*;

model! { pub struct Net; Linear(3, 1); loss MSE; optim SGD(0.1) }

fn main() {
    let mut net = Net::new();
    let _ = net.forward_rows(&[[1.0_f32, 2.0]]);
}
