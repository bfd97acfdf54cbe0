//! A decision boundary being learned: two interleaving half moons that no
//! straight line separates, and a small MLP drawn as a map of the plane
//! after 1, 5, 20 and 100 epochs.
//!
//! Run: `cargo run --release --example boundary`
//!
//! Each map is the plane from x = -1.5 to 2.5 and y = -1 to 1.5: `.` where
//! the model answers "moon 0", blank where it answers "moon 1", and the
//! training points on top (`o` for moon 0, `x` for moon 1). After one
//! epoch the boundary is nearly a straight line and cuts through both
//! moons; with more epochs it bends between them. `MACROGRAD_QUICK=1`
//! stops after 20 epochs.

use macrograd::datasets::moons;
use macrograd::prelude::*;

model! {
    struct Net;
    input 2;
    Linear(2, 16);
    Tanh;
    Linear(_, 16);
    Tanh;
    Linear(_, 2);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

const ROWS: usize = 15;
const COLS: usize = 60;
/// The part of the plane drawn: x from `X0` to `X1`, y from `Y0` to `Y1`.
const X0: f32 = -1.5;
const X1: f32 = 2.5;
const Y0: f32 = -1.0;
const Y1: f32 = 1.5;

/// The plane as text: the model's answer on a grid, the points on top.
fn map(model: &mut Net, data: &Dataset<f32, macrograd::target::Classes>) -> String {
    let at = |r: usize, c: usize| {
        let x = X0 + (X1 - X0) * (c as f32 + 0.5) / COLS as f32;
        let y = Y1 - (Y1 - Y0) * (r as f32 + 0.5) / ROWS as f32;
        [x, y]
    };
    let grid: Vec<[f32; 2]> = (0..ROWS * COLS).map(|i| at(i / COLS, i % COLS)).collect();
    let answers = model.predict_classes(Array2::from(grid).view());
    let mut cells: Vec<u8> = answers.iter().map(|&a| [b'.', b' '][a]).collect();
    for (p, &class) in data.inputs().rows().into_iter().zip(data.targets()) {
        let c = ((p[0] - X0) / (X1 - X0) * COLS as f32).floor();
        let r = ((Y1 - p[1]) / (Y1 - Y0) * ROWS as f32).floor();
        if (0.0..COLS as f32).contains(&c) && (0.0..ROWS as f32).contains(&r) {
            cells[r as usize * COLS + c as usize] = [b'o', b'x'][class];
        }
    }
    cells
        .chunks(COLS)
        .map(|row| format!("  |{}|\n", String::from_utf8_lossy(row)))
        .collect()
}

fn main() -> macrograd::Result<()> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let train = moons(200, 0.15, 1)?;
    let test = moons(400, 0.15, 2)?;
    let mut model = Net::with_seed(3);

    let mut done = 0;
    for epochs in [1, 5, 20, 100] {
        if quick && epochs > 20 {
            break;
        }
        // Train up to `epochs` in all, then look.
        model.fit(
            &train,
            Fit::epochs(epochs - done)
                .batch_size(20)
                .seed(epochs as u64)
                .quiet(),
        )?;
        done = epochs;
        let result = model.evaluate(&test)?;
        let unit = if epochs == 1 { "epoch" } else { "epochs" };
        println!("after {epochs} {unit}: test {result}");
        print!("{}", map(&mut model, &train));
    }
    println!();
    println!("Look at: the first map's nearly straight boundary (a barely trained");
    println!("network is close to linear), and how it bends between the moons as the");
    println!("epochs add up; the test accuracy follows the bend.");
    Ok(())
}
