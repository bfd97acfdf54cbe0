//! Models out and back in: weights in safetensors, named as PyTorch names
//! them, and checkpoints that resume a training run exactly.
//!
//! **Weights** ([`save_weights`], [`load_weights`]) are a safetensors file
//! with one tensor per entry of PyTorch's `state_dict`: each parameter,
//! under the names and layouts of [`Model::visit_parameters`] (PyTorch's
//! `nn.Sequential` names: `0.weight` `[out, in]`, `0.bias` `[out]`,
//! `2.weight`, ...), then each buffer of [`Model::visit_buffers`] (batch
//! norm's `1.running_mean` and `1.running_var` `[C]`, and
//! `1.num_batches_tracked`, an `I64` of shape `[]`); floats in dtype `F32`
//! or `F64` from the model's element type; the metadata
//! `{"format": "pt"}` and a checksum (below). So PyTorch reads them with
//! `safetensors.torch.load_file` and `load_state_dict(strict=True)`, and a
//! `state_dict` saved by `safetensors.torch.save_file` (without a
//! checksum) loads here:
//!
//! ```text
//! # Python
//! model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
//! save_file(model.state_dict(), "mlp.safetensors")
//! // Rust
//! let mut mlp = model! { input 4; Linear(4, 8); ReLU; Linear(8, 3); loss CrossEntropy; optim SGD(0.1) };
//! io::load_weights(&mut mlp, "mlp.safetensors")?;  // now computes what the PyTorch model does
//! ```
//!
//! **Checkpoints** ([`save_checkpoint`], [`load_checkpoint`]) are one
//! safetensors file with the weights (parameters and buffers), the
//! optimizer's state ([`Model::optimizer_state`]), the state of each
//! dropout's generator ([`Model::rng_states`]) and a [`CheckpointInfo`]:
//! the epoch, the run's RNG state, the scheduler's state, the history so
//! far and free-form metadata. Its layout is documented on
//! [`save_checkpoint`].
//!
//! What is guaranteed, for files from anywhere (a file is untrusted
//! input):
//!
//! - **A load either succeeds or changes nothing.** Every load checks the
//!   whole file against the model before it changes anything, and reports
//!   every difference in one [`Error::Io`] (kind `InvalidData`) that names
//!   the file: missing and unexpected names, shapes, dtypes, malformed
//!   metadata. Any input, truncated, corrupted or made up, gives `Ok` or
//!   an error, never a panic (the header's length is checked against the
//!   file's size before the header is read; every tensor's offsets and
//!   size are checked).
//! - **Corruption is detected in macrograd's files.** Every file that
//!   macrograd writes holds a checksum in its metadata
//!   ([`CHECKSUM_KEY`], `macrograd.crc32`: CRC-32 of the header without
//!   it and of the tensor data), and every load verifies it before it
//!   reads anything else: a changed value, name, shape, metadata entry or
//!   history is an error saying the file is corrupt, with the expected
//!   and the found checksum. CRC-32 catches every change of up to 32
//!   consecutive bits of the tensor data, so every flipped bit there; a
//!   flipped bit in the header either breaks it or changes the text the
//!   checksum covers, and a change of that text goes unseen with a chance
//!   of 1 in 2^32. (A flip in the checksum's own key leaves a file without
//!   a checksum and with the same values.) The checksum is optional on
//!   load: a file without one (written by PyTorch's `save_file`, or by
//!   hand) gets every other check, so a flipped bit in its tensor data
//!   loads as the changed value.
//! - **No NaN or infinity is loaded.** A non-finite value in a parameter,
//!   a float buffer (batch norm's running statistics) or the optimizer's
//!   state is an error naming the file, each such tensor, the index of its
//!   first non-finite value and that value. Counts
//!   (`num_batches_tracked`) must not be negative. Saving writes the model
//!   as it is, NaN included, so a diverged run can still be saved and
//!   looked at; it is loading that refuses it.
//! - **Writes are atomic.** A save writes a temporary file in the same
//!   directory (`.<name>.<pid>.<n>.tmp`), flushes it to disk and renames
//!   it over the target, so the target is the old file or the new one,
//!   whole, even if the process is killed. A save also removes the
//!   temporary files that killed saves of the same target left behind:
//!   those of processes that no longer run (as `/proc` tells; where there
//!   is none, only this process's own), never another target's or a live
//!   writer's.
//!
//! ```
//! use macrograd_runtime::io::CheckpointInfo;
//! let info = CheckpointInfo { epoch: 3, rng_state: 42, ..CheckpointInfo::default() };
//! assert_eq!(info.scheduler, None);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use safetensors::tensor::{Metadata, TensorInfo, TensorView};
use safetensors::Dtype;

use crate::fs::write_atomic;
use crate::history::History;
use crate::model::{BufferValue, BufferValueMut, Model};
use crate::{Error, Float, Result};

/// The metadata key that marks a checkpoint, and its format version.
const CHECKPOINT_KEY: &str = "macrograd.checkpoint";
const CHECKPOINT_VERSION: &str = "1";

/// The metadata key of a file's checksum: CRC-32 (IEEE, as zlib's
/// `crc32`) of the header's JSON without this entry, keys sorted, no
/// whitespace, then of the tensor data; 8 lowercase hex digits.
pub const CHECKSUM_KEY: &str = "macrograd.crc32";

/// What an error about NaN or infinite values says first.
const NON_FINITE: &str =
    "non-finite values, which a model does not load (a run that diverged, or a damaged file)";

/// The name safetensors errors carry for data read from memory.
const BYTES: &str = "(safetensors bytes)";

/// safetensors' own limit on the header, which it checks too.
const MAX_HEADER: u64 = 100_000_000;

/// Writes the model's parameters and buffers to `path` as safetensors,
/// atomically.
///
/// One tensor per parameter, named and shaped as by
/// [`Model::visit_parameters`] (PyTorch's `0.weight` `[out, in]`, `0.bias`
/// `[out]`, ...), and one per buffer of [`Model::visit_buffers`] (batch
/// norm's `1.running_mean`, `1.running_var` `[C]`); dtype `F32` or `F64`
/// from the model's element type, except counts (`1.num_batches_tracked`),
/// which are `I64` of shape `[]` as in PyTorch; little-endian as the format
/// says; metadata `{"format": "pt"}` and the file's checksum
/// ([`CHECKSUM_KEY`]), which PyTorch ignores. `safetensors.torch.load_file(path)`
/// gives a `state_dict` that the same `nn.Sequential` loads with
/// `load_state_dict(strict=True)`. Nothing else is written: the dropout
/// generators' states are only in checkpoints.
///
/// # Errors
///
/// [`Error::Io`] naming `path` if the file cannot be written; `path` is
/// then left as it was. Temporary files left by killed saves of `path`
/// are removed first (see the [module docs](self)).
pub fn save_weights<M: Model>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = weights_to_bytes(model).map_err(|e| rename(e, path))?;
    write_atomic(path, &bytes)
}

/// The safetensors file [`save_weights`] writes, in memory.
///
/// # Errors
///
/// [`Error::Io`] (kind `InvalidData`) if safetensors refuses to serialize
/// the tensors (a header over its 100 MB limit).
pub fn weights_to_bytes<M: Model>(model: &M) -> Result<Vec<u8>> {
    let tensors = state_tensors(model, "");
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    serialize(&tensors, metadata)
}

/// Overwrites the model's parameters and buffers with those of the
/// safetensors file at `path` (written by [`save_weights`], by PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)`, or a
/// checkpoint of [`save_checkpoint`], whose `weights.` tensors it reads).
///
/// The file must hold exactly the model's parameters and buffers: every
/// name of [`Model::visit_parameters`] and [`Model::visit_buffers`], with
/// the same shape and the model's dtype (a count: `I64`, shape `[]`, not
/// negative), and no other tensor. Every difference is reported, in one
/// error; a file of a batch-norm model without buffers (from a version of
/// macrograd before they were saved) is missing them. Gradients, the
/// optimizer's state and the dropout generators are left alone.
///
/// # Errors
///
/// [`Error::Io`] naming `path`: the file cannot be read; it is not a valid
/// safetensors file (truncated, corrupted: kind `InvalidData`); its
/// checksum ([`CHECKSUM_KEY`], when it has one) does not match its
/// contents (``mlp.safetensors: the file is corrupt: expected checksum
/// 1c291ca3 (its metadata `macrograd.crc32`), found 5e6f7a8b``); it holds
/// NaN or an infinity (``mlp.safetensors: non-finite values, which a
/// model does not load (a run that diverged, or a damaged file):
/// `0.weight` holds NaN at index 6 ([1, 2]), and 3 more``); or it does
/// not match the model (kind `InvalidData`), e.g.
/// ``mlp.safetensors: the file does not match the model: missing `2.bias`;
/// unexpected `4.weight`; `0.weight`: shape [8, 5] in the file vs [8, 4]
/// in the model; `2.weight`: dtype F64 in the file vs F32 in the model``,
/// or ``missing `1.running_mean`; missing `1.running_var`; missing
/// `1.num_batches_tracked` ``. The model is then unchanged.
pub fn load_weights<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_weights_named(model, &bytes, &path.display().to_string())
}

/// [`load_weights`] from the bytes of a safetensors file; errors name
/// `(safetensors bytes)` instead of a file.
///
/// # Errors
///
/// As [`load_weights`].
pub fn weights_from_bytes<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    load_weights_named(model, bytes, BYTES)
}

fn load_weights_named<M: Model>(model: &mut M, bytes: &[u8], source: &str) -> Result<()> {
    let file = SafetensorsFile::parse(bytes, source)?;
    // A checkpoint's weights are its `weights.` tensors; the rest is ignored.
    let prefix = if file.meta(CHECKPOINT_KEY).is_some() {
        WEIGHTS
    } else {
        ""
    };
    let mut problems = Vec::new();
    let weights = file.state(model, prefix, &mut problems);
    for name in file.names() {
        if !name.starts_with(prefix) {
            continue;
        }
        if !weights.names.contains(&&name[prefix.len()..]) {
            problems.push(format!("unexpected `{name}`"));
        }
    }
    file.fail_on(problems, "the file does not match the model")?;
    file.fail_on(weights.non_finite.clone(), NON_FINITE)?;
    weights.apply(model);
    Ok(())
}

/// Everything of a training run a checkpoint keeps besides the model's own
/// state (parameters, buffers, optimizer state, dropout generators).
///
/// `fit` fills it to save a run and reads it back to resume: the epoch to
/// go on from, the state of the run's [`Rng`](crate::Rng) (shuffling),
/// the schedule's [`state`](crate::schedule::Scheduler::state) and the
/// history so far ([`History::to_json`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointInfo {
    /// Epochs completed when the checkpoint was taken.
    pub epoch: usize,
    /// [`Rng::state`](crate::Rng::state) of the run's generator.
    pub rng_state: u64,
    /// [`Scheduler::state`](crate::schedule::Scheduler::state) of the run's
    /// schedule; `None` without one.
    pub scheduler: Option<Vec<f64>>,
    /// [`History::to_json`] of the epochs so far, or empty. A non-empty
    /// history must be one [`History::from_json`] reads; `load_checkpoint`
    /// checks it.
    pub history: String,
    /// Free-form metadata (a run's name, its command line, a version):
    /// saved and loaded as they are.
    pub metadata: BTreeMap<String, String>,
}

/// The prefix of a checkpoint's weight tensors.
const WEIGHTS: &str = "weights.";
/// The prefix of a checkpoint's optimizer entries (tensors and metadata).
const OPTIM: &str = "optim.";
/// The prefix of a checkpoint's free-form metadata.
const META: &str = "meta.";
/// The prefix of a checkpoint's generator states ([`Model::rng_states`]).
const RNG: &str = "rng.";

/// Writes a checkpoint of `model` and `info` to `path`, atomically.
///
/// One safetensors file:
///
/// | where | key | value |
/// | --- | --- | --- |
/// | tensor | `weights.<name>` | each parameter and buffer, as [`save_weights`] writes it (`weights.0.weight`, `weights.1.running_mean`, `weights.1.num_batches_tracked`) |
/// | tensor | `optim.<name>` | each entry of [`Model::optimizer_state`] of more than one value, `F64`, shape `[len]` |
/// | metadata | `optim.<name>` | each entry of one value (`lr`, `momentum`, step counts), as below |
/// | metadata | `macrograd.checkpoint` | `1`, the format's version |
/// | metadata | `macrograd.crc32` | the file's checksum ([`CHECKSUM_KEY`]) |
/// | metadata | `format` | `pt` |
/// | metadata | `epoch` | [`CheckpointInfo::epoch`], decimal |
/// | metadata | `rng_state` | [`CheckpointInfo::rng_state`], decimal |
/// | metadata | `scheduler` | [`CheckpointInfo::scheduler`] as a JSON array of numbers written as strings; absent for `None` |
/// | metadata | `history` | [`CheckpointInfo::history`], as it is |
/// | metadata | `rng.<name>` | each entry of [`Model::rng_states`] (`rng.3.dropout_rng`: a dropout's mask generator), decimal |
/// | metadata | `meta.<key>` | each entry of [`CheckpointInfo::metadata`] |
///
/// A number in the metadata is Rust's shortest decimal form that reads
/// back to the same `f64` (`0.001`, `12.0`, `inf`, `NaN`), so every value
/// round-trips exactly (any NaN reads back as the one NaN). `F64` tensors
/// hold an `f32` model's optimizer buffers exactly.
///
/// # Errors
///
/// [`Error::Io`] naming `path` if the file cannot be written (`path` is
/// then left as it was), or if safetensors refuses the header (over its
/// 100 MB limit: a history of millions of epochs).
/// Temporary files left by killed saves of `path` are removed first (see
/// the [module docs](self)).
pub fn save_checkpoint<M: Model>(
    model: &M,
    path: impl AsRef<Path>,
    info: &CheckpointInfo,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = checkpoint_to_bytes(model, info).map_err(|e| rename(e, path))?;
    write_atomic(path, &bytes)
}

/// The file [`save_checkpoint`] writes, in memory.
///
/// # Errors
///
/// As [`weights_to_bytes`].
pub fn checkpoint_to_bytes<M: Model>(model: &M, info: &CheckpointInfo) -> Result<Vec<u8>> {
    let mut tensors = state_tensors(model, WEIGHTS);
    let mut metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        (CHECKPOINT_KEY.to_string(), CHECKPOINT_VERSION.to_string()),
        ("epoch".to_string(), info.epoch.to_string()),
        ("rng_state".to_string(), info.rng_state.to_string()),
        ("history".to_string(), info.history.clone()),
    ]);
    if let Some(state) = &info.scheduler {
        let strings: Vec<String> = state.iter().map(|v| number(*v)).collect();
        let json = serde_json::to_string(&strings).expect("a list of strings serializes");
        metadata.insert("scheduler".to_string(), json);
    }
    for (key, value) in &info.metadata {
        metadata.insert(format!("{META}{key}"), value.clone());
    }
    for (name, state) in model.rng_states() {
        metadata.insert(format!("{RNG}{name}"), state.to_string());
    }
    for (name, values) in model.optimizer_state() {
        match values[..] {
            [value] => {
                metadata.insert(format!("{OPTIM}{name}"), number(value));
            }
            _ => tensors.push(Tensor {
                name: format!("{OPTIM}{name}"),
                dtype: Dtype::F64,
                shape: vec![values.len()],
                data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            }),
        }
    }
    serialize(&tensors, metadata)
}

/// Restores `model` (parameters, buffers, optimizer state and dropout
/// generators) from the checkpoint at `path` and returns the rest of it.
///
/// Everything is checked before anything changes: the file's integrity
/// (its checksum, if it has one), the format's version, every weight's
/// and buffer's name, shape and dtype against the model, that every
/// weight, buffer and optimizer value is finite, the generators' names
/// against
/// [`Model::rng_states`], the metadata's numbers and the history, then
/// each optimizer entry (by [`Model::load_optimizer_state`], which changes
/// nothing on an error). On an error the model is unchanged. The schedule's state is
/// returned, not checked: [`Scheduler::load_state`] checks it (and changes
/// nothing on an error either).
///
/// [`Scheduler::load_state`]: crate::schedule::Scheduler::load_state
///
/// # Errors
///
/// [`Error::Io`] naming `path`: the file cannot be read; or (kind
/// `InvalidData`) it is not a valid safetensors file, not a checkpoint, of
/// another format version, corrupt (its checksum differs), holds NaN or
/// an infinity in a weight, a buffer or an optimizer entry (each named,
/// as by [`load_weights`]), or does not match the model, listing every
/// difference: missing and unexpected names (tensors and `rng.`
/// generators), shapes, dtypes, malformed metadata; the optimizer's
/// entries (missing, unexpected, of the wrong length) once the rest
/// matches.
pub fn load_checkpoint<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<CheckpointInfo> {
    load_checkpoint_checked(model, path.as_ref(), |_| Ok(())).map(|(info, ())| info)
}

/// [`load_checkpoint`], with `check` run on the checkpoint's information
/// after every other check and before the model changes: an error of
/// `check` leaves the model as it was, as any other.
pub(crate) fn load_checkpoint_checked<M: Model, R>(
    model: &mut M,
    path: &Path,
    check: impl FnOnce(&CheckpointInfo) -> Result<R>,
) -> Result<(CheckpointInfo, R)> {
    let bytes = read_file(path)?;
    load_checkpoint_named(model, &bytes, &path.display().to_string(), check)
}

/// [`load_checkpoint`] from the bytes of a checkpoint file; errors name
/// `(safetensors bytes)` instead of a file.
///
/// # Errors
///
/// As [`load_checkpoint`].
pub fn checkpoint_from_bytes<M: Model>(model: &mut M, bytes: &[u8]) -> Result<CheckpointInfo> {
    load_checkpoint_named(model, bytes, BYTES, |_| Ok(())).map(|(info, ())| info)
}

fn load_checkpoint_named<M: Model, R>(
    model: &mut M,
    bytes: &[u8],
    source: &str,
    check: impl FnOnce(&CheckpointInfo) -> Result<R>,
) -> Result<(CheckpointInfo, R)> {
    let file = SafetensorsFile::parse(bytes, source)?;
    match file.meta(CHECKPOINT_KEY) {
        Some(CHECKPOINT_VERSION) => {}
        Some(other) => {
            return Err(file.invalid(format!(
                "checkpoint format `{other}`, but this version of macrograd reads `{CHECKPOINT_VERSION}`"
            )))
        }
        None => {
            return Err(file.invalid(format!(
                "not a macrograd checkpoint (its metadata has no `{CHECKPOINT_KEY}`)"
            )))
        }
    }
    let mut problems = Vec::new();

    // STEP 1: the weights, checked and decoded.
    let weights = file.state(model, WEIGHTS, &mut problems);
    let mut non_finite = weights.non_finite.clone();

    // STEP 2: the optimizer entries, from tensors and metadata.
    let mut optim: Vec<(String, Vec<f64>)> = Vec::new();
    for name in file.names() {
        if let Some(entry) = name.strip_prefix(OPTIM) {
            let info = file.info(&name);
            if info.dtype != Dtype::F64 || info.shape.len() != 1 {
                problems.push(format!(
                    "`{name}`: dtype {:?} and shape {:?} in the file vs F64 and one dimension for \
                     an optimizer entry",
                    info.dtype, info.shape
                ));
                continue;
            }
            let values = decode::<f64>(file.data(info), Dtype::F64);
            non_finite.extend(describe_non_finite(&name, &info.shape, &values));
            optim.push((entry.to_string(), values));
        } else if let Some(param) = name.strip_prefix(WEIGHTS) {
            if !weights.names.contains(&param) {
                problems.push(format!("unexpected `{name}`"));
            }
        } else {
            problems.push(format!("unexpected `{name}`"));
        }
    }
    let mut metadata = BTreeMap::new();
    let mut rngs: Vec<(String, u64)> = Vec::new();
    let mut rng_keys: Vec<&str> = Vec::new();
    for (key, value) in file.metadata() {
        if let Some(entry) = key.strip_prefix(OPTIM) {
            if optim.iter().any(|(name, _)| name == entry) {
                problems.push(format!("`{key}` is both a tensor and a metadata entry"));
            }
            match parse_number(value) {
                Some(v) => {
                    if !v.is_finite() {
                        non_finite.push(format!("metadata `{key}` is {v:?}"));
                    }
                    optim.push((entry.to_string(), vec![v]));
                }
                None => problems.push(format!("metadata `{key}` is not a number: {value:?}")),
            }
        } else if let Some(key) = key.strip_prefix(META) {
            metadata.insert(key.to_string(), value.clone());
        } else if let Some(name) = key.strip_prefix(RNG) {
            rng_keys.push(name);
            match value.parse::<u64>() {
                Ok(state) => rngs.push((name.to_string(), state)),
                Err(_) => problems.push(format!(
                    "metadata `{key}` is not a 64-bit whole number: {value:?}"
                )),
            }
        }
    }
    optim.sort_by(|a, b| a.0.cmp(&b.0));
    // The generators: exactly the model's (metadata keys are unique).
    let generators = model.rng_states();
    for (name, _) in &generators {
        if !rng_keys.contains(&name.as_str()) {
            problems.push(format!("metadata `{RNG}{name}` is missing"));
        }
    }
    for name in rng_keys {
        if !generators.iter().any(|(n, _)| n == name) {
            problems.push(format!("unexpected metadata `{RNG}{name}`"));
        }
    }

    // STEP 3: the scalars and the history.
    let mut required = |key: &str| match file.meta(key) {
        Some(value) => Some(value),
        None => {
            problems.push(format!("metadata `{key}` is missing"));
            None
        }
    };
    let (epoch, rng_state, history) = (
        required("epoch"),
        required("rng_state"),
        required("history"),
    );
    let epoch = epoch.and_then(|text| {
        let parsed = text.parse::<usize>().ok();
        if parsed.is_none() {
            problems.push(format!("metadata `epoch` is not a whole number: {text:?}"));
        }
        parsed
    });
    let rng_state = rng_state.and_then(|text| {
        let parsed = text.parse::<u64>().ok();
        if parsed.is_none() {
            problems.push(format!(
                "metadata `rng_state` is not a 64-bit whole number: {text:?}"
            ));
        }
        parsed
    });
    if let Some(text) = history {
        if !text.is_empty() {
            if let Err(e) = History::from_json(text) {
                problems.push(format!("metadata `history`: {}", source_message(&e)));
            }
        }
    }
    let scheduler = file.meta("scheduler").and_then(|text| {
        let parsed = serde_json::from_str::<Vec<String>>(text)
            .ok()
            .and_then(|strings| strings.iter().map(|s| parse_number(s)).collect());
        if parsed.is_none() {
            problems.push(format!(
                "metadata `scheduler` is not a JSON list of numbers written as strings: {text:?}"
            ));
        }
        parsed
    });
    file.fail_on(problems, "the checkpoint does not match the model")?;
    file.fail_on(non_finite, NON_FINITE)?;
    let (Some(epoch), Some(rng_state), Some(history)) = (epoch, rng_state, history) else {
        unreachable!("a missing value is a problem reported above")
    };
    let info = CheckpointInfo {
        epoch,
        rng_state,
        scheduler,
        history: history.to_string(),
        metadata,
    };
    let checked = check(&info)?;

    // STEP 4: the generators and the optimizer (each checks its entries
    // and changes nothing on an error; the generators are put back if the
    // optimizer fails), then the weights, which cannot fail any more.
    let mismatch = |message: String| {
        file.invalid(format!(
            "the checkpoint does not match the model: {message}"
        ))
    };
    model.set_rng_states(&rngs).map_err(mismatch)?;
    if let Err(message) = model.load_optimizer_state(&optim) {
        // The model's own states, which it always takes back.
        let _ = model.set_rng_states(&generators);
        return Err(mismatch(message));
    }
    weights.apply(model);
    Ok((info, checked))
}

/// An `Error::Io` of kind `InvalidData` for `path` (a file, or what the
/// data is, such as `history JSON`).
pub(crate) fn invalid_data(path: &str, message: impl Into<String>) -> Error {
    Error::Io {
        path: path.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, message.into()),
    }
}

/// The message of an error without the path in front of it.
fn source_message(error: &Error) -> String {
    match error {
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Puts `path` in an error about bytes (from `*_to_bytes`).
fn rename(error: Error, path: &Path) -> Error {
    match error {
        Error::Io { source, .. } => Error::Io {
            path: path.display().to_string(),
            source,
        },
        other => other,
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Rust's shortest round-trip decimal form of `value` (`Debug`: `0.001`,
/// `12.0`, `1e300`, `inf`, `NaN`).
fn number(value: f64) -> String {
    format!("{value:?}")
}

/// Reads [`number`]'s form back, exactly.
fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

/// Where `values` (of tensor `name`, of `shape`) first hold NaN or an
/// infinity, and how many such values it holds: ``"`0.weight` holds NaN
/// at index 5 ([1, 1]), and 2 more"``; `None` if all are finite.
fn describe_non_finite<T: Float>(name: &str, shape: &[usize], values: &[T]) -> Option<String> {
    let first = values.iter().position(|&v| !Float::to_f64(v).is_finite())?;
    let value = Float::to_f64(values[first]);
    // The index in each dimension, row-major.
    let mut element = vec![0; shape.len()];
    let mut rest = first;
    for (i, &n) in element.iter_mut().zip(shape).rev() {
        *i = rest % n.max(1);
        rest /= n.max(1);
    }
    let more = values[first + 1..]
        .iter()
        .filter(|&&v| !Float::to_f64(v).is_finite())
        .count();
    let more = match more {
        0 => String::new(),
        n => format!(", and {n} more"),
    };
    Some(format!(
        "`{name}` holds {value:?} at index {first} ({element:?}){more}"
    ))
}

/// A tensor to write: little-endian bytes of its values.
struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// The safetensors dtype of `T`.
fn dtype_of<T: Float>() -> Dtype {
    if T::NAME == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// The model's parameters, then its buffers, as tensors named `prefix` +
/// name: float buffers in the model's dtype, counts as `I64` scalars
/// (shape `[]`), as PyTorch keeps `num_batches_tracked`.
fn state_tensors<M: Model>(model: &M, prefix: &str) -> Vec<Tensor> {
    let dtype = dtype_of::<M::Elem>();
    let mut tensors = Vec::new();
    model.visit_parameters(&mut |p| {
        tensors.push(Tensor {
            name: format!("{prefix}{}", p.name),
            dtype,
            shape: p.value.shape().to_vec(),
            data: encode(p.value.iter().copied(), dtype),
        });
    });
    model.visit_buffers(&mut |b| {
        let name = format!("{prefix}{}", b.name);
        tensors.push(match b.value {
            BufferValue::Float(v) => Tensor {
                name,
                dtype,
                shape: v.shape().to_vec(),
                data: encode(v.iter().copied(), dtype),
            },
            BufferValue::Count(n) => Tensor {
                name,
                dtype: Dtype::I64,
                shape: Vec::new(),
                // PyTorch's int64; a count never reaches 2^63.
                data: i64::try_from(n).unwrap_or(i64::MAX).to_le_bytes().to_vec(),
            },
        });
    });
    tensors
}

/// Little-endian bytes of `values` in `dtype` (`F32` or `F64`, the
/// element type's own, so the conversion is exact).
fn encode<T: Float>(values: impl Iterator<Item = T>, dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        let value = Float::to_f64(value);
        if dtype == Dtype::F64 {
            out.extend(value.to_le_bytes());
        } else {
            out.extend((value as f32).to_le_bytes());
        }
    }
    out
}

/// The values of little-endian `bytes` of `dtype` (`F32` or `F64`), as `T`.
fn decode<T: Float>(bytes: &[u8], dtype: Dtype) -> Vec<T> {
    if dtype == Dtype::F64 {
        let mut word = [0; 8];
        (bytes.chunks_exact(8))
            .map(|chunk| {
                word.copy_from_slice(chunk);
                T::of(f64::from_le_bytes(word))
            })
            .collect()
    } else {
        let mut word = [0; 4];
        (bytes.chunks_exact(4))
            .map(|chunk| {
                word.copy_from_slice(chunk);
                T::of(f64::from(f32::from_le_bytes(word)))
            })
            .collect()
    }
}

fn serialize(tensors: &[Tensor], metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.data).map(|view| (t.name.as_str(), view))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| invalid_data(BYTES, format!("cannot write safetensors: {e}")))?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| invalid_data(BYTES, format!("cannot write safetensors: {e}")))?;
    Ok(canonical_with_checksum(bytes))
}

/// The same file with its header's keys sorted (tensors and metadata), so
/// that the same model and state always give the same bytes (safetensors
/// writes the metadata in a `HashMap`'s random order), and with its
/// [`checksum`] in the metadata under [`CHECKSUM_KEY`]. The header is
/// padded with spaces to a multiple of 8 bytes, as safetensors pads it.
fn canonical_with_checksum(bytes: Vec<u8>) -> Vec<u8> {
    let Some((prefix, rest)) = bytes.split_first_chunk::<8>() else {
        return bytes;
    };
    let n = u64::from_le_bytes(*prefix) as usize;
    // serde_json's map is sorted by key (its `preserve_order` is off).
    let Some(Ok(mut header)) = rest
        .get(..n)
        .map(serde_json::from_slice::<serde_json::Value>)
    else {
        return bytes;
    };
    let crc = checksum(&header, &rest[n..]);
    if let Some(metadata) = header
        .get_mut("__metadata__")
        .and_then(serde_json::Value::as_object_mut)
    {
        metadata.insert(CHECKSUM_KEY.to_string(), format!("{crc:08x}").into());
    }
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + rest.len() - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text);
    out.extend(&rest[n..]);
    out
}

/// CRC-32 of `header`'s JSON without the checksum entry (keys sorted, no
/// whitespace: serde_json's form) followed by `data`, the tensors' bytes.
///
/// The header is hashed in this form, not as the file spells it, so that
/// the checksum can sit inside it; a change of the file's bytes that
/// leaves the parsed header the same (a `\u` escape for a letter) changes
/// nothing that is loaded.
fn checksum(header: &serde_json::Value, data: &[u8]) -> u32 {
    let mut header = header.clone();
    if let Some(metadata) = header
        .get_mut("__metadata__")
        .and_then(serde_json::Value::as_object_mut)
    {
        metadata.remove(CHECKSUM_KEY);
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header.to_string().as_bytes());
    hasher.update(data);
    hasher.finalize()
}

/// A safetensors file whose header and offsets have been checked.
struct SafetensorsFile<'a> {
    /// The file's name, for errors.
    source: &'a str,
    header: Metadata,
    /// The bytes after the header.
    data: &'a [u8],
}

/// A model's parameters and buffers decoded from a file, ready to be
/// written.
struct Weights<T> {
    /// The names of the parameters, then of the buffers.
    names: Vec<&'static str>,
    /// Each parameter's values; `None` where the file's tensor did not
    /// match (then the load fails).
    values: Vec<Option<Vec<T>>>,
    /// Each buffer's value, likewise.
    buffers: Vec<Option<Stored<T>>>,
    /// The tensors that hold NaN or an infinity, described (then the load
    /// fails).
    non_finite: Vec<String>,
}

/// A buffer's value read from a file.
enum Stored<T> {
    /// The values of a float buffer.
    Float(Vec<T>),
    /// A count.
    Count(u64),
}

impl<T: Float> Weights<T> {
    /// Writes every parameter and buffer; only called once every one was
    /// decoded.
    fn apply<M: Model<Elem = T>>(self, model: &mut M) {
        let mut values = self.values.into_iter();
        model.visit_parameters_mut(&mut |mut p| {
            if let Some(Some(new)) = values.next() {
                for (dst, src) in p.value.iter_mut().zip(new) {
                    *dst = src;
                }
            }
        });
        let mut buffers = self.buffers.into_iter();
        model.visit_buffers_mut(&mut |b| match (b.value, buffers.next()) {
            (BufferValueMut::Float(mut v), Some(Some(Stored::Float(new)))) => {
                for (dst, src) in v.iter_mut().zip(new) {
                    *dst = src;
                }
            }
            (BufferValueMut::Count(n), Some(Some(Stored::Count(new)))) => *n = new,
            // `state` decodes each buffer as the model's kind.
            _ => {}
        });
    }
}

impl<'a> SafetensorsFile<'a> {
    /// Checks the length prefix against the size, then lets safetensors
    /// parse and validate the header (offsets contiguous, each tensor's
    /// size its shape times its dtype, nothing after the last one).
    fn parse(bytes: &'a [u8], source: &'a str) -> Result<Self> {
        let invalid = |message: String| invalid_data(source, message);
        let Some((prefix, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(invalid(format!(
                "not a safetensors file: {} bytes, fewer than the 8 of the header's length",
                bytes.len()
            )));
        };
        let claimed = u64::from_le_bytes(*prefix);
        if claimed > rest.len() as u64 || claimed > MAX_HEADER {
            return Err(invalid(format!(
                "not a safetensors file, or a truncated one: its header's length is {claimed} \
                 bytes, but {} bytes follow the length",
                rest.len()
            )));
        }
        let (header_bytes, data) = rest.split_at(claimed as usize);
        let header: Metadata = serde_json::from_slice(header_bytes).map_err(|e| {
            invalid(format!(
                "not a safetensors file: its header is invalid: {e}"
            ))
        })?;
        if header.data_len() != data.len() {
            return Err(invalid(format!(
                "truncated or corrupted: the header describes {} bytes of tensors, but {} bytes \
                 follow it",
                header.data_len(),
                data.len()
            )));
        }
        // The checksum, where the file has one (PyTorch's files do not).
        if let Some(stored) = header.metadata().as_ref().and_then(|m| m.get(CHECKSUM_KEY)) {
            let corrupt = |what: String| invalid(format!("the file is corrupt: {what}"));
            let expected = Some(stored)
                .filter(|s| {
                    s.len() == 8 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
                .and_then(|s| u32::from_str_radix(s, 16).ok())
                .ok_or_else(|| {
                    corrupt(format!(
                        "its metadata `{CHECKSUM_KEY}` is {stored:?}, not 8 hex digits"
                    ))
                })?;
            let value: serde_json::Value = serde_json::from_slice(header_bytes)
                .map_err(|e| corrupt(format!("its header is invalid: {e}")))?;
            let found = checksum(&value, data);
            if found != expected {
                return Err(corrupt(format!(
                    "expected checksum {expected:08x} (its metadata `{CHECKSUM_KEY}`), found \
                     {found:08x}"
                )));
            }
        }
        Ok(SafetensorsFile {
            source,
            header,
            data,
        })
    }

    fn invalid(&self, message: String) -> Error {
        invalid_data(self.source, message)
    }

    /// `Ok` if there is no problem; else an error listing them all.
    fn fail_on(&self, problems: Vec<String>, what: &str) -> Result<()> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(self.invalid(format!("{what}: {}", problems.join("; "))))
        }
    }

    /// The tensor names, sorted.
    fn names(&self) -> Vec<String> {
        let mut names = self.header.offset_keys();
        names.sort();
        names
    }

    /// The tensor `name`, which exists.
    fn info(&self, name: &str) -> &TensorInfo {
        self.header.info(name).expect("a name from `names`")
    }

    /// The bytes of a tensor, within `data` (`parse` checked the offsets).
    fn data(&self, info: &TensorInfo) -> &'a [u8] {
        &self.data[info.data_offsets.0..info.data_offsets.1]
    }

    fn metadata(&self) -> Vec<(&String, &String)> {
        let mut entries: Vec<_> = self.header.metadata().iter().flatten().collect();
        entries.sort();
        entries
    }

    fn meta(&self, key: &str) -> Option<&str> {
        self.header
            .metadata()
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }

    /// The model's parameters and buffers from the tensors `prefix` +
    /// name, each checked for presence, shape and dtype (a count: `I64`,
    /// shape `[]`, not negative); the differences are added to `problems`,
    /// in the model's order. Other tensors are not looked at.
    fn state<M: Model>(
        &self,
        model: &M,
        prefix: &str,
        problems: &mut Vec<String>,
    ) -> Weights<M::Elem> {
        let dtype = dtype_of::<M::Elem>();
        let mut weights = Weights {
            names: Vec::new(),
            values: Vec::new(),
            buffers: Vec::new(),
            non_finite: Vec::new(),
        };
        model.visit_parameters(&mut |p| {
            weights.names.push(p.name);
            let name = format!("{prefix}{}", p.name);
            let info = self.checked(&name, p.value.shape(), dtype, problems);
            let values = info.map(|info| decode::<M::Elem>(self.data(info), dtype));
            if let Some(values) = &values {
                weights
                    .non_finite
                    .extend(describe_non_finite(&name, p.value.shape(), values));
            }
            weights.values.push(values);
        });
        model.visit_buffers(&mut |b| {
            weights.names.push(b.name);
            let name = format!("{prefix}{}", b.name);
            let stored = match b.value {
                BufferValue::Float(v) => {
                    self.checked(&name, v.shape(), dtype, problems).map(|info| {
                        let values = decode::<M::Elem>(self.data(info), dtype);
                        weights
                            .non_finite
                            .extend(describe_non_finite(&name, v.shape(), &values));
                        // A variance (batch norm's `running_var`) is never
                        // negative: evaluation would take the root of one.
                        let negative = values.iter().position(|&x| Float::to_f64(x) < 0.0);
                        if let (true, Some(at)) = (b.name.ends_with("running_var"), negative) {
                            problems.push(format!(
                                "`{name}` holds {:?} at index {at}, but a variance is not negative",
                                Float::to_f64(values[at])
                            ));
                        }
                        Stored::Float(values)
                    })
                }
                BufferValue::Count(_) => {
                    self.checked(&name, &[], Dtype::I64, problems)
                        .and_then(|info| {
                            // `parse` checked the size: 8 bytes for an I64 of shape [].
                            let bytes = <[u8; 8]>::try_from(self.data(info)).ok();
                            let value = bytes.map(i64::from_le_bytes);
                            let count = value.and_then(|v| u64::try_from(v).ok());
                            if count.is_none() {
                                let shown = value.map_or("?".to_string(), |v| v.to_string());
                                problems.push(format!(
                                    "`{name}`: {shown} in the file, but a count is not negative"
                                ));
                            }
                            count.map(Stored::Count)
                        })
                }
            };
            weights.buffers.push(stored);
        });
        weights
    }

    /// The tensor `name` if the file has it with `shape` and `dtype`; else
    /// `None`, with what differs added to `problems`.
    fn checked(
        &self,
        name: &str,
        shape: &[usize],
        dtype: Dtype,
        problems: &mut Vec<String>,
    ) -> Option<&TensorInfo> {
        let Some(info) = self.header.info(name) else {
            problems.push(format!("missing `{name}`"));
            return None;
        };
        let mut ok = true;
        if info.shape != shape {
            problems.push(format!(
                "`{name}`: shape {:?} in the file vs {shape:?} in the model",
                info.shape
            ));
            ok = false;
        }
        if info.dtype != dtype {
            problems.push(format!(
                "`{name}`: dtype {:?} in the file vs {dtype:?} in the model",
                info.dtype
            ));
            ok = false;
        }
        ok.then_some(info)
    }
}

/// A small JSON reader that keeps each number's text, so that it can be
/// parsed exactly ([`History::from_json`] needs every `f64` back bit for
/// bit; serde_json's default float parsing may be one ulp off). It never
/// panics, and nests at most [`json::MAX_DEPTH`] deep, so corrupted input
/// is an error, not a stack overflow.
pub(crate) mod json {
    /// A JSON value; objects keep their keys in order.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) enum Value {
        Null,
        Bool(bool),
        /// The number's text, valid JSON number syntax.
        Number(String),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// What the value is, for messages: `null`, `true`, the number, or
        /// `a string`, `an array`, `an object`.
        pub(crate) fn describe(&self) -> String {
            match self {
                Value::Null => "null".to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Number(text) => text.clone(),
                Value::String(s) => format!("the string {s:?}"),
                Value::Array(_) => "an array".to_string(),
                Value::Object(_) => "an object".to_string(),
            }
        }
    }

    /// How deep arrays and objects may nest.
    pub(crate) const MAX_DEPTH: usize = 64;

    /// Parses one JSON value, with only whitespace around it.
    ///
    /// # Errors
    ///
    /// What is wrong and the byte offset where it is.
    pub(crate) fn parse(text: &str) -> Result<Value, String> {
        let mut parser = Parser { text, pos: 0 };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.pos != text.len() {
            return Err(parser.error("text after the JSON value"));
        }
        Ok(value)
    }

    struct Parser<'a> {
        text: &'a str,
        pos: usize,
    }

    impl Parser<'_> {
        fn error(&self, what: &str) -> String {
            format!("invalid JSON at byte {}: {what}", self.pos)
        }

        fn peek(&self) -> Option<u8> {
            self.text.as_bytes().get(self.pos).copied()
        }

        fn skip_whitespace(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.pos += 1;
            }
        }

        /// Consumes `literal` if the text continues with it.
        fn eat(&mut self, literal: &str) -> bool {
            if self.text[self.pos..].starts_with(literal) {
                self.pos += literal.len();
                true
            } else {
                false
            }
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > MAX_DEPTH {
                return Err(self.error(&format!("nested more than {MAX_DEPTH} deep")));
            }
            self.skip_whitespace();
            match self.peek() {
                None => Err(self.error("unexpected end")),
                Some(b'n') if self.eat("null") => Ok(Value::Null),
                Some(b't') if self.eat("true") => Ok(Value::Bool(true)),
                Some(b'f') if self.eat("false") => Ok(Value::Bool(false)),
                Some(b'"') => self.string().map(Value::String),
                Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
                Some(b'[') => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    self.skip_whitespace();
                    if self.eat("]") {
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_whitespace();
                        if self.eat("]") {
                            return Ok(Value::Array(items));
                        }
                        if !self.eat(",") {
                            return Err(self.error("expected `,` or `]`"));
                        }
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    let mut fields = Vec::new();
                    self.skip_whitespace();
                    if self.eat("}") {
                        return Ok(Value::Object(fields));
                    }
                    loop {
                        self.skip_whitespace();
                        if self.peek() != Some(b'"') {
                            return Err(self.error("expected a key in quotes"));
                        }
                        let key = self.string()?;
                        self.skip_whitespace();
                        if !self.eat(":") {
                            return Err(self.error("expected `:`"));
                        }
                        fields.push((key, self.value(depth + 1)?));
                        self.skip_whitespace();
                        if self.eat("}") {
                            return Ok(Value::Object(fields));
                        }
                        if !self.eat(",") {
                            return Err(self.error("expected `,` or `}`"));
                        }
                    }
                }
                Some(_) => Err(self.error("expected a value")),
            }
        }

        /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, as text.
        fn number(&mut self) -> Result<String, String> {
            let start = self.pos;
            let digits = |p: &mut Self| {
                let from = p.pos;
                while matches!(p.peek(), Some(b'0'..=b'9')) {
                    p.pos += 1;
                }
                p.pos > from
            };
            self.eat("-");
            if !self.eat("0") && !digits(self) {
                return Err(self.error("expected a digit"));
            }
            if self.eat(".") && !digits(self) {
                return Err(self.error("expected a digit after `.`"));
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                if !digits(self) {
                    return Err(self.error("expected a digit in the exponent"));
                }
            }
            Ok(self.text[start..self.pos].to_string())
        }

        /// A string in quotes, escapes resolved.
        fn string(&mut self) -> Result<String, String> {
            self.pos += 1; // the opening quote
            let mut out = String::new();
            loop {
                let run = self.text[self.pos..]
                    .find(|c: char| c == '"' || c == '\\' || c < ' ')
                    .map_or(self.text.len(), |i| self.pos + i);
                out.push_str(&self.text[self.pos..run]);
                self.pos = run;
                match self.peek() {
                    None => return Err(self.error("unterminated string")),
                    Some(b'"') => {
                        self.pos += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.pos += 1;
                        let escaped = match self.peek() {
                            Some(b'"') => '"',
                            Some(b'\\') => '\\',
                            Some(b'/') => '/',
                            Some(b'b') => '\u{8}',
                            Some(b'f') => '\u{c}',
                            Some(b'n') => '\n',
                            Some(b'r') => '\r',
                            Some(b't') => '\t',
                            Some(b'u') => {
                                self.pos += 1;
                                let c = self.unicode_escape()?;
                                out.push(c);
                                continue;
                            }
                            _ => return Err(self.error("invalid escape")),
                        };
                        self.pos += 1;
                        out.push(escaped);
                    }
                    Some(_) => return Err(self.error("control character in a string")),
                }
            }
        }

        /// The 4 hex digits after `\u` (and a low surrogate's after a high
        /// one).
        fn unicode_escape(&mut self) -> Result<char, String> {
            let high = self.hex4()?;
            let code = if (0xD800..0xDC00).contains(&high) {
                if !self.eat("\\u") {
                    return Err(self.error("a high surrogate without its low one"));
                }
                let low = self.hex4()?;
                if !(0xDC00..0xE000).contains(&low) {
                    return Err(self.error("invalid low surrogate"));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            } else {
                high
            };
            char::from_u32(code).ok_or_else(|| self.error("invalid unicode escape"))
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let digits = self
                .text
                .get(self.pos..self.pos + 4)
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| self.error("expected 4 hex digits"))?;
            self.pos += 4;
            u32::from_str_radix(digits, 16).map_err(|_| self.error("expected 4 hex digits"))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_every_kind_and_keeps_number_text() {
            let value =
                parse(r#" {"a": [1, -0.5e-3, true, false, null], "b\n\u00e9\ud83d\ude00": {}} "#)
                    .unwrap();
            assert_eq!(
                value,
                Value::Object(vec![
                    (
                        "a".to_string(),
                        Value::Array(vec![
                            Value::Number("1".to_string()),
                            Value::Number("-0.5e-3".to_string()),
                            Value::Bool(true),
                            Value::Bool(false),
                            Value::Null,
                        ])
                    ),
                    ("b\né😀".to_string(), Value::Object(vec![])),
                ])
            );
        }

        #[test]
        fn rejects_what_is_not_json() {
            for bad in [
                "",
                "[",
                "[1,]",
                "{\"a\" 1}",
                "01",
                "1.",
                "-",
                "1e",
                "\"abc",
                "\"\\x\"",
                "\"\\ud800\"",
                "\"a\nb\"",
                "nul",
                "[] x",
                "{1: 2}",
                "+1",
                ".5",
                "NaN",
            ] {
                assert!(parse(bad).is_err(), "{bad:?}");
            }
            let deep = "[".repeat(MAX_DEPTH + 2);
            assert!(parse(&deep).unwrap_err().contains("nested more than"));
            assert!(parse(&"[".repeat(MAX_DEPTH)).is_err());
        }
    }
}
