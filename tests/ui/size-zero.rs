// Rule: layer sizes are integers >= 1. Why: a layer with no outputs has
// nothing to learn and nothing to pass on.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 0);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
