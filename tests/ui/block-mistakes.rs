// Rule: a block's arguments, branches and input are checked, each mistake
// reported on its token, and checking goes on inside and after it: an
// unknown argument, a `concat` of one branch, `Softmax` inside a block, a
// misspelled layer whose shape mistake after it is reported too.

use macrograd::prelude::*;

model! {
    struct Net;
    input 10;
    residual(skip = Linear(10, 10)) {
        Linear(10, 10);
        Softmax;
    }
    concat {
        Linaer(10, 4);
    }
    Linear(5, 1);
    loss MSE;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
