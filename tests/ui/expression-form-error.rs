// The expression form reports its mistakes like the item form, and the code
// that uses the model adds no follow-on error.

use macrograd::prelude::*;

fn main() {
    let mut model = model! { Linear(10, 2); Tanh; Linear(3, 1); loss MSE; optim SGD(0.01) };
    model.zero_grad();
    let _ = model.summary();
}
