// Generated code names primitive types by `::core::primitive` paths, so a
// user's own `f32`, `usize`, `bool`, `u64` or `f64` changes nothing.

#![allow(non_camel_case_types, dead_code)]

mod user {
    use macrograd::prelude::*;

    struct f32;
    struct f64;
    struct usize;
    struct bool;
    struct u64;

    model! { pub struct Net; Linear(3, 4); ReLU; Linear(_, 2); loss CrossEntropy; optim SGD(0.1) }
    model! { pub struct Wide; dtype f64; Linear(2, 1); loss MSE; optim Adam(lr = 1e-3) }

    pub fn run() {
        let mut net = Net::with_seed(3);
        let _ = net.train_step_rows(&[[0.5, -0.5, 1.0]], &[1]);
        let mut wide = Wide::new();
        let _ = wide.predict_rows(&[[1.0, 2.0]]);
    }
}

fn main() {
    user::run();
}
