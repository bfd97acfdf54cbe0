// Rule: rows of numbers do not train a CrossEntropy model (class labels do):
// the error names the dataset kind the model takes. Why: the kinds are
// types, so the mistake is found where it is written, not in the loss.

use macrograd::prelude::*;

fn main() {
    let mut model = model! { Linear(4, 3); loss CrossEntropy; optim SGD(0.1) };
    let rows = Dataset::regression(Array2::<f32>::zeros((2, 4)), Array2::zeros((2, 3))).unwrap();
    let _ = model.fit(&rows, Fit::epochs(1));
}
