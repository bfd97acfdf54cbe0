//! SGD, SGD with momentum, Adam and AdamW on one problem.
//!
//! Run: `cargo run --release --example optimizers [-- curves.png]`
//!
//! Plain SGD moves each weight by `lr * gradient`: steady but slow where the
//! loss surface is flat. Momentum keeps a running sum of past gradients, so
//! it speeds up along directions that stay the same. Adam scales each
//! weight's step by a running estimate of its gradient's size, so every
//! weight moves at a similar pace whatever its scale. AdamW is Adam with
//! weight decay applied directly to the weights (decoupled), which
//! regularizes without fighting the adaptive scaling.

use macrograd::history::{shown_path, Panel, Plot, Show};
use macrograd::prelude::*;

// The optimizer is part of a model's type: one declaration each.
model! { struct SGD; input 4; Linear(4, 32); Tanh; Linear(_, 3); loss CrossEntropy; optim SGD(0.05) }
model! { struct Momentum; input 4; Linear(4, 32); Tanh; Linear(_, 3); loss CrossEntropy; optim SGD(0.05, momentum = 0.9) }
model! { struct AdamNet; input 4; Linear(4, 32); Tanh; Linear(_, 3); loss CrossEntropy; optim Adam(lr = 0.005) }
model! { struct AdamWNet; input 4; Linear(4, 32); Tanh; Linear(_, 3); loss CrossEntropy; optim AdamW(lr = 0.005, weight_decay = 0.01) }

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/optimizers.png".into());
    // Three classes separated by curved boundaries in 4 features.
    let mut rng = Rng::new(11);
    let x: Array2<f32> = rng.randn((600, 4));
    let labels = (0..600)
        .map(|i| {
            let r = x.row(i);
            let s = r[0] * r[0] + r[1] - 0.5 * r[2] * r[3];
            if s < 0.0 {
                0
            } else if s < 1.2 {
                1
            } else {
                2
            }
        })
        .collect();
    let data = Dataset::classification(x, labels)?;
    let fit = || {
        Fit::epochs(if quick { 5 } else { 60 })
            .batch_size(32)
            .validation_split(0.25)
            .quiet()
    };

    let runs = [
        ("SGD", SGD::new().fit(&data, fit())?),
        ("SGD + momentum", Momentum::new().fit(&data, fit())?),
        ("Adam", AdamNet::new().fit(&data, fit())?),
        ("AdamW", AdamWNet::new().fit(&data, fit())?),
    ];
    println!("optimizer       val loss  val accuracy  epochs to val loss < 0.3");
    for (name, h) in &runs {
        let last = h.last().expect("epochs ran");
        let reached = h
            .epochs
            .iter()
            .find(|e| e.val_loss.is_some_and(|v| v < 0.3));
        println!(
            "{name:<14}  {:>8.4}  {:>12.3}  {}",
            last.val_loss.unwrap(),
            last.val_metric(Metric::Accuracy).unwrap(),
            reached.map_or("not reached".to_string(), |e| e.epoch.to_string())
        );
    }

    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
    // Each run named with the learning rate it trained at, as recorded.
    let names: Vec<String> = runs
        .iter()
        .map(|(n, h)| {
            format!(
                "{n}, lr {}",
                h.epochs.first().map_or(f64::NAN, |e| e.lr) as f32
            )
        })
        .collect();
    let named: Vec<(&str, &History)> = names
        .iter()
        .zip(&runs)
        .map(|(n, r)| (n.as_str(), &r.1))
        .collect();
    Plot::runs(&named)
        .title("Optimizers")
        .show(Show::Validation)
        .panels([Panel::Loss, Panel::Metric(Metric::Accuracy)])
        .write(&path)?;
    println!();
    println!("Learning curves: wrote {}", shown_path(&path));

    let final_loss = |h: &History| h.last().and_then(|e| e.val_loss).unwrap_or(f64::NAN);
    let by_loss =
        |a: &&(&str, History), b: &&(&str, History)| final_loss(&a.1).total_cmp(&final_loss(&b.1));
    let best = runs.iter().min_by(by_loss).expect("runs").0;
    let worst = runs.iter().max_by(by_loss).expect("runs").0;
    println!();
    println!("Look at: {best} ends with the lowest validation loss, {worst} the highest.");
    println!("Momentum's steps build up to about 10x plain SGD's (lr / (1 - 0.9));");
    println!("Adam's stay near lr = 0.005 per weight, and AdamW's decay barely moves it.");
    println!("The picture's legend names each optimizer with its learning rate; each");
    println!("line has its own colour, dash and marker, in the loss and accuracy panels.");
    Ok(())
}
