//! Row gathering: the one copy that batches take from a dataset, shared by
//! the targets, the datasets and the epoch loop.
//!
//! ```text
//! gather_rows(src, &[4, 5, 6, 1], dst)  // dst[0..3] = src[4..7] (one memcpy), dst[3] = src[1]
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Float;

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
        let mut k = 0;
        while k < indices.len() {
            let start = indices[k];
            let mut run = 1;
            while k + run < indices.len() && indices[k + run] == start + run {
                run += 1;
            }
            to[k * width..(k + run) * width]
                .copy_from_slice(&from[start * width..(start + run) * width]);
            k += run;
        }
        return;
    }
    for (mut row, &i) in dst.rows_mut().into_iter().zip(indices) {
        row.assign(&src.row(i));
    }
}
