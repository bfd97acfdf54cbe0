// Rule: every number is finite. Why: `1e400` does not fit an f64 and would be
// read as infinity, which turns every weight into NaN after one step.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim SGD(1e400)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
