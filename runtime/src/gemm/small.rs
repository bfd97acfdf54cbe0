//! Unpacked kernels for small products, where packing costs more than it
//! saves (the layers of small models: a `[32, 10] x [10, 64]` forward pass,
//! a one-output regression head).
//!
//! Two forms cover every product a `Linear` layer makes with row-major
//! buffers and a `[out, in]` weight:
//! - axpy form, when B's rows are contiguous: `C[i, :] += A[i, p] * B[p, :]`
//!   (the gradients `g W` and `g^T x`);
//! - dot form, when A's rows and B's columns are contiguous:
//!   `C[i, j] = A[i, :] . B[:, j]` (the forward pass `x W^T`), summed in
//!   eight interleaved partial sums so that it vectorizes.
//!
//! Both are compiled for AVX2 + FMA when the CPU has them.

use crate::Float;

/// Products up to this many multiply-adds take the unpacked path.
pub(crate) const SMALL_MAX: usize = 1 << 15;

/// The dot form only pays for matrix-vector products: one horizontal sum
/// per output element costs more than packing once `C` has more columns.
const DOT_MAX_N: usize = 4;

/// The axpy form pays for vector-matrix products (a one-output layer's
/// gradients); wider products pack faster.
const AXPY_MAX_M: usize = 4;

/// A strided operand.
#[derive(Clone, Copy)]
pub(crate) struct View<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

/// Runs `C <- alpha A B + beta C` unpacked if the layout allows; returns
/// `false` (doing nothing) otherwise.
///
/// # Safety
///
/// As [`crate::Float::gemm_raw`]: valid operands, `c` aliasing neither.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn try_gemm<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: View<T>,
    b: View<T>,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) -> bool {
    if m * n * k > SMALL_MAX {
        return false;
    }
    let dims = Dims { m, k, n, rsc };
    if b.cs == 1 && csc == 1 && (m <= AXPY_MAX_M || n <= AXPY_MAX_M) {
        // SAFETY: forwarded; the layout is the axpy form's.
        unsafe { axpy_form(dims, alpha, a, b, beta, c) };
        true
    } else if a.cs == 1 && b.rs == 1 && n <= DOT_MAX_N {
        // SAFETY: forwarded; the layout is the dot form's.
        unsafe { dot_form(dims, alpha, a, b, beta, c, csc) };
        true
    } else {
        false
    }
}

#[derive(Clone, Copy)]
struct Dims {
    m: usize,
    k: usize,
    n: usize,
    rsc: isize,
}

crate::simd::dispatch! {
    unsafe fn axpy_form<T: Float>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T) => axpy_body
}

crate::simd::dispatch! {
    unsafe fn dot_form<T: Float>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T, csc: isize) => dot_body
}

#[inline(always)]
unsafe fn axpy_body<T: Float>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T) {
    for i in 0..d.m {
        // SAFETY: row i of C holds n contiguous values (csc == 1).
        let row = unsafe { std::slice::from_raw_parts_mut(c.offset(i as isize * d.rsc), d.n) };
        if beta == T::zero() {
            row.fill(T::zero());
        } else if beta != T::one() {
            row.iter_mut().for_each(|v| *v = *v * beta);
        }
        for p in 0..d.k {
            // SAFETY: (i, p) is inside A; row p of B holds n contiguous values.
            let (x, brow) = unsafe {
                (
                    alpha * *a.ptr.offset(i as isize * a.rs + p as isize * a.cs),
                    std::slice::from_raw_parts(b.ptr.offset(p as isize * b.rs), d.n),
                )
            };
            for (v, &bv) in row.iter_mut().zip(brow) {
                *v = x.mul_add(bv, *v);
            }
        }
    }
}

#[inline(always)]
unsafe fn dot_body<T: Float>(
    d: Dims,
    alpha: T,
    a: View<T>,
    b: View<T>,
    beta: T,
    c: *mut T,
    csc: isize,
) {
    const LANES: usize = 8;
    let full = d.k / LANES * LANES;
    for i in 0..d.m {
        // SAFETY: row i of A and column j of B hold k contiguous values.
        let arow = unsafe { std::slice::from_raw_parts(a.ptr.offset(i as isize * a.rs), d.k) };
        for j in 0..d.n {
            let bcol = unsafe { std::slice::from_raw_parts(b.ptr.offset(j as isize * b.cs), d.k) };
            let mut acc = [T::zero(); LANES];
            for (ac, bc) in arow[..full]
                .chunks_exact(LANES)
                .zip(bcol[..full].chunks_exact(LANES))
            {
                for l in 0..LANES {
                    acc[l] = ac[l].mul_add(bc[l], acc[l]);
                }
            }
            let mut sum = T::zero();
            for p in full..d.k {
                sum = arow[p].mul_add(bcol[p], sum);
            }
            // Pairwise reduction of the lanes, then the tail.
            let lanes =
                ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
            let dot = lanes + sum;
            // SAFETY: (i, j) is inside C.
            unsafe {
                let dst = c.offset(i as isize * d.rsc + j as isize * csc);
                *dst = if beta == T::zero() {
                    alpha * dot
                } else {
                    alpha * dot + beta * *dst
                };
            }
        }
    }
}
