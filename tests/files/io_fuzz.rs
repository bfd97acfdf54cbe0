//! Seeded fuzzing of the loaders: random bytes, and truncated, bit-flipped
//! and edited versions of valid weight and checkpoint files, fed to
//! `weights_from_bytes`, `checkpoint_from_bytes` and `History::from_json`.
//!
//! Each input must give `Ok` or an error, never a panic (each runs under
//! `catch_unwind`, so a failure names the input), and never an allocation
//! over 64 MiB (a global allocator records the largest request of each
//! thread and refuses any over 1 GiB, so a runaway size fails the test
//! instead of the machine). After an error the model must be unchanged.
//! Every single-bit flip of a weights file and of a checkpoint must give
//! an error or, where the flip changes nothing that is loaded (the
//! checksum's own key, which makes it a file without a checksum), the
//! same values as the file before. Corruptions that must reach the
//! parsers behind the checksum are also fed to files without one, as
//! PyTorch writes them. Bounded: some 60,000 inputs, a few seconds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

use crate::common::files::without_checksum;
use macrograd::history::{EpochLog, History, Monitor, StopReason};
use macrograd::io::{
    checkpoint_from_bytes, checkpoint_to_bytes, weights_from_bytes, weights_to_bytes,
    CheckpointInfo,
};
use macrograd::prelude::*;
use macrograd::Float;

/// Records the largest allocation of each thread; refuses absurd ones.
struct Limiting;

/// The largest allocation a load may make.
const LIMIT: usize = 64 << 20;
/// Refused outright, so that a bug cannot exhaust the machine.
const REFUSE: usize = 1 << 30;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
}

// SAFETY: forwards to the system allocator; records sizes, and returns null
// (an allocation failure) for requests over `REFUSE`.
unsafe impl GlobalAlloc for Limiting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        if layout.size() > REFUSE {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        if layout.size() > REFUSE {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        if new_size > REFUSE {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Limiting = Limiting;

model! {
    struct Mlp;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    struct MlpAdam;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01, amsgrad = true)
}

fn bits<M: Model>(model: &M) -> Vec<u64> {
    model
        .parameters()
        .iter()
        .flat_map(|p| {
            p.value
                .iter()
                .map(|v| v.to_f64().to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn history() -> History {
    History {
        epochs: (1..=3)
            .map(|epoch| EpochLog {
                epoch,
                loss: 1.0 / epoch as f64,
                val_loss: (epoch > 1).then_some(0.5),
                metrics: vec![(Metric::Accuracy, 0.25)],
                val_metrics: vec![(Metric::Accuracy, 0.5)],
                lr: 0.01,
                iterations: 4,
                duration: std::time::Duration::from_millis(15),
            })
            .collect(),
        stop: StopReason::EarlyStopping {
            monitor: Monitor::ValLoss,
            best_epoch: 2,
            best: 0.5,
            epoch: 3,
            patience: 1,
        },
        best_epoch: Some(2),
    }
}

/// A trained model's weights file and checkpoint (with every kind of
/// metadata), and the history's JSON.
fn valid_inputs() -> (Vec<u8>, Vec<u8>, String) {
    let mut model = MlpAdam::with_seed(1);
    let mut rng = Rng::new(2);
    for _ in 0..3 {
        let x: Array2<f32> = rng.randn((5, 4));
        let labels: Vec<usize> = (0..5).map(|_| rng.below(3)).collect();
        model.train_step(&x, &labels[..]);
    }
    let json = history().to_json();
    let info = CheckpointInfo {
        epoch: 3,
        rng_state: rng.state(),
        scheduler: Some(vec![0.01, 3.0]),
        history: json.clone(),
        metadata: BTreeMap::from([("run".to_string(), "fuzz".to_string())]),
    };
    let weights = weights_to_bytes(&Mlp::with_seed(3)).unwrap();
    let checkpoint = checkpoint_to_bytes(&model, &info).unwrap();
    (weights, checkpoint, json)
}

/// Feeds `bytes` to every loader; panics with `name` if one panics,
/// allocates more than `LIMIT`, or changes a model on an error. Returns
/// whether the checkpoint loaded into `MlpAdam` (the loaders must reject
/// most corruptions; without a checksum, they accept a flip in a tensor's
/// data).
fn check(name: &str, bytes: &[u8]) -> bool {
    let weights_model = Mlp::with_seed(5);
    let checkpoint_model = MlpAdam::with_seed(6);
    let (weights_before, checkpoint_before) = (bits(&weights_model), bits(&checkpoint_model));
    let optimizer_before = checkpoint_model.optimizer_state();
    LARGEST.with(|c| c.set(0));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut m = weights_model.clone();
        if weights_from_bytes(&mut m, bytes).is_err() {
            assert_eq!(
                bits(&m),
                weights_before,
                "a failed weights load changed the model"
            );
        }
        let mut m = checkpoint_model.clone();
        if weights_from_bytes(&mut m, bytes).is_err() {
            assert_eq!(
                bits(&m),
                checkpoint_before,
                "a failed weights load changed the model"
            );
        }
        let mut m = checkpoint_model.clone();
        let loaded = checkpoint_from_bytes(&mut m, bytes).is_ok();
        if !loaded {
            assert_eq!(
                bits(&m),
                checkpoint_before,
                "a failed checkpoint load changed the weights"
            );
            assert_eq!(
                m.optimizer_state(),
                optimizer_before,
                "a failed checkpoint load changed the optimizer"
            );
        }
        let mut m = weights_model.clone();
        if checkpoint_from_bytes(&mut m, bytes).is_err() {
            assert_eq!(
                bits(&m),
                weights_before,
                "a failed checkpoint load changed the weights"
            );
        }
        if let Ok(text) = std::str::from_utf8(bytes) {
            let _ = History::from_json(text);
        }
        loaded
    }));
    let largest = LARGEST.with(|c| c.get());
    let loaded = match outcome {
        Ok(loaded) => loaded,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "input {name} ({} bytes) made a loader panic: {message}",
                bytes.len()
            );
        }
    };
    assert!(
        largest <= LIMIT,
        "input {name} ({} bytes) made a loader allocate {largest} bytes at once",
        bytes.len()
    );
    loaded
}

/// The files of [`valid_inputs`], with their checksums and without.
fn both_kinds() -> Vec<(&'static str, Vec<u8>)> {
    let (weights, checkpoint, _) = valid_inputs();
    vec![
        ("weights", without_checksum(&weights)),
        ("checkpoint", without_checksum(&checkpoint)),
        ("checksummed weights", weights),
        ("checksummed checkpoint", checkpoint),
    ]
}

/// The header's end: 8 plus the header's length.
fn header_end(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

#[test]
fn valid_inputs_load() {
    let (weights, checkpoint, json) = valid_inputs();
    weights_from_bytes(&mut Mlp::new(), &weights).unwrap();
    checkpoint_from_bytes(&mut MlpAdam::new(), &checkpoint).unwrap();
    assert_eq!(History::from_json(&json).unwrap(), history());
    assert!(!check("valid weights", &weights));
    assert!(check("valid checkpoint", &checkpoint));
}

/// The allocator sees what it must catch.
#[test]
fn the_allocator_records_the_largest_allocation() {
    LARGEST.with(|c| c.set(0));
    let big = vec![1u8; LIMIT + 1];
    assert!(LARGEST.with(|c| c.get()) > LIMIT);
    drop(big);
}

#[test]
fn random_bytes() {
    let mut rng = Rng::new(1);
    for i in 0..400 {
        let len = rng.below(600);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Half of them with a header length that fits the input, so that
        // the header parser sees them.
        if i % 2 == 0 && len >= 8 {
            let n = rng.below(len - 7) as u64;
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        assert!(!check(&format!("random #{i}"), &bytes));
    }
}

#[test]
fn every_truncation() {
    let (weights, checkpoint, _) = valid_inputs();
    for (kind, file) in [("weights", &weights), ("checkpoint", &checkpoint)] {
        for len in 0..file.len() {
            assert!(!check(
                &format!("{kind} truncated to {len} bytes"),
                &file[..len]
            ));
        }
        // And a byte too many.
        assert!(!check(
            &format!("{kind} with a byte appended"),
            &[&file[..], &[0]].concat()
        ));
    }
}

#[test]
fn bit_flips_and_overwrites() {
    let mut rng = Rng::new(2);
    for (kind, file) in &both_kinds() {
        let header = header_end(file);
        let mut loaded = 0;
        for i in 0..600 {
            let mut bytes = file.clone();
            // Mostly in the length and the header, where a flip matters.
            let at = if i % 4 == 0 {
                rng.below(bytes.len())
            } else {
                rng.below(header)
            };
            let bit = rng.below(8);
            bytes[at] ^= 1 << bit;
            loaded += usize::from(check(
                &format!("{kind} with bit {bit} of byte {at} flipped"),
                &bytes,
            ));
        }
        // Without a checksum, a flip in the data is a valid file; in the
        // header, rarely. With one, neither is (but a flip in its key).
        if *kind == "checkpoint" {
            assert!(
                (30..400).contains(&loaded),
                "{loaded} of 600 flipped files loaded"
            );
        }
        if *kind == "checksummed checkpoint" {
            assert!(loaded < 10, "{loaded} of 600 flipped files loaded");
        }
        for i in 0..200 {
            let mut bytes = file.clone();
            let at = rng.below(header);
            let len = 1 + rng.below(16).min(bytes.len() - at - 1);
            for b in &mut bytes[at..at + len] {
                *b = rng.next_u64() as u8;
            }
            check(
                &format!("{kind} overwritten at {at}..{} (#{i})", at + len),
                &bytes,
            );
        }
    }
}

/// Edits of the header's text that keep it JSON: numbers replaced by
/// others (huge ones too), names and dtypes changed.
#[test]
fn header_edits() {
    let mut rng = Rng::new(3);
    let replacements = [
        "0",
        "1",
        "7",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "-1",
        "1e3",
        "2.5",
    ];
    for (kind, file) in &both_kinds() {
        let end = header_end(file);
        let header = String::from_utf8(file[8..end].to_vec()).unwrap();
        let digits: Vec<usize> = (header.char_indices())
            .filter(|(i, c)| {
                c.is_ascii_digit() && !header[..*i].ends_with(|p: char| p.is_ascii_digit())
            })
            .map(|(i, _)| i)
            .collect();
        for i in 0..300 {
            let start = digits[rng.below(digits.len())];
            let stop = start + header[start..].find(|c: char| !c.is_ascii_digit()).unwrap();
            let with = replacements[rng.below(replacements.len())];
            let edited = format!("{}{with}{}", &header[..start], &header[stop..]);
            let edits = [
                edited.clone(),
                edited.replacen("F32", "F64", 1),
                header.replacen("F32", ["F16", "I64", "BOOL", "F64"][i % 4], 1 + i % 3),
                header.replacen("weight", "weigh", 1 + i % 2),
                header.replacen("\"shape\":[", "\"shape\":[1,", 1 + i % 3),
            ];
            for (j, text) in edits.iter().enumerate() {
                let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
                bytes.extend(text.as_bytes());
                bytes.extend(&file[end..]);
                check(
                    &format!("{kind} header edit {j} of #{i} ({with} at {start})"),
                    &bytes,
                );
            }
        }
    }
}

/// Corrupted history JSON, through `History::from_json` and inside a
/// checkpoint (whose loader checks it).
#[test]
fn history_json_edits() {
    let (_, _, json) = valid_inputs();
    let mut rng = Rng::new(4);
    let bytes = json.as_bytes();
    for i in 0..1500 {
        let mut edited = bytes.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(edited.len());
            // Printable ASCII keeps it UTF-8; structure characters most.
            edited[at] = b"{}[],:\"0123456789.-eE nul"[rng.below(25)];
        }
        if i % 10 == 0 {
            edited.truncate(rng.below(edited.len()));
        }
        let text = String::from_utf8(edited).unwrap();
        let outcome = panic::catch_unwind(|| {
            let _ = History::from_json(&text);
        });
        assert!(outcome.is_ok(), "history edit #{i} panicked: {text}");
        if i % 50 == 0 {
            let info = CheckpointInfo {
                history: text.clone(),
                ..CheckpointInfo::default()
            };
            let file = checkpoint_to_bytes(&Mlp::new(), &info).unwrap();
            check(&format!("checkpoint with history edit #{i}"), &file);
        }
    }
    // Deep nesting is an error, not a stack overflow.
    let deep = "[".repeat(100_000);
    assert!(History::from_json(&deep).is_err());
    check("deeply nested history", deep.as_bytes());
}

/// What each loader gives for a file: the weights of `Mlp` and of
/// `MlpAdam` after `weights_from_bytes`, and everything a checkpoint load
/// into `MlpAdam` sets or returns; `None` for an error.
type Loaded = (
    Option<Vec<u64>>,
    Option<Vec<u64>>,
    Option<(Vec<u64>, Vec<(String, Vec<f64>)>, CheckpointInfo)>,
);

fn load_all(bytes: &[u8]) -> Loaded {
    let mut mlp = Mlp::with_seed(5);
    let mut adam = MlpAdam::with_seed(6);
    let weights = weights_from_bytes(&mut mlp, bytes)
        .ok()
        .map(|()| bits(&mlp));
    let adam_weights = weights_from_bytes(&mut adam, bytes)
        .ok()
        .map(|()| bits(&adam));
    let mut adam = MlpAdam::with_seed(6);
    let checkpoint = checkpoint_from_bytes(&mut adam, bytes)
        .ok()
        .map(|info| (bits(&adam), adam.optimizer_state(), info));
    (weights, adam_weights, checkpoint)
}

/// Flips bits of a weights file and of a checkpoint, one at a time: each
/// load is an error (the model unchanged: `check`) or gives exactly the
/// values of the unflipped file; never a panic, never other values. Every
/// bit of the weights file; of the checkpoint (36,000 bits: 18 s), every
/// bit of the length and the checksum entry, and of a seeded quarter of
/// the other bytes.
#[test]
fn every_single_bit_flip_is_an_error_or_changes_nothing() {
    let (weights, checkpoint, _) = valid_inputs();
    let mut rng = Rng::new(5);
    for (kind, file) in [("weights", &weights), ("checkpoint", &checkpoint)] {
        let key = br#""macrograd.crc32":""#;
        let sum = file.windows(key.len()).position(|w| w == key).unwrap();
        let bytes: Vec<usize> = (0..file.len())
            .filter(|&at| {
                kind == "weights" || at < 8 || (sum..sum + 28).contains(&at) || rng.below(4) == 0
            })
            .collect();
        // What the unflipped file gives to each loader (a weights file is
        // no checkpoint: that load is an error).
        let want = load_all(file);
        let (mut errors, mut same) = (0, 0);
        for bit in bytes.iter().flat_map(|at| (0..8).map(move |b| at * 8 + b)) {
            let mut bytes = file.clone();
            bytes[bit / 8] ^= 1 << (bit % 8);
            let name = format!("{kind} with bit {} of byte {} flipped", bit % 8, bit / 8);
            // No panic, no allocation too large, no change on an error.
            check(&name, &bytes);
            let got = load_all(&bytes);
            let loads = [
                got.0.as_ref().map(|v| Some(v) == want.0.as_ref()),
                got.1.as_ref().map(|v| Some(v) == want.1.as_ref()),
                got.2.as_ref().map(|v| Some(v) == want.2.as_ref()),
            ];
            assert!(
                loads.iter().all(|same| *same != Some(false)),
                "{name} loaded with other values: {loads:?}"
            );
            if loads.iter().any(Option::is_some) {
                // Only a flip in the checksum's key (a file without a
                // checksum) leaves the values alone.
                assert!((sum + 1..sum + 16).contains(&(bit / 8)), "{name} loaded");
                same += 1;
            } else {
                errors += 1;
            }
        }
        println!(
            "{kind}: {} of its {} bits flipped one at a time: {errors} errors, {same} loads \
             of the same values",
            errors + same,
            file.len() * 8
        );
    }
}
