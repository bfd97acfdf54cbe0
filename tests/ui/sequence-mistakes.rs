// Rule: recurrent layers read sequences (`input [T, F]`), and a layer that
// does not read sequences needs the last step (`Last`) or every step
// (`Flatten`) first. Why: `Linear` on `[b, T, H]` in PyTorch runs per step
// and gives a sequence the loss then misreads; here the shape through time
// is checked.

use macrograd::prelude::*;

model! {
    struct Net;
    input [20, 3];
    LSTM(16);
    Linear(16, 1);
    loss MSE;
    optim Adam(lr = 1e-3)
}

model! {
    struct Flat;
    input 8;
    GRU(4);
    Last;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 1e-3)
}

model! {
    struct Joined;
    input [10, 2];
    concat {
        LSTM(4);
        GRU(4);
    }
    Last;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 1e-3)
}

fn main() {
    let _ = (Net::new(), Flat::new(), Joined::new());
}
