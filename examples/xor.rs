//! XOR: the smallest problem a linear model cannot solve and an MLP can.
//!
//! Run: `cargo run --release --example xor`
//!
//! The four points (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 0 cannot be
//! split by one straight line, so a linear model (one `Linear` layer) gets
//! at most 3 of 4 right however long it trains: its loss stalls. One hidden
//! layer with a nonlinearity bends the boundary and gets all four.

use macrograd::prelude::*;

model! { struct Linear1; input 2; Linear(2, 1); loss BCE; optim Adam(lr = 0.05) }

model! {
    struct Mlp;
    input 2;
    Linear(2, 8);
    Tanh;
    Linear(_, 1);
    loss BCE;
    optim Adam(lr = 0.05)
}

fn report<M: Model<Elem = f32>>(name: &str, model: &mut M, history: &History, x: &Array2<f32>) {
    let logits = model.predict(x);
    let answers: Vec<u8> = logits.iter().map(|&l| u8::from(l > 0.0)).collect();
    println!(
        "{name}: final loss {:.4}, accuracy {:.2}, answers {answers:?} (want [0, 1, 1, 0])",
        history.last().map_or(f64::NAN, |e| e.loss),
        history
            .last()
            .and_then(|e| e.metric(macrograd::metrics::Metric::Accuracy))
            .unwrap_or(f64::NAN),
    );
}

fn main() -> Result<(), Error> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 200 } else { 1000 };
    let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[0.0f32], [1.0], [1.0], [0.0]];
    let data = Dataset::regression(x.clone(), y)?;
    let fit = || Fit::epochs(epochs).batch_size(4).quiet();

    let mut linear = Linear1::new();
    let history = linear.fit(&data, fit())?;
    report("linear model ", &mut linear, &history, &x);

    let mut mlp = Mlp::with_seed(1);
    let history = mlp.fit(&data, fit())?;
    report("MLP, 8 hidden", &mut mlp, &history, &x);
    println!();
    println!(
        "Look at: the linear model's loss, stuck at ln 2 = {:.4}, the loss of",
        std::f64::consts::LN_2
    );
    println!("answering 1/2 everywhere: no line splits XOR, so its best is to hedge and");
    println!("its answers are near-ties. The MLP's hidden layer bends the boundary.");
    Ok(())
}
