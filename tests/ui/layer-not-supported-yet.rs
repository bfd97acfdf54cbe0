// Rule: layers the design plans but the runtime does not have yet (`Dropout`)
// are named as not supported, not as unknown. Why: the user spelled a real
// layer; "did you mean" would mislead.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 4);
        Dropout(0.5);
        Linear(4, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
