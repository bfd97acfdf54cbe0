// Rule: `concat` joins images along their channels, so every branch must
// make the same height and width. Why: `torch.cat(.., dim=1)` fails at run
// time otherwise; here the error names both images and the layers.

use macrograd::prelude::*;

model! {
    struct Inception;
    input [8, 9, 9];
    concat {
        Conv2d(8, 4, 1);
        Conv2d(8, 4, 3) => ReLU;
    }
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Inception::new();
}
