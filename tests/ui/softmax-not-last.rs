// Rule: `Softmax` only as the last layer. Why: its outputs sum to 1 per
// sample, which only means something as class probabilities; inside a network
// it squashes the signal (and the runtime's backward assumes it is last).

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 4);
        Softmax;
        Linear(4, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
