// Rule: a model has layers, a `loss` and an `optim`. Why: an empty `model! {}`
// lacks all three, so it gets the three errors that say what to add (and no
// panic), on the whole invocation since there is no token to point at.

use macrograd::prelude::*;

fn main() {
    let model = model! {};
    let _ = model.summary();
}
