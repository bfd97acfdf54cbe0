//! Weights: a model's parameters and buffers as a PyTorch `state_dict` in
//! safetensors, out and back in.

use std::collections::HashMap;
use std::path::Path;

use super::safetensors::{serialize, state_tensors, SafetensorsFile};
use super::{
    preprocessing, read_file, rename, BYTES, CHECKPOINT_KEY, NON_FINITE, PREPROCESSING_KEY, WEIGHTS,
};
use crate::data::Preprocessing;
use crate::fs::write_atomic;
use crate::model::Model;
use crate::Result;

/// Writes the model's parameters and buffers to `path` as safetensors,
/// atomically.
///
/// One tensor per parameter, named and shaped as by
/// [`Model::visit_parameters`](crate::model::Model::visit_parameters) (PyTorch's `0.weight` `[out, in]`, `0.bias`
/// `[out]`, ...), and one per buffer of [`Model::visit_buffers`](crate::model::Model::visit_buffers) (batch
/// norm's `1.running_mean`, `1.running_var` `[C]`); dtype `F32` or `F64`
/// from the model's element type, except counts (`1.num_batches_tracked`),
/// which are `I64` of shape `[]` as in PyTorch; little-endian as the format
/// says; metadata `{"format": "pt"}` and the file's checksum
/// ([`CHECKSUM_KEY`](crate::io::CHECKSUM_KEY)), which PyTorch ignores. `safetensors.torch.load_file(path)`
/// gives a `state_dict` that the same `nn.Sequential` (with the modules the
/// `model!` docs give for blocks) loads with `load_state_dict(strict=True)`. A model with preprocessing
/// ([`Model::set_preprocessing`](crate::model::Model::set_preprocessing):
/// its scaler and class names) also writes it, as JSON in the metadata
/// under [`PREPROCESSING_KEY`](crate::io::PREPROCESSING_KEY), which PyTorch
/// ignores too. Nothing else is written: the dropout generators' states
/// are only in checkpoints.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be written; `path` is
/// then left as it was. [`Error::InvalidFile`](crate::Error::InvalidFile)
/// naming `path`, before anything is written, if safetensors refuses the
/// header (over its 100 MB limit). Temporary files left by killed saves of
/// `path` are removed first (see the [module docs](crate::io)).
pub fn save_weights<M: Model>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = weights_to_bytes(model).map_err(|e| rename(e, path))?;
    write_atomic(path, &bytes)
}

/// The safetensors file [`save_weights`](crate::io::save_weights) writes, in memory.
///
/// # Errors
///
/// [`Error::InvalidFile`](crate::Error::InvalidFile) if safetensors refuses to serialize
/// the tensors (a header over its 100 MB limit).
pub fn weights_to_bytes<M: Model>(model: &M) -> Result<Vec<u8>> {
    let tensors = state_tensors(model, "");
    let mut metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    if let Some(json) = preprocessing::encode(model.preprocessing()) {
        metadata.insert(PREPROCESSING_KEY.to_string(), json);
    }
    serialize(&tensors, metadata)
}

/// Overwrites the model's parameters and buffers with those of the
/// safetensors file at `path` (written by [`save_weights`](crate::io::save_weights), by PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)`, or a
/// checkpoint of [`save_checkpoint`](crate::io::save_checkpoint), whose `weights.` tensors it reads).
///
/// The file must hold exactly the model's parameters and buffers: every
/// name of [`Model::visit_parameters`](crate::model::Model::visit_parameters) and [`Model::visit_buffers`](crate::model::Model::visit_buffers), with
/// the same shape and the model's dtype (a count: `I64`, shape `[]`, not
/// negative; a `running_var` not negative), and no other tensor. Every
/// difference is reported, in one error; a file that lacks a batch-norm
/// model's buffers is missing them. The model's
/// preprocessing becomes the file's: the one under
/// [`PREPROCESSING_KEY`](crate::io::PREPROCESSING_KEY), checked against the
/// model's inputs and classes, or none for a file without that key (one
/// PyTorch wrote). Gradients, the optimizer's state and the dropout
/// generators are left alone.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be read;
/// [`Error::InvalidFile`](crate::Error::InvalidFile) naming `path` if it is not a valid
/// safetensors file (truncated, corrupted); its
/// checksum ([`CHECKSUM_KEY`](crate::io::CHECKSUM_KEY), when it has one) does not match its
/// contents (``mlp.safetensors: the file is corrupt: expected checksum
/// 1c291ca3 (its metadata `macrograd.crc32`), found 5e6f7a8b``); it holds
/// NaN or an infinity (``mlp.safetensors: non-finite values, which a
/// model does not load (a run that diverged, or a damaged file):
/// `0.weight` holds NaN at index 6 ([1, 2]), and 3 more``); or it does
/// not match the model, e.g.
/// ``mlp.safetensors: the file does not match the model: missing `2.bias`;
/// unexpected `4.weight`; `0.weight`: shape [8, 5] in the file vs [8, 4]
/// in the model; `2.weight`: dtype F64 in the file vs F32 in the model``,
/// or ``missing `1.running_mean`; missing `1.running_var`; missing
/// `1.num_batches_tracked` ``, or preprocessing that does not fit it
/// (``metadata `macrograd.preprocessing`: it names 3 classes, but the
/// model has 2``) or is malformed. The model is then unchanged.
pub fn load_weights<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_weights_named(model, &bytes, &path.display().to_string())
}

/// [`load_weights`](crate::io::load_weights) from the bytes of a safetensors file; errors name
/// `(safetensors bytes)` instead of a file.
///
/// # Errors
///
/// As [`load_weights`](crate::io::load_weights).
pub fn weights_from_bytes<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    load_weights_named(model, bytes, BYTES)
}

pub(super) fn load_weights_named<M: Model>(
    model: &mut M,
    bytes: &[u8],
    source: &str,
) -> Result<()> {
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
    let preprocessing = read_preprocessing::<M>(&file, &mut problems);
    file.fail_on(problems, "the file does not match the model")?;
    file.fail_on(weights.non_finite.clone(), NON_FINITE)?;
    weights.apply(model);
    *model.preprocessing_mut() = preprocessing.unwrap_or_default();
    Ok(())
}

/// The file's preprocessing (empty without [`PREPROCESSING_KEY`]), checked
/// against model `M`; `None`, with the problem added, if it is malformed
/// or does not fit the model.
pub(super) fn read_preprocessing<M: Model>(
    file: &SafetensorsFile<'_>,
    problems: &mut Vec<String>,
) -> Option<Preprocessing> {
    let Some(text) = file.meta(PREPROCESSING_KEY) else {
        return Some(Preprocessing::new());
    };
    preprocessing::decode(text, M::INPUTS, M::classes(), M::CATEGORIES)
        .map_err(|e| problems.push(format!("metadata `{PREPROCESSING_KEY}`: {e}")))
        .ok()
}
