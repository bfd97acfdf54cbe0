//! A gradient check: the generated backward pass against finite
//! differences.
//!
//! Run: `cargo run --release --example gradient_check`
//!
//! `backward` computes every dL/dw analytically, by the chain rule through
//! each layer. A finite difference measures the same slope numerically:
//! nudge one weight by `h` each way and see how the loss moves,
//! `(L(w + h) - L(w - h)) / 2h`. In f64 the two agree to about 1e-7
//! relative or better; a bug in a backward pass shows as errors near 1. This is how
//! every layer, loss and generated model of this crate is tested.

use macrograd::prelude::*;

model! {
    struct Net;
    dtype f64;
    input 5;
    Linear(5, 7);
    Tanh;
    Linear(_, 6);
    GELU;
    Linear(_, 3);
    loss CrossEntropy(label_smoothing = 0.1);
    optim SGD(0.1)
}

fn main() {
    let mut rng = Rng::new(9);
    let x: Array2<f64> = rng.randn((8, 5));
    let labels: Vec<usize> = (0..8).map(|i| i % 3).collect();
    let mut model = Net::with_seed(4);

    // Analytic gradients: forward, loss, backward.
    model.forward(&x);
    model.loss(&labels);
    model.zero_grad();
    model.backward();
    let analytic: Vec<(&str, Vec<f64>)> = model
        .parameters()
        .iter()
        .map(|p| {
            (
                p.name,
                p.grad
                    .as_ref()
                    .expect("after backward")
                    .iter()
                    .copied()
                    .collect(),
            )
        })
        .collect();

    // Numeric gradients: central differences, one weight at a time.
    let h = 1e-5;
    let mut loss_with = |name: &str, k: usize, delta: f64| {
        model.visit_parameters_mut(&mut |mut p| {
            if p.name == name {
                let v = p.value.iter_mut().nth(k).expect("in range");
                *v += delta;
            }
        });
        model.forward(&x);
        let loss = model.loss(&labels);
        model.visit_parameters_mut(&mut |mut p| {
            if p.name == name {
                let v = p.value.iter_mut().nth(k).expect("in range");
                *v -= delta;
            }
        });
        loss
    };
    println!("parameter  values  largest relative error");
    let mut worst: f64 = 0.0;
    for (name, grads) in &analytic {
        let mut largest: f64 = 0.0;
        for (k, &g) in grads.iter().enumerate() {
            let numeric = (loss_with(name, k, h) - loss_with(name, k, -h)) / (2.0 * h);
            // Relative to the slope's size; slopes below 1e-4 are compared
            // in absolute terms (with h = 1e-5 a finite difference carries
            // about 1e-11 of rounding error and 1e-10 of truncation error).
            let error = (g - numeric).abs() / g.abs().max(numeric.abs()).max(1e-4);
            largest = largest.max(error);
        }
        println!("{name:<9}  {:>6}  {largest:.2e}", grads.len());
        worst = worst.max(largest);
    }
    println!("largest relative error over every parameter: {worst:.2e}");
    assert!(
        worst < 1e-6,
        "the backward pass disagrees with finite differences"
    );
    println!();
    println!("Look at: the largest error, below 1e-6 (the program asserts it): the chain");
    println!("rule and the finite differences agree up to rounding; a wrong backward");
    println!("formula would show errors near 1 on its layer's rows.");
}
