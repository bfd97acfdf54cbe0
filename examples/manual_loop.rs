//! The four steps by hand next to `fit`: both give the same numbers.
//!
//! Run: `cargo run --release --example manual_loop`
//!
//! `fit` is not magic: per epoch it cuts the data into batches and, for each
//! batch, runs the four steps you can call yourself (forward, loss,
//! zero_grad + backward, step). Here the same model is trained twice from
//! the same initial weights, once by a hand-written loop over batches in
//! stored order and once by `fit` with `shuffle(false)`; the epoch losses
//! and the final weights agree to the last bit. The epoch loss is the mean
//! over the epoch's samples: the batch losses weighted by batch size (the
//! last batch here has 4 samples, not 32).

use macrograd::prelude::*;

model! {
    struct Net;
    input 3;
    Linear(3, 16);
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.01, momentum = 0.9)
}

fn main() -> Result<(), Error> {
    // 100 samples of y = x0 - 2 x1 + |x2|.
    let mut rng = Rng::new(1);
    let x: Array2<f32> = rng.randn((100, 3));
    let y = Array2::from_shape_fn((100, 1), |(i, _)| {
        x[[i, 0]] - 2.0 * x[[i, 1]] + x[[i, 2]].abs()
    });
    let (epochs, batch) = (5, 32);

    // 1. By hand.
    let mut by_hand = Net::with_seed(3);
    let mut hand_losses = Vec::new();
    for _ in 0..epochs {
        let (mut sum, mut seen) = (0.0, 0);
        for start in (0..x.nrows()).step_by(batch) {
            let end = (start + batch).min(x.nrows());
            by_hand.forward(x.slice(s![start..end, ..])); // forward pass
            let loss = by_hand.loss(y.slice(s![start..end, ..])); // loss, dL/d(output)
            by_hand.zero_grad(); // forget the last batch's gradients
            by_hand.backward(); // gradients of every parameter
            by_hand.step(); // the optimizer's update
            sum += f64::from(loss) * (end - start) as f64;
            seen += end - start;
        }
        hand_losses.push(sum / seen as f64);
    }

    // 2. By `fit`, in the same order.
    let mut by_fit = Net::with_seed(3);
    let data = Dataset::regression(x, y)?;
    let history = by_fit.fit(
        &data,
        Fit::epochs(epochs).batch_size(batch).shuffle(false).quiet(),
    )?;

    println!("epoch  by hand     by fit");
    for (k, (h, f)) in hand_losses.iter().zip(history.losses()).enumerate() {
        println!("{:>5}  {h:.8}  {f:.8}", k + 1);
    }
    let weights = |m: &Net| -> Vec<f32> {
        m.parameters()
            .iter()
            .flat_map(|p| p.value.iter().copied().collect::<Vec<_>>())
            .collect()
    };
    let same = hand_losses == history.losses() && weights(&by_hand) == weights(&by_fit);
    println!("losses and weights identical, bit for bit: {same}");
    assert!(same, "the hand-written loop and fit disagree");
    println!();
    println!("Look at: the two columns agree to the last digit, and so do the weights:");
    println!("`fit` with shuffle(false) runs the hand loop's forward, loss, zero_grad,");
    println!("backward and step, and weights each batch's loss by its size.");
    Ok(())
}
