// Rule: `nesterov = true` needs `dampening` = 0. Why: PyTorch's SGD refuses
// the combination (`ValueError`), so a model ported from it must not train
// differently here.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linear(10, 1);
        loss MSE;
        optim SGD(0.01, momentum = 0.9, dampening = 0.1, nesterov = true)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
