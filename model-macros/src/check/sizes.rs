//! The size limit: every size the user writes, every tensor the model
//! allocates (a weight, a bias, one sample's activations, a convolution's
//! unfolded input, a pooling window) and the whole model's parameter count
//! are at most [`MAX_VALUES`] = 2^32 values.
//!
//! Why 2^32: it is far above any model a CPU library trains (16 GiB of
//! `f32` in one tensor), and far enough below 2^64 that all the arithmetic
//! on sizes, here and in the runtime (`C * H * W`, `in * out`,
//! `H + 2 padding`, the bytes of a tensor with its gradient and optimizer
//! state), is exact in 64 bits, and every allocation `new()` makes is a
//! valid Rust allocation (at most 2^35 bytes, well under `isize::MAX`). A
//! model above it would overflow, or abort in `new()`; it is a compile
//! error instead. The limit is the same on every host and target.
//!
//! All arithmetic on user numbers goes through [`product`] and
//! [`checked_sum`]: checked, never wrapping, never panicking.

use std::fmt::Display;

use quote::ToTokens;
use syn::Error;

use super::shapes::Shapes;
use super::{Errors, LayerSpec};
use crate::catalog::LayerId;
use crate::ir::Dims;

/// The largest size, tensor (in values) and parameter count a model may
/// have: 2^32.
pub const MAX_VALUES: u64 = 1 << 32;

/// The limit as messages write it.
const MAX_TEXT: &str = "4294967296 (2^32)";

/// Whether `n` is within the limit.
fn fits(n: usize) -> bool {
    u64::try_from(n).is_ok_and(|n| n <= MAX_VALUES)
}

/// The product of `factors`, if it is within the limit (`None` when it is
/// not, or would overflow on the way).
fn product(factors: &[usize]) -> Option<usize> {
    factors
        .iter()
        .try_fold(1usize, |acc, &factor| acc.checked_mul(factor))
        .filter(|&n| fits(n))
}

/// `a + b`, if within the limit.
fn checked_sum(a: usize, b: usize) -> Option<usize> {
    a.checked_add(b).filter(|&n| fits(n))
}

/// `4294967296 x 4294967296 x 2`, with `= n` when the product is short
/// enough to write (and there is more than one factor).
fn product_text(factors: &[usize]) -> String {
    let text: Vec<String> = factors.iter().map(usize::to_string).collect();
    let text = text.join(" x ");
    let total = factors.iter().try_fold(1u128, |acc, &factor| {
        u128::try_from(factor)
            .ok()
            .and_then(|factor| acc.checked_mul(factor))
    });
    match total {
        Some(total) if factors.len() > 1 => format!("{text} = {total}"),
        _ => text,
    }
}

/// "{what} has {factors} {noun}, more than the limit of 2^32 {per}",
/// spanned on `tokens`.
fn too_many(
    tokens: impl ToTokens,
    what: impl Display,
    factors: &[usize],
    noun: &str,
    per: &str,
) -> Error {
    Error::new_spanned(
        tokens,
        format!(
            "{what} has {} {noun}, more than the limit of {MAX_TEXT} {per}",
            product_text(factors)
        ),
    )
}

/// "expected `{name}` <= 2^32, found {text}": a single size over the limit.
pub fn too_large(tokens: impl ToTokens, name: &str, text: &str) -> Error {
    Error::new_spanned(
        tokens,
        format!("expected `{name}` <= {MAX_TEXT}, the largest size a model may have, found {text}"),
    )
}

/// One tensor of a layer, for the limit's messages.
struct Tensor {
    /// Its sizes, multiplied.
    factors: Vec<usize>,
    /// What its values are, after the numbers: "weights", "values per
    /// sample (...)".
    noun: &'static str,
    /// What the limit is on: "per tensor", "per window".
    per: &'static str,
    /// Whether it is a parameter tensor (counted in the model's total and
    /// listed in the IR).
    param: bool,
}

impl Tensor {
    fn param(factors: Vec<usize>, noun: &'static str) -> Self {
        Tensor {
            factors,
            noun,
            per: "per tensor",
            param: true,
        }
    }

    fn scratch(factors: Vec<usize>, noun: &'static str, per: &'static str) -> Self {
        Tensor {
            factors,
            noun,
            per,
            param: false,
        }
    }
}

/// The tensors of a layer whose shapes are known: its parameters (weight,
/// then bias), and what else `new()` allocates in proportion to its sizes
/// (a convolution's unfolded input, the runtime's im2col buffer) or
/// multiplies (a pooling window). Flat sizes and activations are bounded
/// where they are declared (`args`, `shapes`).
fn tensors(layer: &LayerSpec, input: Dims, output: Dims) -> Option<Vec<Tensor>> {
    let checked = layer.checked.as_ref()?;
    let args = &checked.args;
    Some(match checked.entry.id {
        LayerId::Linear => {
            let (inputs, outputs) = (input.len(), output.len());
            let mut tensors = vec![Tensor::param(vec![outputs, inputs], "weights")];
            if args.bool("bias")? {
                tensors.push(Tensor::param(vec![outputs], "biases"));
            }
            tensors
        }
        LayerId::Conv2d => {
            let Dims::Image { channels, .. } = input else {
                return None;
            };
            let Dims::Image {
                channels: out_channels,
                height,
                width,
            } = output
            else {
                return None;
            };
            let (kh, kw) = args.pair("kernel_size")?;
            let mut tensors = vec![
                Tensor::param(vec![out_channels, channels, kh, kw], "weights"),
                // [in * kh * kw, oh * ow]: a patch per output position.
                Tensor::scratch(
                    vec![channels, kh, kw, height, width],
                    "values in each sample's unfolded input (a patch per output position)",
                    "per tensor",
                ),
            ];
            if args.bool("bias")? {
                tensors.push(Tensor::param(vec![out_channels], "biases"));
            }
            tensors
        }
        LayerId::MaxPool2d | LayerId::AvgPool2d => {
            let (kh, kw) = args.pair("kernel_size")?;
            vec![Tensor::scratch(
                vec![kh, kw],
                "values in its window",
                "per window",
            )]
        }
        LayerId::BatchNorm | LayerId::BatchNorm1d | LayerId::BatchNorm2d => {
            let features = match input {
                Dims::Image { channels, .. } => channels,
                Dims::Flat(n) => n,
                Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => 1,
            };
            vec![
                Tensor::param(vec![features], "scales"),
                Tensor::param(vec![features], "shifts"),
            ]
        }
        LayerId::Rnn | LayerId::Lstm | LayerId::Gru => {
            let Dims::Sequence { features, .. } = input else {
                return None;
            };
            let gates = match checked.entry.id {
                LayerId::Rnn => 1,
                LayerId::Lstm => 4,
                _ => 3,
            };
            let hidden = args.size("hidden_size")?;
            let directions = if args.bool("bidirectional")? { 2 } else { 1 };
            let mut tensors = Vec::new();
            for layer in 0..args.size("num_layers")? {
                let input = if layer == 0 {
                    features
                } else {
                    hidden * directions
                };
                for _ in 0..directions {
                    tensors.push(Tensor::param(vec![gates, hidden, input], "weights"));
                    tensors.push(Tensor::param(vec![gates, hidden, hidden], "weights"));
                    tensors.push(Tensor::param(vec![gates, hidden], "biases"));
                    tensors.push(Tensor::param(vec![gates, hidden], "biases"));
                }
            }
            tensors
        }
        LayerId::Last
        | LayerId::MaxPool1d
        | LayerId::AvgPool1d
        | LayerId::GlobalAvgPool1d
        | LayerId::GlobalMaxPool1d => Vec::new(),
        LayerId::Conv1d => {
            let (
                Dims::Sequence { features, .. },
                Dims::Sequence {
                    features: out,
                    steps,
                },
            ) = (input, output)
            else {
                return None;
            };
            let (k, _) = args.pair("kernel_size")?;
            vec![
                Tensor::param(vec![out, features, k], "weights"),
                Tensor::param(vec![out], "biases"),
                Tensor::scratch(
                    vec![features, k, steps],
                    "values in each sample's windows",
                    "per tensor",
                ),
            ]
        }
        LayerId::Embedding => vec![Tensor::param(
            vec![args.size("num_embeddings")?, args.size("embedding_dim")?],
            "weights",
        )],
        LayerId::LayerNorm => vec![
            Tensor::param(vec![input.len()], "scales"),
            Tensor::param(vec![input.len()], "shifts"),
        ],
        LayerId::ReLU
        | LayerId::LeakyReLU
        | LayerId::Sigmoid
        | LayerId::Tanh
        | LayerId::GELU
        | LayerId::Softmax
        | LayerId::Flatten
        | LayerId::Identity
        | LayerId::Dropout => Vec::new(),
    })
}

/// Rule: every tensor of every layer (its weight and bias, a convolution's
/// unfolded input, a pooling window) has at most 2^32 values, and the model
/// at most 2^32 parameters in all (see the module's doc for why).
///
/// Returns, per layer, the lengths of its parameter tensors (weight, then
/// bias, as the optimizer sees them), `None` where unknown or over the
/// limit. A layer over the limit is reported once (its first tensor over
/// it) and left out of the total; the total is reported once, on the layer
/// that crosses it.
pub fn check_sizes(
    layers: &[LayerSpec],
    shapes: &Shapes,
    errors: &mut Errors,
) -> Vec<Option<Vec<usize>>> {
    let mut total = Some(0usize);
    let mut params = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        errors.at(layer.stmt);
        let Some(Some((input, output))) = shapes.layers.get(index) else {
            params.push(None);
            continue;
        };
        let Some(tensors) = tensors(layer, *input, *output) else {
            params.push(None);
            continue;
        };
        let text = shapes.texts.get(index).map_or("", String::as_str);
        let mut lens = Some(Vec::new());
        for tensor in &tensors {
            match product(&tensor.factors) {
                Some(len) => {
                    if let (true, Some(lens)) = (tensor.param, &mut lens) {
                        lens.push(len);
                    }
                }
                None => {
                    // One error per layer: its tensors share sizes, so a
                    // second one over the limit is the same mistake.
                    errors.push(too_many(
                        layer.call,
                        format_args!("`{text}`"),
                        &tensor.factors,
                        tensor.noun,
                        tensor.per,
                    ));
                    lens = None;
                    break;
                }
            }
        }
        if let (Some(lens), Some(sum)) = (&lens, total) {
            let layer_total = lens.iter().try_fold(0usize, |acc, &n| checked_sum(acc, n));
            total = layer_total.and_then(|n| checked_sum(sum, n));
            if total.is_none() {
                errors.push(Error::new_spanned(
                    layer.call,
                    format!(
                        "`{text}` brings the model to {} parameters, more than the limit \
                         of {MAX_TEXT} parameters per model",
                        sum_text(sum, lens)
                    ),
                ));
            }
        }
        params.push(lens);
    }
    params
}

/// `sum + lens`, exactly (in `u128`: at most a few 2^32 terms).
fn sum_text(sum: usize, lens: &[usize]) -> String {
    let total = lens
        .iter()
        .chain(std::iter::once(&sum))
        .filter_map(|&n| u128::try_from(n).ok())
        .fold(0u128, u128::saturating_add);
    total.to_string()
}

/// A shape's values, within the limit: `Ok(len)`, or the error that
/// `what` (e.g. "`input [C, H, W]`") has too many, spanned on `tokens`.
pub fn check_shape(
    tokens: impl ToTokens,
    what: impl Display,
    shape: &[usize],
) -> Result<usize, Error> {
    product(shape).ok_or_else(|| too_many(tokens, what, shape, "values per sample", "per tensor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_checked_and_bounded() {
        assert_eq!(product(&[]), Some(1));
        assert_eq!(product(&[65536, 65536]), Some(1 << 32));
        assert_eq!(product(&[65536, 65536, 2]), None);
        assert_eq!(product(&[usize::MAX, 2]), None);
        assert_eq!(product(&[1 << 32, 1 << 32, 2]), None);
        assert_eq!(checked_sum(1 << 32, 1), None);
        assert_eq!(checked_sum(usize::MAX, 1), None);
        assert_eq!(checked_sum(1, 2), Some(3));
    }

    #[test]
    fn product_texts_name_every_factor() {
        assert_eq!(product_text(&[7]), "7");
        assert_eq!(product_text(&[8, 3, 3]), "8 x 3 x 3 = 72");
        assert_eq!(
            product_text(&[1 << 32, 1 << 32, 2]),
            "4294967296 x 4294967296 x 2 = 36893488147419103232"
        );
        let huge = [usize::MAX; 5];
        assert!(!product_text(&huge).contains('='));
    }
}
