// Rule: a convolution's kernel fits the image padded by `padding` on each
// side. Why: otherwise there is no position to put it, and the output would
// have no size; the error spells out the sizes involved.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 4, 9);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
