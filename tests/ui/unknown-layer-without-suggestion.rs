// Rule: layer names are the catalog's. Why: when no known name is close to the
// one written, the error lists every layer instead of guessing.

use macrograd::prelude::*;

model! {
    pub struct Net;
    Linear(10, 4);
    Transformer;
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    let _ = Net::new();
}
