// Rule: Adam's betas are in [0, 1). Why: they are decay rates of running
// averages; beta2 = 1 never forgets and divides by zero in the bias
// correction.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim Adam(betas = (0.9, 1.0))
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
