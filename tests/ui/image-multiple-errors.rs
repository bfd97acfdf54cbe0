// Rule: every mistake of an image model is reported in one build, one error
// each, in order. Why: a wrong channel count, a probability out of range and
// a missing `Flatten` are independent mistakes; after each, checking carries
// on from what the layer declares.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [3, 32, 32];
    Conv2d(1, 16, 5);
    MaxPool2d(2);
    Dropout(1.5);
    Linear(3136, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
