//! Layers: the parameterised [`Linear`] and [`Embedding`], the
//! [`Activation`]s, and the image and regularisation layers ([`Conv2d`],
//! [`MaxPool2d`], [`AvgPool2d`], [`BatchNorm`], [`LayerNorm`],
//! [`Dropout`]), each a [`Layer`], the one
//! trait generated models call, through the [`Slot`](crate::pass::Slot)s
//! and the [`Pass`](crate::pass::Pass) of [`pass`](crate::pass).
//!
//! A layer reads a `[batch, in]` view and writes a `[batch, out]` view that
//! the caller owns; no layer allocates in `forward` or `backward` (beyond
//! growing its own scratch when the batch grows). [`Layer::infer`], which
//! runs on a shared reference, allocates the scratch it needs per call. An image sample is `C x H x W` values
//! flattened row-major into one row ([`ImageShape`]), so `Flatten` is free.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{Activation, Tanh};
//! use ndarray::{array, Array2};
//! let mut y = Array2::<f64>::zeros((1, 1));
//! Tanh.forward(array![[0.0]].view(), y.view_mut());
//! assert_eq!(y[[0, 0]], 0.0);
//! ```

mod activation;
mod conv;
mod dropout;
mod embedding;
mod last;
mod layer;
mod linear;
mod norm;
mod pool;
mod recurrent;
mod temporal;

pub(crate) use activation::sigmoid;
pub use activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, GELU};
pub use conv::{conv_output_size, Conv2d, Conv2dConfig, ImageShape};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use last::Last;
pub(crate) use layer::export_input_error;
pub use layer::{export_tensors, Layer};
pub use linear::{add_column_sums, Linear};
pub use norm::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig};
// The buffer types live with `Parameter` in `param` (re-exported by `model`);
// re-exported here too, where the layer that has buffers is.
pub use crate::param::{BufferValue, BufferValueMut, NamedBuffer, NamedBufferMut};
pub use pool::{AvgPool2d, MaxPool2d, Pool2dConfig};
pub use recurrent::{Cell, Recurrent, RecurrentConfig};
pub use temporal::{Conv1d, Conv1dConfig, GlobalPool1d, Pool1d, Reduce};
