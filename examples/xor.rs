//! XOR: the smallest problem a linear model cannot solve and an MLP can.
//!
//! Run: `cargo run --release --example xor`
//!
//! The four points (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 0 cannot be
//! split by one straight line, so a linear model (one `Linear` layer) gets
//! at most 3 of 4 right however long it trains: its loss stalls. One hidden
//! layer with a nonlinearity bends the boundary and gets all four.
//!
//! Two pictures show each model's answer over the plane: the shade is the
//! predicted probability of class 1, the dark line its decision boundary
//! (probability 1/2), with the four points on top. The linear model's
//! boundary is a straight line; the MLP's bends around two of the points.
//! `cargo run --release --example xor -- dir` writes them to `dir`.

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

/// Draws `model`'s probability of class 1 over the plane around the four
/// points, with its decision boundary, to `path`.
#[cfg(feature = "plot")]
fn picture<M: Model<Elem = f32>>(title: &str, model: &mut M, path: &str) -> Result<(), Error> {
    use macrograd::history::{Chart, Field};
    let field = Field::from_fn(-0.5..1.5, -0.5..1.5, (120, 120), |points| {
        let inputs = Array2::from_shape_fn((points.len(), 2), |(i, j)| points[i][j] as f32);
        let logits = model.predict(&inputs);
        logits
            .iter()
            .map(|&l| 1.0 / (1.0 + (-f64::from(l)).exp()))
            .collect()
    })
    .name("P(class 1)")
    .scale(0.0..1.0)
    .level(0.5);
    Chart::new(title)
        .subtitle("shade: the predicted probability of class 1; line: where it is 1/2")
        .axes("x1", "x2")
        .field(field)
        .points("class 0: (0,0), (1,1)", [(0.0, 0.0), (1.0, 1.0)])
        .points("class 1: (0,1), (1,0)", [(0.0, 1.0), (1.0, 0.0)])
        .write(path)?;
    println!("{title}: wrote {}", macrograd::history::shown_path(path));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots".into());
    #[cfg(feature = "plot")]
    {
        std::fs::create_dir_all(&dir)?;
        let linear_path = format!("{dir}/xor_linear.png");
        picture("XOR, linear model", &mut linear, &linear_path)?;
        picture(
            "XOR, MLP with 8 hidden units",
            &mut mlp,
            &format!("{dir}/xor.png"),
        )?;
        println!();
    }
    #[cfg(not(feature = "plot"))]
    println!("(no pictures in {dir}: built without the `plot` feature)\n");
    println!(
        "Look at: the linear model's loss, stuck at ln 2 = {:.4}, the loss of",
        std::f64::consts::LN_2
    );
    println!("answering 1/2 everywhere: no line splits XOR, so its best is to hedge and");
    println!("its answers are near-ties. The MLP's hidden layer bends the boundary:");
    println!("in the pictures, the linear model's boundary is one straight line with");
    println!("points of both classes on each side (or none at all, if it answers");
    println!("about 1/2 everywhere); the MLP's curves so each point sits in its own");
    println!("class's shade.");
    Ok(())
}
