// Rule: `input N;` at most once. Why: a second one, even with the same number,
// is a leftover that could disagree with the first.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        input 10;
        input 10;
        Linear(10, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
