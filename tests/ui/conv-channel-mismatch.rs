// Rule: `Conv2d`'s `in_channels` equal the channels of the image before it
// (the `input [C, H, W]` for the first layer). Why: the filters have one
// plane per input channel; the error names both counts, and checking carries
// on from the layer's `out_channels`.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 28, 28];
    Conv2d(1, 8, 3);
    ReLU;
    Conv2d(16, 32, 3);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
