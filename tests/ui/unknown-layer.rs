// Rule: layer names are the catalog's, spelled as in PyTorch. Why: a typo must
// not compile; the error suggests the closest known name.

use macrograd::prelude::*;

fn main() {
    let mut model = model! {
        Linaer(10, 1);
        loss MSE;
        optim SGD(0.01)
    };
    model.forward(&Array2::<f32>::zeros((4, 10)));
    model.zero_grad();
    model.backward();
    model.step();
}
