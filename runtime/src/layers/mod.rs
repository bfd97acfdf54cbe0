//! Layers: the parameterised [`Linear`] and the [`Activation`]s.
//!
//! A layer reads a `[batch, in]` view and writes a `[batch, out]` view that
//! the caller owns; no layer allocates while it runs.
//!
//! ```
//! use macrograd_runtime::layers::{Activation, Tanh};
//! use ndarray::{array, Array2};
//! let mut y = Array2::<f64>::zeros((1, 1));
//! Tanh.forward(array![[0.0]].view(), y.view_mut());
//! assert_eq!(y[[0, 0]], 0.0);
//! ```

mod activation;
mod linear;

pub(crate) use activation::sigmoid;
pub use activation::{Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, GELU};
pub use linear::{add_column_sums, Linear};
