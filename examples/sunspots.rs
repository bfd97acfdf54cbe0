//! Sunspots: forecasting a time series with an LSTM, an MLP and a naive
//! guess.
//!
//! Run: `cargo run --release --example sunspots [-- forecast.png]`
//!
//! `data/sunspots.csv` holds the yearly mean sunspot number from 1700 to
//! 2008, a cycle of about 11 years whose peaks differ in height. Each
//! model sees the last 20 years and forecasts the next one:
//!
//! 1. **Windows**: one sample per year from 1720 on, its inputs the 20
//!    years before it, its target that year's number.
//! 2. **Split by time**, never at random: the last 20 % of the years
//!    (1947-2008) are the test, the 15 % before them (1901-1946) the
//!    validation, the years before that (1700-1900) the training. A window
//!    belongs to the part of the year it forecasts, so no training target
//!    lies in the future of a test one; only the order of the training
//!    windows within an epoch is shuffled.
//! 3. **Scale** every number by the largest of the training years (154.4
//!    in 1778), so training values lie in [0, 1] and zero stays zero;
//!    nothing from the validation or test years goes into the scale (1957's
//!    190.2 becomes 1.23, higher than anything trained on).
//! 4. **Train** `input [20, 1]; LSTM(32); Last; Linear(_, 1)`: the LSTM reads
//!    the 20 years in order, one number per step, and its last hidden state
//!    forecasts. Next to it an MLP with `input 20` reads the same 20
//!    numbers as one flat row. Both stop early on the validation loss and
//!    keep their best epoch's weights.
//! 5. **Test** once: the mean absolute error in sunspot numbers (unscaled)
//!    of each, and of the naive forecast "the same as last year", which any
//!    model has to beat to be worth its parameters.
//!
//! The LSTM trains with its gradient clipped to a norm of 1
//! (`Clip::Norm(1.0)`). Its gradient flows back through all 20 steps,
//! multiplied at each one by the recurrent weights, so one batch can give a
//! gradient many times larger than the usual (exploding gradients); an
//! Adam step scaled by it can undo many epochs of training. Clipping scales
//! such a gradient down to norm 1 and keeps its direction; ordinary
//! gradients pass unchanged. The MLP has no path through time and needs
//! none.
//!
//! A picture of the held-out years, the actual numbers and the three
//! forecasts, goes to `target/plots/sunspots.png` (or the path given).
//! `MACROGRAD_QUICK=1` trains 20 epochs instead of up to 300.

use std::time::Instant;

use macrograd::data::Csv;
use macrograd::prelude::*;
use macrograd::train::Clip;

/// Years each model sees before the one it forecasts.
const WINDOW: usize = 20;

model! {
    /// 20 years, one number each, read in order.
    struct Recurrent;
    input [20, 1];
    LSTM(32);
    Last;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 3e-3)
}

model! {
    /// The same 20 numbers as one flat row.
    struct Flat;
    input 20;
    Linear(20, 32);
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 3e-3)
}

/// The windows forecasting years `first..end` (indices into `series`):
/// the `WINDOW` values before each as inputs, the year's value as target.
fn windows(
    series: &[f32],
    first: usize,
    end: usize,
) -> Result<Dataset<f32, macrograd::target::Rows>, Error> {
    let inputs = Array2::from_shape_fn((end - first, WINDOW), |(i, j)| {
        series[first + i - WINDOW + j]
    });
    let targets = Array2::from_shape_fn((end - first, 1), |(i, _)| series[first + i]);
    Dataset::regression(inputs, targets)
}

/// The mean absolute difference of `forecast` and `actual`.
fn mae(forecast: &[f32], actual: &[f32]) -> f64 {
    let sum: f64 = forecast
        .iter()
        .zip(actual)
        .map(|(&f, &a)| f64::from((f - a).abs()))
        .sum();
    sum / actual.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 20 } else { 300 };
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/sunspots.png".into());

    // The series: the year is the input column, the number the target.
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sunspots.csv");
    let table = Csv::from_path(csv)
        .target("SUNACTIVITY")
        .regression::<f32>()?;
    let years: Vec<i32> = table.inputs().iter().map(|&y| y as i32).collect();
    let numbers: Vec<f32> = table.targets().iter().copied().collect();

    // 2. Split by time: test the last 20 % of the years, validate on the
    // 15 % before them.
    let n = numbers.len();
    let test_start = n - (0.20 * n as f64).round() as usize;
    let val_start = test_start - (0.15 * n as f64).round() as usize;
    println!(
        "{n} years, {}-{}: train {}-{}, validation {}-{}, test {}-{}",
        years[0],
        years[n - 1],
        years[0],
        years[val_start - 1],
        years[val_start],
        years[test_start - 1],
        years[test_start],
        years[n - 1]
    );

    // 3. Scale by the training years' largest number.
    let (peak_index, &scale) = numbers[..val_start]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("training years");
    let scaled: Vec<f32> = numbers.iter().map(|&x| x / scale).collect();
    println!(
        "scale: divided by {scale} (the training years' largest, {})",
        years[peak_index]
    );

    let train = windows(&scaled, WINDOW, val_start)?;
    let validation = windows(&scaled, val_start, test_start)?;
    let test = windows(&scaled, test_start, n)?;
    println!(
        "windows of {WINDOW} years: {} to train on, {} to validate, {} to test\n",
        train.len(),
        validation.len(),
        test.len()
    );

    // 4. Train both on the same windows, with the same stopping rule.
    let fit = || {
        Fit::epochs(epochs)
            .batch_size(16)
            .seed(1)
            .validation_data(&validation)
            .early_stopping(EarlyStopping::patience(40).restore_best())
            .quiet()
    };
    let mut lstm = Recurrent::with_seed(0);
    println!("{}\n", lstm.summary());
    let start = Instant::now();
    let lstm_history = lstm.fit(&train, fit().clip(Clip::Norm(1.0)))?;
    let lstm_seconds = start.elapsed().as_secs_f64();
    println!("LSTM: {} ({lstm_seconds:.1} s)", lstm_history.stop);

    let mut mlp = Flat::with_seed(0);
    let start = Instant::now();
    let mlp_history = mlp.fit(&train, fit())?;
    let mlp_seconds = start.elapsed().as_secs_f64();
    println!("MLP:  {} ({mlp_seconds:.1} s)\n", mlp_history.stop);

    // 5. Test once, in sunspot numbers.
    let unscale =
        |forecast: Array2<f32>| -> Vec<f32> { forecast.iter().map(|&x| x * scale).collect() };
    let actual = &numbers[test_start..];
    let lstm_forecast = unscale(lstm.predict(test.inputs()));
    let mlp_forecast = unscale(mlp.predict(test.inputs()));
    let naive_forecast = numbers[test_start - 1..n - 1].to_vec();
    let (lstm_mae, mlp_mae, naive_mae) = (
        mae(&lstm_forecast, actual),
        mae(&mlp_forecast, actual),
        mae(&naive_forecast, actual),
    );
    println!(
        "test MAE, {}-{}, in sunspot numbers (mean {:.1}):",
        years[test_start],
        years[n - 1],
        actual.iter().map(|&x| f64::from(x)).sum::<f64>() / actual.len() as f64
    );
    for (name, value) in [
        ("LSTM                 ", lstm_mae),
        ("MLP                  ", mlp_mae),
        ("naive (as last year) ", naive_mae),
    ] {
        println!("  {name} {value:6.1}");
    }

    // The highest test year: above anything the models trained on.
    let (top, &top_value) = actual
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("test years");
    println!(
        "\n{} (the highest, {top_value}): LSTM {:.1}, MLP {:.1}, naive {:.1}",
        years[test_start + top],
        lstm_forecast[top],
        mlp_forecast[top],
        naive_forecast[top]
    );

    let test_years = || years[test_start..].iter().map(|&y| f64::from(y));
    let series = |values: &[f32]| -> Vec<(f64, f64)> {
        test_years()
            .zip(values.iter().map(|&v| f64::from(v)))
            .collect()
    };
    #[cfg(feature = "plot")]
    {
        use macrograd::history::{shown_path, Chart};
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
        Chart::new("Sunspots: next year's number from the 20 before it")
            .subtitle(format!(
                "held-out years {}-{}; test MAE: LSTM {lstm_mae:.1}, MLP {mlp_mae:.1}, naive {naive_mae:.1}",
                years[test_start],
                years[n - 1]
            ))
            .axes("year", "yearly mean sunspot number")
            .line("actual", series(actual))
            .line("LSTM", series(&lstm_forecast))
            .line("MLP", series(&mlp_forecast))
            .line("naive: as last year", series(&naive_forecast))
            .write(&path)?;
        println!("\nForecasts: wrote {}", shown_path(&path));
    }
    #[cfg(not(feature = "plot"))]
    {
        let _ = series;
        println!("\n(no picture at {path}: built without the `plot` feature)");
    }

    // Verdicts from this run's numbers.
    let versus = |model: f64| {
        if model < naive_mae {
            format!("{:.0} % below", 100.0 * (1.0 - model / naive_mae))
        } else {
            format!("{:.0} % above", 100.0 * (model / naive_mae - 1.0))
        }
    };
    // Test years where a forecast is nearer the actual number than the naive one.
    let nearer = |forecast: &[f32]| {
        forecast
            .iter()
            .zip(&naive_forecast)
            .zip(actual)
            .filter(|((&f, &l), &a)| (f - a).abs() < (l - a).abs())
            .count()
    };
    let (lstm_top, mlp_top) = (
        (lstm_forecast[top] - top_value).abs(),
        (mlp_forecast[top] - top_value).abs(),
    );
    let harder = |miss: f32, mae: f64| {
        if f64::from(miss) > mae {
            format!("{:.1}x its MAE", f64::from(miss) / mae)
        } else {
            "within its MAE".to_string()
        }
    };
    println!();
    println!(
        "Look at: the test MAEs, the LSTM's {} and the MLP's {} the naive forecast's;",
        versus(lstm_mae),
        versus(mlp_mae)
    );
    println!("in the picture the naive line is the actual one a year late, and the LSTM is nearer");
    println!(
        "than it in {} of the {} test years, the MLP in {}. {} ({top_value}, above the training",
        nearer(&lstm_forecast),
        actual.len(),
        nearer(&mlp_forecast),
        years[test_start + top]
    );
    println!(
        "maximum {scale}) is missed by {lstm_top:.0} by the LSTM ({}) and {mlp_top:.0} by the MLP ({}).",
        harder(lstm_top, lstm_mae),
        harder(mlp_top, mlp_mae)
    );
    Ok(())
}
