// Rule: `forward_rows` takes rows exactly as wide as the model's input
// (`&[[f32; 3]]` here). Why: the width is known at compile time, so feeding 2
// features to a 3-feature model is a type error in the user's code, not a
// panic at run time.

use macrograd::prelude::*;

model! { pub struct Net; Linear(3, 1); loss MSE; optim SGD(0.1) }

fn main() {
    let _ = Net::new().forward_rows(&[[1.0_f32, 2.0]]);
}
