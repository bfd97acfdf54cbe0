//! Row gathering: the one copy that batches take from a dataset, shared by
//! the targets, the datasets and the epoch loop.
//!
//! ```text
//! gather_rows(src, &[4, 5, 6, 1], dst)  // dst[0..3] = src[4..7] (one memcpy), dst[3] = src[1]
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Float;

/// Copies rows `indices` of the row-major `from` (rows of `width`) into
/// `to`, one after the other; each run of consecutive indices is one
/// `memcpy`.
fn copy_rows<T: Float>(from: &[T], width: usize, indices: &[usize], to: &mut [T]) {
    // Rows a few places ahead are asked for while this one is copied, so
    // that the memory fetches of several rows overlap: a shuffled batch's
    // rows are scattered over the whole data set, and each would otherwise
    // start with a wait on memory.
    for &i in indices.iter().take(PREFETCH_AHEAD) {
        prefetch(&from[i * width..(i + 1) * width]);
    }
    let mut k = 0;
    while k < indices.len() {
        if let Some(&ahead) = indices.get(k + PREFETCH_AHEAD) {
            prefetch(&from[ahead * width..(ahead + 1) * width]);
        }
        let start = indices[k];
        let mut run = 1;
        while k + run < indices.len() && indices[k + run] == start + run {
            run += 1;
        }
        to[k * width..(k + run) * width]
            .copy_from_slice(&from[start * width..(start + run) * width]);
        k += run;
    }
}

/// How many rows ahead [`gather_rows`] prefetches.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to bring `values` into its caches (a hint: nothing is read
/// or written, and nothing happens where there is no such instruction).
#[inline]
fn prefetch<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(values);
        let base = values.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch of an address inside `values` (SSE is in
            // the x86-64 baseline); it never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(base.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// Copies rows `indices` of `src` into the first rows of `dst`. When both
/// are row-major, each run of consecutive indices is one `memcpy` (an
/// unshuffled batch is a single run).
pub(crate) fn gather_rows<T: Float>(
    src: ArrayView2<'_, T>,
    indices: &[usize],
    mut dst: ArrayViewMut2<'_, T>,
) {
    let width = src.ncols();
    if let (Some(from), Some(to)) = (src.as_slice(), dst.as_slice_mut()) {
        // A long batch is copied by the threads, each a range of its rows.
        let to = &mut to[..indices.len() * width];
        crate::parallel::split_rows(to, width, |rows, to| {
            copy_rows(from, width, &indices[rows], to)
        });
        return;
    }
    for (mut row, &i) in dst.rows_mut().into_iter().zip(indices) {
        row.assign(&src.row(i));
    }
}
