//! The safetensors format as macrograd writes and checks it: tensors to
//! bytes and back, a canonical header with its checksum, and a parsed file
//! whose header, offsets and checksum were checked before anything is read.

use std::collections::HashMap;

use safetensors::tensor::{Metadata, TensorInfo, TensorView};
use safetensors::Dtype;

use super::{describe_non_finite, BYTES, CHECKSUM_KEY, MAX_HEADER};
use crate::error::invalid_data;
use crate::model::{BufferValue, BufferValueMut, Model};
use crate::{Error, Float, Result};

/// A tensor to write: little-endian bytes of its values.
pub(super) struct Tensor {
    pub(super) name: String,
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    pub(super) data: Vec<u8>,
}

/// The safetensors dtype of `T`.
pub(super) fn dtype_of<T: Float>() -> Dtype {
    if T::NAME == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// The model's parameters, then its buffers, as tensors named `prefix` +
/// name: float buffers in the model's dtype, counts as `I64` scalars
/// (shape `[]`), as PyTorch keeps `num_batches_tracked`.
pub(super) fn state_tensors<M: Model>(model: &M, prefix: &str) -> Vec<Tensor> {
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
pub(super) fn encode<T: Float>(values: impl Iterator<Item = T>, dtype: Dtype) -> Vec<u8> {
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
pub(super) fn decode<T: Float>(bytes: &[u8], dtype: Dtype) -> Vec<T> {
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

pub(super) fn serialize(tensors: &[Tensor], metadata: HashMap<String, String>) -> Result<Vec<u8>> {
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
pub(super) fn canonical_with_checksum(bytes: Vec<u8>) -> Vec<u8> {
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
pub(super) fn checksum(header: &serde_json::Value, data: &[u8]) -> u32 {
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
pub(super) struct SafetensorsFile<'a> {
    /// The file's name, for errors.
    pub(super) source: &'a str,
    header: Metadata,
    /// The bytes after the header.
    pub(super) data: &'a [u8],
}

/// A model's parameters and buffers decoded from a file, ready to be
/// written.
pub(super) struct Weights<T> {
    /// The names of the parameters, then of the buffers.
    pub(super) names: Vec<&'static str>,
    /// Each parameter's values; `None` where the file's tensor did not
    /// match (then the load fails).
    pub(super) values: Vec<Option<Vec<T>>>,
    /// Each buffer's value, likewise.
    pub(super) buffers: Vec<Option<Stored<T>>>,
    /// The tensors that hold NaN or an infinity, described (then the load
    /// fails).
    pub(super) non_finite: Vec<String>,
}

/// A buffer's value read from a file.
pub(super) enum Stored<T> {
    /// The values of a float buffer.
    Float(Vec<T>),
    /// A count.
    Count(u64),
}

impl<T: Float> Weights<T> {
    /// Writes every parameter and buffer; only called once every one was
    /// decoded.
    pub(super) fn apply<M: Model<Elem = T>>(self, model: &mut M) {
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
    pub(super) fn parse(bytes: &'a [u8], source: &'a str) -> Result<Self> {
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

    pub(super) fn invalid(&self, message: String) -> Error {
        invalid_data(self.source, message)
    }

    /// `Ok` if there is no problem; else an error listing them all.
    pub(super) fn fail_on(&self, problems: Vec<String>, what: &str) -> Result<()> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(self.invalid(format!("{what}: {}", problems.join("; "))))
        }
    }

    /// The tensor names, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        let mut names = self.header.offset_keys();
        names.sort();
        names
    }

    /// The tensor `name`, which exists.
    pub(super) fn info(&self, name: &str) -> &TensorInfo {
        self.header.info(name).expect("a name from `names`")
    }

    /// The bytes of a tensor, within `data` (`parse` checked the offsets).
    pub(super) fn data(&self, info: &TensorInfo) -> &'a [u8] {
        &self.data[info.data_offsets.0..info.data_offsets.1]
    }

    pub(super) fn metadata(&self) -> Vec<(&String, &String)> {
        let mut entries: Vec<_> = self.header.metadata().iter().flatten().collect();
        entries.sort();
        entries
    }

    pub(super) fn meta(&self, key: &str) -> Option<&str> {
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
    pub(super) fn state<M: Model>(
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
    pub(super) fn checked(
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
