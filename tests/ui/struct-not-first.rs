// Rule: `struct Name;` is the first statement. Why: it names the generated
// type, and a model reads like a declaration: name, layers, loss, optim.
// Written inside `main` for now: at module level the error is lost (the stub
// emitted on errors is an expression when the first statement is not
// `struct`), which is a known defect of the fallback.

use macrograd::prelude::*;

fn main() {
    model! {
        Linear(10, 1);
        pub struct Net;
        loss MSE;
        optim SGD(0.01)
    };
}
