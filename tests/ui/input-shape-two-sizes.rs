// Rule: `input` is a feature count or an image `[C, H, W]`, three sizes.
// Why: two sizes (a grey image without its channel) are ambiguous; PyTorch's
// `Conv2d` reads `[N, C, H, W]`.

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
