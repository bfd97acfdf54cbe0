// Rule: every layer comes before `loss` and `optim`. Why: the layers run in
// the order written and the loss reads the last one's output; layers after it
// would never run. Reported once, on the first late layer: moving `loss` fixes
// them all.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 4);
        loss MSE;
        ReLU;
        Linear(4, 1);
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
}
