// Rule: named arguments must name a parameter of the layer, loss or optimizer.
// Why: a misspelled hyperparameter silently left at its default is a bug that
// only shows as bad training; the error suggests the closest name.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim SGD(0.01, momentun = 0.9)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
