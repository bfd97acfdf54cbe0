//! The element types gemm multiplies: `f32` and `f64`, both on the
//! runtime's packed kernels (`blocked.rs`).

/// An element type that [`gemm`](super::gemm) multiplies: `f32` or `f64`.
///
/// Sealed: the two impls below are all there are, so
/// [`Float`](crate::Float), which builds on it, is sealed too.
pub trait Element:
    num_traits::Float + ndarray::LinalgScalar + Send + Sync + 'static + sealed::Sealed
{
    /// `C <- alpha A B + beta C` on raw strided storage, on this type's
    /// kernel. Called only by [`gemm`](super::gemm), which checks every
    /// shape and stride first.
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

mod sealed {
    /// Implemented for `f32` and `f64` only: nothing outside the crate can
    /// add an element type.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Element for f32 {
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
        // SAFETY: forwarded from the caller's contract.
        unsafe { gemm_packed(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
    }
}

/// [`Element::gemm_raw`] on the packed kernels, for either type.
///
/// # Safety
///
/// As [`Element::gemm_raw`]'s.
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn gemm_packed<T: super::blocked::Packed>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    use super::blocked::{gemm, Mat};
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
    unsafe { gemm(m, k, n, alpha, a, b, beta, c, rsc, csc) }
}

impl Element for f64 {
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
        unsafe { gemm_packed(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
    }
}
