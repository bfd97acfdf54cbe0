// Rule: the layer after `Flatten` takes C x H x W features. Why: the size
// of a flattened image is the arithmetic of every convolution and pool
// before it; the error spells it out, so the fix (or `Linear(_, n)`) is
// plain.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 8, 3);
    MaxPool2d(2);
    Flatten;
    Linear(64, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
