// Rule: a model has exactly one `optim`. Why: without one `step` has nothing
// to update the weights with; the error points at the end of the model, where
// it goes.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
