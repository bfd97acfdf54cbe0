// Rule: positional arguments come before named ones, as in Rust and Python.
// Why: after a named argument a position no longer says which parameter is
// meant.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim SGD(lr = 0.01, 0.9)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
