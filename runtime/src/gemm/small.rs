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
//! Both are compiled for AVX-512F, for AVX2 + FMA and for the baseline
//! target, and run in the widest the CPU has (`simd::dispatch!`); the axpy
//! form also has a hand-written AVX-512F version for `f32` rows of up to
//! 64 columns.

use super::Element;

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
/// As [`Element::gemm_raw`]: valid operands, `c` aliasing neither.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn try_gemm<T: Element>(
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
    #[cfg(target_arch = "x86_64")]
    if b.cs == 1
        && csc == 1
        && m <= AXPY_MAX_M
        && n <= 4 * 16
        && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && crate::simd::has_avx512()
    {
        // SAFETY: T is f32 (the same type, so the casts are identities);
        // the CPU has AVX-512F; the rest is forwarded, in the axpy form's
        // layout.
        unsafe {
            let cast = |v: View<T>| View {
                ptr: v.ptr.cast::<f32>(),
                rs: v.rs,
                cs: v.cs,
            };
            // T is f32: the conversion is the identity (never `None`).
            let f32_of = |v: T| v.to_f32().unwrap_or(f32::NAN);
            let (alpha, beta) = (f32_of(alpha), f32_of(beta));
            axpy_rows_avx512(dims, alpha, cast(a), cast(b), beta, c.cast::<f32>());
        }
        return true;
    }
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
    unsafe fn axpy_form<T: Element>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T) => axpy_body
}

crate::simd::dispatch! {
    unsafe fn dot_form<T: Element>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T, csc: isize) => dot_body
}

#[inline(always)]
unsafe fn axpy_body<T: Element>(d: Dims, alpha: T, a: View<T>, b: View<T>, beta: T, c: *mut T) {
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

/// The axpy form for up to [`AXPY_MAX_M`] rows of at most 64 columns in
/// f32 (a one-output layer's weight gradient `g^T x`): each row of C is
/// kept in up to four registers across all `k` steps, instead of being
/// loaded and stored once per step, with masked loads and stores at the
/// row's end. The same operations in the same order as [`axpy_body`],
/// so the same bits.
///
/// # Safety
///
/// As `axpy_form`'s, with `n <= 64`; the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn axpy_rows_avx512(
    d: Dims,
    alpha: f32,
    a: View<f32>,
    b: View<f32>,
    beta: f32,
    c: *mut f32,
) {
    use std::arch::x86_64::*;
    // Lane masks of the (up to) four 16-lane pieces of a row of n values.
    let masks: [__mmask16; 4] = crate::simd::lane_masks(d.n);
    let pieces = d.n.div_ceil(16);
    // SAFETY: every access is inside row i of C, row p of B (masked to n
    // values) or element (i, p) of A.
    unsafe {
        for i in 0..d.m {
            let row = c.offset(i as isize * d.rsc);
            let mut acc = [_mm512_setzero_ps(); 4];
            if beta != 0.0 {
                for q in 0..pieces {
                    let old = _mm512_maskz_loadu_ps(masks[q], row.add(16 * q));
                    acc[q] = if beta == 1.0 {
                        old
                    } else {
                        _mm512_mul_ps(old, _mm512_set1_ps(beta))
                    };
                }
            }
            for p in 0..d.k {
                let x =
                    _mm512_set1_ps(alpha * *a.ptr.offset(i as isize * a.rs + p as isize * a.cs));
                let brow = b.ptr.offset(p as isize * b.rs);
                for q in 0..pieces {
                    let bv = _mm512_maskz_loadu_ps(masks[q], brow.add(16 * q));
                    acc[q] = _mm512_fmadd_ps(x, bv, acc[q]);
                }
            }
            for q in 0..pieces {
                _mm512_mask_storeu_ps(row.add(16 * q), masks[q], acc[q]);
            }
        }
    }
}

#[inline(always)]
unsafe fn dot_body<T: Element>(
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
            // SAFETY: as for the row: column j of B holds k contiguous values.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX-512 rows of the axpy form give the bits of the generic
    /// body, over every width up to 64 (each masked piece boundary), 1 to
    /// 4 rows, and the three kinds of beta.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx512_axpy_rows_equal_the_generic_body() {
        if !crate::simd::has_avx512() {
            return;
        }
        let value = |i: usize, salt: usize| ((i * 37 + salt * 11) % 29) as f32 / 7.0 - 2.0;
        for m in 1..=AXPY_MAX_M {
            for n in 1..=64 {
                for k in [1, 3, 100] {
                    for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, 0.5)] {
                        // A as the transposed gradient (rs = 1, cs = m).
                        let a: Vec<f32> = (0..m * k).map(|i| value(i, 1)).collect();
                        let b: Vec<f32> = (0..k * n).map(|i| value(i, 2)).collect();
                        let c0: Vec<f32> = (0..m * n).map(|i| value(i, 3)).collect();
                        let d = Dims {
                            m,
                            k,
                            n,
                            rsc: n as isize,
                        };
                        let av = View {
                            ptr: a.as_ptr(),
                            rs: 1,
                            cs: m as isize,
                        };
                        let bv = View {
                            ptr: b.as_ptr(),
                            rs: n as isize,
                            cs: 1,
                        };
                        let (mut fast, mut plain) = (c0.clone(), c0.clone());
                        // SAFETY: the operands hold the given shapes; the
                        // CPU has AVX-512F.
                        unsafe {
                            axpy_rows_avx512(d, alpha, av, bv, beta, fast.as_mut_ptr());
                            axpy_body(d, alpha, av, bv, beta, plain.as_mut_ptr());
                        }
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&fast), bits(&plain), "m={m} n={n} k={k} beta={beta}");
                    }
                }
            }
        }
    }
}
