//! The element types a model can be built in: `f32` (the default) and `f64`.
//!
//! [`Float`] gathers what the kernels need from an element type: arithmetic,
//! ndarray's traits, the matching matrix multiply (the runtime's packed
//! sgemm or `matrixmultiply`'s dgemm) and exact conversions from the `f64` hyperparameters.
//!
//! ```
//! use macrograd_runtime::Float;
//! assert_eq!(<f32 as Float>::NAME, "f32");
//! assert_eq!(f64::of(0.5), 0.5);
//! ```

use std::fmt::{Debug, Display};

/// An element type for tensors, parameters and gradients.
pub trait Float:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
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

    /// `C <- alpha A B + beta C` on raw strided storage: the one place the
    /// element type picks its kernel (the runtime's packed sgemm for `f32`,
    /// `matrixmultiply`'s dgemm for `f64`). Called only by
    /// [`crate::gemm::gemm`], which checks every shape and stride first.
    ///
    /// # Safety
    ///
    /// The pointers and strides must describe valid `m x k`, `k x n` and
    /// `m x n` matrices, with `c` not aliasing `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
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

    #[inline]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        use crate::gemm::sgemm::{sgemm, Mat};
        let a = Mat {
            ptr: a,
            rs: rsa,
            cs: csa,
        };
        let b = Mat {
            ptr: b,
            rs: rsb,
            cs: csb,
        };
        // SAFETY: forwarded from the caller's contract.
        unsafe { sgemm(m, k, n, alpha, a, b, beta, c, rsc, csc) }
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

    #[inline]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}
