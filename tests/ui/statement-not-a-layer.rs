// Rule: a statement is a layer, `input`, `dtype`, `loss` or `optim`. Why: a
// stray value such as `42;` is none of them; the error lists what may go
// there.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        42;
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
