// Rule: flags such as `bias` are `true` or `false`. Why: `bias = 1` is C's
// spelling; a number is not read as a flag.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1, bias = 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
