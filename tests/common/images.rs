//! A small image task for the CNN tests.

use macrograd::prelude::*;
use macrograd::target::Classes;

/// Bars on an 8x8 grid: class 0 a horizontal bar, 1 a vertical bar, 2 a
/// diagonal, at a random position, on noise.
pub fn bars(n: usize, seed: u64) -> Dataset<f32, Classes> {
    let mut rng = Rng::new(seed);
    let mut x = Array2::<f32>::zeros((n, 64));
    let mut labels = Vec::with_capacity(n);
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let class = i % 3;
        let at = rng.below(8);
        for v in row.iter_mut() {
            *v = 0.3 * rng.normal() as f32;
        }
        for j in 0..8 {
            let (r, c) = match class {
                0 => (at, j),
                1 => (j, at),
                _ => (j, (j + at) % 8),
            };
            row[r * 8 + c] += 1.0;
        }
        labels.push(class);
    }
    Dataset::classification(x, labels).unwrap()
}
