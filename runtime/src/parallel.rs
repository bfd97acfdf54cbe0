//! Threads for the matrix products and the optimizers' updates: a global
//! default and a small worker pool that runs one job at a time without
//! allocating (once its workers are spawned).
//!
//! The default is 1 thread, so a program uses one core unless it asks for
//! more; the products of small models, which this library is for first,
//! are below the size that is split anyway. [`set_threads`] changes the
//! default for the process; `Fit::threads` changes it for one `fit`. Only
//! large matrix products (2^20 multiply-adds or more), long elementwise
//! passes, batch gathers, a convolution's im2col and col2im, and optimizer
//! updates (64 Ki values or more: `split_map`, `split_rows`,
//! `split_update`) and an LSTM's steps are split; every split computes the same sums in the same order, so results
//! do not depend on the thread count.
//!
//! The optimizers split an update through `split_update`, which is safe to
//! call: it hands each thread `&mut` pieces of one range of the slices it
//! borrows. The raw pointers behind that, and behind the pool's borrowed
//! jobs, stay in this module.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::{set_threads, threads};
//! assert_eq!(threads(), 1);
//! set_threads(2);
//! assert_eq!(threads(), 2);
//! set_threads(1);
//! ```

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

static DEFAULT_THREADS: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// A per-thread override (set by `fit` for its duration).
    static OVERRIDE: Cell<usize> = const { Cell::new(0) };
}

/// Sets the number of threads (at least 1) that large `f32` matrix
/// products and optimizer updates may use, for the whole process.
pub fn set_threads(threads: usize) {
    DEFAULT_THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// The number of threads that large `f32` matrix products and optimizer
/// updates started from this thread use.
pub fn threads() -> usize {
    match OVERRIDE.with(Cell::get) {
        0 => DEFAULT_THREADS.load(Ordering::Relaxed),
        n => n,
    }
}

/// Runs `f` with the thread count set to `threads` on this thread (0: the
/// process default), restoring the previous setting afterwards.
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    let previous = OVERRIDE.with(|o| o.replace(threads));
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Elementwise loops over at least this many values (256 KiB of f32) are
/// split across threads; shorter ones run on the calling thread, as a
/// small model's updates, which no split would pay for, do.
const ELEMENTWISE_MIN: usize = 1 << 16;

/// Runs `f` over `0..len` in contiguous ranges, one per thread when the
/// loop is long enough to pay for it (else one range, on this thread).
/// Every index is in exactly one range, inside `0..len`; ranges start at
/// multiples of 64. [`split_update`] relies on this for its safety.
fn for_ranges(len: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
    let threads = threads();
    if threads <= 1 || len < ELEMENTWISE_MIN {
        f(0..len);
        return;
    }
    let chunk = len.div_ceil(threads).next_multiple_of(64);
    let parts = len.div_ceil(chunk);
    run_parts(parts, &|part| {
        let start = part * chunk;
        f(start..(start + chunk).min(len))
    });
}

/// Runs `f` over the rows of `dst` (rows of `width` values) in contiguous
/// ranges of rows, one per thread when `dst` is long enough to pay for it
/// (as [`split_update`]), else once over all of them on this thread; `f`
/// gets the range and those rows of `dst`. Nothing is allocated.
pub(crate) fn split_rows<T, F>(dst: &mut [T], width: usize, f: F)
where
    T: Send,
    F: Fn(Range<usize>, &mut [T]) + Sync,
{
    let rows = dst.len().checked_div(width).unwrap_or(0);
    let threads = threads();
    if threads <= 1 || dst.len() < ELEMENTWISE_MIN || rows < 2 {
        f(0..rows, dst);
        return;
    }
    let chunk = rows.div_ceil(threads);
    let parts = rows.div_ceil(chunk);
    let split = Split::new(dst);
    run_parts(parts, &|part| {
        let range = part * chunk..((part + 1) * chunk).min(rows);
        // SAFETY: the parts' row ranges are disjoint and inside `dst`.
        let piece = unsafe { split.part(range.start * width..range.end * width) };
        f(range, piece)
    });
}

/// Writes `N` slices elementwise from `R` read-only ones, all of the same
/// length, split as [`split_update`] splits: `f` runs once per contiguous
/// range, with every slice's values in that range (element `i` of each
/// piece is element `i` of the others). What each element gets does not
/// depend on the thread count; nothing is allocated.
///
/// # Panics
///
/// If the slices differ in length.
pub(crate) fn split_map<T, F, const R: usize, const N: usize>(
    inputs: [&[T]; R],
    outputs: [&mut [T]; N],
    f: F,
) where
    T: Send + Sync,
    F: Fn([&[T]; R], [&mut [T]; N]) + Sync,
{
    let len = outputs.first().map_or(0, |s| s.len());
    assert!(
        inputs.iter().all(|s| s.len() == len) && outputs.iter().all(|s| s.len() == len),
        "split_map: slices of different lengths"
    );
    let splits = outputs.map(Split::new);
    for_ranges(len, &|r| {
        let pieces = splits.each_ref().map(|s| {
            // SAFETY: `for_ranges` gives disjoint ranges inside `0..len`.
            unsafe { s.part(r.clone()) }
        });
        f(inputs.map(|x| &x[r.clone()]), pieces)
    });
}

/// Updates `N` mutable slices elementwise alongside a read-only `grad`, on
/// as many threads as a long loop pays for: `f` runs once per contiguous
/// range (see [`for_ranges`]), with `grad`'s values in the range and each
/// slice's values in the same range, so element `i` of every piece is
/// element `i` of the others. The ranges, and the thread that runs each,
/// depend only on `grad.len()` and the thread count; nothing is allocated.
///
/// An empty slice (a buffer not in use) gives empty pieces.
///
/// # Panics
///
/// If a slice is neither empty nor `grad.len()` long.
pub(crate) fn split_update<T, F, const N: usize>(grad: &[T], slices: [&mut [T]; N], f: F)
where
    T: Send + Sync,
    F: Fn(&[T], [&mut [T]; N]) + Sync,
{
    let len = grad.len();
    for s in &slices {
        assert!(
            s.is_empty() || s.len() == len,
            "split_update: a slice has {} values, expected {len} or none",
            s.len()
        );
    }
    let splits = slices.map(Split::new);
    for_ranges(len, &|r| {
        let pieces = splits.each_ref().map(|s| {
            // SAFETY: `for_ranges` hands out disjoint ranges inside `0..len`,
            // each to one call, and every slice holds `len` values or none
            // (checked above); `splits` borrows the slices until
            // `for_ranges` has returned, after every call has ended, and
            // `f` cannot keep a piece past its call (it takes them for any
            // lifetime).
            unsafe { s.part(r.clone()) }
        });
        f(&grad[r], pieces)
    });
}

/// A mutable slice shared with the pool's workers, each of which takes a
/// disjoint range of it (see [`split_update`]). It borrows the slice for
/// `'a`, so it cannot outlive it, and no other reference can reach the
/// slice meanwhile.
struct Split<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: a `Split` only hands out disjoint ranges (the contract of `part`),
// so sharing it is sending `&mut` to distinct elements to other threads,
// which `T: Send` allows.
unsafe impl<T: Send> Sync for Split<'_, T> {}

impl<'a, T> Split<'a, T> {
    fn new(slice: &'a mut [T]) -> Self {
        Split {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: PhantomData,
        }
    }

    /// The values in `range`; nothing if the slice is empty (an optimizer
    /// buffer that is not in use).
    ///
    /// # Safety
    ///
    /// `range` lies inside the slice, and no other live reference overlaps
    /// it while the result lives.
    unsafe fn part(&self, range: Range<usize>) -> &'a mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        debug_assert!(range.start <= range.end && range.end <= self.len);
        // SAFETY: the pointer and length come from the `&'a mut [T]` that
        // `self` holds, so the values live as long as the result; the range
        // is inside them and not aliased (the caller's contract).
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

/// A job: a borrowed closure, published to the workers as a raw pointer.
/// The caller waits until every part has finished before returning, so the
/// closure outlives every use.
#[derive(Clone, Copy)]
struct Job {
    f: *const (dyn Fn(usize) + Sync),
    parts: usize,
}

// SAFETY: the closure is `Sync`, and the pointer is only dereferenced while
// the publishing call is blocked waiting for the job to end.
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// Parts handed out so far (part 0 is the caller's).
    next_part: usize,
    workers: usize,
}

struct Pool {
    state: Mutex<State>,
    work: Condvar,
    done: Condvar,
    /// Incremented for every job: spinning workers watch it.
    posted: AtomicU64,
    /// Parts of the current job not yet finished by workers.
    remaining: AtomicUsize,
}

/// How long a worker (or the caller) spins before sleeping: waking a
/// sleeping thread goes through the operating system, which back-to-back
/// products would otherwise pay for every time.
const SPIN: u32 = 1 << 14;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            job: None,
            next_part: 0,
            workers: 0,
        }),
        work: Condvar::new(),
        done: Condvar::new(),
        posted: AtomicU64::new(0),
        remaining: AtomicUsize::new(0),
    })
}

/// One job at a time: a second caller waits for the first to finish.
static JOB_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f(0)`, ..., `f(parts - 1)`, part 0 on this thread and the others
/// on pool workers, and returns when all have finished. Workers are spawned
/// the first time they are needed and then kept.
pub(crate) fn run_parts(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    if parts <= 1 {
        f(0);
        return;
    }
    let _one_job = JOB_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let pool = pool();
    {
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.workers < parts - 1 {
            state.workers += 1;
            std::thread::Builder::new()
                .name("macrograd-worker".into())
                .spawn(|| worker(self::pool()))
                .expect("cannot spawn a worker thread");
        }
        let f: *const (dyn Fn(usize) + Sync + '_) = f;
        // SAFETY: lifetime erasure only; `f` is called until `remaining`
        // reaches 0, which this function waits for below.
        let f: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(f) };
        state.job = Some(Job { f, parts });
        state.next_part = 1;
        pool.remaining.store(parts - 1, Ordering::Release);
        pool.posted.fetch_add(1, Ordering::Release);
        pool.work.notify_all();
    }
    f(0);
    let mut spins = 0;
    while pool.remaining.load(Ordering::Acquire) > 0 && spins < SPIN {
        std::hint::spin_loop();
        spins += 1;
    }
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    while pool.remaining.load(Ordering::Acquire) > 0 {
        state = pool.done.wait(state).unwrap_or_else(|e| e.into_inner());
    }
    state.job = None;
}

fn worker(pool: &'static Pool) {
    let mut seen = 0;
    loop {
        let mut spins = 0;
        while pool.posted.load(Ordering::Acquire) == seen && spins < SPIN {
            std::hint::spin_loop();
            spins += 1;
        }
        let (job, part) = {
            let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(job) = state.job {
                    if state.next_part < job.parts {
                        let part = state.next_part;
                        state.next_part += 1;
                        seen = pool.posted.load(Ordering::Acquire);
                        break (job, part);
                    }
                }
                state = pool.work.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        // SAFETY: the publishing call waits for `remaining == 0`.
        let run = std::panic::AssertUnwindSafe(|| unsafe { (*job.f)(part) });
        if std::panic::catch_unwind(run).is_err() {
            // The caller would wait for this part forever: a hang is worse
            // than a crash. (The kernels do not panic on valid operands.)
            std::process::abort();
        }
        if pool.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Lock so the notification cannot slip between the caller's
            // check and its wait.
            let _state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            pool.done.notify_all();
        }
    }
}

/// A barrier for the parts of one [`run_parts`] job, which run at once
/// (each on its own thread): `wait` returns when every part has called it,
/// and what each part wrote before its call is visible to all after. It
/// spins (then yields, on a machine with more threads than cores) instead
/// of sleeping, as the steps of a recurrent layer it separates are a few
/// microseconds each.
pub(crate) struct Barrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl Barrier {
    /// A barrier for `parties` parts.
    pub(crate) fn new(parties: usize) -> Self {
        Barrier {
            parties: parties.max(1),
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    /// Waits until every part has called `wait` as often as this one.
    pub(crate) fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            return;
        }
        let mut spins = 0;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < SPIN {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn barrier_separates_rounds() {
        for parts in [1, 2, 3] {
            let barrier = Barrier::new(parts);
            let counts: Vec<AtomicU64> = (0..parts).map(|_| AtomicU64::new(0)).collect();
            run_parts(parts, &|p| {
                for round in 0..200 {
                    counts[p].store(round + 1, Ordering::Relaxed);
                    barrier.wait();
                    // Every part has finished this round's store.
                    assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) > round));
                    barrier.wait();
                }
            });
        }
    }

    #[test]
    fn every_part_runs_once() {
        for parts in [1, 2, 3, 5] {
            for _ in 0..50 {
                let hits: Vec<AtomicU64> = (0..parts).map(|_| AtomicU64::new(0)).collect();
                run_parts(parts, &|p| {
                    hits[p].fetch_add(1, Ordering::Relaxed);
                });
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn split_update_hands_out_matching_pieces_of_every_index_once() {
        let len = 2 * ELEMENTWISE_MIN + 5;
        let grad: Vec<u64> = (0..len as u64).collect();
        for threads in [1, 2, 3] {
            let (mut a, mut b, mut unused) = (vec![0; len], vec![0; len], Vec::new());
            let calls = AtomicUsize::new(0);
            with_threads(threads, || {
                split_update(&grad, [&mut a, &mut b, &mut unused], |g, [a, b, u]| {
                    assert!(u.is_empty());
                    assert!(a.len() == g.len() && b.len() == g.len());
                    for i in 0..g.len() {
                        a[i] += g[i];
                        b[i] += 1;
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                })
            });
            assert_eq!(a, grad);
            assert!(b.iter().all(|&v| v == 1));
            assert_eq!(calls.load(Ordering::Relaxed), threads);
        }
    }

    #[test]
    fn split_map_hands_out_matching_pieces_of_every_index_once() {
        let len = 2 * ELEMENTWISE_MIN + 5;
        let x: Vec<u64> = (0..len as u64).collect();
        let y: Vec<u64> = x.iter().map(|v| 3 * v).collect();
        for threads in [1, 2, 3] {
            let mut out = vec![0; len];
            let calls = AtomicUsize::new(0);
            with_threads(threads, || {
                split_map([&x, &y], [&mut out], |[x, y], [out]| {
                    assert!(x.len() == out.len() && y.len() == out.len());
                    for i in 0..out.len() {
                        out[i] += x[i] + y[i];
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                })
            });
            assert!(out.iter().enumerate().all(|(i, &v)| v == 4 * i as u64));
            assert_eq!(calls.load(Ordering::Relaxed), threads);
        }
    }

    #[test]
    fn split_rows_hands_out_every_row_once() {
        let width = 7;
        let rows = ELEMENTWISE_MIN / width + 3;
        for threads in [1, 2, 3] {
            let mut dst = vec![0_u64; rows * width];
            let calls = AtomicUsize::new(0);
            with_threads(threads, || {
                split_rows(&mut dst, width, |range, piece| {
                    assert_eq!(piece.len(), range.len() * width);
                    for (r, row) in range.zip(piece.chunks_exact_mut(width)) {
                        row.iter_mut().for_each(|v| *v += r as u64 + 1);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                })
            });
            assert!(dst
                .iter()
                .enumerate()
                .all(|(i, &v)| v == (i / width) as u64 + 1));
            assert_eq!(calls.load(Ordering::Relaxed), threads);
        }
    }

    #[test]
    #[should_panic(expected = "split_map: slices of different lengths")]
    fn split_map_rejects_slices_of_different_lengths() {
        let (x, mut out) = ([0.0_f32; 4], [0.0_f32; 3]);
        split_map([&x], [&mut out], |_, _| {});
    }

    #[test]
    #[should_panic(expected = "a slice has 3 values, expected 4 or none")]
    fn split_update_rejects_a_slice_of_another_length() {
        let (grad, mut short) = ([0.0_f32; 4], [0.0_f32; 3]);
        split_update(&grad, [&mut short], |_, _| {});
    }

    #[test]
    fn override_is_scoped() {
        assert_eq!(with_threads(3, threads), 3);
        assert_eq!(OVERRIDE.with(Cell::get), 0);
    }
}
