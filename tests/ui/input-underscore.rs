// Rule: `input N;` is a feature count, an integer >= 1; `_` is not one. Why:
// `input` is where the widths start, there is nothing before it to infer from.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        input _;
        Linear(_, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 3)));
}
