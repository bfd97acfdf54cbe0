// Rule: `model!` works called by its path, without the prelude, next to the
// user's own `Model`. Why: generated code reaches the runtime only through
// `$crate` and calls trait methods by path, never through names the user has
// (or has not) imported.

struct Model;

fn main() {
    let mut model = macrograd::model! {
        Linear(3, 2);
        loss CrossEntropy;
        optim Adam(1e-3)
    };
    let inputs = macrograd::ndarray::Array2::<f32>::zeros((2, 3));
    macrograd::Model::forward(&mut model, &inputs);
    let loss = macrograd::Model::loss(&mut model, &[0usize, 1]);
    assert!(loss.is_finite());
    let _ = Model;
}
