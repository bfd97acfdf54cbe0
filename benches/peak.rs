//! This machine's f32 and f64 FMA peaks, measured as `docs/workloads.md`
//! describes, for 256-bit (AVX2 + FMA) and 512-bit (AVX-512F) vectors.
//!
//! ```sh
//! cargo bench --bench peak
//! ```
//!
//! Per thread, 12 independent FMA accumulator chains (`acc = acc * a + b`,
//! register-resident) run 10^8 iterations; FLOP = iterations x 12 x lanes x 2
//! (lanes = 8 for `_mm256_fmadd_ps`, 16 for `_mm512_fmadd_ps`; in f64, 4
//! for `_mm256_fmadd_pd`, 8 for `_mm512_fmadd_pd`);
//! GFLOP/s = FLOP / seconds, median of 5 (the best of the 5 is printed too:
//! on a shared machine other work can only lower a rate, so the best is the
//! closer estimate of the ceiling). The 2-thread figure runs one such thread
//! per core at once and adds their rates. The clock estimate times a chain of
//! dependent 64-bit integer multiplies (3 cycles each on the x86-64 cores
//! of the last decade; a chain of adds would not do, since recent Intel
//! cores fold dependent adds of constants), so FLOP/cycle (from the
//! median) can be read off.
//!
//! Twelve chains are enough to hide the FMA latency (4 cycles) on two FMA
//! pipes (8 in flight) without spilling: 12 accumulators + 2 constants fit in
//! the 16 ymm registers. On a machine without a feature the row says
//! "not available"; on a non-x86_64 machine every row does.

use std::sync::Barrier;
use std::time::Instant;

/// Iterations of the 12-chain loop per measurement.
const ITERATIONS: u64 = 100_000_000;
/// Independent accumulator chains.
const CHAINS: u64 = 12;
/// Measurements per figure; the median is reported.
const RUNS: usize = 5;

/// One element type and vector width: their names, lanes, and the kernel
/// if this CPU has it.
struct Width {
    precision: &'static str,
    name: &'static str,
    lanes: u64,
    kernel: Option<fn(u64)>,
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Expands to a `#[target_feature]` function running `iterations` of 12
    /// independent `acc = acc * a + b` chains. The chains start from
    /// different values and `a`, `b` make every chain converge to 1.0 (no
    /// overflow, no denormals). The starting values and constants pass
    /// through `black_box` before the loop, so the compiler can neither merge
    /// chains nor fold one that starts at its fixed point (without it, the
    /// chain starting at 1.0 was folded away, leaving 11); inside the loop
    /// nothing does, so the accumulators stay in registers. Checked in the
    /// `--emit asm` output: the loop body is 12 (x2 unrolled) `vfmadd213ps`
    /// (`vfmadd213pd` in f64) on registers plus the counter.
    macro_rules! fma_chains {
        ($name:ident, $features:literal, $set1:ident, $fmadd:ident) => {
            #[target_feature(enable = $features)]
            fn $name(iterations: u64) {
                let a = $set1(black_box(0.999_999_9));
                let b = $set1(black_box(1.0e-7));
                let mut c0 = $set1(black_box(0.0));
                let mut c1 = $set1(black_box(1.0));
                let mut c2 = $set1(black_box(2.0));
                let mut c3 = $set1(black_box(3.0));
                let mut c4 = $set1(black_box(4.0));
                let mut c5 = $set1(black_box(5.0));
                let mut c6 = $set1(black_box(6.0));
                let mut c7 = $set1(black_box(7.0));
                let mut c8 = $set1(black_box(8.0));
                let mut c9 = $set1(black_box(9.0));
                let mut c10 = $set1(black_box(10.0));
                let mut c11 = $set1(black_box(11.0));
                for _ in 0..iterations {
                    c0 = $fmadd(c0, a, b);
                    c1 = $fmadd(c1, a, b);
                    c2 = $fmadd(c2, a, b);
                    c3 = $fmadd(c3, a, b);
                    c4 = $fmadd(c4, a, b);
                    c5 = $fmadd(c5, a, b);
                    c6 = $fmadd(c6, a, b);
                    c7 = $fmadd(c7, a, b);
                    c8 = $fmadd(c8, a, b);
                    c9 = $fmadd(c9, a, b);
                    c10 = $fmadd(c10, a, b);
                    c11 = $fmadd(c11, a, b);
                }
                black_box([c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11]);
            }
        };
    }

    fma_chains!(chains_256, "avx2,fma", _mm256_set1_ps, _mm256_fmadd_ps);
    fma_chains!(chains_512, "avx512f", _mm512_set1_ps, _mm512_fmadd_ps);
    fma_chains!(chains_256_f64, "avx2,fma", _mm256_set1_pd, _mm256_fmadd_pd);
    fma_chains!(chains_512_f64, "avx512f", _mm512_set1_pd, _mm512_fmadd_pd);

    fn run_256(iterations: u64) {
        // SAFETY: only handed out by `fma_256` after run-time detection.
        unsafe { chains_256(iterations) }
    }

    fn run_512(iterations: u64) {
        // SAFETY: only handed out by `fma_512` after run-time detection.
        unsafe { chains_512(iterations) }
    }

    fn run_256_f64(iterations: u64) {
        // SAFETY: only handed out by `fma_256` after run-time detection.
        unsafe { chains_256_f64(iterations) }
    }

    fn run_512_f64(iterations: u64) {
        // SAFETY: only handed out by `fma_512` after run-time detection.
        unsafe { chains_512_f64(iterations) }
    }

    /// The 256-bit kernel (f32 or, with `f64`, f64 lanes), if this CPU has
    /// AVX2 and FMA.
    pub fn fma_256(f64: bool) -> Option<fn(u64)> {
        let run = if f64 { run_256_f64 } else { run_256 };
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
            .then_some(run as fn(u64))
    }

    /// The 512-bit kernel (f32 or, with `f64`, f64 lanes), if this CPU has
    /// AVX-512F.
    pub fn fma_512(f64: bool) -> Option<fn(u64)> {
        let run = if f64 { run_512_f64 } else { run_512 };
        is_x86_feature_detected!("avx512f").then_some(run as fn(u64))
    }

    /// `iterations` x 10 dependent 3-cycle integer multiplies.
    pub fn multiply_chain(iterations: u64) {
        let mut x: u64 = black_box(3);
        for _ in 0..iterations {
            // SAFETY: register arithmetic only.
            unsafe {
                std::arch::asm!(
                    "imul {0}, {0}", "imul {0}, {0}", "imul {0}, {0}", "imul {0}, {0}",
                    "imul {0}, {0}", "imul {0}, {0}", "imul {0}, {0}", "imul {0}, {0}",
                    "imul {0}, {0}", "imul {0}, {0}",
                    inout(reg) x,
                    options(nomem, nostack),
                );
            }
        }
        black_box(x);
    }
}

/// f32 at both widths, then f64 at both.
#[cfg(target_arch = "x86_64")]
fn widths() -> Vec<Width> {
    let mut all = Vec::new();
    for (precision, f64, scale) in [("f32", false, 1), ("f64", true, 2)] {
        all.push(Width {
            precision,
            name: "256-bit (AVX2+FMA)",
            lanes: 8 / scale,
            kernel: x86::fma_256(f64),
        });
        all.push(Width {
            precision,
            name: "512-bit (AVX-512F)",
            lanes: 16 / scale,
            kernel: x86::fma_512(f64),
        });
    }
    all
}

#[cfg(not(target_arch = "x86_64"))]
fn widths() -> Vec<Width> {
    let mut all = Vec::new();
    for (precision, scale) in [("f32", 1), ("f64", 2)] {
        for (name, lanes) in [("256-bit (AVX2+FMA)", 8), ("512-bit (AVX-512F)", 16)] {
            all.push(Width {
                precision,
                name,
                lanes: lanes / scale,
                kernel: None,
            });
        }
    }
    all
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Seconds one call of `f` takes on this thread.
fn time(f: fn(u64), iterations: u64) -> f64 {
    let start = Instant::now();
    f(iterations);
    start.elapsed().as_secs_f64()
}

/// GFLOP/s of `threads` threads running `kernel` at once, each timed on its
/// own, their rates added.
fn rate(kernel: fn(u64), lanes: u64, threads: usize) -> f64 {
    let flop = (ITERATIONS * CHAINS * lanes * 2) as f64;
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    time(kernel, ITERATIONS)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| flop / h.join().expect("peak thread panicked") / 1e9)
            .sum()
    })
}

/// Estimated clock in GHz, or `None` off x86_64.
fn clock_ghz() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let iterations = ITERATIONS;
        x86::multiply_chain(iterations / 10); // warm-up
        let runs = (0..RUNS)
            .map(|_| (iterations * 30) as f64 / time(x86::multiply_chain, iterations) / 1e9)
            .collect();
        Some(median(runs))
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ghz = clock_ghz();
    match ghz {
        Some(g) => {
            println!("clock estimate: {g:.2} GHz (dependent integer multiplies, median of {RUNS})")
        }
        None => println!("clock estimate: not available"),
    }
    println!("FMA peak: 12 chains x 1e8 iterations per thread, median of {RUNS}\n");
    println!("| precision | width | threads | GFLOP/s | best of {RUNS} | FLOP/cycle/thread |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for width in widths() {
        let p = width.precision;
        for threads in [1, 2] {
            let Some(kernel) = width.kernel else {
                println!("| {p} | {} | {threads} | not available | | |", width.name);
                continue;
            };
            if threads > cores {
                println!(
                    "| {p} | {} | {threads} | not available ({cores} cores) | | |",
                    width.name
                );
                continue;
            }
            kernel(ITERATIONS / 10); // warm-up (and wake the vector units)
            let rates: Vec<f64> = (0..RUNS)
                .map(|_| rate(kernel, width.lanes, threads))
                .collect();
            let best = rates.iter().copied().fold(0.0, f64::max);
            let gflops = median(rates);
            let per_cycle = ghz.map_or(String::new(), |g| {
                format!("{:.1}", gflops / threads as f64 / g)
            });
            println!(
                "| {p} | {} | {threads} | {gflops:.1} | {best:.1} | {per_cycle} |",
                width.name
            );
        }
    }
}
