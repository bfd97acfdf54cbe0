// Generated code names std items by absolute paths, so a user's own
// `Result`, `Vec`, `Option`, `Default` or `Box` in scope changes nothing.

#![allow(dead_code)]

use macrograd::prelude::*;

type Result = ();
struct Vec;
enum Option {}
struct Default;
struct Box;
struct Clone;

model! {
    /// A classifier declared next to shadowed std names.
    pub struct Net;
    dtype f64;
    input 4;
    Linear(_, 8); GELU; Linear(_, 3);
    loss CrossEntropy(label_smoothing = 0.1);
    optim Adam(lr = 1e-3, amsgrad = true)
}

fn main() {
    let mut net = Net::new();
    net.forward(&Array2::<f64>::zeros((2, 4)));
    let _ = net.loss(&[0usize, 2]);
    net.zero_grad();
    net.backward();
    net.step();
    let _ = net.summary();
    let mut quick = model! { Linear(10, 1); Sigmoid; loss MSE; optim SGD(0.01, momentum = 0.9) };
    let _ = quick.predict_rows(&[[0.0_f32; 10]]);
}
