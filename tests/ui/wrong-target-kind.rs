// The target type follows the loss: a CrossEntropy model takes class
// indices, so float rows do not compile.

use macrograd::prelude::*;

model! { pub struct Classifier; Linear(4, 3); loss CrossEntropy; optim SGD(0.1) }

fn main() {
    let mut model = Classifier::new();
    model.forward(&Array2::<f32>::zeros((2, 4)));
    let _ = model.loss(&Array2::<f32>::zeros((2, 3)));
}
