//! Checkpoints: the weights, the optimizer's state, the dropout
//! generators' states and a [`CheckpointInfo`], in one safetensors file
//! that resumes a run exactly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::Dtype;

use super::safetensors::{decode, serialize, state_tensors, SafetensorsFile, Tensor};
use super::weights::read_preprocessing;
use super::{
    describe_non_finite, number, parse_number, preprocessing, read_file, rename, source_message,
    BYTES, CHECKPOINT_KEY, CHECKPOINT_VERSION, META, NON_FINITE, OPTIM, PREPROCESSING_KEY, RNG,
    WEIGHTS,
};
use crate::fs::write_atomic;
use crate::history::History;
use crate::model::Model;
use crate::{Error, Result};

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

/// Writes a checkpoint of `model` and `info` to `path`, atomically.
///
/// One safetensors file:
///
/// | where | key | value |
/// | --- | --- | --- |
/// | tensor | `weights.<name>` | each parameter and buffer, as [`save_weights`](crate::io::save_weights) writes it (`weights.0.weight`, `weights.1.running_mean`, `weights.1.num_batches_tracked`) |
/// | tensor | `optim.<name>` | each entry of [`Model::optimizer_state`](crate::model::Model::optimizer_state) of more than one value, `F64`, shape `[len]` |
/// | metadata | `optim.<name>` | each entry of one value (`lr`, `momentum`, step counts), as below |
/// | metadata | `macrograd.checkpoint` | `1`, the format's version |
/// | metadata | `macrograd.crc32` | the file's checksum ([`CHECKSUM_KEY`](crate::io::CHECKSUM_KEY)) |
/// | metadata | `format` | `pt` |
/// | metadata | `epoch` | [`CheckpointInfo::epoch`], decimal |
/// | metadata | `rng_state` | [`CheckpointInfo::rng_state`], decimal |
/// | metadata | `scheduler` | [`CheckpointInfo::scheduler`] as a JSON array of numbers written as strings; absent for `None` |
/// | metadata | `history` | [`CheckpointInfo::history`], as it is |
/// | metadata | `rng.<name>` | each entry of [`Model::rng_states`](crate::model::Model::rng_states) (`rng.3.dropout_rng`: a dropout's mask generator), decimal |
/// | metadata | `meta.<key>` | each entry of [`CheckpointInfo::metadata`] |
///
/// A number in the metadata is Rust's shortest decimal form that reads
/// back to the same `f64` (`0.001`, `12.0`, `inf`, `NaN`), so every value
/// round-trips exactly (any NaN reads back as the one NaN). `F64` tensors
/// hold an `f32` model's optimizer buffers exactly.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be
/// written (`path` is then left as it was);
/// [`Error::InvalidFile`](crate::Error::InvalidFile) naming `path` if
/// safetensors refuses the header (over its 100 MB limit: a history of
/// millions of epochs), before anything is written.
/// Temporary files left by killed saves of `path` are removed first (see
/// the [module docs](crate::io)).
pub fn save_checkpoint<M: Model>(
    model: &M,
    path: impl AsRef<Path>,
    info: &CheckpointInfo,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = checkpoint_to_bytes(model, info).map_err(|e| rename(e, path))?;
    write_atomic(path, &bytes)
}

/// The file [`save_checkpoint`](crate::io::save_checkpoint) writes, in memory.
///
/// # Errors
///
/// As [`weights_to_bytes`](crate::io::weights_to_bytes).
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
    if let Some(json) = preprocessing::encode(model.preprocessing()) {
        metadata.insert(PREPROCESSING_KEY.to_string(), json);
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

/// Restores `model` (parameters, buffers, optimizer state, dropout
/// generators and preprocessing) from the checkpoint at `path` and returns
/// the rest of it.
///
/// Everything is checked before anything changes: the file's integrity
/// (its checksum, if it has one), the format's version, every weight's
/// and buffer's name, shape and dtype against the model, that every
/// weight, buffer and optimizer value is finite, the generators' names
/// against
/// [`Model::rng_states`](crate::model::Model::rng_states), the metadata's numbers and the history, then
/// each optimizer entry (by [`Model::load_optimizer_state`](crate::model::Model::load_optimizer_state), which changes
/// nothing on an error). On an error the model is unchanged. The schedule's state is
/// returned, not checked: [`Scheduler::load_state`] checks it (and changes
/// nothing on an error either).
///
/// [`Scheduler::load_state`]: crate::schedule::Scheduler::load_state
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be read;
/// [`Error::InvalidFile`](crate::Error::InvalidFile) naming `path` if it is not a valid safetensors file, not a checkpoint, of
/// another format version, corrupt (its checksum differs), holds NaN or
/// an infinity in a weight, a buffer or an optimizer entry (each named,
/// as by [`load_weights`](crate::io::load_weights)), or does not match the model, listing every
/// difference: missing and unexpected names (tensors and `rng.`
/// generators), shapes, dtypes, malformed metadata, preprocessing that
/// does not fit the model (as for [`load_weights`](crate::io::load_weights));
/// [`Error::State`](crate::Error::State) naming `path` if the optimizer's
/// entries do not match its declaration (missing, unexpected, of the wrong
/// length, out of range: every [`StateProblem`](crate::StateProblem)) once
/// the rest matches.
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
    let preprocessing = read_preprocessing::<M>(&file, &mut problems);
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
    if let Err(source) = model.load_optimizer_state(&optim) {
        // The model's own states, which it always takes back.
        let _ = model.set_rng_states(&generators);
        return Err(Error::State {
            path: file.source.to_string(),
            source,
        });
    }
    weights.apply(model);
    *model.preprocessing_mut() = preprocessing.unwrap_or_default();
    Ok((info, checked))
}
