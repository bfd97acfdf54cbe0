//! Seeded two-dimensional toy problems, as scikit-learn's `make_moons` and
//! `make_circles` and the classic spirals: classes that no straight line
//! separates, small enough to look at (two features, as many points as
//! asked for), where a model's decision boundary can be drawn over the
//! plane.
//!
//! Each generator places the points of every class on its curve, adds
//! Gaussian noise of standard deviation `noise` to both coordinates, and
//! returns them in an order shuffled by the seed (as scikit-learn does by
//! default). The same arguments give the same points, bit for bit.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::datasets::{circles, moons, spirals};
//! let data = moons(200, 0.1, 7)?;
//! assert_eq!((data.len(), data.features()), (200, 2));
//! assert_eq!(data.class_counts().values().copied().collect::<Vec<_>>(), [100, 100]);
//! assert_eq!(moons(200, 0.1, 7)?.inputs(), data.inputs());
//! assert_eq!(circles(100, 0.05, 0.5, 1)?.len(), 100);
//! assert_eq!(spirals(300, 3, 0.2, 1)?.class_counts().len(), 3);
//! # Ok::<(), macrograd::Error>(())
//! ```

use std::f64::consts::PI;

use ndarray::Array2;

use crate::data::Dataset;
use crate::target::Classes;
use crate::{Error, Result, Rng};

/// Two interleaving half circles (scikit-learn's `make_moons`): class 0 on
/// the upper half of the unit circle, class 1 on a lower half circle
/// shifted to `(1, 0.5)`, `n / 2` points on the first (rounded down) and
/// the rest on the second, evenly spaced along each.
///
/// # Errors
///
/// [`Error::InvalidSetting`] if `n < 2` or `noise` is negative or not
/// finite.
pub fn moons(n: usize, noise: f64, seed: u64) -> Result<Dataset<f32, Classes>> {
    check(n, 2, noise)?;
    let outer = n / 2;
    let points = (0..n).map(|i| {
        if i < outer {
            let t = PI * along(i, outer);
            ([t.cos(), t.sin()], 0)
        } else {
            let t = PI * along(i - outer, n - outer);
            ([1.0 - t.cos(), 0.5 - t.sin()], 1)
        }
    });
    Ok(build(points, n, noise, seed))
}

/// A circle inside another (scikit-learn's `make_circles`): class 0 on the
/// unit circle, class 1 on the circle of radius `factor` around the same
/// centre, `n / 2` points on the first (rounded down) and the rest on the
/// second, evenly spaced around each.
///
/// # Errors
///
/// [`Error::InvalidSetting`] if `n < 2`, `noise` is negative or not finite,
/// or `factor` is not in `(0, 1)`.
pub fn circles(n: usize, noise: f64, factor: f64, seed: u64) -> Result<Dataset<f32, Classes>> {
    check(n, 2, noise)?;
    if !(factor > 0.0 && factor < 1.0) {
        return Err(invalid(format!(
            "`factor` (the inner circle's radius) must be in (0, 1), found {factor}"
        )));
    }
    let outer = n / 2;
    let points = (0..n).map(|i| {
        let (k, m, r, class) = if i < outer {
            (i, outer, 1.0, 0)
        } else {
            (i - outer, n - outer, factor, 1)
        };
        // Evenly around, without repeating the start (`endpoint=False`).
        let t = 2.0 * PI * k as f64 / m as f64;
        ([r * t.cos(), r * t.sin()], class)
    });
    Ok(build(points, n, noise, seed))
}

/// `classes` spiral arms around the origin, one per class (the classic
/// exercise of CS231n): arm `k` has `n / classes` points (the first
/// `n % classes` arms one more), at radius `r` from 0 to 1 and angle
/// `4 (k + r)` radians, so that the arms wind around each other.
///
/// # Errors
///
/// [`Error::InvalidSetting`] if `classes < 2`, `n < classes`, or `noise`
/// is negative or not finite.
pub fn spirals(n: usize, classes: usize, noise: f64, seed: u64) -> Result<Dataset<f32, Classes>> {
    if classes < 2 {
        return Err(invalid(format!(
            "`classes` must be at least 2, found {classes}"
        )));
    }
    check(n, classes, noise)?;
    let (each, extra) = (n / classes, n % classes);
    let points = (0..classes).flat_map(move |k| {
        let m = each + usize::from(k < extra);
        (0..m).map(move |i| {
            let r = along(i, m);
            let t = 4.0 * (k as f64 + r);
            ([r * t.sin(), r * t.cos()], k)
        })
    });
    Ok(build(points, n, noise, seed))
}

/// `i / (m - 1)`: the `i`-th of `m` evenly spaced points of `[0, 1]`, both
/// ends included (0 for `m = 1`).
fn along(i: usize, m: usize) -> f64 {
    if m > 1 {
        i as f64 / (m - 1) as f64
    } else {
        0.0
    }
}

/// At least `least` points and a usable noise.
fn check(n: usize, least: usize, noise: f64) -> Result<()> {
    if n < least {
        return Err(invalid(format!(
            "`n` must be at least {least} (one point per class), found {n}"
        )));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(invalid(format!(
            "`noise` (a standard deviation) must be finite and >= 0, found {noise}"
        )));
    }
    Ok(())
}

fn invalid(message: String) -> Error {
    Error::InvalidSetting {
        name: "toy dataset",
        message,
    }
}

/// The `n` points and classes, with noise added (x then y of each point,
/// in order), shuffled.
fn build(
    points: impl Iterator<Item = ([f64; 2], usize)>,
    n: usize,
    noise: f64,
    seed: u64,
) -> Dataset<f32, Classes> {
    let mut rng = Rng::new(seed);
    let mut xy = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for ([x, y], class) in points {
        xy.push(x + noise * rng.normal());
        xy.push(y + noise * rng.normal());
        labels.push(class);
    }
    let mut order: Vec<usize> = (0..n).collect();
    rng.permutation(&mut order);
    let inputs = Array2::from_shape_fn((n, 2), |(i, j)| xy[2 * order[i] + j] as f32);
    let labels = order.iter().map(|&i| labels[i]).collect();
    Dataset::classification(inputs, labels).expect("finite points, one label each")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_lie_on_their_curves_without_noise() {
        let data = moons(11, 0.0, 3).unwrap();
        for (p, &c) in data.inputs().rows().into_iter().zip(data.targets()) {
            let (x, y) = (f64::from(p[0]), f64::from(p[1]));
            let (cx, cy) = if c == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-6, "{x}, {y} of class {c}");
            assert!(if c == 0 { y >= -1e-7 } else { y <= 0.5 + 1e-7 });
        }
        let data = circles(10, 0.0, 0.3, 1).unwrap();
        for (p, &c) in data.inputs().rows().into_iter().zip(data.targets()) {
            let r = (f64::from(p[0]).powi(2) + f64::from(p[1]).powi(2)).sqrt();
            assert!((r - [1.0, 0.3][c]).abs() < 1e-6);
        }
        let data = spirals(7, 3, 0.0, 2).unwrap();
        let mut counts = data.class_counts().into_values().collect::<Vec<_>>();
        counts.sort();
        assert_eq!(counts, [2, 2, 3]);
    }

    #[test]
    fn seeds_decide_the_noise_and_the_order() {
        let a = spirals(90, 3, 0.1, 5).unwrap();
        assert_eq!(a.inputs(), spirals(90, 3, 0.1, 5).unwrap().inputs());
        assert_eq!(a.targets(), spirals(90, 3, 0.1, 5).unwrap().targets());
        assert_ne!(a.inputs(), spirals(90, 3, 0.1, 6).unwrap().inputs());
        assert!(a.targets().windows(2).any(|w| w[0] > w[1]), "shuffled");
    }

    #[test]
    fn bad_arguments_are_errors() {
        for err in [
            moons(1, 0.1, 0).unwrap_err(),
            moons(10, -0.1, 0).unwrap_err(),
            moons(10, f64::NAN, 0).unwrap_err(),
            circles(10, 0.1, 1.0, 0).unwrap_err(),
            circles(10, 0.1, 0.0, 0).unwrap_err(),
            spirals(10, 1, 0.1, 0).unwrap_err(),
            spirals(2, 3, 0.1, 0).unwrap_err(),
        ] {
            assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
        }
    }
}
