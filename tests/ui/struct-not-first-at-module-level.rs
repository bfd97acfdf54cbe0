// Rule: `struct Name;` must come first. Why: it decides whether `model!` is
// an item or an expression; when misplaced, the error says so and the name
// still declares a stand-in type, so the code using it adds nothing.

use macrograd::prelude::*;

model! { Linear(3, 1); pub struct Net; loss MSE; optim SGD(0.1) }

fn main() {
    let _ = Net::new();
}
