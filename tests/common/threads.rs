//! A [`Collective`] of threads in one process: the distributed runs of the
//! tests without MPI. Each operation writes this thread's part to a
//! shared slot, waits for all, reads what it needs, and waits again
//! before the slots are reused.

use std::sync::{Barrier, Mutex};

use macrograd::distributed::Collective;

struct Shared {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<u8>>>,
}

/// One of `size` threads.
pub struct Threads<'s> {
    rank: usize,
    size: usize,
    shared: &'s Shared,
}

/// Runs `f` on `size` threads, each with its `Threads`; returns their
/// results in rank order.
pub fn run<R: Send>(size: usize, f: impl Fn(&Threads<'_>) -> R + Sync) -> Vec<R> {
    let shared = Shared {
        barrier: Barrier::new(size),
        slots: Mutex::new(vec![Vec::new(); size]),
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let (shared, f) = (&shared, &f);
                s.spawn(move || f(&Threads { rank, size, shared }))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

impl Threads<'_> {
    /// Publishes `mine`, waits for every thread, passes every thread's
    /// bytes to `read`, and waits until all have read.
    fn exchange(&self, mine: &[u8], read: impl FnOnce(&[Vec<u8>])) {
        self.shared.slots.lock().unwrap()[self.rank] = mine.to_vec();
        self.shared.barrier.wait();
        read(&self.shared.slots.lock().unwrap());
        self.shared.barrier.wait();
    }
}

impl Collective for Threads<'_> {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather(&self, local: &[u8], all: &mut [u8]) {
        let n = local.len();
        self.exchange(local, |slots| {
            for (r, slot) in slots.iter().enumerate() {
                all[r * n..(r + 1) * n].copy_from_slice(slot);
            }
        });
    }

    fn all_to_all(&self, send: &[u8], received: &mut [u8]) {
        let piece = send.len() / self.size;
        let me = self.rank;
        self.exchange(send, |slots| {
            for (r, slot) in slots.iter().enumerate() {
                received[r * piece..(r + 1) * piece]
                    .copy_from_slice(&slot[me * piece..(me + 1) * piece]);
            }
        });
    }

    fn broadcast(&self, root: usize, buffer: &mut [u8]) {
        let mine = buffer.to_vec();
        self.exchange(&mine, |slots| buffer.copy_from_slice(&slots[root]));
    }
}
