//! Neural networks declared as a macro, checked while the program compiles,
//! and trained by a complete epoch loop.
//!
//! ```
//! use macrograd::prelude::*;
//!
//! let mut model = model! { Linear(10, 1); loss MSE; optim SGD(0.01) };
//! let mut rng = Rng::new(0);
//! let inputs: Array2<f32> = rng.randn((100, 10));
//! let targets: Array2<f32> = rng.randn((100, 1));
//! let data = Dataset::regression(inputs, targets)?;
//! let history = model.fit(&data, Fit::epochs(5).batch_size(100).quiet())?;
//! assert!(history.losses()[4] < history.losses()[0]);
//! # Ok::<(), macrograd::Error>(())
//! ```
//!
//! `model!` reads the layers, the loss and the optimizer, checks every shape
//! and hyperparameter at compile time (a mistake is a compile error on the
//! offending token), and generates a struct with straight-line forward and
//! backward code over the runtime's kernels. The generated type implements
//! [`Model`]: the four steps of the training loop (`forward`, `loss`,
//! `zero_grad` + `backward`, `step`) are its methods, and `fit` (a method of
//! every model through [`train::Train`], in the prelude) runs them in
//! batches over a [`Dataset`](data::Dataset).
//!
//! # What `model!` expands to
//!
//! For
//!
//! ```
//! # use macrograd::prelude::*;
//! model! { pub struct Net; Linear(10, 64); ReLU; Linear(64, 1); loss MSE; optim SGD(0.01) }
//! # let net = Net::new();
//! # assert_eq!(net.summary().params(), 10 * 64 + 64 + 64 + 1);
//! ```
//!
//! the macro writes, in outline (the real names are prefixed with `__` and
//! every path is absolute or goes through one alias of this crate's hidden
//! module, so nothing in the caller's scope can shadow it; the whole
//! expansion of a three-layer MLP is committed, pretty-printed, as
//! `model-macros/tests/snapshots/mlp.rs` in the repository, and a test keeps
//! it current):
//!
//! ```text
//! /// (the layer table: layers, output shapes, parameter counts)
//! pub struct Net {
//!     l0: Linear<f32>,        // weight [64, 10], bias [64], their gradients
//!     l1: ReLU,               // every layer is a field (Flatten excepted), activations zero-sized
//!     l2: Linear<f32>,        // weight [1, 64], bias [1]
//!     loss: MSE,
//!     optim: SGD<f32>,        // hyperparameters checked at compile time, state per parameter
//!     state: StepState,       // which of forward / loss / backward ran, for clear panics
//!     prep: Preprocessing,    // scaler for raw rows and class names, if set; saved with the weights
//!     s0, s1, s2, s3: Slot,   // activations [batch, 10], [batch, 64], [batch, 64], [batch, 1]
//! }                           //   and their gradients, where a layer before needs one
//! impl Net {
//!     pub fn new() -> Self;               // PyTorch's init from seed 0
//!     pub fn with_seed(seed: u64) -> Self;
//!     pub fn forward_rows(&mut self, input: &[[f32; 10]]) -> ArrayView2<f32>;  // typed entries:
//!     pub fn predict_rows(&self, input: &[[f32; 10]]) -> Vec<[f32; 1]>;       // a wrong width
//!     pub fn train_step_rows(&mut self, input: &[[f32; 10]], targets: ..) -> f32; // does not compile
//!     pub fn load(path) -> Result<Self>;  // weights and preprocessing from a file
//!     // classifiers only: predict_proba, predict_classes, predict_names (&self)
//! }
//! impl Model for Net {
//!     type Elem = f32; type Target = Rows; type Optim = SGD<f32>;
//!     const INPUTS: usize = 10; const OUTPUTS: usize = 1;
//!     fn forward_buffered(&mut self) -> ArrayView2<f32> {
//!         let p = Pass::for_forward(&self.state);  // batch size, training mode
//!         // (rows written since the last pass are scaled by `prep` first)
//!         p.forward(&mut self.l0, &self.s0, &mut self.s1);  // Layer::forward: a1 = a0 W0^T + b0
//!         p.forward(&mut self.l1, &self.s1, &mut self.s2);  // a2 = relu(a1)
//!         p.forward(&mut self.l2, &self.s2, &mut self.s3);
//!         self.s3.view(p.batch)
//!     }
//!     fn backward(&mut self) {                // straight-line, last layer first
//!         let p = Pass::for_backward(&mut self.state);
//!         p.backward(&mut self.l2, &mut self.s2, &self.s3); // dW2 = g3^T a2, db2 = sum g3, g2 = g3 W2
//!         p.backward(&mut self.l1, &mut self.s1, &self.s2);
//!         p.backward(&mut self.l0, &mut self.s0, &self.s1); // s0 keeps no gradient: none computed
//!     }
//!     fn step(&mut self) { Layer::step(&mut self.l0, &mut self.optim, 0); Layer::step(&mut self.l2, ..., 2); }
//!     fn infer(&self, x: ArrayView2<f32>) -> Array2<f32> {  // predict's pass, on &self
//!         let mut r = Inference::new(x, 10, 64);  // two buffers of the call's own
//!         self.prep.apply(r.values_mut());
//!         r.run(&self.l0, 64); r.run(&self.l1, 64); r.run(&self.l2, 1);  // Layer::infer
//!         r.finish()
//!     }
//!     fn export_onnx(&self, g: &mut OnnxGraph, probabilities: bool) -> Result<OnnxValue> {
//!         let v0 = onnx_input(g, &self.prep, "input", &[10], 0, false)?;  // + the scaler's Sub, Div
//!         let v1 = Layer::export(&self.l0, g, &v0, &names(["0.weight", "0.bias"]))?;  // Gemm
//!         g.expect(&v1, &[64], "layer `0`")?;  // the declared shape, or an error
//!         ...                                 // io::save_onnx writes the graph
//!     }
//!     fn optimizer(&self) -> &SGD<f32> { &self.optim }  // learning_rate & co. are provided
//!     // compute_loss, zero_grad, set_training, visit_parameters, summary, ...
//! }
//! ```
//!
//! Every layer is called through one trait, [`layers::Layer`], by its
//! concrete type: static dispatch, inlined, no allocation. The macro keeps
//! only what it alone knows: the shapes and checks, the names (PyTorch's
//! `state_dict` names, `"0.weight"`), and the wiring (which slot each layer
//! reads and writes, which slots keep a gradient, the order of the
//! optimizer's parameters).
//!
//! Every size is a constant in that code; the only loops are inside the
//! runtime's kernels. Buffers grow to the largest batch seen and are then
//! reused, so a training step allocates nothing.

#![warn(missing_docs)]

pub use macrograd_runtime::{
    clip, data, datasets, distributed, gemm, history, io, layers, loss, metrics, model,
    model::Model, ndarray, onnx, optim, pass, schedule, set_threads, target, threads, train,
    Buffer, Error, Float, Result, Rng, StateError, StateProblem, StepState,
};

/// Declares a model: its layers, loss and optimizer, checked while the
/// program compiles. This page is the language's reference; the README's
/// tour introduces it.
///
/// What it generates is outlined in the crate docs; the whole expansion of
/// a three-layer MLP is committed, pretty-printed, as
/// `model-macros/tests/snapshots/mlp.rs` in the repository.
///
/// With `struct Name;` it is an item (a type with `Name::new()`,
/// `Name::with_seed(seed)` and `Name::load(path)`); without, an expression that evaluates to a new
/// model initialised from seed 0.
///
/// # The language
///
/// A model is a list of statements, each ending in `;` (the last may leave
/// it out, and a stray `;` is skipped), in this order:
///
/// ```text
/// /// Doc comments and #[attributes]        optional, at the top
/// pub struct Name;                          optional, first
/// dtype f64;                                optional, before the layers
/// input [3, 32, 32];                        optional, before the layers
/// Conv2d(_, 8, 3, padding = 1);             one or more layers, in order
/// ReLU;
/// Flatten;
/// Linear(_, 10);
/// loss CrossEntropy(label_smoothing = 0.1); exactly one, after the layers
/// optim AdamW(lr = 1e-3)                    exactly one, after the layers
/// ```
///
/// Every mistake is a compile error on the token at fault, and every
/// mistake of a model is reported in the same build; the "checked" columns
/// below list the rules. Each table's last column is what the item is in
/// PyTorch, whose names, argument order, defaults and formulas the language
/// follows (where it differs, the table says so).
///
/// ## Statements
///
/// | statement | arguments and defaults | checked | PyTorch |
/// | --- | --- | --- | --- |
/// | `struct Name;` | optional, with any visibility (`pub struct Name;`, `pub(crate) struct Name;`); the doc comments and attributes before it go on the generated type (which derives `Clone` and `Debug` itself). Without it, `model!` is an expression | the first statement, at most once; attributes only at the top: before a later statement only doc comments are allowed, and read as comments | `class Name(nn.Module)`; without a name, an `nn.Sequential(...)` value |
/// | `dtype` | `f32` (default) or `f64`: the type of every parameter, input, output and loss | one of the two; at most once, before the layers | `torch.float32` (default), `model.double()` |
/// | `input` | `N` (features per sample), `[T, F]` (a sequence: `T` steps of `F` features, PyTorch's `batch_first` layout), `[C, H, W]` (an image: channels, height, width; `[N]` is `N`) `category(n)` (one column of class indices `0..n`, which an `Embedding` reads) or `category(n, steps = T)` (a sequence of `T` class indices: tokens, which an `Embedding` turns into a sequence `[T, dim]`); named, `input island: category(3);`, there may be several (see [inputs](#inputs)). Optional when the first layer states its input size: `Linear(10, ..)`, `BatchNorm1d(10)`, `LayerNorm(10)`, `LayerNorm([C, H, W])` | each size an integer >= 1; at most once, before the layers; required before any other first layer: an image layer (`Conv2d`, a pool, `BatchNorm2d`), an activation, `Flatten`, `Dropout`, or one that writes or defaults to `_` | the shape of a batch, `[N, features]` or `[N, C, H, W]`, without `N` |
/// | a layer | `Name`, `Name()` or `Name(arguments)`: [layers](#layers) and [activations](#activations); or a [block](#blocks) | a known name (case-sensitive), with "did you mean" for a typo or another framework's name (`relu` -> `ReLU`, `Dense` -> `Linear`, `MSELoss` -> `MSE`); its arguments; its input is the output of the layer before it (or `input`) | the modules of `nn.Sequential(...)`, in order |
/// | `loss` | `loss Name` or `loss Name(arguments)`: [losses](#losses) | exactly one, after every layer; it sets the type of the targets | `criterion = nn.NameLoss(...)` |
/// | `optim` | `optim Name` or `optim Name(arguments)`: [optimizers](#optimizers) | exactly one, after every layer | `torch.optim.Name(model.parameters(), ...)` |
/// | `_` | in place of a layer's input size, which the layer before it (or `input`) then gives: `Linear`'s `in_features`, `Conv2d`'s `in_channels`, the batch norms' `num_features` and `LayerNorm`'s `normalized_shape` (these two default to `_`) | only there: an output size is always written; the first layer needs `input` to take it from | `nn.LazyLinear`, `nn.LazyConv2d`, `nn.LazyBatchNorm1d` |
///
/// ```
/// use macrograd::prelude::*;
///
/// model! {
///     /// Predicts one value from three features (this doc comment and the
///     /// attribute below go on the generated type).
///     #[doc(alias = "mlp")]
///     pub struct Regressor;
///     dtype f64;              // f32 (the default) or f64
///     input 3;                // features per sample
///     /// Before a later statement, a doc comment is a comment.
///     Linear(_, 8);           // `_`: 3, from `input`
///     ReLU;
///     Linear(8, 1);
///     loss MSE;
///     optim SGD(0.01)         // the last `;` may be left out
/// }
///
/// let mut model = Regressor::new(); // PyTorch's initialisation, from seed 0
/// let x = Array2::<f64>::zeros((2, 3));
/// let y = Array2::<f64>::zeros((2, 1));
/// let loss: f64 = model.train_step(&x, &y);
/// assert!(loss.is_finite());
/// assert_eq!(Regressor::with_seed(7).forward(&x).dim(), (2, 1));
///
/// // Without `struct`, an expression: a new model, of a type with no name.
/// let mut cnn = model! {
///     dtype f32;
///     input [1, 4, 4];        // an image: 1 channel, 4 x 4
///     Conv2d(_, 2, 3);        // `_`: 1 channel, from `input`; makes [2, 2, 2]
///     Flatten;                // 2 x 2 x 2 = 8 features
///     Linear(_, 3);
///     loss CrossEntropy;      // 3 classes
///     optim Adam
/// };
/// // A sample is one row of C x H x W = 16 values.
/// let images = Array2::<f32>::zeros((2, 16));
/// let loss: f32 = cnn.train_step(&images, &[0usize, 2]);
/// assert!(loss.is_finite());
/// ```
///
/// ## Arguments
///
/// Arguments are positional, in the order the tables below list them, or
/// named, `name = value`, in any order; positional ones come first (as in
/// Python). Each is given at most once; those without a default (no
/// `= ..` in the tables) must be given; when every argument has a default,
/// the parentheses may be left out (`ReLU`, `Dropout`, `optim Adam`). An
/// unknown argument name gets a "did you mean" (`learning_rate` -> `lr`).
///
/// Values are literals, which the macro reads and checks:
///
/// - a size: an integer >= 1 (at most 2^32: see the [size
///   limit](#size-limit));
/// - a window (`kernel_size`, `stride`, `padding`): an integer, or a pair
///   `(h, w)` for the height and the width (PyTorch's `int` or
///   `tuple[int, int]`);
/// - a number: a float or an integer literal, negative with a `-`; always
///   finite, and in the range the tables give;
/// - a flag: `true` or `false`.
///
/// A constant or an expression (`LR`, `1e-3 * 2`) is an error: the macro
/// checks the value, so it must be written out.
///
/// ## Layers
///
/// Shapes flow from `input` through each layer: a sample is either flat
/// features or an image `[C, H, W]` (stored as one row of `C x H x W`
/// values); the [activations](#activations) and `Dropout` keep the shape.
///
/// | layer | arguments and defaults | checked | PyTorch |
/// | --- | --- | --- | --- |
/// | `Linear` | `in_features, out_features, bias = true` | `in_features`: a size or `_`; `out_features`: a size; `bias`: a flag. Reads flat features, `in_features` of them (after an image: `Flatten` first) | `nn.Linear(in_features, out_features, bias=True)` |
/// | `Conv2d` | `in_channels, out_channels, kernel_size, stride = 1, padding = 0, bias = true` | `in_channels`: a size or `_`; `out_channels`: a size; `kernel_size`, `stride`: windows >= 1; `padding`: a window >= 0; `bias`: a flag. Reads an image of `in_channels` channels, the kernel fits the padded image; makes `[out_channels, oh, ow]`, `oh = (H + 2 padding - kernel_size) / stride + 1` rounded down, `ow` likewise | `nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)` (`dilation=1`, `groups=1`, zero padding) |
/// | `MaxPool2d` | `kernel_size, stride = kernel_size, padding = 0` | `kernel_size`, `stride`: windows >= 1; `padding`: a window >= 0, at most half of `kernel_size` in each dimension. Reads an image, the window fits; keeps the channels, sizes as `Conv2d`'s | `nn.MaxPool2d(kernel_size, stride=None, padding=0)` (`ceil_mode=False`) |
/// | `AvgPool2d` | `kernel_size, stride = kernel_size, padding = 0` | as `MaxPool2d` | `nn.AvgPool2d(kernel_size, stride=None, padding=0)` (`count_include_pad=True`) |
/// | `Flatten` | none | an image `[C, H, W]` becomes `C x H x W` features (no value moves); flat features pass through | `nn.Flatten()` |
/// | `Embedding` | `num_embeddings, embedding_dim` | reads a `category(n)` input (or tokens, `category(n, steps = T)`, giving a sequence `[T, embedding_dim]`) (at the start of a branch: `island => Embedding(3, 4)`, or as the first layer of a model whose only input is one), `num_embeddings` >= `n`; gives `embedding_dim` features. Initialised from the standard normal distribution, as PyTorch's | `nn.Embedding(num_embeddings, embedding_dim)`: `weight` `[num_embeddings, embedding_dim]` |
/// | `RNN`, `LSTM`, `GRU` | `hidden_size, num_layers = 1, bidirectional = false` | read a sequence `[T, F]` and give the hidden state of every step, `[T, H]` (`[T, 2 H]` with both directions, forward then reverse). PyTorch's formulas, gate order (`i, f, g, o`; `r, z, n`), initialisation (uniform in `[-1/sqrt(H), 1/sqrt(H))`) and parameters (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `_reverse`, `_l1`, ...); the state starts at zero | `nn.LSTM(F, hidden_size, num_layers, bidirectional=.., batch_first=True)`, its first result |
/// | `Last` | none | the last step of a sequence: `[T, W]` -> `W` features | `output[:, -1, :]` |
/// | `Conv1d` | `in_channels, out_channels, kernel_size, stride = 1, padding = 0` (integers) | reads a sequence `[T, F]` (`in_channels` = `F`, or `_`), gives `[T', out_channels]`, `T' = (T + 2 padding - kernel) / stride + 1`; the window must fit | `nn.Conv1d` on the sequence transposed to `[N, F, T]` (features last here, as the recurrent layers read them): the same `weight` `[out, in, k]` and `bias` |
/// | `MaxPool1d`, `AvgPool1d` | `kernel_size, stride = kernel_size, padding = 0` | over the steps of a sequence, feature by feature: `[T, F]` -> `[T', F]` | `nn.MaxPool1d`, `nn.AvgPool1d` (`count_include_pad=True`), transposed as `Conv1d` |
/// | `GlobalAvgPool1d`, `GlobalMaxPool1d` | none | the mean (max) over every step: `[T, F]` -> `F` features | `x.mean(dim=1)`, `x.amax(dim=1)` |
/// | `Identity` | none | the values pass on as they are: the branch of a [block](#blocks) that carries its input | `nn.Identity()` |
/// | `BatchNorm` | `num_features = _, eps = 1e-5, momentum = 0.1` | `num_features`: a size or `_`, the features or channels before it; `eps` > 0 (PyTorch allows 0); `momentum` in `[0, 1]` (not `None`). `BatchNorm1d` after flat features, `BatchNorm2d` after an image | `nn.BatchNorm1d` or `nn.BatchNorm2d`, by position |
/// | `BatchNorm1d` | `num_features = _, eps = 1e-5, momentum = 0.1` | as `BatchNorm`; reads flat features | `nn.BatchNorm1d(num_features, eps=1e-5, momentum=0.1)` |
/// | `BatchNorm2d` | `num_features = _, eps = 1e-5, momentum = 0.1` | as `BatchNorm`; reads an image, `num_features` channels | `nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1)` |
/// | `LayerNorm` | `normalized_shape = _, eps = 1e-5` | `normalized_shape`: `_`, a size `N`, or a shape `[N]` or `[C, H, W]`: the whole sample's shape; `eps` > 0 | `nn.LayerNorm(normalized_shape, eps=1e-5)` |
/// | `Dropout` | `p = 0.5` | `p` in `[0, 1)` (PyTorch allows 1, which zeroes everything) | `nn.Dropout(p=0.5)` |
///
/// The batch norms learn a scale and a shift and keep running statistics
/// (PyTorch's `affine=True`, `track_running_stats=True`); `LayerNorm`
/// learns a scale and a shift per value (`elementwise_affine=True`). In
/// evaluation mode (`predict`, `evaluate`) batch norm uses its running
/// statistics and dropout is off, as after PyTorch's `model.eval()`.
///
/// ```
/// use macrograd::prelude::*;
///
/// // Every layer, with arguments positional and named.
/// let mut model = model! {
///     input [3, 8, 8];
///     Conv2d(3, 4, (3, 3), stride = (1, 2), padding = 1, bias = false); // [4, 8, 4]
///     BatchNorm2d(4, eps = 1e-3, momentum = 0.2);
///     MaxPool2d(2, stride = 2, padding = 1);                            // [4, 5, 3]
///     AvgPool2d(kernel_size = (3, 1), stride = 1, padding = (1, 0));    // [4, 5, 3]
///     BatchNorm(_);                                                     // BatchNorm2d(4)
///     LayerNorm([4, 5, 3], eps = 1e-6);
///     Flatten;                                                          // 60 features
///     Linear(60, 8, bias = false);
///     BatchNorm1d(num_features = 8, eps = 1e-4, momentum = 0.5);
///     BatchNorm;                                                        // BatchNorm1d(8)
///     LayerNorm(_);                                                     // LayerNorm(8)
///     Dropout(p = 0.25);
///     Linear(_, 2);
///     loss MSE;
///     optim SGD(0.01)
/// };
/// let x = Array2::<f32>::zeros((4, 3 * 8 * 8));
/// let y = Array2::<f32>::zeros((4, 2));
/// assert!(model.train_step(&x, &y).is_finite());
/// assert_eq!(model.predict(&x).dim(), (4, 2));
/// ```
///
/// ## Activations
///
/// Each applies to every value and keeps the shape, flat or image
/// (`Softmax` excepted: it reads flat features).
///
/// | activation | arguments and defaults | checked | PyTorch |
/// | --- | --- | --- | --- |
/// | `ReLU` | none | no arguments (as for each activation with none) | `nn.ReLU()` |
/// | `LeakyReLU` | `negative_slope = 0.01` | `negative_slope`: any finite number | `nn.LeakyReLU(negative_slope=0.01)` |
/// | `Sigmoid` | none | not the last layer before `loss BCE`, which applies the sigmoid itself | `nn.Sigmoid()` |
/// | `Tanh` | none | | `nn.Tanh()` |
/// | `GELU` | none | the exact form, `x Φ(x)` through `erf` | `nn.GELU()` (`approximate='none'`) |
/// | `Softmax` | none | the last layer only; reads flat features; not before `loss CrossEntropy`, which applies log-softmax itself | `nn.Softmax(dim=1)` |
///
/// ```
/// use macrograd::prelude::*;
///
/// let mut model = model! {
///     input 4;
///     Linear(_, 8);
///     ReLU;
///     Linear(_, 8);
///     LeakyReLU(0.2);
///     Linear(_, 8);
///     LeakyReLU(negative_slope = -0.5);
///     Linear(_, 8);
///     Sigmoid;
///     Linear(_, 8);
///     Tanh;
///     Linear(_, 8);
///     GELU;
///     Linear(_, 3);
///     Softmax;                // last: each sample's outputs sum to 1
///     loss MSE;
///     optim SGD(0.1)
/// };
/// for row in model.forward(&Array2::<f32>::zeros((2, 4))).rows() {
///     assert!((row.sum() - 1.0).abs() < 1e-6);
/// }
///
/// // On an image, an activation keeps the shape.
/// let mut conv = model! {
///     input [1, 3, 3];
///     Conv2d(_, 2, 1);        // [2, 3, 3]
///     ReLU;
///     Flatten;                // 18 features
///     Linear(_, 1);
///     loss MSE;
///     optim SGD(0.1)
/// };
/// assert_eq!(conv.forward(&Array2::<f32>::zeros((2, 9))).dim(), (2, 1));
/// ```
///
/// ## Sequences
///
/// `input [T, F];` declares sequences, stored step after step in a row of
/// `T * F` values (PyTorch's `[N, T, F]` flattened). Recurrent layers keep
/// the sequence (`[T, H]`); `Last` keeps the last step, `Flatten` every
/// step; value-by-value layers (activations, `Dropout`) apply to every
/// step. Any other layer after a sequence is a compile error that says
/// which of the two to add.
///
/// ```
/// use macrograd::prelude::*;
///
/// model! {
///     struct Forecast;
///     input [20, 1];                                  // 20 years, 1 number each
///     LSTM(32, num_layers = 2, bidirectional = true); // [b, 20, 64]
///     Last;                                           // [b, 64]
///     Linear(_, 1);
///     loss MSE;
///     optim Adam(lr = 1e-3)
/// }
///
/// let net = Forecast::new();
/// assert_eq!(net.predict(&Array2::<f32>::zeros((3, 20))).dim(), (3, 1));
/// assert!(net.parameters().iter().any(|p| p.name == "0.weight_hh_l1_reverse"));
/// ```
///
/// ```compile_fail
/// use macrograd::prelude::*;
/// // error: `Linear` does not read sequences, but the layer before it
/// // (`GRU(8)`) produces a sequence of 20 steps of 8 features: take the
/// // last step with `Last;` (or every step with `Flatten;`) before it
/// let net = model! { input [20, 1]; GRU(8); Linear(8, 1); loss MSE; optim SGD(0.1) };
/// ```
///
/// ## Blocks
///
/// Past a chain of layers: a block takes the value flowing at its place
/// (its input), runs layers on it in one or several branches, and joins
/// them into one value. Blocks nest: a branch may hold blocks.
///
/// | block | what it computes | checked | PyTorch, and its parameter names |
/// | --- | --- | --- | --- |
/// | `residual { layers }` | `body(x) + x`: the layers run one after the other (separated by `;`) | the body's output has the input's shape (else the error names both and proposes the shortcut that fits) | `Residual(body)`, below: `3.body.0.weight`, ... |
/// | `residual(shortcut = Layer) { layers }`, `residual(shortcut = [Layer, Layer, ..]) { layers }` | `body(x) + shortcut(x)`: a projection (ResNet's downsampling: a 1 x 1 `Conv2d` with a stride, and a `BatchNorm`) | the two outputs have the same shape | `Residual(body, shortcut)`: `3.shortcut.weight` for one layer, `3.shortcut.0.weight`, ... for a list |
/// | `concat { branch; branch; .. }` | the branches' outputs side by side (`torch.cat(.., dim=1)`): flat features one after the other, or the channels of images of the same height and width | at least 2 branches; all flat features, or all images of one height and width | `Concat(*branches)`: `3.branches.1.0.weight` (branch 1, its layer 0) |
/// | `add { branch; branch; .. }` | the branches' outputs added up, left to right | at least 2 branches, all of one shape | `Add(*branches)`: `3.branches.0.0.weight` |
///
/// A branch is one layer, or layers chained by `=>` (`Conv2d(16, 8, 1) =>
/// ReLU`), each `;`-separated line one branch. `Identity` is the branch that
/// passes the input on (PyTorch's `nn.Identity`). A `;` after a block's `}`
/// is optional. Inside a block, `_` takes its size from what comes in as it
/// does outside, and every rule of the layers holds; `Softmax` cannot be in
/// a block (it is only ever last).
///
/// The PyTorch modules are written the obvious way, so that a
/// `state_dict` saved by either side loads in the other with
/// `strict=True` (tested both ways, and one epoch of training matches in
/// f64: `tests/numerics/blocks_parity.rs`):
///
/// ```text
/// class Residual(nn.Module):          # body, then shortcut (None: the identity)
///     def forward(self, x): return self.body(x) + (x if self.shortcut is None else self.shortcut(x))
/// class Concat(nn.Module):            # branches: nn.ModuleList of nn.Sequential
///     def forward(self, x): return torch.cat([b(x) for b in self.branches], dim=1)
/// class Add(nn.Module):
///     def forward(self, x): return sum of b(x) over self.branches, left to right
/// ```
///
/// The forward and backward passes stay straight-line code: a block's
/// layers run in that order (body, then shortcut; branch after branch), the
/// join is one call, and the gradient of a value read by several branches
/// is the sum of theirs, in buffers that exist from the first batch on (a
/// training step still allocates nothing). `summary()` indents a block's
/// layers under it, with the shape after its join and its parameter count.
///
/// ```
/// use macrograd::prelude::*;
///
/// model! {
///     struct ResNet;
///     input [1, 8, 8];
///     Conv2d(1, 8, 3, padding = 1); BatchNorm; ReLU;
///     residual {                                  // [8, 8, 8] + [8, 8, 8]
///         Conv2d(8, 8, 3, padding = 1); BatchNorm; ReLU;
///         Conv2d(8, 8, 3, padding = 1); BatchNorm;
///     }
///     ReLU;
///     residual(shortcut = [Conv2d(8, 16, 1, stride = 2), BatchNorm]) {
///         Conv2d(8, 16, 3, stride = 2, padding = 1); BatchNorm; ReLU;
///     }                                           // [16, 4, 4]
///     concat {
///         Conv2d(16, 8, 1) => ReLU;               // [8, 4, 4]
///         Conv2d(16, 8, 3, padding = 1) => ReLU;  // [8, 4, 4]
///         Identity;                               // [16, 4, 4]
///     }                                           // 8 + 8 + 16 = 32 channels
///     Flatten;
///     Linear(_, 10);
///     loss CrossEntropy;
///     optim Adam(lr = 1e-3)
/// }
///
/// let net = ResNet::new();
/// assert_eq!(net.predict(&Array2::<f32>::zeros((2, 64))).dim(), (2, 10));
/// let names: Vec<&str> = net.parameters().iter().map(|p| p.name).collect();
/// assert!(names.contains(&"3.body.0.weight"));
/// assert!(names.contains(&"5.shortcut.0.weight"));
/// assert!(names.contains(&"6.branches.1.0.weight"));
/// assert!(net.summary().to_string().contains("concat: 8 + 8 + 16 = 32 channels"));
/// ```
///
/// ```compile_fail
/// use macrograd::prelude::*;
/// // error: `residual` adds its input to its body's output, but they differ:
/// // its body makes an image [16, 4, 4] (`ReLU`) and its input is an image
/// // [8, 8, 8]: give it a shortcut that makes an image [16, 4, 4] from an
/// // image [8, 8, 8], e.g. `residual(shortcut = Conv2d(8, 16, 1, stride = 2)) { .. }`
/// let net = model! {
///     input [8, 8, 8];
///     residual { Conv2d(8, 16, 3, stride = 2, padding = 1); ReLU }
///     Flatten; Linear(_, 10);
///     loss CrossEntropy; optim SGD(0.1)
/// };
/// ```
///
/// ## Inputs
///
/// A model may read several inputs, each named: float features
/// (`input measurements: 4;`), images (`input scan: [1, 8, 8];`) and
/// categorical columns (`input island: category(3);`: class indices
/// `0..3`). A sample is still one row: the inputs' columns side by side, in
/// the order declared (here 4 + 1 columns, the category's index as a
/// number, `2.0` for the third island). The layers start from them in a
/// block whose branches each begin with an input's name:
///
/// ```
/// use macrograd::prelude::*;
///
/// model! {
///     struct Penguins;
///     input measurements: 4;                  // float features
///     input island: category(3);              // class indices 0, 1, 2
///     input sex: category(2);
///     concat {
///         measurements;                       // [b, 4] as they are
///         island => Embedding(3, 2);          // [b, 2]: a vector per island
///         sex => Embedding(2, 1);             // [b, 1]
///     }                                       // [b, 7]
///     Linear(_, 16); ReLU; Linear(_, 3);
///     loss CrossEntropy;
///     optim Adam(lr = 1e-2)
/// }
///
/// // Rows: 4 measurements, the island's index, the sex's index.
/// let rows = array![[39.1_f32, 18.7, 181.0, 3750.0, 2.0, 1.0]];
/// let net = Penguins::new();
/// assert_eq!(net.predict(&rows).dim(), (1, 3));
/// assert_eq!(<Penguins as Model>::CATEGORIES, &[(4, 3), (5, 2)]);
/// assert!(net.parameters().iter().any(|p| p.name == "0.branches.1.0.weight"));
/// ```
///
/// Every input must start a branch somewhere (an unused one is an error),
/// and with several inputs no layer may come before the block that names
/// them. Class indices go into an `Embedding` and nowhere else; `fit`,
/// `evaluate` and `try_predict` check that every value of a category column
/// is a whole number below its `n` (`Error::NotACategory`, naming sample
/// and column), and a model's scaler leaves those columns alone
/// (`Model::CATEGORIES`). In PyTorch the block is a module whose branch
/// `k` reads the input it names (`Inputs` in
/// `tests/fixtures/make_blocks_fixture.py`); its parameter names are those
/// of [blocks](#blocks).
///
/// ## Losses
///
/// Each is the mean over the batch (PyTorch's `reduction='mean'`). The loss
/// sets the type of the targets: rows of floats, one per output, for `MSE`,
/// `L1`, `Huber` and `BCE` (an `&Array2`, an `ArrayView2` or `&[[T; N]]`);
/// one class index per sample for `CrossEntropy` (`&[usize]`). Targets of
/// the other kind do not compile.
///
/// | loss | arguments and defaults | checked | PyTorch |
/// | --- | --- | --- | --- |
/// | `MSE` | none | | `nn.MSELoss()` |
/// | `L1` | none | | `nn.L1Loss()` |
/// | `Huber` | `delta = 1.0` | `delta` > 0 | `nn.HuberLoss(delta=1.0)` |
/// | `BCE` | `pos_weight = ..` (unset by default: every weight 1) | `pos_weight`: a number >= 0 (for every output) or an array `[w1, w2, ..]` of them, one per output. Takes logits: not after `Sigmoid`. Targets in `[0, 1]` (checked when the loss runs: a panic) | `nn.BCEWithLogitsLoss(pos_weight=None)` |
/// | `CrossEntropy` | `label_smoothing = 0.0` | `label_smoothing` in `[0, 1]`. At least 2 outputs (one per class), flat features. Takes logits: not after `Softmax`. Class indices below the number of outputs (checked when the loss runs: a panic) | `nn.CrossEntropyLoss(label_smoothing=0.0)`, with class-index targets |
///
/// ```
/// use macrograd::prelude::*;
///
/// let x = Array2::<f32>::zeros((4, 5));
/// let rows = Array2::<f32>::zeros((4, 2)); // float targets, one per output
///
/// let mut mse = model! { Linear(5, 2); loss MSE; optim SGD(0.01) };
/// let mut l1 = model! { Linear(5, 2); loss L1; optim SGD(0.01) };
/// let mut huber = model! { Linear(5, 2); loss Huber(delta = 0.5); optim SGD(0.01) };
/// // BCE takes logits (no `Sigmoid` before it) and targets in [0, 1].
/// let mut bce = model! { Linear(5, 2); loss BCE(pos_weight = [3.0, 0.5]); optim SGD(0.01) };
/// let mut bce1 = model! { Linear(5, 1); loss BCE(2); optim SGD(0.01) };
/// // CrossEntropy takes logits and one class index per sample.
/// let mut ce = model! { Linear(5, 3); loss CrossEntropy(0.1); optim SGD(0.01) };
///
/// let losses = [
///     mse.train_step(&x, &rows),
///     l1.train_step(&x, &rows),
///     huber.train_step(&x, &rows),
///     bce.train_step(&x, &rows),
///     bce1.train_step(&x, &[[1.0], [0.0], [1.0], [0.0]][..]),
///     ce.train_step(&x, &[0usize, 1, 2, 1]),
/// ];
/// assert!(losses.iter().all(|loss| loss.is_finite()));
/// ```
///
/// `CrossEntropy` and `BCE` take logits and apply log-softmax or the sigmoid
/// themselves: a `Softmax` or `Sigmoid` before them would squash twice and
/// train badly, with vanishing gradients, so it does not compile:
///
/// ```compile_fail
/// # use macrograd::prelude::*;
/// // error: `CrossEntropy` expects logits, found the output of `Softmax`:
/// // remove `Softmax`, `CrossEntropy` applies log-softmax itself
/// let model = model! { Linear(4, 3); Softmax; loss CrossEntropy; optim Adam };
/// ```
///
/// ## Optimizers
///
/// The arguments are PyTorch's, with its defaults and, but for `SGD`, its
/// positional order. Every number is finite.
///
/// | optimizer | arguments and defaults | checked | PyTorch |
/// | --- | --- | --- | --- |
/// | `SGD` | `lr = 1e-3, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0` | `lr` > 0; `momentum` >= 0; `dampening`: any number; `nesterov`: a flag, `true` only with `momentum` > 0 and `dampening` = 0; `weight_decay` >= 0 | `torch.optim.SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)`: after `params`, its fourth argument is `weight_decay` and its fifth `nesterov`, the other way round here (name them) |
/// | `Adam` | `lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0, amsgrad = false` | `lr` > 0; `betas`: a pair `(beta1, beta2)`, each in `[0, 1)`; `eps` >= 0; `weight_decay` >= 0 (added to the gradient); `amsgrad`: a flag | `torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)` |
/// | `AdamW` | `lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0.01, amsgrad = false` | as `Adam`; the weight decay is decoupled (applied to the weights) | `torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False)` |
/// | `RMSprop` | `lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0, centered = false` | `lr` > 0; `alpha` in `[0, 1)` (PyTorch allows >= 1, where the step is a division by `eps` or NaN); `eps`, `weight_decay`, `momentum` >= 0; `centered`: a flag | `torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)` |
/// | `Adagrad` | `lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10` | `lr` > 0; `lr_decay`, `weight_decay`, `initial_accumulator_value`, `eps` >= 0 | `torch.optim.Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)` |
///
/// ```
/// use macrograd::prelude::*;
///
/// // Positional, in the table's order: lr, momentum, dampening, nesterov, weight_decay.
/// let mut sgd = model! { Linear(3, 1); loss MSE; optim SGD(0.05, 0.9, 0, true, 1e-4) };
/// // Named, in any order.
/// let mut sgd_named = model! {
///     Linear(3, 1);
///     loss MSE;
///     optim SGD(lr = 0.1, weight_decay = 1e-4, momentum = 0.5, dampening = 0.1)
/// };
/// let mut adam = model! {
///     Linear(3, 1);
///     loss MSE;
///     optim Adam(1e-2, betas = (0.8, 0.99), eps = 1e-6, weight_decay = 1e-4, amsgrad = true)
/// };
/// let mut adamw = model! {
///     Linear(3, 1);
///     loss MSE;
///     optim AdamW(3e-4, (0.9, 0.95), 1e-7, 0.1, true)
/// };
/// let mut rmsprop = model! {
///     Linear(3, 1);
///     loss MSE;
///     optim RMSprop(lr = 1e-3, alpha = 0.9, eps = 1e-6, weight_decay = 1e-4, momentum = 0.9, centered = true)
/// };
/// let mut adagrad = model! {
///     Linear(3, 1);
///     loss MSE;
///     optim Adagrad(0.1, lr_decay = 1e-3, weight_decay = 1e-4, initial_accumulator_value = 0.1, eps = 1e-8)
/// };
/// let mut defaults = model! { Linear(3, 1); loss MSE; optim RMSprop };
///
/// let x = Array2::<f32>::zeros((2, 3));
/// let y = Array2::<f32>::zeros((2, 1));
/// let losses = [
///     sgd.train_step(&x, &y),
///     sgd_named.train_step(&x, &y),
///     adam.train_step(&x, &y),
///     adamw.train_step(&x, &y),
///     rmsprop.train_step(&x, &y),
///     adagrad.train_step(&x, &y),
///     defaults.train_step(&x, &y),
/// ];
/// assert!(losses.iter().all(|loss| loss.is_finite()));
/// assert_eq!(sgd.learning_rate(), 0.05);
/// assert_eq!(adam.momentum(), Some(0.8)); // beta1
/// assert_eq!(defaults.learning_rate(), 1e-2);
/// ```
///
/// # Size limit
///
/// Every size a model declares (features, channels, kernel, stride,
/// padding) is at most 2^32 = 4,294,967,296, and so is each tensor it
/// allocates, in values (a weight, a bias, one sample after any layer, a
/// convolution's unfolded input of `in_channels x kh x kw x oh x ow`
/// values), a pooling window's `kh x kw`, and its parameter count in all.
/// Going over is a compile error on the offending tokens that names the
/// numbers:
///
/// ```compile_fail
/// # use macrograd::prelude::*;
/// // error: `Linear(100000000, 100000000)` has 100000000 x 100000000 =
/// // 10000000000000000 weights, more than the limit of 4294967296 (2^32) per tensor
/// let model = model! { Linear(100000000, 100000000); loss MSE; optim SGD(0.01) };
/// ```
///
/// The macro does all its arithmetic on sizes checked, so no declaration
/// can make it panic or wrap a size; the generated code holds the sizes as
/// literals and does no arithmetic of its own on them. Under the limit,
/// every size computation of the model is exact in 64 bits and no
/// allocation `new()` makes is larger than Rust allows (`isize::MAX`
/// bytes; one tensor is at most 32 GiB of `f64`), so `new()` cannot fail
/// from a size overflow. Whether the memory is there is the machine's
/// business: a model within the limit that needs more memory than the
/// machine has fails to allocate in `new()`, as any Rust program does.
///
/// The limit is one number on every host and target, chosen for 64-bit
/// targets. On a 32-bit target a size above `u32::MAX` does not compile
/// (rustc's `overflowing_literals`), and a tensor larger than that target's
/// `isize::MAX` bytes (2 GiB) fails in `new()`.
#[macro_export]
macro_rules! model {
    ($($body:tt)*) => {
        $crate::__private::model_impl! { $crate; $($body)* }
    };
}

/// The names most programs need: `use macrograd::prelude::*;`.
pub mod prelude {
    pub use crate::model;
    pub use macrograd_runtime::data::{Dataset, Preprocessing, Standardize};
    pub use macrograd_runtime::io::{load_weights, save_onnx, save_weights};
    pub use macrograd_runtime::metrics::{ConfusionMatrix, Metric};
    pub use macrograd_runtime::model::{Model, Summary};
    pub use macrograd_runtime::ndarray::{array, s, Array1, Array2, ArrayView2};
    pub use macrograd_runtime::train::{EarlyStopping, Evaluation, Fit, History, Train};
    pub use macrograd_runtime::{Error, Rng};
}

/// Not public API: the paths the code generated by `model!` uses.
#[doc(hidden)]
pub mod __private {
    pub use crate::__invalid::Invalid;
    pub use macrograd_macros::model_impl;
    pub use macrograd_runtime::data::Preprocessing;
    pub use macrograd_runtime::io::{load_weights, onnx_input};
    pub use macrograd_runtime::layers::{
        AvgPool2d, BatchNorm, BatchNormConfig, Cell, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig,
        Dropout, Embedding, GlobalPool1d, ImageShape, Last, Layer, LayerNorm, LayerNormConfig,
        LeakyReLU, Linear, MaxPool2d, Pool1d, Pool2dConfig, ReLU, Recurrent, RecurrentConfig,
        Reduce, Sigmoid, Softmax, Tanh, GELU,
    };
    pub use macrograd_runtime::loss::{CrossEntropy, Huber, BCE, L1, MSE};
    pub use macrograd_runtime::metrics::{predicted_classes, predicted_labels, Task};
    pub use macrograd_runtime::model::{
        LayerSummary, Model, NamedBuffer, NamedBufferMut, Parameter, ParameterMut, Summary,
        TargetBatch,
    };
    pub use macrograd_runtime::ndarray::{Array2, ArrayView2, ArrayViewMut2};
    pub use macrograd_runtime::onnx::{Graph as OnnxGraph, Names as OnnxNames, Value as OnnxValue};
    pub use macrograd_runtime::optim::{
        Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, RMSprop, RMSpropConfig, SGDConfig, SGD,
    };
    pub use macrograd_runtime::pass::{rng_states, set_rng_states, Inference, Pass, Slot};
    pub use macrograd_runtime::target::{Classes, Rows};
    pub use macrograd_runtime::{Buffer, Error, Result, Rng, StepState};

    /// `(name, depth, layer, output, shape, params)`: the fields of
    /// [`LayerSummary`] in order.
    pub type SummaryRow = (
        &'static str,
        usize,
        &'static str,
        usize,
        &'static [usize],
        usize,
    );

    /// A summary's rows from `(name, depth, layer, output, shape, params)`
    /// tuples, the fields of [`LayerSummary`] in order; a `const fn`, so
    /// that the rows are a constant.
    pub const fn summary_rows<const N: usize>(rows: [SummaryRow; N]) -> [LayerSummary; N] {
        let mut out = [LayerSummary {
            name: "",
            depth: 0,
            layer: "",
            output: 0,
            shape: &[],
            params: 0,
        }; N];
        let mut i = 0;
        while i < N {
            let (name, depth, layer, output, shape, params) = rows[i];
            out[i] = LayerSummary {
                name,
                depth,
                layer,
                output,
                shape,
                params,
            };
            i += 1;
        }
        out
    }

    /// The rows of `outputs` as arrays of `N` values (`predict_rows`).
    pub fn fixed_rows<T: Copy, const N: usize>(outputs: &Array2<T>) -> Vec<[T; N]> {
        outputs
            .rows()
            .into_iter()
            .map(|row| core::array::from_fn(|j| row[j]))
            .collect()
    }
}

/// Not public API: what a model that failed to compile stands in for, so
/// that only the real errors are reported. Never constructed at run time.
#[doc(hidden)]
pub mod __invalid {
    use core::marker::PhantomData;

    use macrograd_runtime::data::Preprocessing;
    use macrograd_runtime::model::{Model, Parameter, ParameterMut, Summary, TargetBatch};
    use macrograd_runtime::ndarray::{Array2, ArrayView2, ArrayViewMut2};
    use macrograd_runtime::optim::SGD;
    use macrograd_runtime::target::{IntoTargets, Target};
    use macrograd_runtime::Float;

    /// The stand-in type, with the declared element type and target kind.
    #[derive(Clone, Debug)]
    pub struct Invalid<T, K>(PhantomData<(T, K)>);

    // `Default` is implemented below; the lint wants it derived from `new`.
    #[allow(clippy::new_without_default)]
    impl<T: Float, K: Target<T>> Invalid<T, K> {
        /// Unreachable: the program that names it does not compile.
        pub fn new() -> Self {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn with_seed(_seed: u64) -> Self {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn forward_rows<const N: usize>(&mut self, _input: &[[T; N]]) -> ArrayView2<'_, T> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_rows<const N: usize, const M: usize>(
            &self,
            _input: &[[T; N]],
        ) -> Vec<[T; M]> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_proba<'a>(&self, _input: impl Into<ArrayView2<'a, T>>) -> Array2<T> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_classes<'a>(&self, _input: impl Into<ArrayView2<'a, T>>) -> Vec<usize> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_names<'a>(&self, _input: impl Into<ArrayView2<'a, T>>) -> Vec<String> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn load(_path: impl AsRef<std::path::Path>) -> macrograd_runtime::Result<Self> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn train_step_rows<'a, const N: usize>(
            &mut self,
            _input: &[[T; N]],
            _targets: impl IntoTargets<'a, T, K>,
        ) -> T
        where
            T: 'a,
        {
            unreachable!("a model with compile errors")
        }
    }

    impl<T: Float, K: Target<T>> Default for Invalid<T, K> {
        fn default() -> Self {
            unreachable!("a model with compile errors")
        }
    }

    impl<T: Float, K: Target<T>> Model for Invalid<T, K> {
        type Elem = T;
        type Target = K;
        type Optim = SGD<T>;
        const INPUTS: usize = 0;
        const OUTPUTS: usize = 0;
        const TASK: macrograd_runtime::metrics::Task = macrograd_runtime::metrics::Task::Regression;
        fn input_buffer(&mut self, _: usize) -> ArrayViewMut2<'_, T> {
            unreachable!()
        }
        fn forward_buffered(&mut self) -> ArrayView2<'_, T> {
            unreachable!()
        }
        fn compute_loss(&mut self, _: TargetBatch<'_, Self>, _: bool) -> T {
            unreachable!()
        }
        fn zero_grad(&mut self) {}
        fn backward(&mut self) {}
        fn step(&mut self) {}
        fn set_training(&mut self, _: bool) {}
        fn optimizer(&self) -> &SGD<T> {
            unreachable!()
        }
        fn optimizer_mut(&mut self) -> &mut SGD<T> {
            unreachable!()
        }
        fn visit_parameters<'a>(&'a self, _: &mut dyn FnMut(Parameter<'a, T>)) {}
        fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(ParameterMut<'_, T>)) {}
        fn summary(&self) -> Summary {
            unreachable!()
        }
        fn infer(&self, _: ArrayView2<'_, T>) -> Array2<T> {
            unreachable!()
        }
        fn preprocessing(&self) -> &Preprocessing {
            unreachable!()
        }
        fn preprocessing_mut(&mut self) -> &mut Preprocessing {
            unreachable!()
        }
    }
}
