//! Data-parallel training on MPI processes. Run under `mpiexec` (as
//! `.ci/run` does), never by plain `cargo test` (it needs the feature):
//!
//! ```text
//! cargo test --features mpi --test distributed --config "target.'cfg(all())'.runner = ['mpiexec', '-n', '2']"
//! ```
//!
//! Each process also trains the same model alone, as the reference: the
//! processes together give its losses and weights (1e-12 relative in
//! `f64`, 1e-5 in `f32`), and after every epoch every process holds the
//! same weights, bit for bit (their checksums are compared). Settings
//! that cannot work and data that differ are an error on every process;
//! a checkpoint written by the processes resumes on one. A failed check
//! panics, and `mpiexec` ends every process with a failure.

use macrograd::distributed::{gather_bytes, Collective, Mpi};
use macrograd::io::load_checkpoint;
use macrograd::prelude::*;
use macrograd::Model;

model! {
    struct Net;
    dtype f64;
    input 4;
    Linear(_, 16);
    Tanh;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(0.01)
}

model! {
    struct Normed;
    dtype f64;
    input 4;
    Linear(_, 8);
    BatchNorm;
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1, momentum = 0.9)
}

model! {
    struct Net32;
    input 4;
    Linear(_, 16);
    ReLU;
    Linear(_, 2);
    loss MSE;
    optim SGD(0.05, momentum = 0.9)
}

fn data(n: usize) -> Dataset<f64, macrograd::target::Classes> {
    let mut rng = Rng::new(3);
    let x: Array2<f64> = rng.randn((n, 4));
    let labels = (0..n)
        .map(|i| usize::from(x[[i, 0]] + x[[i, 1]] > 0.0) + usize::from(x[[i, 2]] > 0.7))
        .collect();
    Dataset::classification(x, labels).unwrap()
}

fn values<M: Model>(model: &M) -> Vec<f64> {
    let mut all = Vec::new();
    model.visit_parameters(&mut |p| {
        all.extend(p.value.iter().map(|&v| macrograd::Float::to_f64(v)))
    });
    all
}

/// Every process's checksum of `weights`, equal to rank 0's.
fn same_everywhere(world: &Mpi, weights: &[f64], what: &str) {
    let mut hasher = 0xcbf2_9ce4_8422_2325u64;
    for w in weights {
        for b in w.to_bits().to_le_bytes() {
            hasher = (hasher ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let all = gather_bytes(world, &hasher.to_le_bytes());
    assert!(
        all.iter().all(|c| *c == all[0]),
        "{what}: the processes' weights differ: {all:?}"
    );
}

fn close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rel * y.abs().max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

fn main() {
    let world = Mpi::init().expect("MPI starts");
    let (rank, size) = (world.rank(), world.size());
    let say = |text: &str| {
        if rank == 0 {
            println!("{text}");
        }
    };
    assert!(size >= 2, "run under `mpiexec -n 2` (see the file's docs)");
    // `.ci/run` checks that a process that panics mid-run ends the job
    // (a failure, not a hang): with this variable, rank 1 panics in its
    // third epoch while rank 0 waits in an exchange.
    if std::env::var_os("MACROGRAD_MPI_PANIC").is_some() {
        let train = data(64);
        let _ = Net::new().fit(
            &train,
            Fit::epochs(10)
                .batch_size(16)
                .quiet()
                .on_epoch_end(move |log| {
                    assert!(!(rank == 1 && log.epoch == 3), "rank 1 fails on purpose");
                    macrograd::train::Control::Continue
                })
                .distributed(&world),
        );
        unreachable!("the job ends in the panic");
    }
    say(&format!("distributed tests on {size} MPI processes"));

    // 1. Equivalence, epoch by epoch, f64 and f32.
    let train = data(70); // batches of 16: 16, 16, 16, 16, 6
    let mut alone = Net::with_seed(1);
    let mut together = Net::with_seed(1);
    for epoch in 0..5 {
        let fit = || {
            Fit::epochs(1)
                .batch_size(16)
                .seed(epoch)
                .validation_split(0.2)
                .quiet()
        };
        let a = alone.fit(&train, fit()).unwrap();
        let t = together.fit(&train, fit().distributed(&world)).unwrap();
        let what = format!("f64, epoch {epoch}");
        close(&[t.epochs[0].loss], &[a.epochs[0].loss], 1e-12, &what);
        close(
            &[t.epochs[0].val_loss.unwrap()],
            &[a.epochs[0].val_loss.unwrap()],
            1e-12,
            &what,
        );
        close(&values(&together), &values(&alone), 1e-12, &what);
        same_everywhere(&world, &values(&together), &what);
    }
    say("ok: f64 processes train as one process with the whole batch (1e-12), the same bits everywhere");

    let rows = Array2::from_shape_fn((64, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 5.0 - 1.0);
    let targets = Array2::from_shape_fn((64, 2), |(i, j)| ((i + j) % 5) as f32 / 4.0);
    let train32 = Dataset::regression(rows, targets).unwrap();
    let mut alone = Net32::with_seed(2);
    let mut together = Net32::with_seed(2);
    for epoch in 0..3 {
        let fit = || Fit::epochs(1).batch_size(32).seed(epoch).quiet();
        let a = alone.fit(&train32, fit()).unwrap();
        let t = together.fit(&train32, fit().distributed(&world)).unwrap();
        let what = format!("f32, epoch {epoch}");
        close(&[t.epochs[0].loss], &[a.epochs[0].loss], 1e-5, &what);
        close(&values(&together), &values(&alone), 1e-5, &what);
        same_everywhere(&world, &values(&together), &what);
    }
    say("ok: f32 processes train as one process (1e-5), the same bits everywhere");

    // Synchronised batch norm: the whole batch's statistics.
    let mut alone = Normed::with_seed(3);
    let mut together = Normed::with_seed(3);
    let fit = || Fit::epochs(3).batch_size(16).quiet();
    let a = alone.fit(&train, fit()).unwrap();
    let t = together
        .fit(&train, fit().sync_batch_norm(true).distributed(&world))
        .unwrap();
    close(&t.losses(), &a.losses(), 1e-12, "synchronised batch norm");
    close(
        &values(&together),
        &values(&alone),
        1e-12,
        "synchronised batch norm",
    );
    same_everywhere(&world, &values(&together), "synchronised batch norm");
    say("ok: synchronised batch norm trains as one process (1e-12)");

    // 2. Settings that cannot work, on every process.
    let small = data(size + 1);
    let e = Net::new()
        .fit(
            &small,
            Fit::epochs(1)
                .batch_size(size - 1)
                .quiet()
                .distributed(&world),
        )
        .unwrap_err();
    assert!(e.to_string().contains("cannot be split"), "{e}");
    let mine = data(40 + rank);
    let e = Net::new()
        .fit(
            &mine,
            Fit::epochs(1).batch_size(8).quiet().distributed(&world),
        )
        .unwrap_err();
    assert!(e.to_string().contains("different training data"), "{e}");
    say("ok: a batch smaller than the processes and differing data are errors on every process");

    // 3. A checkpoint of the processes resumes on one.
    let dir = std::env::temp_dir().join(format!("macrograd-mpi-{}", std::process::id()));
    let dir = gather_bytes(&world, dir.to_string_lossy().as_bytes())[0].clone();
    let dir = std::path::PathBuf::from(String::from_utf8(dir).unwrap());
    if rank == 0 {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let _ = gather_bytes(&world, &[]); // everyone waits for the folder
    let path = dir.join("run.ckpt");
    let fit = || Fit::epochs(4).batch_size(16).seed(7).quiet();
    let mut whole = Net::with_seed(5);
    let expected = whole.fit(&train, fit()).unwrap();
    let mut first = Net::with_seed(5);
    first
        .fit(
            &train,
            Fit::epochs(2)
                .batch_size(16)
                .seed(7)
                .quiet()
                .checkpoint_every(2, &path)
                .distributed(&world),
        )
        .unwrap();
    let info = load_checkpoint(&mut Net::new(), &path).unwrap();
    assert_eq!(info.epoch, 2);
    let mut rest = Net::new();
    let resumed = rest.fit(&train, fit().resume_from(&path)).unwrap();
    close(&resumed.losses(), &expected.losses(), 1e-12, "resumed on 1");
    close(&values(&rest), &values(&whole), 1e-12, "resumed on 1");
    let mut rest = Net::new();
    let resumed = rest
        .fit(&train, fit().resume_from(&path).distributed(&world))
        .unwrap();
    close(
        &resumed.losses(),
        &expected.losses(),
        1e-12,
        &format!("resumed on {size}"),
    );
    let _ = gather_bytes(&world, &[]);
    if rank == 0 {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    say("ok: a checkpoint of the processes resumes on 1 and on all");
}
