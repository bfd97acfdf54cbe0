// The size limit itself compiles: a sample of 2^32 values and a weight of
// 2^32 values, each exactly the limit (the model is not built: its weights
// alone are 16 GiB).

use macrograd::prelude::*;

model! {
    pub struct Widest;
    input [1, 65536, 65536];
    Flatten;
    Linear(_, 1, bias = false);
    loss MSE;
    optim SGD(0.01)
}

fn main() {
    assert_eq!(<Widest as Model>::INPUTS, 1 << 32);
    assert_eq!(<Widest as Model>::OUTPUTS, 1);
}
