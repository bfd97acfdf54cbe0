//! Models out and back in: weights in safetensors, named as PyTorch names
//! them, and checkpoints that resume a training run exactly.
//!
//! **Weights** ([`save_weights`], [`load_weights`]) are a safetensors file
//! with one tensor per entry of PyTorch's `state_dict`: each parameter,
//! under the names and layouts of [`Model::visit_parameters`](crate::model::Model::visit_parameters) (PyTorch's
//! `nn.Sequential` names: `0.weight` `[out, in]`, `0.bias` `[out]`,
//! `2.weight`, ...), then each buffer of [`Model::visit_buffers`](crate::model::Model::visit_buffers) (batch
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
//! **Preprocessing.** A model's [`Preprocessing`](crate::data::Preprocessing)
//! (the scaler it applies to raw rows and its class names) travels in
//! the metadata of both kinds of file, under [`PREPROCESSING_KEY`], as
//! JSON:
//!
//! ```text
//! {"scaler": {"kind": "Standardize", "mean": [5.8, 3.0], "scale": [0.8, 0.4]},
//!  "labels": {"names": ["setosa", "versicolor", "virginica"]}}
//! ```
//!
//! `scaler` is `{"kind": "Standardize", "mean", "scale"}` or `{"kind":
//! "MinMax", "min", "max"}`, one number per input column, read back bit
//! for bit; `labels` is `{"names": [...]}` (class `i` is `names[i]`) or
//! `{"integers": n}`; `categories` is a list of `{"column": c, "names":
//! [...]}`, the names of a category input column's indices; each may be
//! absent, and a model without
//! preprocessing writes no key. A load checks it against the model (the
//! scaler's columns against the inputs, the names against the classes)
//! with everything else, and the model takes it: a program that loads
//! the file predicts on raw rows and names classes as the program that
//! saved it did.
//!
//! **Checkpoints** ([`save_checkpoint`], [`load_checkpoint`]) are one
//! safetensors file with the weights (parameters and buffers), the
//! optimizer's state ([`Model::optimizer_state`](crate::model::Model::optimizer_state)), the state of each
//! dropout's generator ([`Model::rng_states`](crate::model::Model::rng_states)) and a [`CheckpointInfo`]:
//! the epoch, the run's RNG state, the scheduler's state, the history so
//! far and free-form metadata. Its layout is documented on
//! [`save_checkpoint`].
//!
//! What is guaranteed, for files from anywhere (a file is untrusted
//! input):
//!
//! - **A load either succeeds or changes nothing.** Every load checks the
//!   whole file against the model before it changes anything, and reports
//!   every difference in one [`Error::InvalidFile`] that names
//!   the file (or an [`Error::State`] for a checkpoint's optimizer state): missing and unexpected names, shapes, dtypes, malformed
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
//!   (`num_batches_tracked`) and batch norm's `running_var` must not be
//!   negative. Saving writes the model
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
//! # use macrograd_runtime as macrograd;
//! use macrograd::io::CheckpointInfo;
//! let info = CheckpointInfo { epoch: 3, rng_state: 42, ..CheckpointInfo::default() };
//! assert_eq!(info.scheduler, None);
//! ```

use std::fs;
use std::path::Path;

use crate::{Error, Float, Result};

mod checkpoint;
mod onnx;
mod preprocessing;
mod safetensors;
mod weights;

pub(crate) use self::checkpoint::load_checkpoint_checked;
pub use self::checkpoint::{
    checkpoint_from_bytes, checkpoint_to_bytes, load_checkpoint, save_checkpoint, CheckpointInfo,
};
pub use self::onnx::{onnx_input, onnx_to_bytes, save_onnx, save_onnx_with, OnnxOptions};
pub use self::weights::{load_weights, save_weights, weights_from_bytes, weights_to_bytes};

/// The metadata key that marks a checkpoint, and its format version.
pub(super) const CHECKPOINT_KEY: &str = "macrograd.checkpoint";
pub(super) const CHECKPOINT_VERSION: &str = "1";

/// The metadata key of a file's checksum: CRC-32 (IEEE, as zlib's
/// `crc32`) of the header's JSON without this entry, keys sorted, no
/// whitespace, then of the tensor data; 8 lowercase hex digits.
pub const CHECKSUM_KEY: &str = "macrograd.crc32";

/// The metadata key of a model's preprocessing (its scaler and class
/// names, [`Preprocessing`](crate::data::Preprocessing)) in weights files
/// and checkpoints: JSON, described in the [module docs](self). Written
/// only for a model that has preprocessing.
pub const PREPROCESSING_KEY: &str = "macrograd.preprocessing";

/// The prefix of a checkpoint's weight tensors.
pub(super) const WEIGHTS: &str = "weights.";
/// The prefix of a checkpoint's optimizer entries (tensors and metadata).
pub(super) const OPTIM: &str = "optim.";
/// The prefix of a checkpoint's free-form metadata.
pub(super) const META: &str = "meta.";
/// The prefix of a checkpoint's generator states ([`Model::rng_states`](crate::model::Model::rng_states)).
pub(super) const RNG: &str = "rng.";

/// What an error about NaN or infinite values says first.
pub(super) const NON_FINITE: &str =
    "non-finite values, which a model does not load (a run that diverged, or a damaged file)";

/// The name safetensors errors carry for data read from memory.
pub(super) const BYTES: &str = "(safetensors bytes)";

/// safetensors' own limit on the header, which it checks too.
pub(super) const MAX_HEADER: u64 = 100_000_000;

/// The message of an error without the path in front of it.
pub(super) fn source_message(error: &Error) -> String {
    match error {
        Error::Io { source, .. } => source.to_string(),
        Error::InvalidFile { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Puts `path` in an error about bytes (from `*_to_bytes`).
pub(super) fn rename(error: Error, path: &Path) -> Error {
    match error {
        Error::Io { source, .. } => Error::Io {
            path: path.display().to_string(),
            source,
        },
        Error::InvalidFile { message, .. } => Error::InvalidFile {
            path: path.display().to_string(),
            message,
        },
        other => other,
    }
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Rust's shortest round-trip decimal form of `value` (`Debug`: `0.001`,
/// `12.0`, `1e300`, `inf`, `NaN`).
pub(super) fn number(value: f64) -> String {
    format!("{value:?}")
}

/// Reads [`number`]'s form back, exactly.
pub(super) fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

/// Where `values` (of tensor `name`, of `shape`) first hold NaN or an
/// infinity, and how many such values it holds: ``"`0.weight` holds NaN
/// at index 5 ([1, 1]), and 2 more"``; `None` if all are finite.
pub(super) fn describe_non_finite<T: Float>(
    name: &str,
    shape: &[usize],
    values: &[T],
) -> Option<String> {
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
