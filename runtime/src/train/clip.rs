//! Gradient clipping, as PyTorch's `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`: called between `backward` and `step`.
//!
//! Clipping by norm scales every gradient of the model by one factor, so
//! that the norm of all of them together (one vector) is at most
//! `max_norm`:
//! ```text
//! total = || concat(g_1, ..., g_n) ||_p        (p = 2, or inf: max |g|)
//! g_i  <- g_i * min(max_norm / (total + 1e-6), 1)
//! ```
//! and returns `total`, measured before clipping. Clipping by value clamps
//! each element to `[-clip, clip]`. Both allocate nothing.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::clip::clip_grad_norm;
//! use macrograd::model::Model;
//! # fn train<M: Model>(model: &mut M) {
//! model.backward();
//! let norm = clip_grad_norm(model, 1.0); // the norm before clipping
//! model.step();
//! # let _ = norm;
//! # }
//! ```

use crate::model::Model;
use crate::Float;

/// Scales the gradients of `model` so that their global L2 norm is at most
/// `max_norm` (PyTorch's `clip_grad_norm_(parameters, max_norm)`), and
/// returns the norm they had before.
///
/// The norm is one over all parameter gradients together, as if they were
/// concatenated; each is multiplied by `min(max_norm / (total + 1e-6), 1)`,
/// so gradients already within the bound are unchanged (up to the `1e-6`).
/// The sum of squares is accumulated in `f64` for either element type. As in
/// PyTorch (`error_if_nonfinite = false`), a non-finite norm is returned and
/// the gradients are scaled by what it gives (NaN makes them NaN).
///
/// Gradients cleared by `zero_grad` (PyTorch's `None`) count for nothing:
/// with no backward since, this returns 0 and changes nothing.
///
/// # Panics
///
/// If `max_norm` is negative or NaN.
///
/// # Examples
///
/// ```
/// # use macrograd_runtime as macrograd;
/// # use macrograd::{clip::clip_grad_norm, model::Model};
/// # fn f<M: Model>(model: &mut M) {
/// model.backward();
/// let total = clip_grad_norm(model, 5.0);
/// model.step();
/// # }
/// ```
pub fn clip_grad_norm<M: Model + ?Sized>(model: &mut M, max_norm: f64) -> f64 {
    clip_grad_norm_p(model, max_norm, 2.0)
}

/// [`clip_grad_norm`] with the norm of PyTorch's `norm_type`: any `p > 0`,
/// `(sum |g|^p)^(1/p)`, or `f64::INFINITY`, `max |g|`.
///
/// # Panics
///
/// If `max_norm` is negative or NaN, or `norm_type` is not `> 0` (NaN
/// included).
///
/// # Examples
///
/// ```
/// # use macrograd_runtime as macrograd;
/// # use macrograd::{clip::clip_grad_norm_p, model::Model};
/// # fn f<M: Model>(model: &mut M) {
/// model.backward();
/// let largest = clip_grad_norm_p(model, 1.0, f64::INFINITY); // max |g| <= 1
/// model.step();
/// # }
/// ```
pub fn clip_grad_norm_p<M: Model + ?Sized>(model: &mut M, max_norm: f64, norm_type: f64) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: expected `max_norm` >= 0, found {max_norm}"
    );
    assert!(
        norm_type > 0.0,
        "clip_grad_norm: expected `norm_type` > 0 (or infinity), found {norm_type}"
    );
    let Some(total) = total_norm(model, norm_type) else {
        return 0.0;
    };
    let coef = (max_norm / (total + 1e-6)).min(1.0);
    // PyTorch multiplies even by a coefficient clamped to 1 (to avoid a
    // device sync); here 1 is skipped, which gives the same numbers. A NaN
    // total makes `min` return 1.0, so it is tested apart.
    if coef < 1.0 || total.is_nan() {
        let coef = <M::Elem as Float>::of(if total.is_nan() { f64::NAN } else { coef });
        // `ParameterMut` does not say whether a gradient is cleared; a
        // generated model clears all of them at once, and a cleared one is
        // overwritten by the next backward, so scaling it is harmless.
        model.visit_parameters_mut(&mut |mut p| p.grad.mapv_inplace(|g| g * coef));
    }
    total
}

/// The norm of all gradients together, `None` when they are cleared.
fn total_norm<M: Model + ?Sized>(model: &M, norm_type: f64) -> Option<f64> {
    let mut any = false;
    // LOOP: |g|^p summed (or the max of |g|) over every gradient element.
    let mut acc = 0.0_f64;
    model.visit_parameters(&mut |p| {
        let Some(grad) = p.grad else {
            return;
        };
        any = true;
        if norm_type == f64::INFINITY {
            for &g in grad.iter() {
                let a = g.to_f64().abs();
                // `max` would drop a NaN; PyTorch's norm keeps it.
                if a > acc || a.is_nan() {
                    acc = a;
                }
            }
        } else if norm_type == 2.0 {
            for &g in grad.iter() {
                let g = g.to_f64();
                acc += g * g;
            }
        } else {
            for &g in grad.iter() {
                acc += g.to_f64().abs().powf(norm_type);
            }
        }
    });
    any.then(|| {
        if norm_type == f64::INFINITY {
            acc
        } else if norm_type == 2.0 {
            acc.sqrt()
        } else {
            acc.powf(norm_type.recip())
        }
    })
}

/// Clamps every gradient element of `model` to `[-clip, clip]` (PyTorch's
/// `clip_grad_value_`). A NaN gradient stays NaN. Gradients cleared by
/// `zero_grad` are left alone.
///
/// # Panics
///
/// If `clip` is negative or NaN.
///
/// # Examples
///
/// ```
/// # use macrograd_runtime as macrograd;
/// # use macrograd::{clip::clip_grad_value, model::Model};
/// # fn f<M: Model>(model: &mut M) {
/// model.backward();
/// clip_grad_value(model, 1.0);
/// model.step();
/// # }
/// ```
pub fn clip_grad_value<M: Model + ?Sized>(model: &mut M, clip: f64) {
    assert!(
        clip >= 0.0,
        "clip_grad_value: expected `clip` >= 0, found {clip}"
    );
    if !has_grads(model) {
        return;
    }
    let hi = <M::Elem as Float>::of(clip);
    let lo = -hi;
    model.visit_parameters_mut(&mut |mut p| {
        p.grad.mapv_inplace(|g| {
            if g < lo {
                lo
            } else if g > hi {
                hi
            } else {
                g
            }
        });
    });
}

/// Whether a backward has run since `zero_grad`.
fn has_grads<M: Model + ?Sized>(model: &M) -> bool {
    let mut any = false;
    model.visit_parameters(&mut |p| any |= p.grad.is_some());
    any
}
