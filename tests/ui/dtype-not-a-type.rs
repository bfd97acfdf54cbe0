// Rule: `dtype` is followed by `f32` or `f64`. Why: `dtype 32` writes a bit
// width where a type goes; it is a syntax error that names both choices.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        dtype 32;
        Linear(10, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
