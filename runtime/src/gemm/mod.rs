//! General matrix multiply: `C <- alpha A B + beta C`.
//!
//! Small products (up to 2^15 multiply-adds) whose `C` has at most four
//! rows or columns run unpacked when the strides allow, on loops compiled
//! for each instruction set (`small`), for either element type. Other
//! products, `f32` and `f64`, run on the runtime's own packed kernels
//! (`blocked`: AVX-512F or AVX2+FMA microkernels picked at run time, a
//! portable fallback, packing buffers reused across calls so a training
//! step allocates nothing; large products split across threads).
//!
//! Operands are ndarray views with any strides, so a transpose is a view
//! (`w.t()`) and costs nothing. With `beta = 0`, `C` is not read (it may hold
//! garbage or NaN); with `beta = 1` the product accumulates into `C`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::gemm::gemm;
//! use ndarray::array;
//! let a = array![[1.0_f64, 2.0], [3.0, 4.0]];
//! let mut c = array![[0.0_f64, 0.0], [0.0, 0.0]];
//! gemm(1.0, a.view(), a.t(), 0.0, c.view_mut()); // C = A A^T
//! assert_eq!(c, array![[5.0, 11.0], [11.0, 25.0]]);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

pub(crate) mod blocked;
mod element;
pub(crate) mod packed;
mod small;

pub use element::Element;

/// `C <- alpha A B + beta C` with `A: [m, k]`, `B: [k, n]`, `C: [m, n]`.
///
/// `beta = 0` overwrites `C` without reading it; `beta = 1` accumulates.
///
/// # Panics
///
/// If the shapes do not chain (`A`'s columns differ from `B`'s rows, or `C`
/// is not `m x n`); the message names every dimension.
#[track_caller]
pub fn gemm<T: Element>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: shapes do not chain: A is {m}x{k}, B is {k2}x{n}, C is {}x{}, expected C {m}x{n} and B {k}x{n}",
        c.nrows(),
        c.ncols()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // The product is empty: C <- beta C, and beta = 0 must not read C.
        if beta == T::zero() {
            c.fill(T::zero());
        } else {
            c.mapv_inplace(|v| v * beta);
        }
        return;
    }
    let [rsa, csa] = strides(a.strides());
    let [rsb, csb] = strides(b.strides());
    let [rsc, csc] = strides(c.strides());
    let (av, bv) = (
        small::View {
            ptr: a.as_ptr(),
            rs: rsa,
            cs: csa,
        },
        small::View {
            ptr: b.as_ptr(),
            rs: rsb,
            cs: csb,
        },
    );
    // SAFETY: the views own valid storage for the checked shapes and
    // strides; `c` is a unique mutable view, so it aliases neither input.
    if unsafe { small::try_gemm(m, k, n, alpha, av, bv, beta, c.as_mut_ptr(), rsc, csc) } {
        return;
    }
    // SAFETY: as above.
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

fn strides(s: &[isize]) -> [isize; 2] {
    [s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    fn naive(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        for i in 0..a.nrows() {
            for j in 0..b.ncols() {
                let mut acc = 0.0;
                for p in 0..a.ncols() {
                    acc += a[[i, p]] * b[[p, j]];
                }
                c[[i, j]] = acc;
            }
        }
        c
    }

    fn filled(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut rng = crate::Rng::new(seed);
        Array2::from_shape_fn((rows, cols), |_| rng.sym())
    }

    #[test]
    fn matches_naive_over_odd_sizes_and_layouts() {
        let sizes = [0, 1, 7, 17, 65];
        for &m in &sizes {
            for &k in &sizes {
                for &n in &sizes {
                    let a = filled(m, k, 1);
                    let bt = filled(n, k, 2); // B given transposed: a view
                    let expect = naive(a.view(), bt.t());
                    let mut c = Array2::from_elem((m, n), f64::NAN);
                    gemm(1.0, a.view(), bt.t(), 0.0, c.view_mut());
                    for (x, y) in c.iter().zip(expect.iter()) {
                        assert!((x - y).abs() < 1e-12, "m={m} k={k} n={n}: {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn accumulates_with_beta_and_scales_with_alpha() {
        let a = filled(7, 5, 3);
        let b = filled(5, 9, 4);
        let c0 = filled(7, 9, 5);
        let mut c = c0.clone();
        gemm(0.5, a.view(), b.view(), 1.0, c.view_mut());
        let expect = &c0 + &(naive(a.view(), b.view()) * 0.5);
        for (x, y) in c.iter().zip(expect.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn non_contiguous_views_and_f32() {
        let big = filled(20, 30, 6).mapv(|v| v as f32);
        let a = big.slice(s![1..18;2, 3..20]); // strided rows
        let b = big.slice(s![2..19, 0..30;3]); // strided columns
        let mut c = Array2::<f32>::zeros((9, 10));
        gemm(1.0, a, b, 0.0, c.view_mut());
        let expect = naive(a.mapv(f64::from).view(), b.mapv(f64::from).view());
        for (x, y) in c.iter().zip(expect.iter()) {
            assert!((*x as f64 - y).abs() < 1e-4);
        }
    }

    #[test]
    fn threads_give_the_same_bits() {
        threads_give_the_same_bits_in::<f32>();
        threads_give_the_same_bits_in::<f64>();
    }

    fn threads_give_the_same_bits_in<T: Element + std::fmt::Debug>() {
        // Large enough to be split; wide C splits by columns, tall by rows.
        for (m, k, n) in [(37, 300, 301), (301, 300, 37)] {
            let of = |v: f64| T::from(v).expect("finite");
            let a = filled(m, k, 7).mapv(of);
            let b = filled(n, k, 8).mapv(of);
            let run = |threads| {
                let mut c = Array2::<T>::zeros((m, n));
                crate::parallel::with_threads(threads, || {
                    gemm(T::one(), a.view(), b.t(), T::zero(), c.view_mut())
                });
                c
            };
            let one = run(1);
            assert_eq!(one, run(2), "m={m} n={n}");
            assert_eq!(one, run(3), "m={m} n={n}");
            let to = |v: T| v.to_f64().unwrap_or(f64::NAN);
            let expect = naive(a.mapv(to).view(), b.t().mapv(to).view());
            for (x, y) in one.iter().zip(expect.iter()) {
                assert!((to(*x) - y).abs() < 1e-3);
            }
        }
    }

    #[test]
    fn empty_inner_dimension_scales_c() {
        let a = Array2::<f64>::zeros((2, 0));
        let b = Array2::<f64>::zeros((0, 3));
        let mut c = Array2::from_elem((2, 3), 2.0);
        gemm(1.0, a.view(), b.view(), 0.5, c.view_mut());
        assert!(c.iter().all(|&v| v == 1.0));
        let mut c = Array2::from_elem((2, 3), f64::NAN);
        gemm(1.0, a.view(), b.view(), 0.0, c.view_mut());
        assert!(c.iter().all(|&v| v == 0.0));
    }

    #[test]
    #[should_panic(expected = "A is 2x3, B is 4x5")]
    fn shape_mismatch_names_dimensions() {
        let a = Array2::<f64>::zeros((2, 3));
        let b = Array2::<f64>::zeros((4, 5));
        let mut c = Array2::<f64>::zeros((2, 5));
        gemm(1.0, a.view(), b.view(), 0.0, c.view_mut());
    }
}
