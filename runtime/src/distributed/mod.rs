//! Data-parallel training across processes: the [`Collective`] operations
//! `fit` needs, and (with the feature `mpi`) `Mpi`, their implementation
//! on MPI.
//!
//! A program started by `mpiexec -n P` trains one model across its P
//! processes with the same `fit` call and one setting more,
//! [`Fit::distributed`](crate::train::Fit::distributed):
//!
//! ```text
//! let world = macrograd::distributed::Mpi::init()?;   // once per process
//! let history = model.fit(&data, Fit::epochs(20).batch_size(256).distributed(&world))?;
//! ```
//!
//! What happens, and what is guaranteed:
//!
//! - **Batches are split, not the data.** Every process shuffles with the
//!   same seed, so all see the same global batches; each global batch of
//!   `B` samples is cut into P shards of `B / P` (the first `B mod P`
//!   one more), and each process gathers only its shard's rows, runs the
//!   forward and backward pass on them, and holds the gradient of its
//!   shard's mean loss.
//! - **Gradients are reduced in a fixed order.** Each process weighs its
//!   gradient by its shard's share of the batch; the P gradients are
//!   summed rank after rank ([`reduce_sum`]: a reduce-scatter then an
//!   all-gather, each piece summed in rank order by one process), so every
//!   process holds the same bits and applies the same update: the weights
//!   stay identical, and equal to one process's with batch `B` up to
//!   rounding (tested to 1e-12 relative in `f64`).
//! - **Losses, metrics and validation are global.** The batch losses and
//!   metric sums are reduced with the gradients; the validation set is
//!   split across the processes and its sums reduced. So every process
//!   computes the same history, and every decision taken from it (early
//!   stopping, the target loss, a non-finite loss, a schedule on a
//!   plateau) is the same everywhere: no process is left waiting.
//!   Callbacks run on every process; one that stops stops all.
//! - **Output comes from rank 0**: the printed lines, the progress bar and
//!   the checkpoints; each process returns the same history. A checkpoint
//!   does not depend on the number of processes, so it resumes on any
//!   number.
//! - **Batch norm** normalises with each process's own batch statistics
//!   (PyTorch's `DistributedDataParallel` default), and its running
//!   statistics are rank 0's, copied to every process after each update
//!   (DDP's `broadcast_buffers`); each process's shard must then hold the
//!   samples batch norm needs. With
//!   [`Fit::sync_batch_norm`](crate::train::Fit::sync_batch_norm) it
//!   normalises with the whole batch's statistics instead (PyTorch's
//!   `SyncBatchNorm`): its sums are exchanged in the forward and backward
//!   passes, and the run is one process's with the whole batch, up to
//!   rounding.
//! - **Failures end every process.** Settings that cannot work are an
//!   error on every process before the first batch: a batch (the last
//!   one too) with fewer samples than processes, data that differ between
//!   processes (their checksums are compared), gradient accumulation. An
//!   error on one process during the run (a checkpoint that cannot be
//!   written) is reported to all at the next exchange, as
//!   [`Error::Distributed`], naming the rank; a
//!   process that dies ends the job (`mpiexec` stops the others).
//!
//! [`Collective`] is a trait so that another transport (threads of one
//! process, as the tests use; another message-passing library) can take
//! MPI's place.

#[cfg(feature = "mpi")]
mod mpi;

#[cfg(feature = "mpi")]
pub use self::mpi::Mpi;

use std::cell::Cell;

use crate::{Error, Float, Result};

/// The operations data-parallel training needs from a group of processes:
/// every process calls each one, in the same order, with buffers of the
/// same lengths.
pub trait Collective {
    /// This process's number, `0..size()`.
    fn rank(&self) -> usize;

    /// How many processes there are.
    fn size(&self) -> usize;

    /// `all <- ` every process's `local`, in rank order (`all` holds
    /// `size() * local.len()` bytes).
    fn all_gather(&self, local: &[u8], all: &mut [u8]);

    /// `received[r]` (the `r`-th of `size()` equal pieces) `<-` process
    /// `r`'s `send` piece numbered this process's rank.
    fn all_to_all(&self, send: &[u8], received: &mut [u8]);

    /// `buffer <-` process `root`'s `buffer`.
    fn broadcast(&self, root: usize, buffer: &mut [u8]);
}

/// Sums `values` over the processes, in rank order, into `values` on every
/// process: the same bits everywhere. `scratch` is grown as needed and
/// reused (no allocation once it has its size).
///
/// The values are cut into `size()` pieces; process `r` receives piece
/// `r` of every process (`all_to_all`) and sums them in rank order; the
/// sums are then gathered by all (`all_gather`). Each process sends and
/// receives about `2 (P - 1) / P` times the values' bytes, as a ring
/// all-reduce does.
pub fn reduce_sum<T: Float>(world: &dyn Collective, values: &mut [T], scratch: &mut Scratch<T>) {
    let p = world.size();
    if p == 1 {
        return;
    }
    let n = values.len();
    let piece = n.div_ceil(p);
    let Scratch { send, received } = scratch;
    send.clear();
    send.extend_from_slice(values);
    send.resize(p * piece, T::zero());
    received.clear();
    received.resize(p * piece, T::zero());
    world.all_to_all(bytes(send), bytes_mut(received));
    // This process's piece: the sum of every process's, rank after rank.
    let (first, rest) = received.split_at_mut(piece);
    for other in rest.chunks_exact(piece) {
        for (s, &v) in first.iter_mut().zip(other) {
            *s = *s + v;
        }
    }
    send.truncate(piece);
    send.copy_from_slice(first);
    world.all_gather(bytes(send), bytes_mut(received));
    values.copy_from_slice(&received[..n]);
}

/// The reusable buffers of [`reduce_sum`].
#[derive(Clone, Debug)]
pub struct Scratch<T> {
    send: Vec<T>,
    received: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            send: Vec::new(),
            received: Vec::new(),
        }
    }
}

/// The bytes of `values`, as the processes exchange them.
fn bytes<T: Float>(values: &[T]) -> &[u8] {
    // SAFETY: `Float` is implemented for `f32` and `f64` only (sealed by
    // its `Element` bound), plain numbers without padding: their memory
    // is `size_of_val(values)` initialised bytes, which live as long as
    // `values`.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), std::mem::size_of_val(values)) }
}

/// The bytes of `values`, writable: any bytes are some `f32` or `f64`.
fn bytes_mut<T: Float>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `bytes`; and every bit pattern is a valid `f32` or
    // `f64`, so whatever is written leaves `values` valid.
    unsafe {
        std::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), std::mem::size_of_val(values))
    }
}

/// `f64` sums (losses, metric counts) over the processes, in rank order.
pub fn sum_f64(world: &dyn Collective, values: &mut [f64]) {
    let mut scratch = Scratch::default();
    reduce_sum(world, values, &mut scratch);
}

/// Whether any process says `yes`.
pub fn any(world: &dyn Collective, yes: bool) -> bool {
    let mut all = vec![0u8; world.size()];
    world.all_gather(&[u8::from(yes)], &mut all);
    all.contains(&1)
}

/// Every process's `local` bytes (of any length), in rank order.
pub fn gather_bytes(world: &dyn Collective, local: &[u8]) -> Vec<Vec<u8>> {
    let p = world.size();
    let mut lengths = vec![0u8; 8 * p];
    world.all_gather(&(local.len() as u64).to_le_bytes(), &mut lengths);
    let lengths: Vec<usize> = lengths
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")) as usize)
        .collect();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    let mut padded = local.to_vec();
    padded.resize(longest, 0);
    let mut all = vec![0u8; longest * p];
    world.all_gather(&padded, &mut all);
    all.chunks(longest.max(1))
        .zip(&lengths)
        .map(|(c, &n)| c[..n].to_vec())
        .collect()
}

/// Makes every process agree on `result`: `Ok` if every process's is;
/// else a failing process returns its own error, and the others the first
/// failing process's, as [`Error::Distributed`] naming its rank.
///
/// # Errors
///
/// As said.
pub fn agree<T>(world: &dyn Collective, result: Result<T>) -> Result<T> {
    let message = match &result {
        Ok(_) => String::new(),
        Err(e) => format!("{e}"),
    };
    let failed = result.is_err();
    let mut flag = Vec::with_capacity(1 + message.len());
    flag.push(u8::from(failed));
    flag.extend_from_slice(message.as_bytes());
    let all = gather_bytes(world, &flag);
    match all.iter().position(|m| m.first() == Some(&1)) {
        None => result,
        Some(_) if failed => result,
        Some(rank) => Err(Error::Distributed {
            rank,
            message: String::from_utf8_lossy(&all[rank][1..]).into_owned(),
        }),
    }
}

/// What a training step's batch norm synchronises over, while `fit` runs
/// a step of a distributed run with [`Fit::sync_batch_norm`](crate::train::Fit::sync_batch_norm).
#[derive(Clone, Copy)]
struct SyncBatchNorm {
    /// The step's processes, the borrow's lifetime erased: dereferenced
    /// only while [`with_sync_batch_norm`] runs, which holds the borrow.
    world: *const (dyn Collective + 'static),
    /// This process's share of the batch.
    share: f64,
    /// The batch's samples, over every process.
    samples: usize,
}

thread_local! {
    static SYNC_BATCH_NORM: Cell<Option<SyncBatchNorm>> = const { Cell::new(None) };
}

/// Runs `f` (a forward or backward pass of a training step) with its batch
/// norm layers synchronised over `world`: this process holds `share` of a
/// batch of `samples` samples.
pub(crate) fn with_sync_batch_norm<R>(
    world: &dyn Collective,
    share: f64,
    samples: usize,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<SyncBatchNorm>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SYNC_BATCH_NORM.with(|s| s.set(self.0));
        }
    }
    let world: *const (dyn Collective + '_) = world;
    // SAFETY: only the lifetime of the trait object changes (the pointer
    // and its metadata are the same). The pointer is read by
    // `batch_norm_sync` alone, on this thread, while `f` runs, and `world`
    // is borrowed for all of that call; `Restore` takes it out again when
    // `f` returns or unwinds.
    let world: *const (dyn Collective + 'static) = unsafe { std::mem::transmute(world) };
    let context = SyncBatchNorm {
        world,
        share,
        samples,
    };
    let _restore = Restore(SYNC_BATCH_NORM.with(|s| s.replace(Some(context))));
    f()
}

/// For a batch norm layer in a training step: `None` unless the step
/// synchronises batch norm; else sums `values` (each first times this
/// process's share when `weighed`) over the processes, in rank order, and
/// returns this process's share and the batch's samples over every
/// process.
pub(crate) fn batch_norm_sync<T: Float>(
    values: &mut [T],
    weighed: bool,
    scratch: &mut Scratch<T>,
) -> Option<(f64, usize)> {
    let context = SYNC_BATCH_NORM.with(Cell::get)?;
    // SAFETY: set by `with_sync_batch_norm`, whose caller's borrow of the
    // processes lasts while the context is set (see there).
    let world = unsafe { &*context.world };
    if weighed {
        let share = T::of(context.share);
        values.iter_mut().for_each(|v| *v = *v * share);
    }
    reduce_sum(world, values, scratch);
    Some((context.share, context.samples))
}

/// The samples `start..end` of a batch of `n` that process `rank` of
/// `size` takes: `n / size` each, the first `n mod size` one more.
pub fn shard(n: usize, rank: usize, size: usize) -> (usize, usize) {
    let (base, extra) = (n / size, n % size);
    let start = rank * base + rank.min(extra);
    (start, start + base + usize::from(rank < extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_a_batch_in_order() {
        for n in 2..20 {
            for size in 1..=n {
                let mut next = 0;
                for rank in 0..size {
                    let (start, end) = shard(n, rank, size);
                    assert_eq!(start, next);
                    assert!(end - start >= n / size && end - start <= n / size + 1);
                    next = end;
                }
                assert_eq!(next, n);
            }
        }
    }
}
