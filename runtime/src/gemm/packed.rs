//! A right-hand operand packed once for many products: what a recurrent
//! layer multiplies by at every step (`W_hh^T` in the forward pass, `W_hh`
//! in the backward), which [`gemm`] would pack again on every call.
//!
//! [`PackedB::pack`] lays `B: [k, n]` out as the packed sgemm does, depth
//! block by depth block (`kc` rows), each as `NR`-column panels; the
//! products then run the same microkernels over the same blocks, so they
//! give the same bits as [`gemm`] with the unpacked `B` (tested). `f64`
//! products, and products small enough for gemm's unpacked path, are
//! [`gemm`] itself.

use std::any::TypeId;
use std::cell::RefCell;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::blocked::{self, Blocking, Isa, Kernel, Mat, Packed};
use super::small::SMALL_MAX;
use super::{gemm, Element};

/// Floats per cache line.
const LINE: usize = blocked::LINE_BYTES / 4;

thread_local! {
    /// Packed blocks of A (when its rows are not contiguous), grown on
    /// demand and kept for the next call.
    static APACK: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `B: [k, n]` packed for repeated products `C <- alpha A B + beta C`.
///
/// Packing keeps its buffer: re-packing a matrix of the same size
/// allocates nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct PackedB<T> {
    k: usize,
    n: usize,
    /// The address of the matrix packed, so that a product can check that
    /// it is given the same one.
    source: usize,
    /// The microkernel the panels are laid out for; `None` when nothing is
    /// packed (`f64`, or nothing to pack).
    isa: Option<Isa>,
    /// Per depth block of `kc` rows, `ceil(n / NR)` panels of `kc x NR`
    /// values, row-major, the last zero-padded; from the buffer's first
    /// cache line boundary.
    panels: Vec<f32>,
    _element: std::marker::PhantomData<T>,
}

/// The first index of `buffer` on a 64-byte boundary.
fn line_start(buffer: &[f32]) -> usize {
    buffer.as_ptr().align_offset(blocked::LINE_BYTES).min(LINE)
}

fn is_f32<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>()
}

impl<T: Element> PackedB<T> {
    /// Packs `b` (any strides) for the products that follow; `b` must not
    /// change until the last of them.
    pub(crate) fn pack(&mut self, b: ArrayView2<'_, T>) {
        let (k, n) = b.dim();
        self.k = k;
        self.n = n;
        self.source = b.as_ptr() as usize;
        self.isa = None;
        if !is_f32::<T>() || k == 0 || n == 0 {
            return;
        }
        let isa = Isa::detect();
        let (blk, nr) = blocking(isa);
        let len = k * n.next_multiple_of(nr);
        if self.panels.len() < len + LINE {
            self.panels.resize(len + LINE, 0.0);
        }
        let start = line_start(&self.panels);
        let dst = &mut self.panels[start..start + len];
        let [rs, cs] = [b.strides()[0], b.strides()[1]];
        let b = Mat {
            ptr: b.as_ptr().cast::<f32>(),
            rs,
            cs,
        };
        for pc in (0..k).step_by(blk.kc) {
            let kc = blk.kc.min(k - pc);
            let block = &mut dst[pc * n.next_multiple_of(nr)..];
            // SAFETY: T is f32 (checked above), so `b` points at the view's
            // values with its strides; the block lies inside it.
            unsafe {
                match isa {
                    Isa::Avx512 => blocked::pack_b::<f32, 32>(block, b, pc, 0, kc, n),
                    Isa::Avx2 | Isa::Fallback => blocked::pack_b::<f32, 16>(block, b, pc, 0, kc, n),
                }
            }
        }
        self.isa = Some(isa);
    }

    /// `C <- alpha A B + beta C` with the `B` last packed, which `b` must
    /// be (it is read when the product is `gemm` itself: in `f64`, or small
    /// enough for gemm's unpacked path); the same bits as
    /// `gemm(alpha, a, b, beta, c)`, on as many threads as it would use.
    ///
    /// # Panics
    ///
    /// If `b` is not the matrix packed or the shapes do not chain.
    #[track_caller]
    pub(crate) fn gemm(
        &self,
        alpha: T,
        a: ArrayView2<'_, T>,
        b: ArrayView2<'_, T>,
        beta: T,
        mut c: ArrayViewMut2<'_, T>,
    ) {
        assert!(
            b.dim() == (self.k, self.n) && b.as_ptr() as usize == self.source,
            "PackedB: not the matrix packed"
        );
        let m = a.nrows();
        if self.column_tile(m).is_none() || a.ncols() != self.k || c.dim() != (m, self.n) {
            gemm(alpha, a, b, beta, c);
            return;
        }
        let (k, n) = (self.k, self.n);
        let [rsa, csa] = [a.strides()[0], a.strides()[1]];
        let [rsc, csc] = [c.strides()[0], c.strides()[1]];
        let shared = Shared {
            a: a.as_ptr(),
            c: c.as_mut_ptr(),
        };
        let threads = crate::parallel::threads();
        if threads <= 1 || m * n * k < blocked::PARALLEL_MIN {
            // SAFETY: the views hold the checked shapes; `c` is unique.
            unsafe {
                self.gemm_columns(0..n, m, alpha, shared.a, rsa, csa, beta, shared.c, rsc, csc)
            };
            return;
        }
        // As sgemm: the longer side of C in one block per thread, aligned
        // to the tile.
        let (mr, nr) = self.isa.map_or((1, 1), <f32 as Packed>::tile);
        let by_columns = n >= m;
        let (len, align) = if by_columns { (n, nr) } else { (m, mr) };
        let chunk = len.div_ceil(threads).next_multiple_of(align);
        let parts = len.div_ceil(chunk);
        crate::parallel::run_parts(parts, &|part| {
            let s = shared;
            let start = part * chunk;
            let end = (start + chunk).min(len);
            // SAFETY: each part writes a disjoint block of C, inside the
            // views; the call waits for every part.
            unsafe {
                if by_columns {
                    self.gemm_columns(start..end, m, alpha, s.a, rsa, csa, beta, s.c, rsc, csc);
                } else {
                    let (a, c) = (
                        s.a.offset(start as isize * rsa),
                        s.c.offset(start as isize * rsc),
                    );
                    self.gemm_columns(0..n, end - start, alpha, a, rsa, csa, beta, c, rsc, csc);
                }
            }
        });
    }

    /// The column alignment of [`PackedB::gemm_columns`] for a product of
    /// `m` rows (the microkernel's tile width), or `None` when that product
    /// does not run on the panels (`f64`, small products).
    pub(crate) fn column_tile(&self, m: usize) -> Option<usize> {
        let isa = self.isa?;
        (m.saturating_mul(self.k).saturating_mul(self.n) > SMALL_MAX)
            .then(|| <f32 as Packed>::tile(isa).1)
    }

    /// Columns `cols` of `C[m x n] <- alpha A[m x k] B + beta C`, on this
    /// thread: each element the same bits as the whole product's. `cols`
    /// starts at a multiple of [`PackedB::column_tile`] (which must be
    /// `Some` for `m`).
    ///
    /// # Safety
    ///
    /// `a` (strides `rsa`, `csa`) holds `m x k` values and `c` (`rsc`,
    /// `csc`) `m x n`, which nothing else reads or writes meanwhile in the
    /// columns `cols`; `a` does not overlap them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn gemm_columns(
        &self,
        cols: Range<usize>,
        m: usize,
        alpha: T,
        a: *const T,
        rsa: isize,
        csa: isize,
        beta: T,
        c: *mut T,
        rsc: isize,
        csc: isize,
    ) {
        let nr = self
            .column_tile(m)
            .expect("PackedB::gemm_columns: the product runs on the panels");
        assert!(
            cols.start.is_multiple_of(nr) && cols.end <= self.n,
            "PackedB::gemm_columns: columns {cols:?} of {} in tiles of {nr}",
            self.n
        );
        if cols.is_empty() || m == 0 {
            return;
        }
        // T is f32 (`column_tile` is `Some` only then): the casts are
        // identities.
        let to_f32 = |v: T| v.to_f32().unwrap_or(f32::NAN);
        let a = Mat {
            ptr: a.cast::<f32>(),
            rs: rsa,
            cs: csa,
        };
        let job = Columns {
            cols,
            m,
            alpha: to_f32(alpha),
            a,
            beta: to_f32(beta),
            c: c.cast::<f32>(),
            rsc,
            csc,
        };
        // SAFETY: forwarded from the caller; the panels were laid out for
        // this microkernel, which the CPU runs (`Isa::detect`).
        unsafe {
            match self.isa {
                #[cfg(target_arch = "x86_64")]
                Some(Isa::Avx512) => self.run::<8, 32>(job, blocked::kernel_f32_avx512),
                #[cfg(target_arch = "x86_64")]
                Some(Isa::Avx2) => self.run::<6, 16>(job, blocked::kernel_f32_avx2_fma),
                _ => self.run::<6, 16>(job, blocked::kernel_fallback::<f32, 6, 16>),
            }
        }
    }

    /// The blocked loops of sgemm over the packed panels of `job.cols`.
    ///
    /// # Safety
    ///
    /// As [`PackedB::gemm_columns`]'s; `kernel` computes `MR x NR` tiles,
    /// the panels' width, on this CPU.
    unsafe fn run<const MR: usize, const NR: usize>(&self, job: Columns, kernel: Kernel<f32>) {
        let Columns {
            cols,
            m,
            alpha,
            a,
            beta,
            c,
            rsc,
            csc,
        } = job;
        let (blk, _) = blocking(self.isa.expect("packed"));
        let (k, width) = (self.k, self.n.next_multiple_of(NR));
        let start = line_start(&self.panels);
        let panels = &self.panels[start..start + k * width];
        let direct = a.cs == 1;
        APACK.with(|pack| {
            // A re-entrant call falls back to a fresh buffer.
            let mut fresh = Vec::new();
            let mut guard = pack.try_borrow_mut();
            let apack = match guard.as_deref_mut() {
                Ok(buffer) => buffer,
                Err(_) => &mut fresh,
            };
            let apack = if direct {
                &mut apack[..0]
            } else {
                blocked::aligned(apack, k.min(blk.kc) * m.min(blk.mc).next_multiple_of(MR))
            };
            // Depth blocks: beta applies to the first only, as in sgemm.
            for pc in (0..k).step_by(blk.kc) {
                let kc = blk.kc.min(k - pc);
                let beta_block = if pc == 0 { beta } else { 1.0 };
                let block_panels = &panels[pc * width..];
                for ic in (0..m).step_by(blk.mc) {
                    let mc = blk.mc.min(m - ic);
                    if !direct {
                        // SAFETY: the block lies inside A.
                        unsafe { blocked::pack_a::<f32, MR>(apack, a, ic, pc, mc, kc) };
                    }
                    let apack = (!direct).then_some(&apack[..]);
                    let block = blocked::Block {
                        a,
                        apack,
                        ic,
                        pc,
                        mc,
                        kc,
                    };
                    // SAFETY: the tiles lie inside the caller's columns of
                    // C; the panels hold kc packed rows.
                    unsafe {
                        blocked::tiles::<f32, MR, NR>(
                            kernel,
                            block,
                            blocked::BPanels::packed::<NR>(block_panels, kc),
                            cols.clone(),
                            alpha,
                            beta_block,
                            c,
                            rsc,
                            csc,
                        )
                    };
                }
            }
        });
    }
}

/// The blocks of `isa`'s microkernel and its tile width.
fn blocking(isa: Isa) -> (Blocking, usize) {
    match isa {
        Isa::Avx512 => (blocked::BLOCKING_F32_32, 32),
        Isa::Avx2 | Isa::Fallback => (blocked::BLOCKING_F32_16, 16),
    }
}

/// One call of [`PackedB::gemm_columns`], in f32.
struct Columns {
    cols: Range<usize>,
    m: usize,
    alpha: f32,
    a: Mat<f32>,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
}

/// The operands of a product split across threads.
#[derive(Clone, Copy)]
struct Shared<T> {
    a: *const T,
    c: *mut T,
}

// SAFETY: the parts write disjoint blocks of C and only read A, and the
// call that shares them waits for every part.
unsafe impl<T> Sync for Shared<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn filled(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = crate::Rng::new(seed);
        Array2::from_shape_fn((rows, cols), |_| rng.sym() as f32)
    }

    /// Every product on the packed `B` gives the bits of `gemm` on `B`
    /// itself: both orientations of `B`, contiguous and strided `A`, over
    /// sizes that cross the depth blocks and tile edges (and one small
    /// enough for gemm's unpacked path), with `beta` 0 and 1, on 1 to 3
    /// threads; and a product by column ranges gives the same bits too.
    #[test]
    fn products_give_the_bits_of_gemm() {
        let mut packed = PackedB::default();
        for (m, k, n) in [(64, 128, 512), (37, 300, 70), (9, 513, 33), (3, 5, 4)] {
            let w = filled(n, k, 1); // as a layer's weight: B = w^T
            let wt = filled(k, n, 2);
            let a = filled(m, k, 3);
            let a_strided = filled(k, m, 4);
            for b in [w.t(), wt.view()] {
                packed.pack(b);
                for a in [a.view(), a_strided.t()] {
                    for beta in [0.0, 1.0] {
                        let c0 = filled(m, n, 5);
                        let mut want = c0.clone();
                        gemm(0.5, a, b, beta, want.view_mut());
                        for threads in [1, 2, 3] {
                            let mut got = c0.clone();
                            crate::parallel::with_threads(threads, || {
                                packed.gemm(0.5, a, b, beta, got.view_mut())
                            });
                            assert_eq!(got, want, "m={m} k={k} n={n} threads {threads}");
                        }
                        if let Some(tile) = packed.column_tile(m) {
                            let mut got = c0.clone();
                            let [rsa, csa] = [a.strides()[0], a.strides()[1]];
                            let mut start = 0;
                            while start < n {
                                let end = (start + 2 * tile).min(n);
                                // SAFETY: the views hold m x k and m x n
                                // values; the column ranges are disjoint.
                                unsafe {
                                    packed.gemm_columns(
                                        start..end,
                                        m,
                                        0.5,
                                        a.as_ptr(),
                                        rsa,
                                        csa,
                                        beta,
                                        got.as_mut_ptr(),
                                        n as isize,
                                        1,
                                    )
                                };
                                start = end;
                            }
                            assert_eq!(got, want, "m={m} k={k} n={n} by columns");
                        }
                    }
                }
            }
        }
        // The same in f64: gemm itself.
        let (a, b) = (
            filled(5, 7, 6).mapv(f64::from),
            filled(7, 3, 7).mapv(f64::from),
        );
        let mut packed = PackedB::default();
        packed.pack(b.view());
        assert_eq!(packed.column_tile(5), None);
        let (mut got, mut want) = (Array2::zeros((5, 3)), Array2::zeros((5, 3)));
        packed.gemm(1.0, a.view(), b.view(), 0.0, got.view_mut());
        gemm(1.0, a.view(), b.view(), 0.0, want.view_mut());
        assert_eq!(got, want);
    }

    #[test]
    #[should_panic(expected = "not the matrix packed")]
    fn another_matrix_is_refused() {
        let (a, b) = (filled(4, 4, 1), filled(4, 4, 2));
        let mut packed = PackedB::default();
        packed.pack(b.view());
        let mut c = Array2::zeros((4, 4));
        packed.gemm(1.0, a.view(), a.view(), 0.0, c.view_mut());
    }
}
