// Rule: optimizer names are the catalog's. Why: a typo must not compile; the
// error suggests the closest known name.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim Adma(lr = 1e-3)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
