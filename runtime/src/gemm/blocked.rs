//! The packed matrix multiply of both element types: cache-blocked, with
//! AVX-512 and AVX2+FMA microkernels chosen at run time and a portable
//! fallback.
//!
//! `C <- alpha A B + beta C`. The loops follow the classic blocked scheme
//! (as in BLIS and matrixmultiply): B is packed in `KC x NR` panels, A in
//! `MC x KC` blocks of `MR`-row panels (or, when its rows are contiguous,
//! read where it is), and an `MR x NR` microkernel runs over them. Small
//! operands whose layout allows it (a transposed A, a B with contiguous
//! rows and whole tiles) are read where they are too. Unlike
//! `matrixmultiply`, the packing buffers are kept per thread and only grow,
//! so after the first call of a given size a product allocates nothing.
//!
//! The tile is the instruction set's. `f32`: 8 x 32 (16 accumulators of 16
//! lanes) with AVX-512F, 6 x 16 (12 accumulators of 8 lanes) with AVX2 +
//! FMA and in the fallback. `f64`: 8 x 16 (16 accumulators of 8 lanes) with
//! AVX-512F, 6 x 8 (12 accumulators of 4 lanes) with AVX2 + FMA and in the
//! fallback. Every vector kernel sums each element of C over `k` in the
//! same order, one fused multiply-add per step (the fallback: a multiply
//! and an add), so the tile shape changes which element a register holds,
//! not the sums.

use std::cell::RefCell;

use super::Element;

/// The tile and block sizes of one microkernel.
#[derive(Clone, Copy)]
pub(crate) struct Blocking {
    /// Depth of a packed block (the `k` extent of a B panel kept in L1).
    pub(crate) kc: usize,
    /// Rows of A per packed block (a multiple of the tile's rows).
    pub(crate) mc: usize,
    /// Columns of B per packed block (a multiple of the tile's columns).
    nc: usize,
}

/// Blocks for the `f32` 6 x 16 tile: a `256 x 16` B panel (16 KiB) in L1,
/// a `72 x 256` A block (72 KiB) in L2.
pub(crate) const BLOCKING_F32_16: Blocking = Blocking {
    kc: 256,
    mc: 72,
    nc: 4080,
};

/// Blocks for the `f32` 8 x 32 tile: a `256 x 32` B panel (32 KiB) in L1,
/// a `96 x 256` A block (96 KiB) in L2.
pub(crate) const BLOCKING_F32_32: Blocking = Blocking {
    kc: 256,
    mc: 96,
    nc: 4096,
};

/// Blocks for the `f64` 6 x 8 tile: a `256 x 8` B panel (16 KiB) in L1, a
/// `72 x 256` A block (144 KiB) in L2.
const BLOCKING_F64_8: Blocking = Blocking {
    kc: 256,
    mc: 72,
    nc: 4080,
};

/// Blocks for the `f64` 8 x 16 tile: a `256 x 16` B panel (32 KiB) in L1,
/// a `96 x 256` A block (192 KiB) in L2.
const BLOCKING_F64_16: Blocking = Blocking {
    kc: 256,
    mc: 96,
    nc: 4096,
};

/// The packing buffers of one element type: (packed A, packed B), grown on
/// demand and kept for the next call.
type PackBuffers<T> = RefCell<(Vec<T>, Vec<T>)>;

thread_local! {
    static PACK_F32: PackBuffers<f32> = const { RefCell::new((Vec::new(), Vec::new())) };
    static PACK_F64: PackBuffers<f64> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// An element type with packed kernels: the tiles, kernels and packing
/// buffers of `f32` and of `f64`.
pub(crate) trait Packed: Element {
    /// The microkernel's (rows, columns) of C on `isa`.
    fn tile(isa: Isa) -> (usize, usize);

    /// [`gemm`] on the calling thread with `isa`'s microkernel.
    ///
    /// # Safety
    ///
    /// As [`gemm`]'s, and the CPU must support `isa`.
    unsafe fn single(isa: Isa, p: Product<Self>);

    /// Runs `f` on this thread's packing buffers of this type.
    fn with_buffers<R>(f: impl FnOnce(&PackBuffers<Self>) -> R) -> R;

    /// Packs the `kc x nr` panel whose column `j` is the `kc` contiguous
    /// values at `src + j cs` (a transposed operand) with vector
    /// transposes, if this type and CPU have them; `false` if not (the
    /// caller then copies value by value).
    ///
    /// # Safety
    ///
    /// `src + j cs + p` readable and `dst + p nr + j` writable for
    /// `j < nr`, `p < kc`.
    unsafe fn transpose_panel(
        src: *const Self,
        cs: isize,
        dst: *mut Self,
        kc: usize,
        nr: usize,
    ) -> bool;
}

/// Implements [`Packed`] for one element type from its tiles (AVX-512F,
/// then AVX2 + FMA and the fallback), blocks, kernels, buffers and
/// register transpose (of `$block x $block` values).
macro_rules! packed {
    ($t:ty, ($mr512:literal, $nr512:literal, $blk512:ident, $k512:ident),
     ($mr256:literal, $nr256:literal, $blk256:ident, $k256:ident),
     $buffers:ident, $transpose:ident, $block:literal) => {
        impl Packed for $t {
            fn tile(isa: Isa) -> (usize, usize) {
                match isa {
                    Isa::Avx512 => ($mr512, $nr512),
                    Isa::Avx2 | Isa::Fallback => ($mr256, $nr256),
                }
            }

            unsafe fn single(isa: Isa, p: Product<$t>) {
                // SAFETY: forwarded; each kernel's tile is the blocked loop's.
                unsafe {
                    match isa {
                        #[cfg(target_arch = "x86_64")]
                        Isa::Avx512 => blocked::<$t, $mr512, $nr512>(p, $blk512, $k512),
                        #[cfg(target_arch = "x86_64")]
                        Isa::Avx2 => blocked::<$t, $mr256, $nr256>(p, $blk256, $k256),
                        _ => blocked::<$t, $mr256, $nr256>(
                            p,
                            $blk256,
                            kernel_fallback::<$t, $mr256, $nr256>,
                        ),
                    }
                }
            }

            fn with_buffers<R>(f: impl FnOnce(&PackBuffers<$t>) -> R) -> R {
                $buffers.with(f)
            }

            unsafe fn transpose_panel(
                src: *const $t,
                cs: isize,
                dst: *mut $t,
                kc: usize,
                nr: usize,
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                if nr.is_multiple_of($block) && std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: forwarded; the CPU has AVX-512F.
                    unsafe { $transpose(src, cs, dst, kc, nr) };
                    return true;
                }
                let _ = (src, cs, dst, kc, nr);
                false
            }
        }
    };
}

packed!(
    f32,
    (8, 32, BLOCKING_F32_32, kernel_f32_avx512),
    (6, 16, BLOCKING_F32_16, kernel_f32_avx2_fma),
    PACK_F32,
    transpose_panel_f32_avx512,
    16
);
packed!(
    f64,
    (8, 16, BLOCKING_F64_16, kernel_f64_avx512),
    (6, 8, BLOCKING_F64_8, kernel_f64_avx2_fma),
    PACK_F64,
    transpose_panel_f64_avx512,
    8
);

/// A strided matrix operand: element `(i, j)` is at `ptr + i*rs + j*cs`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

/// Products with fewer multiply-adds than this run on one thread: below it,
/// waking a worker costs more than it saves.
pub(crate) const PARALLEL_MIN: usize = 1 << 20;

/// The operands of one product, shared with the worker threads.
#[derive(Clone, Copy)]
struct Shared<T> {
    a: Mat<T>,
    b: Mat<T>,
    c: *mut T,
}

// SAFETY: workers write disjoint blocks of C and only read A and B, and the
// call that shares them waits for every worker to finish.
unsafe impl<T: Sync> Sync for Shared<T> {}

/// `C[m x n] <- alpha A[m x k] B[k x n] + beta C`, `k > 0`, `m, n > 0`, on
/// as many threads as [`crate::threads`] allows for large products. Each
/// thread computes a block of whole columns (or rows) of C with the same
/// loop order, so the result does not depend on the thread count.
///
/// # Safety
///
/// The operands must be valid for the given sizes and strides, and `c` must
/// not alias `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm<T: Packed>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Mat<T>,
    b: Mat<T>,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    let isa = Isa::detect();
    let threads = crate::parallel::threads();
    let single = |m, n, a, b, c| {
        let p = Product {
            m,
            k,
            n,
            alpha,
            a,
            b,
            beta,
            c,
            rsc,
            csc,
        };
        // SAFETY: forwarded; `isa` is what this CPU runs.
        unsafe { T::single(isa, p) }
    };
    if threads <= 1 || m.saturating_mul(n).saturating_mul(k) < PARALLEL_MIN {
        single(m, n, a, b, c);
        return;
    }
    let shared = Shared { a, b, c };
    // Split the longer side of C into one block per thread, aligned to the
    // microkernel's tile so no tile is cut.
    let by_columns = n >= m;
    let (mr, nr) = T::tile(isa);
    let (len, align) = if by_columns { (n, nr) } else { (m, mr) };
    let chunk = len.div_ceil(threads).next_multiple_of(align);
    let parts = len.div_ceil(chunk);
    crate::parallel::run_parts(parts, &|part| {
        let s = shared;
        let start = part * chunk;
        let size = chunk.min(len - start);
        // SAFETY: each part is a disjoint block of C inside the operands.
        unsafe {
            if by_columns {
                let b = Mat {
                    ptr: s.b.ptr.offset(start as isize * s.b.cs),
                    ..s.b
                };
                single(m, size, s.a, b, s.c.offset(start as isize * csc));
            } else {
                let a = Mat {
                    ptr: s.a.ptr.offset(start as isize * s.a.rs),
                    ..s.a
                };
                single(size, n, a, s.b, s.c.offset(start as isize * rsc));
            }
        }
    });
}

/// The microkernel this CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// 8-row tiles on AVX-512F.
    Avx512,
    /// 6-row tiles on AVX2 + FMA.
    Avx2,
    /// 6-row tiles in plain loops.
    Fallback,
}

impl Isa {
    #[inline]
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Fallback
    }
}

/// One product's operands, as [`gemm`] takes them.
#[derive(Clone, Copy)]
pub(crate) struct Product<T> {
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Mat<T>,
    b: Mat<T>,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
}

/// The rows of A a microkernel reads: element `(r, p)` (tile row `r`,
/// step `p`) at `ptr + r rs + p cs`. A packed panel has `rs = 1`,
/// `cs = MR`; a row-major A is read where it is (`cs = 1`).
#[derive(Clone, Copy)]
pub(crate) struct APanel<T> {
    pub(crate) ptr: *const T,
    pub(crate) rs: isize,
    pub(crate) cs: isize,
}

impl<T> APanel<T> {
    /// The offset of each tile row, rows past `mr` reading row `mr - 1`
    /// (they are computed, never stored), so that nothing outside A is
    /// read when A is not packed.
    #[inline(always)]
    fn row_offsets<const MR: usize>(self, mr: usize) -> [isize; MR] {
        std::array::from_fn(|r| r.min(mr - 1) as isize * self.rs)
    }
}

/// `C[mr x nr] <- alpha (A B) + beta C` over `kc` steps of an `MR x NR`
/// tile (`mr <= MR`, `nr <= NR` valid), step `p` of B the `NR` contiguous
/// values at `bp + p rsb` (a packed panel: `rsb = NR`).
pub(crate) type Kernel<T> =
    unsafe fn(usize, T, APanel<T>, *const T, isize, T, *mut T, isize, isize, usize, usize);

/// Where the tile loops read B: column `j` of the block (a multiple of
/// `NR`) starts at `ptr + j col`, and its steps are `rs` apart. Packed
/// panels (`kc x NR` each, row-major) have `col = kc`, `rs = NR`; a B read
/// where it is (rows contiguous) has `col = 1` and its row stride.
#[derive(Clone, Copy)]
pub(crate) struct BPanels<T> {
    pub(crate) ptr: *const T,
    pub(crate) col: isize,
    pub(crate) rs: isize,
}

impl<T> BPanels<T> {
    /// Packed `kc x NR` panels, consecutive in `panels`.
    pub(crate) fn packed<const NR: usize>(panels: &[T], kc: usize) -> Self {
        BPanels {
            ptr: panels.as_ptr(),
            col: kc as isize,
            rs: NR as isize,
        }
    }
}

/// Products whose operand holds at most this many values read it where it
/// is rather than packing it, when the layout allows (A transposed, B with
/// contiguous rows and whole tiles): it stays in L1 across the tiles that
/// reread it (32 KiB of `f32`), and the copy would cost more than it saves.
/// The kernels' arithmetic is the same either way.
const DIRECT_MAX: usize = 1 << 13;

/// The blocked loops around an `MR x NR` microkernel, on the calling
/// thread, with this thread's packing buffers.
///
/// # Safety
///
/// As [`gemm`]'s; `kernel` must compute `MR x NR` tiles and run on this
/// CPU.
unsafe fn blocked<T: Packed, const MR: usize, const NR: usize>(
    p: Product<T>,
    blk: Blocking,
    kernel: Kernel<T>,
) {
    let Product {
        m,
        k,
        n,
        alpha,
        a,
        b,
        beta,
        c,
        rsc,
        csc,
    } = p;
    T::with_buffers(|pack| {
        // A re-entrant call (impossible from the layers) falls back to fresh
        // buffers rather than panicking.
        let mut fresh = (Vec::new(), Vec::new());
        let mut guard = pack.try_borrow_mut();
        let (apack, bpack) = match guard.as_deref_mut() {
            Ok(buffers) => (&mut buffers.0, &mut buffers.1),
            Err(_) => (&mut fresh.0, &mut fresh.1),
        };
        let kc_max = k.min(blk.kc);
        // B with contiguous rows, whole tiles and few values is read where
        // it is (see `DIRECT_MAX`).
        let direct_b = b.cs == 1 && n.is_multiple_of(NR) && k * n <= DIRECT_MAX;
        let bpack = if direct_b {
            &mut bpack[..0]
        } else {
            aligned(bpack, kc_max * n.min(blk.nc).next_multiple_of(NR))
        };
        // A with contiguous rows is read where it is: packing it would
        // copy every value once more than the kernel reads it (B's panels
        // are reused across every row tile, A's rows only across the
        // column tiles of one block, which stay in cache either way). So
        // is a small transposed A (the weight gradient's `g^T`).
        let direct = a.cs == 1 || (a.rs == 1 && m * k <= DIRECT_MAX);
        let apack = if direct {
            &mut apack[..0]
        } else {
            aligned(apack, kc_max * m.min(blk.mc).next_multiple_of(MR))
        };
        // LOOP 5: column blocks of B and C.
        for jc in (0..n).step_by(blk.nc) {
            let nc = blk.nc.min(n - jc);
            // LOOP 4: depth blocks; beta applies to the first only.
            for pc in (0..k).step_by(blk.kc) {
                let kc = blk.kc.min(k - pc);
                let beta_block = if pc == 0 { beta } else { T::one() };
                let bpanels = if direct_b {
                    BPanels {
                        // SAFETY: (pc, jc) lies inside B.
                        ptr: unsafe { b.ptr.offset(pc as isize * b.rs + jc as isize) },
                        col: 1,
                        rs: b.rs,
                    }
                } else {
                    // SAFETY: the block lies inside B.
                    unsafe { pack_b::<T, NR>(bpack, b, pc, jc, kc, nc) };
                    BPanels::packed::<NR>(bpack, kc)
                };
                // LOOP 3: row blocks of A and C.
                for ic in (0..m).step_by(blk.mc) {
                    let mc = blk.mc.min(m - ic);
                    if !direct {
                        // SAFETY: the block lies inside A.
                        unsafe { pack_a::<T, MR>(apack, a, ic, pc, mc, kc) };
                    }
                    let apack = (!direct).then_some(&apack[..]);
                    let block = Block {
                        a,
                        apack,
                        ic,
                        pc,
                        mc,
                        kc,
                    };
                    // SAFETY: C's block starts at column jc; the panels (or
                    // B) hold kc rows of nc columns.
                    unsafe {
                        tiles::<T, MR, NR>(
                            kernel,
                            block,
                            bpanels,
                            0..nc,
                            alpha,
                            beta_block,
                            c.offset(jc as isize * csc),
                            rsc,
                            csc,
                        )
                    };
                }
            }
        }
    });
}

/// The rows `ic..ic+mc` and depths `pc..pc+kc` of A that one pass of the
/// tile loops reads: where A is (`apack = None`, rows contiguous) or its
/// packed panels.
#[derive(Clone, Copy)]
pub(crate) struct Block<'a, T> {
    pub(crate) a: Mat<T>,
    pub(crate) apack: Option<&'a [T]>,
    pub(crate) ic: usize,
    pub(crate) pc: usize,
    pub(crate) mc: usize,
    pub(crate) kc: usize,
}

/// LOOPS 2 and 1: the `MR x NR` tiles of rows `ic..ic+mc` of C and of the
/// columns `cols` of B's panels `bpanels`, column `jr` of C at
/// `c + jr csc`, each tile one call of `kernel`. Shared by [`gemm`] and
/// the pre-packed products.
///
/// # Safety
///
/// `kernel` computes `MR x NR` tiles on this CPU; the panels hold `kc`
/// rows of every column in `cols` (of whole tiles, when B is read where
/// it is); A holds the block's rows and depths; C's tiles lie inside the
/// caller's matrix.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn tiles<T: Packed, const MR: usize, const NR: usize>(
    kernel: Kernel<T>,
    block: Block<'_, T>,
    bpanels: BPanels<T>,
    cols: std::ops::Range<usize>,
    alpha: T,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    let Block {
        a,
        apack,
        ic,
        pc,
        mc,
        kc,
    } = block;
    for jr in cols.clone().step_by(NR) {
        let nr = NR.min(cols.end - jr);
        // SAFETY: column jr of the panels lies inside them.
        let bp = unsafe { bpanels.ptr.offset(jr as isize * bpanels.col) };
        for ir in (0..mc).step_by(MR) {
            let mr = MR.min(mc - ir);
            let ap = match apack {
                None => APanel {
                    // SAFETY: (ic + ir, pc) lies inside A.
                    ptr: unsafe { a.ptr.offset((ic + ir) as isize * a.rs + pc as isize * a.cs) },
                    rs: a.rs,
                    cs: a.cs,
                },
                Some(apack) => APanel {
                    ptr: apack[ir * kc..].as_ptr(),
                    rs: 1,
                    cs: MR as isize,
                },
            };
            // SAFETY: the tile lies inside C; the panels hold kc rows.
            unsafe {
                let ct = c.offset((ic + ir) as isize * rsc + jr as isize * csc);
                kernel(kc, alpha, ap, bp, bpanels.rs, beta, ct, rsc, csc, mr, nr);
            }
        }
    }
}

/// Bytes per cache line: packed panels start on a line, so that no vector
/// load of a panel (`NR` values, a whole number of vectors) straddles two
/// lines.
pub(crate) const LINE_BYTES: usize = 64;

/// The first `len` values of `buffer` from its first 64-byte boundary,
/// growing it (with room for the shift) if it is too short.
pub(crate) fn aligned<T: Element>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    let line = LINE_BYTES / std::mem::size_of::<T>();
    if buffer.len() < len + line {
        buffer.resize(len + line, T::zero());
    }
    let shift = buffer.as_ptr().align_offset(LINE_BYTES).min(line);
    &mut buffer[shift..shift + len]
}

/// Packs `B[pc..pc+kc, jc..jc+nc]` as consecutive `kc x NR` panels, each
/// row-major, zero-padded to a multiple of `NR` columns.
pub(crate) unsafe fn pack_b<T: Packed, const NR: usize>(
    dst: &mut [T],
    b: Mat<T>,
    pc: usize,
    jc: usize,
    kc: usize,
    nc: usize,
) {
    let panels = nc.div_ceil(NR);
    assert!(dst.len() >= panels * kc * NR, "packing buffer too small");
    let out = dst.as_mut_ptr();
    for panel in 0..panels {
        let j0 = panel * NR;
        let cols = NR.min(nc - j0);
        // SAFETY: the panel lies inside `dst` (checked above) and reads
        // (pc + p, jc + j0 + j) inside B for p < kc, j < cols.
        unsafe {
            let base = out.add(panel * kc * NR);
            let src = b.ptr.offset(pc as isize * b.rs + (jc + j0) as isize * b.cs);
            if b.rs == 1 && cols == NR {
                // Columns of B are contiguous (a transposed operand, as
                // the forward pass's `W^T`): transpose blocks in registers
                // where the CPU allows, else read each column once and
                // scatter it down the panel.
                if T::transpose_panel(src, b.cs, base, kc, NR) {
                    continue;
                }
                for j in 0..NR {
                    let from = src.offset(j as isize * b.cs);
                    for p in 0..kc {
                        *base.add(p * NR + j) = *from.add(p);
                    }
                }
                continue;
            }
            if b.cs == 1 && cols == NR {
                // Rows of B are contiguous: each step is NR values, copied
                // inline (a `memcpy` call per 64 or 128 bytes costs more
                // than the copy).
                for p in 0..kc {
                    let row = base.add(p * NR);
                    let from = src.offset(p as isize * b.rs);
                    for j in 0..NR {
                        *row.add(j) = *from.add(j);
                    }
                }
                continue;
            }
            for p in 0..kc {
                let row = base.add(p * NR);
                let from = src.offset(p as isize * b.rs);
                if b.cs == 1 {
                    std::ptr::copy_nonoverlapping(from, row, cols);
                } else {
                    for j in 0..cols {
                        *row.add(j) = *from.offset(j as isize * b.cs);
                    }
                }
                for j in cols..NR {
                    *row.add(j) = T::zero();
                }
            }
        }
    }
}

/// The transpose of a 16 x 16 block of `f32` held as 16 vectors: lane `x`
/// of vector `y` of the result is lane `y` of vector `x` (64 shuffles:
/// 32-bit, 64-bit, then twice 128-bit interleaves).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose_16x16(v: [std::arch::x86_64::__m512; 16]) -> [std::arch::x86_64::__m512; 16] {
    use std::arch::x86_64::*;
    // 32-bit interleave: a[2i], a[2i+1] hold v[2i], v[2i+1] pairwise, per
    // 128-bit lane.
    let a: [__m512; 16] = std::array::from_fn(|t| {
        let (lo, hi) = (v[t & !1], v[t | 1]);
        if t % 2 == 0 {
            _mm512_unpacklo_ps(lo, hi)
        } else {
            _mm512_unpackhi_ps(lo, hi)
        }
    });
    // 64-bit interleave: lane L of b[4i + r] is v[4i..4i+4][4L + r].
    let b: [__m512; 16] = std::array::from_fn(|t| {
        let (i, r) = (t / 4, t % 4);
        let x = _mm512_castps_pd(a[4 * i + (r / 2)]);
        let y = _mm512_castps_pd(a[4 * i + 2 + (r / 2)]);
        _mm512_castpd_ps(if r % 2 == 0 {
            _mm512_unpacklo_pd(x, y)
        } else {
            _mm512_unpackhi_pd(x, y)
        })
    });
    // 128-bit lanes: row 4L + r gathers lane L of b[r], b[4 + r], b[8 + r],
    // b[12 + r].
    let mut out = [_mm512_setzero_ps(); 16];
    for r in 0..4 {
        let c0 = _mm512_shuffle_f32x4::<0b10_00_10_00>(b[r], b[4 + r]);
        let c1 = _mm512_shuffle_f32x4::<0b11_01_11_01>(b[r], b[4 + r]);
        let c2 = _mm512_shuffle_f32x4::<0b10_00_10_00>(b[8 + r], b[12 + r]);
        let c3 = _mm512_shuffle_f32x4::<0b11_01_11_01>(b[8 + r], b[12 + r]);
        out[r] = _mm512_shuffle_f32x4::<0b10_00_10_00>(c0, c2);
        out[4 + r] = _mm512_shuffle_f32x4::<0b10_00_10_00>(c1, c3);
        out[8 + r] = _mm512_shuffle_f32x4::<0b11_01_11_01>(c0, c2);
        out[12 + r] = _mm512_shuffle_f32x4::<0b11_01_11_01>(c1, c3);
    }
    out
}

/// The transpose of an 8 x 8 block of `f64` held as 8 vectors (8 unpacks,
/// 16 lane shuffles).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose_8x8(v: [std::arch::x86_64::__m512d; 8]) -> [std::arch::x86_64::__m512d; 8] {
    use std::arch::x86_64::*;
    // 64-bit interleave: lane L of a[2i + s] holds columns 2i and 2i + 1 of
    // row 2L + s.
    let a: [__m512d; 8] = std::array::from_fn(|t| {
        let (lo, hi) = (v[t & !1], v[t | 1]);
        if t % 2 == 0 {
            _mm512_unpacklo_pd(lo, hi)
        } else {
            _mm512_unpackhi_pd(lo, hi)
        }
    });
    // 128-bit lanes: row 2L + s gathers lane L of a[s], a[2 + s], a[4 + s],
    // a[6 + s].
    let mut out = [_mm512_setzero_pd(); 8];
    for s in 0..2 {
        let c0 = _mm512_shuffle_f64x2::<0b10_00_10_00>(a[s], a[2 + s]);
        let c1 = _mm512_shuffle_f64x2::<0b11_01_11_01>(a[s], a[2 + s]);
        let c2 = _mm512_shuffle_f64x2::<0b10_00_10_00>(a[4 + s], a[6 + s]);
        let c3 = _mm512_shuffle_f64x2::<0b11_01_11_01>(a[4 + s], a[6 + s]);
        out[s] = _mm512_shuffle_f64x2::<0b10_00_10_00>(c0, c2);
        out[2 + s] = _mm512_shuffle_f64x2::<0b10_00_10_00>(c1, c3);
        out[4 + s] = _mm512_shuffle_f64x2::<0b11_01_11_01>(c0, c2);
        out[6 + s] = _mm512_shuffle_f64x2::<0b11_01_11_01>(c1, c3);
    }
    out
}

/// Defines [`Packed::transpose_panel`]'s AVX-512 form for one type: writes
/// the `kc x nr` panel whose column `j` is the `kc` contiguous values at
/// `src + j cs` row-major at `dst` (row `p` at `dst + p nr`), `$block x
/// $block` blocks transposed in registers, the last `kc % $block` rows as
/// a block read with masked loads (a layer of 10 inputs has only those).
/// `nr` is a multiple of `$block`.
macro_rules! transpose_panel_avx512 {
    ($(#[$doc:meta])* $name:ident, $t:ty, $vec:ty, $mask:ty, $block:literal, $load:ident,
     $maskz_load:ident, $store:ident, $transpose:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// The CPU has AVX-512F; `src + j cs + p` is readable and
        /// `dst + p nr + j` writable for `j < nr`, `p < kc`.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $name(src: *const $t, cs: isize, dst: *mut $t, kc: usize, nr: usize) {
            use std::arch::x86_64::*;
            // SAFETY: inside the caller's panel and operand, as documented.
            unsafe {
                let full = kc - kc % $block;
                for j0 in (0..nr).step_by($block) {
                    for p0 in (0..full).step_by($block) {
                        // v[x][y] = B[p0 + y, j0 + x]: column x of the block.
                        let v: [$vec; $block] = std::array::from_fn(|x| {
                            $load(src.offset((j0 + x) as isize * cs).add(p0))
                        });
                        for (y, row) in $transpose(v).into_iter().enumerate() {
                            $store(dst.add((p0 + y) * nr + j0), row);
                        }
                    }
                    if full < kc {
                        // The first kc - full lanes of each column, the
                        // rest zero and not stored.
                        let mask = ((1u32 << (kc - full)) - 1) as $mask;
                        let v: [$vec; $block] = std::array::from_fn(|x| {
                            $maskz_load(mask, src.offset((j0 + x) as isize * cs).add(full))
                        });
                        for (y, row) in $transpose(v).into_iter().take(kc - full).enumerate() {
                            $store(dst.add((full + y) * nr + j0), row);
                        }
                    }
                }
            }
        }
    };
}

transpose_panel_avx512!(
    /// The `f32` panel transpose (16 x 16 blocks: 16 loads, 64 shuffles,
    /// 16 stores).
    transpose_panel_f32_avx512, f32, __m512, __mmask16, 16, _mm512_loadu_ps,
    _mm512_maskz_loadu_ps, _mm512_storeu_ps, transpose_16x16
);
transpose_panel_avx512!(
    /// The `f64` panel transpose (8 x 8 blocks: 8 loads, 24 shuffles, 8
    /// stores).
    transpose_panel_f64_avx512, f64, __m512d, __mmask8, 8, _mm512_loadu_pd,
    _mm512_maskz_loadu_pd, _mm512_storeu_pd, transpose_8x8
);

/// Packs `A[ic..ic+mc, pc..pc+kc]` as consecutive `kc x MR` panels
/// (step `p` of a panel holds rows `i..i+MR` at depth `p`), zero-padded to
/// a multiple of `MR` rows.
pub(crate) unsafe fn pack_a<T: Element, const MR: usize>(
    dst: &mut [T],
    a: Mat<T>,
    ic: usize,
    pc: usize,
    mc: usize,
    kc: usize,
) {
    let panels = mc.div_ceil(MR);
    assert!(dst.len() >= panels * kc * MR, "packing buffer too small");
    let out = dst.as_mut_ptr();
    for panel in 0..panels {
        let i0 = panel * MR;
        let rows = MR.min(mc - i0);
        // SAFETY: the panel lies inside `dst` (checked above) and reads
        // (ic + i0 + r, pc + p) inside A for r < rows, p < kc.
        unsafe {
            let base = out.add(panel * kc * MR);
            let src = a.ptr.offset((ic + i0) as isize * a.rs + pc as isize * a.cs);
            if a.rs == 1 && rows == MR {
                // Columns of A are contiguous (a transposed operand): each
                // step is one copy of MR values.
                for p in 0..kc {
                    std::ptr::copy_nonoverlapping(
                        src.offset(p as isize * a.cs),
                        base.add(p * MR),
                        MR,
                    );
                }
                continue;
            }
            for r in 0..MR {
                if r < rows {
                    let from = src.offset(r as isize * a.rs);
                    if a.cs == 1 {
                        for p in 0..kc {
                            *base.add(p * MR + r) = *from.add(p);
                        }
                    } else {
                        for p in 0..kc {
                            *base.add(p * MR + r) = *from.offset(p as isize * a.cs);
                        }
                    }
                } else {
                    for p in 0..kc {
                        *base.add(p * MR + r) = T::zero();
                    }
                }
            }
        }
    }
}

/// Writes an `MR x NR` accumulator tile to C: `C <- alpha acc + beta C`,
/// only the `mr x nr` valid part, without reading C when `beta == 0`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn store_tile<T: Element, const MR: usize, const NR: usize>(
    acc: &[[T; NR]; MR],
    alpha: T,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
) {
    for (r, row) in acc.iter().enumerate().take(mr) {
        for (j, &v) in row.iter().enumerate().take(nr) {
            // SAFETY: (r, j) is inside the caller's tile.
            unsafe {
                let dst = c.offset(r as isize * rsc + j as isize * csc);
                *dst = if beta == T::zero() {
                    alpha * v
                } else {
                    alpha * v + beta * *dst
                };
            }
        }
    }
}

/// The portable microkernel: plain loops that the compiler vectorizes for
/// whatever the target offers.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kernel_fallback<T: Element, const MR: usize, const NR: usize>(
    kc: usize,
    alpha: T,
    ap: APanel<T>,
    bp: *const T,
    rsb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
) {
    let mut acc = [[T::zero(); NR]; MR];
    let rows = ap.row_offsets::<MR>(mr);
    for p in 0..kc {
        // SAFETY: A holds kc steps of its rows, the B panel kc steps.
        let (a, b) = unsafe {
            let at = ap.ptr.offset(p as isize * ap.cs);
            (
                rows.map(|off| *at.offset(off)),
                std::slice::from_raw_parts(bp.offset(p as isize * rsb), NR),
            )
        };
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] = acc[r][j] + a[r] * b[j];
            }
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store_tile(&acc, alpha, beta, c, rsc, csc, mr, nr) };
}

/// Defines an AVX2 + FMA microkernel: 12 accumulator registers (6 rows x 2
/// vectors), one broadcast of A and two loads of B per step.
macro_rules! kernel_avx2 {
    ($(#[$doc:meta])* $name:ident, $t:ty, $lanes:literal, $vec:ty, $zero:ident, $load:ident,
     $bcast:ident, $set1:ident, $fma:ident, $mul:ident, $store:ident) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn $name(
            kc: usize,
            alpha: $t,
            ap: APanel<$t>,
            bp: *const $t,
            rsb: isize,
            beta: $t,
            c: *mut $t,
            rsc: isize,
            csc: isize,
            mr: usize,
            nr: usize,
        ) {
            use std::arch::x86_64::*;
            const MR: usize = 6;
            const NR: usize = 2 * $lanes;
            // SAFETY: the CPU has AVX2 and FMA (checked by `Isa::detect`);
            // A holds kc steps of MR values, B kc steps of NR values rsb
            // apart.
            unsafe {
                let mut acc: [[$vec; 2]; MR] = [[$zero(); 2]; MR];
                let rows = ap.row_offsets::<MR>(mr);
                let (mut a, mut b) = (ap.ptr, bp);
                for _ in 0..kc {
                    let b0 = $load(b);
                    let b1 = $load(b.add($lanes));
                    for (row, &off) in acc.iter_mut().zip(&rows) {
                        let ar = $bcast(&*a.offset(off));
                        row[0] = $fma(ar, b0, row[0]);
                        row[1] = $fma(ar, b1, row[1]);
                    }
                    a = a.offset(ap.cs);
                    b = b.offset(rsb);
                }
                if mr == MR && nr == NR && csc == 1 {
                    let va = $set1(alpha);
                    let vb = $set1(beta);
                    for (r, row) in acc.iter().enumerate() {
                        let dst = c.offset(r as isize * rsc);
                        for (h, &v) in row.iter().enumerate() {
                            let d = dst.add($lanes * h);
                            let out = if beta == 0.0 {
                                $mul(va, v)
                            } else {
                                $fma(vb, $load(d), $mul(va, v))
                            };
                            $store(d, out);
                        }
                    }
                } else {
                    let mut tile = [[0.0; NR]; MR];
                    for (r, row) in acc.iter().enumerate() {
                        $store(tile[r].as_mut_ptr(), row[0]);
                        $store(tile[r].as_mut_ptr().add($lanes), row[1]);
                    }
                    store_tile(&tile, alpha, beta, c, rsc, csc, mr, nr);
                }
            }
        }
    };
}

kernel_avx2!(
    /// The `f32` AVX2 + FMA microkernel (6 x 16).
    kernel_f32_avx2_fma, f32, 8, __m256, _mm256_setzero_ps, _mm256_loadu_ps,
    _mm256_broadcast_ss, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_storeu_ps
);
kernel_avx2!(
    /// The `f64` AVX2 + FMA microkernel (6 x 8).
    kernel_f64_avx2_fma, f64, 4, __m256d, _mm256_setzero_pd, _mm256_loadu_pd,
    _mm256_broadcast_sd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_storeu_pd
);

/// Defines an AVX-512F microkernel: 16 accumulator registers (8 rows x 2
/// vectors), two loads of B and eight broadcasts of A per step. Tiles cut
/// by the edge of C are written with masked stores when C's rows are
/// contiguous, so they cost no more than whole ones.
macro_rules! kernel_avx512 {
    ($(#[$doc:meta])* $name:ident, $t:ty, $lanes:literal, $vec:ty, $mask:ty, $zero:ident,
     $load:ident, $set1:ident, $fma:ident, $mul:ident, $store:ident, $maskz_load:ident,
     $mask_store:ident) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn $name(
            kc: usize,
            alpha: $t,
            ap: APanel<$t>,
            bp: *const $t,
            rsb: isize,
            beta: $t,
            c: *mut $t,
            rsc: isize,
            csc: isize,
            mr: usize,
            nr: usize,
        ) {
            use std::arch::x86_64::*;
            const MR: usize = 8;
            const NR: usize = 2 * $lanes;
            // SAFETY: the CPU has AVX-512F (checked by `Isa::detect`); A
            // holds kc steps of MR values, B kc steps of NR values rsb
            // apart; stores stay inside the caller's `mr x nr` tile (masked
            // beyond `nr`).
            unsafe {
                let mut acc: [[$vec; 2]; MR] = [[$zero(); 2]; MR];
                let rows = ap.row_offsets::<MR>(mr);
                let (mut a, mut b) = (ap.ptr, bp);
                for _ in 0..kc {
                    let b0 = $load(b);
                    let b1 = $load(b.add($lanes));
                    for (row, &off) in acc.iter_mut().zip(&rows) {
                        let ar = $set1(*a.offset(off));
                        row[0] = $fma(ar, b0, row[0]);
                        row[1] = $fma(ar, b1, row[1]);
                    }
                    a = a.offset(ap.cs);
                    b = b.offset(rsb);
                }
                if csc == 1 {
                    // Lane masks of the two vectors of a row of `nr` values.
                    let masks: [$mask; 2] = std::array::from_fn(|h| {
                        let valid = nr.saturating_sub($lanes * h).min($lanes);
                        ((1u32 << valid) - 1) as $mask
                    });
                    let va = $set1(alpha);
                    let vb = $set1(beta);
                    for (r, row) in acc.iter().enumerate().take(mr) {
                        let dst = c.offset(r as isize * rsc);
                        for (h, &v) in row.iter().enumerate() {
                            let mask = masks[h];
                            if mask == 0 {
                                continue;
                            }
                            let d = dst.add($lanes * h);
                            let out = if beta == 0.0 {
                                $mul(va, v)
                            } else {
                                let old = $maskz_load(mask, d);
                                $fma(vb, old, $mul(va, v))
                            };
                            $mask_store(d, mask, out);
                        }
                    }
                } else {
                    let mut tile = [[0.0; NR]; MR];
                    for (r, row) in acc.iter().enumerate() {
                        $store(tile[r].as_mut_ptr(), row[0]);
                        $store(tile[r].as_mut_ptr().add($lanes), row[1]);
                    }
                    store_tile(&tile, alpha, beta, c, rsc, csc, mr, nr);
                }
            }
        }
    };
}

kernel_avx512!(
    /// The `f32` AVX-512F microkernel (8 x 32).
    kernel_f32_avx512, f32, 16, __m512, __mmask16, _mm512_setzero_ps, _mm512_loadu_ps,
    _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_mask_storeu_ps
);
kernel_avx512!(
    /// The `f64` AVX-512F microkernel (8 x 16).
    kernel_f64_avx512, f64, 8, __m512d, __mmask8, _mm512_setzero_pd, _mm512_loadu_pd,
    _mm512_set1_pd, _mm512_fmadd_pd, _mm512_mul_pd, _mm512_storeu_pd, _mm512_maskz_loadu_pd,
    _mm512_mask_storeu_pd
);

#[cfg(test)]
mod tests {
    use super::*;

    /// A product under test: `C <- 2 A B + 0.5 C` on row-major A, B, C.
    type Run<'a, T> = &'a dyn Fn(&[T], &[T], &mut [T]);

    /// Checks `run` against a naive product: `2 A B + 0.5 C0` with C0 = 1.
    fn check<T: Packed>(name: &str, m: usize, k: usize, n: usize, run: Run<'_, T>) {
        let of = |v: f64| T::from(v).expect("a small value");
        let a: Vec<T> = (0..m * k)
            .map(|i| of(((i * 7 % 13) as f64 - 6.0) / 8.0))
            .collect();
        let b: Vec<T> = (0..k * n)
            .map(|i| of(((i * 5 % 11) as f64 - 5.0) / 4.0))
            .collect();
        let mut c = vec![T::one(); m * n];
        run(&a, &b, &mut c);
        let tolerance = if std::mem::size_of::<T>() == 4 {
            1e-3
        } else {
            1e-12
        };
        for i in 0..m {
            for j in 0..n {
                let dot: f64 = (0..k)
                    .map(|p| (a[i * k + p] * b[p * n + j]).to_f64().unwrap_or(f64::NAN))
                    .sum();
                let want = 2.0 * dot + 0.5;
                let got = c[i * n + j].to_f64().unwrap_or(f64::NAN);
                assert!(
                    (got - want).abs() < tolerance * want.abs().max(1.0),
                    "{name} m={m} k={k} n={n} ({i},{j}): {got} vs {want}"
                );
            }
        }
    }

    const SIZES: [(usize, usize, usize); 8] = [
        (1, 1, 1),
        (7, 3, 17),
        (6, 16, 16),
        (8, 32, 32),
        (13, 300, 33),
        (75, 260, 5),
        (97, 513, 70),
        (9, 21, 24),
    ];

    /// The microkernels this machine can run.
    fn isas() -> Vec<Isa> {
        let mut isas = vec![Isa::Fallback];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                isas.push(Isa::Avx2);
            }
            if std::is_x86_feature_detected!("avx512f") {
                isas.push(Isa::Avx512);
            }
        }
        isas
    }

    /// Every microkernel of `T` on this machine, in the blocked loop,
    /// against a naive product, over odd sizes that cross every block and
    /// tile edge.
    fn kernels_match_naive<T: Packed>() {
        for isa in isas() {
            for &(m, k, n) in &SIZES {
                let name = format!("{isa:?} {}", std::any::type_name::<T>());
                let single = |m, n, a: Mat<T>, b: Mat<T>, c: *mut T, rsc, csc| {
                    let p = Product {
                        m,
                        k,
                        n,
                        alpha: T::from(2.0).expect("2"),
                        a,
                        b,
                        beta: T::from(0.5).expect("0.5"),
                        c,
                        rsc,
                        csc,
                    };
                    // SAFETY: the caller's buffers hold the matrices the
                    // strides describe; `isa` was detected on this CPU.
                    unsafe { T::single(isa, p) }
                };
                // Row-major operands.
                check::<T>(&name, m, k, n, &|a, b, c| {
                    let am = Mat {
                        ptr: a.as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    };
                    let bm = Mat {
                        ptr: b.as_ptr(),
                        rs: n as isize,
                        cs: 1,
                    };
                    single(m, n, am, bm, c.as_mut_ptr(), n as isize, 1);
                });
                // Transposed copies (A and B column-major), and C written
                // column-major: the strided packing, the register
                // transposes and the strided store paths.
                check::<T>(&name, m, k, n, &|a, b, c| {
                    let at: Vec<T> = (0..m * k).map(|i| a[(i % m) * k + i / m]).collect();
                    let bt: Vec<T> = (0..k * n).map(|i| b[(i % k) * n + i / k]).collect();
                    let am = Mat {
                        ptr: at.as_ptr(),
                        rs: 1,
                        cs: m as isize,
                    };
                    let bm = Mat {
                        ptr: bt.as_ptr(),
                        rs: 1,
                        cs: k as isize,
                    };
                    let mut ct: Vec<T> = (0..m * n).map(|i| c[(i % m) * n + i / m]).collect();
                    single(m, n, am, bm, ct.as_mut_ptr(), 1, m as isize);
                    for i in 0..m {
                        for j in 0..n {
                            c[i * n + j] = ct[j * m + i];
                        }
                    }
                });
            }
        }
    }

    #[test]
    fn f32_kernels_match_naive() {
        kernels_match_naive::<f32>();
    }

    #[test]
    fn f64_kernels_match_naive() {
        kernels_match_naive::<f64>();
    }

    /// The vector kernels (AVX2 + FMA and AVX-512F) sum each element in
    /// the same order with fused multiply-adds: the same bits, whatever
    /// the tile.
    fn vector_kernels_agree<T: Packed>() {
        let isas: Vec<Isa> = isas().into_iter().filter(|&i| i != Isa::Fallback).collect();
        let (m, k, n) = (37, 300, 45);
        let a: Vec<T> = (0..m * k)
            .map(|i| T::from((i as f64 * 0.37).sin()).expect("finite"))
            .collect();
        let b: Vec<T> = (0..k * n)
            .map(|i| T::from((i as f64 * 0.11).cos()).expect("finite"))
            .collect();
        let results: Vec<Vec<T>> = isas
            .iter()
            .map(|&isa| {
                let mut c = vec![T::zero(); m * n];
                let p = Product {
                    m,
                    k,
                    n,
                    alpha: T::one(),
                    a: Mat {
                        ptr: a.as_ptr(),
                        rs: k as isize,
                        cs: 1,
                    },
                    b: Mat {
                        ptr: b.as_ptr(),
                        rs: 1,
                        cs: k as isize,
                    },
                    beta: T::zero(),
                    c: c.as_mut_ptr(),
                    rsc: n as isize,
                    csc: 1,
                };
                // SAFETY: the buffers hold the matrices the strides
                // describe; `isa` runs on this CPU.
                unsafe { T::single(isa, p) };
                c
            })
            .collect();
        for pair in results.windows(2) {
            assert!(pair[0] == pair[1], "{:?}", isas);
        }
    }

    /// Operands read where they are (small transposed A, B with
    /// contiguous rows) and transposed B panels with a partial block give
    /// the bits of the same product on copies of the operands with every
    /// other value skipped, which are packed value by value: the kernels'
    /// arithmetic does not depend on where they read.
    fn direct_reads_give_the_bits_of_packing<T: Packed>() {
        let shapes = [
            (32, 10, 64),
            (32, 64, 64),
            (64, 32, 64),
            (64, 32, 10),
            (32, 1, 64),
            (13, 7, 32),
            (9, 21, 96),
            (5, 40, 48),
            (70, 100, 64),
        ];
        let value = |i: usize, salt: usize| {
            T::from(((i * 37 + salt * 11) % 29) as f64 / 7.0 - 2.0).expect("small")
        };
        for isa in isas() {
            for &(m, k, n) in &shapes {
                for (alpha, beta) in [(1.0, 0.0), (2.0, 0.5)] {
                    let run = |a: Mat<T>, b: Mat<T>| {
                        let mut c: Vec<T> = (0..m * n).map(|i| value(i, 3)).collect();
                        let p = Product {
                            m,
                            k,
                            n,
                            alpha: T::from(alpha).expect("alpha"),
                            a,
                            b,
                            beta: T::from(beta).expect("beta"),
                            c: c.as_mut_ptr(),
                            rsc: n as isize,
                            csc: 1,
                        };
                        // SAFETY: the buffers hold the matrices the strides
                        // describe; `isa` runs on this CPU.
                        unsafe { T::single(isa, p) };
                        c.iter()
                            .map(|v| v.to_f64().unwrap_or(f64::NAN).to_bits())
                            .collect::<Vec<_>>()
                    };
                    // Element (i, j) of a matrix at `i rs + j cs`, and the
                    // same values twice as far apart.
                    let layout = |rows: usize, cols: usize, salt: usize, rs: usize, cs: usize| {
                        let mut dense = vec![T::zero(); rows * cols];
                        let mut sparse = vec![T::zero(); 2 * rows * cols];
                        for i in 0..rows {
                            for j in 0..cols {
                                let v = value(i * cols + j, salt);
                                dense[i * rs + j * cs] = v;
                                sparse[2 * (i * rs + j * cs)] = v;
                            }
                        }
                        (dense, sparse)
                    };
                    let mat = |v: &[T], rs: usize, cs: usize, step: usize| Mat {
                        ptr: v.as_ptr(),
                        rs: (step * rs) as isize,
                        cs: (step * cs) as isize,
                    };
                    let name = format!("{isa:?} m={m} k={k} n={n} alpha={alpha}");
                    // A transposed, B row-major: both read where they are.
                    let (a, a2) = layout(m, k, 1, 1, m);
                    let (b, b2) = layout(k, n, 2, n, 1);
                    assert_eq!(
                        run(mat(&a, 1, m, 1), mat(&b, n, 1, 1)),
                        run(mat(&a2, 1, m, 2), mat(&b2, n, 1, 2)),
                        "{name}: direct"
                    );
                    // B transposed: its panels transposed in registers.
                    let (bt, bt2) = layout(k, n, 2, 1, k);
                    assert_eq!(
                        run(mat(&a, 1, m, 1), mat(&bt, 1, k, 1)),
                        run(mat(&a2, 1, m, 2), mat(&bt2, 1, k, 2)),
                        "{name}: transposed B"
                    );
                }
            }
        }
    }

    #[test]
    fn direct_reads_give_the_bits_of_packing_f32() {
        direct_reads_give_the_bits_of_packing::<f32>();
    }

    #[test]
    fn direct_reads_give_the_bits_of_packing_f64() {
        direct_reads_give_the_bits_of_packing::<f64>();
    }

    #[test]
    fn vector_kernels_give_the_same_bits() {
        vector_kernels_agree::<f32>();
        vector_kernels_agree::<f64>();
    }
}
