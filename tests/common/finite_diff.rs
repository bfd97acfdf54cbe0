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

/// Checks every parameter gradient of a generated model on one batch, in
/// the model's current mode (so its forward must be deterministic there:
/// no dropout in training mode): each parameter tensor's analytic
/// gradient, which must not be all zero, against central differences of
/// the loss, the tensor put back afterwards. Returns the number of tensors.
#[track_caller]
pub fn check_model<M: macrograd::model::Model<Elem = f64>>(
    name: &str,
    model: &mut M,
    x: &ndarray::Array2<f64>,
    y: &<M::Target as macrograd::target::Target<f64>>::Data,
) -> usize {
    use macrograd::target::Target;
    let view = |y| <M::Target as Target<f64>>::view(y, x.nrows());
    model.forward(x);
    model.compute_loss(view(y), true);
    model.zero_grad();
    model.backward();
    let params: Vec<(&'static str, Vec<f64>, Vec<f64>)> = model
        .parameters()
        .into_iter()
        .map(|p| {
            let grad = p.grad.expect("a backward ran").iter().copied().collect();
            (p.name, p.value.iter().copied().collect(), grad)
        })
        .collect();
    assert!(!params.is_empty(), "{name}: no parameters");
    let count = params.len();
    for (pname, mut value, grad) in params {
        assert!(
            grad.iter().any(|&g| g != 0.0),
            "{name} {pname}: no gradient"
        );
        check(&format!("{name} {pname}"), &mut value, &grad, |p| {
            model.set_parameter(pname, p).unwrap();
            model.forward(x);
            model.compute_loss(view(y), false)
        });
        // Back to the point the gradients were taken at, for the next tensor.
        model.set_parameter(pname, &value).unwrap();
    }
    count
}
