// Rule: the target type follows the loss: a `CrossEntropy` model takes class
// indices, the other losses take float rows. Why: passing one-hot rows where
// indices are expected is PyTorch's most common loss mistake; here it is a
// type error whose note says what to pass.

use macrograd::prelude::*;

model! { pub struct Classifier; Linear(4, 3); loss CrossEntropy; optim SGD(0.1) }

fn main() {
    let mut model = Classifier::new();
    model.forward(&Array2::<f32>::zeros((2, 4)));
    let _ = model.loss(&Array2::<f32>::zeros((2, 3)));
}
