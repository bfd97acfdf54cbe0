//! The classic PyTorch training loop, line for line: a linear model, MSE,
//! SGD, 100 random samples of 10 features, 5 epochs, and the four steps of
//! every iteration (forward, loss, zero_grad + backward, step) written out.
//!
//! Run: `cargo run --release --example quickstart`
//!
//! Each epoch here is one iteration: the whole dataset is one batch, so the
//! model is updated once per epoch. Watch the loss fall a little each time.

use macrograd::prelude::*;

fn main() {
    // Define a simple linear model, its loss and its optimizer
    let mut model = model! { Linear(10, 1); loss MSE; optim SGD(0.01) };

    // Dummy data: 100 samples, 10 features each
    let mut rng = Rng::new(0);
    let inputs: Array2<f32> = rng.randn((100, 10));
    let targets: Array2<f32> = rng.randn((100, 1));

    // Training loop
    let epochs = 5;
    for epoch in 0..epochs {
        // Forward pass
        model.forward(&inputs);
        let loss = model.loss(&targets);

        // Backward pass and optimization
        model.zero_grad(); // Clear previous gradients
        model.backward(); // Compute gradients
        model.step(); // Update weights

        println!("Epoch [{}/{}], Loss: {:.4}", epoch + 1, epochs, loss);
    }
    println!();
    println!("Look at: the loss falls a little each epoch, and only a little: the whole");
    println!("dataset is one batch, so an epoch is one small SGD step (lr 0.01). The");
    println!("`fit` example trains the same model in batches of 10 for contrast.");
}
