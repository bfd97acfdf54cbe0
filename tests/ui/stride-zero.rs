// Rule: a stride is an integer >= 1 (or a pair of them). Why: a window that
// does not move would never reach the end of the image; PyTorch rejects it
// at run time.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [3, 32, 32];
    Conv2d(3, 16, 3, stride = 0);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
