// Rule: BCE's `pos_weight` has one value (broadcast) or one per output. Why:
// PyTorch broadcasts it against the outputs; any other length cannot line up
// with them.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 3);
        loss BCE(pos_weight = [1.0, 2.0]);
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
