// Rule: the first layer takes the feature count that `input N;` declares. Why:
// `input` is the width of every sample the model will be fed; a first layer of
// another width could never run.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        input 10;
        Linear(12, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
