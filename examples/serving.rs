//! Serving: a trained model as one file that answers raw questions.
//!
//! Run: `cargo run --release --example serving`
//!
//! A model is only useful once another program can ask it something. That
//! program has measurements as they come (centimetres, not standardized
//! numbers) and wants a species name back, not a class index. So the model
//! keeps what turns one into the other:
//!
//! 1. **Train** with the preprocessing inside the model: a `Standardize`
//!    fitted on the training part (and only on it) and the species names.
//!    `fit` and `evaluate` then take the raw measurements.
//! 2. **Save** one file: the weights, the scaler's means and deviations,
//!    and the names.
//! 3. **Serve** from the file alone: `Iris::load(path)` and
//!    `predict_names` on raw rows. `predict` and its relatives take `&self`,
//!    so two threads ask the same model at once.
//!
//! The second half is a program of its own too: after a first run,
//!
//! ```text
//! cargo run --release --example serving -- serve target/models/iris.safetensors 5.1,3.5,1.4,0.2 6.7,3.0,5.2,2.3
//! ```
//!
//! loads the file and names the species of the measurements given.
//! `MACROGRAD_QUICK=1` trains 20 epochs instead of 200.

use std::path::{Path, PathBuf};

use macrograd::data::Preprocessing;
use macrograd::datasets;
use macrograd::prelude::*;

model! {
    /// 4 measurements (raw, in cm) -> 16 hidden units -> 3 species.
    struct Iris;
    input 4;
    Linear(_, 16);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let Some(path) = args.get(1) else {
            eprintln!(
                "usage: serving serve FILE [ROW ...], a row being 4 numbers separated by commas"
            );
            std::process::exit(2);
        };
        let rows = args[2..]
            .iter()
            .map(|row| parse_row(row))
            .collect::<Result<Vec<_>, _>>();
        let rows = rows.unwrap_or_else(|message| {
            eprintln!("{message}");
            std::process::exit(2);
        });
        return Ok(serve(Path::new(path), &rows)?);
    }

    // 1. Train, on raw measurements.
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let (data, species) = datasets::iris();
    let (train, test) = data.stratified_train_test_split(0.2, 7)?;
    let mut model = Iris::new();
    model.set_preprocessing(
        Preprocessing::new()
            .with_scaler(Standardize::fit(&train))
            .with_labels(species),
    )?;
    let epochs = if quick { 20 } else { 200 };
    model.fit(&train, Fit::epochs(epochs).batch_size(16).quiet())?;
    let result = model.evaluate(&test)?;
    println!(
        "trained {epochs} epochs on {} flowers; test {result}",
        train.len()
    );

    // 2. Save: one file.
    let path = PathBuf::from("target/models/iris.safetensors");
    std::fs::create_dir_all(path.parent().expect("a folder"))?;
    save_weights(&model, &path)?;
    println!("wrote {}", macrograd::history::shown_path(&path));
    drop(model);

    // 3. Serve: the file alone, raw rows in, names out.
    let questions = [
        [5.1, 3.5, 1.4, 0.2],
        [6.0, 2.9, 4.5, 1.5],
        [6.7, 3.0, 5.2, 2.3],
        [5.9, 3.0, 5.1, 1.8],
    ];
    Ok(serve(&path, &questions)?)
}

/// What a serving program does: load the file, name the species of `rows`.
fn serve(path: &Path, rows: &[[f32; 4]]) -> Result<(), Error> {
    let model = Iris::load(path)?;
    let scaler = model.preprocessing().scaler().map_or("none", |s| s.name());
    println!("\nloaded {} (scaler: {scaler})", path.display());
    let names = model.predict_names(rows);
    let probabilities = model.predict_proba(rows);
    for ((row, name), p) in rows.iter().zip(&names).zip(probabilities.rows()) {
        let best = p.iter().cloned().fold(0.0, f32::max);
        println!("  {row:?} cm -> {name:<10} (probability {best:.3})");
    }

    // One model, two threads asking at once: no clone, no lock.
    let (left, right) = rows.split_at(rows.len() / 2);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| model.predict_names(left));
        let b = s.spawn(|| model.predict_names(right));
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    let agree = a.iter().chain(&b).eq(names.iter());
    println!("  two threads at once give the same names: {agree}");

    println!();
    println!("Look at: the rows above are raw centimetres; the file scaled them with the");
    println!("training part's means and deviations and named the species, so a serving");
    println!("program needs neither the training data nor the class list.");
    Ok(())
}

/// `"5.1,3.5,1.4,0.2"` as 4 numbers.
fn parse_row(text: &str) -> Result<[f32; 4], String> {
    let values: Vec<f32> = text
        .split(',')
        .map(|v| v.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{text:?}: {e}"))?;
    values
        .try_into()
        .map_err(|v: Vec<f32>| format!("{text:?}: expected 4 numbers, found {}", v.len()))
}
