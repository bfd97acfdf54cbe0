// Rule: the design card's line compiles exactly as written: the expression
// form, `Linear(10,1)` without a space, no trailing `;`. Why: it is the first
// line a reader copies.

use macrograd::prelude::*;

fn main() {
    let mut model = model! { Linear(10,1); loss MSE; optim SGD(0.01) };
    let inputs = Array2::<f32>::zeros((4, 10));
    assert_eq!(model.forward(&inputs).dim(), (4, 1));
}
