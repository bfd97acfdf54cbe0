// Rule: `Linear(_, n)` takes its input size from the layer before it or from
// `input N;`. Why: as the first layer without `input`, nothing says how wide a
// sample is.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(_, 4);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 3)));
}
