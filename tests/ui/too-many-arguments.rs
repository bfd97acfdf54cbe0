// Rule: no more positional arguments than parameters. Why: an extra argument
// must not be silently ignored; the error goes on the first extra one and
// lists the parameters.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1, true, 4);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
