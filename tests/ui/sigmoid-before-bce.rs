// Rule: `BCE` takes logits. Why: it applies the sigmoid itself, as PyTorch's
// `BCEWithLogitsLoss` does; a `Sigmoid` before it squashes twice and trains
// badly with no error ever showing it.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        Sigmoid;
        loss BCE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
