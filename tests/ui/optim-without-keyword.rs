// Rule: an optimizer is written `optim Name(...);`. Why: a bare `SGD(0.01)`
// reads as a layer after `loss`; the error says what `SGD` is and where it
// goes, and that one error is all: no "layer after `loss`", no "missing
// `optim`".

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
