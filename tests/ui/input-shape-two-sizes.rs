// Rule: `input` is a feature count, a sequence `[T, F]` or an image
// `[C, H, W]`. Why: a grey image written without its channel is a sequence;
// `Conv2d` reads images (PyTorch's `[N, C, H, W]`), and the error says how
// to declare one.

use macrograd::prelude::*;

model! {
    pub struct Cnn;
    input [28, 28];
    Conv2d(1, 4, 3);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Cnn::new();
}
