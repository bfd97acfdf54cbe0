// Rule: batch norm's `num_features`, when given, is the channel count of the
// image before it (the feature count after flat features). Why: it keeps a
// scale, a shift and running statistics per channel.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 8, 3);
    BatchNorm2d(16);
    ReLU;
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
