// Rule: attributes go at the top of the model (they belong to the generated
// type); on a statement only doc comments are allowed. Why: any other
// attribute there would be silently dropped.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 4);
    #[inline]
    ReLU;
    Linear(4, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
