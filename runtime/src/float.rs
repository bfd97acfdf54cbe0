//! The element types a model can be built in: `f32` (the default) and `f64`.
//!
//! [`Float`] gathers what the kernels need from an element type: arithmetic,
//! ndarray's traits, a matrix multiply ([`Element`], which `gemm/` implements
//! for `f32` and `f64` only, so `Float` is sealed), conversions from the
//! `f64` hyperparameters (rounded to nearest) and exact widening to `f64`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::Float;
//! assert_eq!(<f32 as Float>::NAME, "f32");
//! assert_eq!(f64::of(0.5), 0.5);
//! ```

use std::fmt::{Debug, Display};

use crate::gemm::Element;

/// An element type for tensors, parameters and gradients.
///
/// Sealed: implemented for `f32` and `f64` only, the types [`gemm`](crate::gemm)
/// has a kernel for.
pub trait Float:
    Element + ndarray::ScalarOperand + Debug + Display + Default + Send + Sync + 'static
{
    /// `"f32"` or `"f64"`, as it appears in messages and files.
    const NAME: &'static str;

    /// Converts an `f64` (a hyperparameter, a literal) to this type, rounding
    /// to nearest.
    fn of(value: f64) -> Self;

    /// Widens to `f64` exactly.
    fn to_f64(self) -> f64;

    /// The error function, for the exact GELU.
    fn erf(self) -> Self;
}

impl Float for f32 {
    const NAME: &'static str = "f32";

    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";

    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
}
