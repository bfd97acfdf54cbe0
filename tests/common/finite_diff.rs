//! The finite-difference gradient check of the numerics tests: each
//! analytic gradient against the central difference
//! `(L(p + h) - L(p - h)) / 2h`, in f64.

/// The step `h` of the central differences.
pub const H: f64 = 1e-6;

/// Checks `analytic` against central differences of `f` around `point`:
/// each component's error, relative to `max(|analytic|, 1)`, must be under
/// 1e-6. `point` is restored after each component.
#[track_caller]
pub fn check(what: &str, point: &mut [f64], analytic: &[f64], mut f: impl FnMut(&[f64]) -> f64) {
    assert_eq!(point.len(), analytic.len());
    let mut worst = 0.0_f64;
    for i in 0..point.len() {
        let keep = point[i];
        point[i] = keep + H;
        let up = f(point);
        point[i] = keep - H;
        let down = f(point);
        point[i] = keep;
        let numeric = (up - down) / (2.0 * H);
        let error = (numeric - analytic[i]).abs() / analytic[i].abs().max(1.0);
        worst = worst.max(error);
        assert!(
            error < 1e-6,
            "{what}[{i}]: analytic {} vs numeric {numeric}",
            analytic[i]
        );
    }
    assert!(worst.is_finite(), "{what}: no finite comparison");
}
