//! Deploy: a trained model as an ONNX file, run by another engine.
//!
//! Run: `cargo run --release --example deploy`
//!
//! A model trained here is useful far beyond this crate once it is in a
//! format every inference engine reads. ONNX is that format: a graph of
//! standard operators (`Gemm`, `Relu`, `Softmax`, ...) with the weights
//! inside. This example
//!
//! 1. **trains** a wine classifier whose preprocessing (a `Standardize`
//!    fitted on the training part, and the cultivar names) lives in the
//!    model, so it takes raw chemical measurements;
//! 2. **exports** it with `io::save_onnx_with(.., OnnxOptions::new().probabilities())`:
//!    the scaler becomes the graph's first two nodes (`Sub`, `Div`), the
//!    layers follow in evaluation mode, and `Softmax` ends it;
//! 3. **loads** the file with tract (a Rust ONNX engine that knows nothing
//!    of macrograd) and prints both engines' probabilities side by side.
//!
//! The same file runs in onnxruntime (Python, C++, C#, JavaScript),
//! in burn and candle, or in a browser. `MACROGRAD_QUICK=1` trains 30
//! epochs instead of 300.

use std::path::PathBuf;

use macrograd::data::Preprocessing;
use macrograd::datasets;
use macrograd::io::{save_onnx_with, OnnxOptions};
use macrograd::ndarray;
use macrograd::prelude::*;
use tract_onnx::prelude::{
    tvec, Datum, Framework, InferenceFact, InferenceModelExt, IntoRunnable, Tensor,
};

model! {
    /// 13 measurements (raw) -> 32 hidden units -> 3 cultivars.
    struct Wine;
    input 13;
    Linear(_, 32);
    ReLU;
    Dropout(0.2);
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Train on raw measurements.
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let (data, cultivars) = datasets::wine();
    let (train, test) = data.stratified_train_test_split(0.2, 11)?;
    let mut model = Wine::new();
    model.set_preprocessing(
        Preprocessing::new()
            .with_scaler(Standardize::fit(&train))
            .with_labels(cultivars),
    )?;
    let epochs = if quick { 30 } else { 300 };
    model.fit(&train, Fit::epochs(epochs).batch_size(16).quiet())?;
    println!("trained {epochs} epochs; test {}", model.evaluate(&test)?);

    // 2. Export: the network, its scaler in front and the softmax behind.
    let path = PathBuf::from("target/models/wine.onnx");
    std::fs::create_dir_all(path.parent().expect("a folder"))?;
    save_onnx_with(&model, &path, &OnnxOptions::new().probabilities())?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "wrote {} ({size} bytes, opset 17)",
        macrograd::history::shown_path(&path)
    );

    // 3. Load it with tract, fix the batch size, and run it.
    // Six test samples, spread over the test part (it is in class order).
    let picks: Vec<usize> = (0..6).map(|i| i * test.len() / 6).collect();
    let rows = test.inputs().select(ndarray::Axis(0), &picks);
    let (batch, width) = rows.dim();
    let runnable = tract_onnx::onnx()
        .model_for_path(&path)?
        .with_input_fact(
            0,
            InferenceFact::dt_shape(f32::datum_type(), [batch, width]),
        )?
        .into_optimized()?
        .into_runnable()?;
    let input = Tensor::from_shape(&[batch, width], rows.as_slice().expect("contiguous"))?;
    let outputs = runnable.run(tvec![input.into()])?;
    let from_tract = outputs[0].to_plain_array_view::<f32>()?;

    let ours = model.predict_proba(&rows);
    let names = model.predict_names(&rows);
    println!("\n  sample  cultivar    macrograd probabilities     tract (ONNX) probabilities");
    let mut largest = 0.0f32;
    for i in 0..batch {
        let a: Vec<String> = ours.row(i).iter().map(|p| format!("{p:.4}")).collect();
        let b: Vec<String> = (0..3)
            .map(|j| format!("{:.4}", from_tract[[i, j]]))
            .collect();
        for j in 0..3 {
            largest = largest.max((ours[[i, j]] - from_tract[[i, j]]).abs());
        }
        println!(
            "  {i:>6}  {:<10}  [{}]    [{}]",
            names[i],
            a.join(", "),
            b.join(", ")
        );
    }
    println!("\nlargest difference between the two engines: {largest:.1e}");
    println!();
    println!("Look at: the rows went in raw; the file standardized them, ran both layers");
    println!("and the softmax, and gave what predict_proba gives, to float rounding.");
    Ok(())
}
