// Rule: exactly one `optim`. Why: with two, one would silently win; the error
// goes on the second.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim SGD(0.01);
        optim Adam(1e-3)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
