// Rule: `CrossEntropy` takes logits. Why: it applies log-softmax itself, as
// PyTorch's `CrossEntropyLoss` does; a `Softmax` before it squashes twice and
// trains badly with no error ever showing it.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 3);
    Softmax;
    loss CrossEntropy;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
