//! Neural networks declared as a macro, checked while the program compiles,
//! and trained by a fast, complete epoch loop.
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
//! /// (the layer table, as `summary()` prints it)
//! pub struct Net {
//!     l0: Linear<f32>,        // weight [64, 10], bias [64], their gradients
//!     l1: ReLU,               // every layer is a field (Flatten excepted), activations zero-sized
//!     l2: Linear<f32>,        // weight [1, 64], bias [1]
//!     loss: MSE,
//!     optim: SGD<f32>,        // hyperparameters checked at compile time, state per parameter
//!     state: StepState,       // which of forward / loss / backward ran, for clear panics
//!     s0, s1, s2, s3: Slot,   // activations [batch, 10], [batch, 64], [batch, 64], [batch, 1]
//! }                           //   and their gradients, where a layer before needs one
//! impl Net {
//!     pub fn new() -> Self;               // PyTorch's init from seed 0
//!     pub fn with_seed(seed: u64) -> Self;
//!     pub fn forward_rows(&mut self, input: &[[f32; 10]]) -> ArrayView2<f32>;  // typed entries:
//!     pub fn predict_rows(&mut self, input: &[[f32; 10]]) -> Vec<[f32; 1]>;   // a wrong width
//!     pub fn train_step_rows(&mut self, input: &[[f32; 10]], targets: ..) -> f32; // does not compile
//! }
//! impl Model for Net {
//!     type Elem = f32; type Target = Rows; type Optim = SGD<f32>;
//!     const INPUTS: usize = 10; const OUTPUTS: usize = 1;
//!     fn forward_buffered(&mut self) -> ArrayView2<f32> {
//!         let p = Pass::for_forward(&self.state);  // batch size, training mode
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
    clip, data, datasets, gemm, history, io, layers, loss, metrics, model, model::Model, ndarray,
    optim, pass, schedule, set_threads, target, threads, train, Buffer, Error, Float, Result, Rng,
    StateError, StateProblem, StepState,
};

/// Declares a model; see the crate docs and the README for the language.
///
/// What it generates is outlined in the crate docs; the whole expansion of
/// a three-layer MLP is committed, pretty-printed, as
/// `model-macros/tests/snapshots/mlp.rs` in the repository.
///
/// With `struct Name;` it is an item (a type with `Name::new()` and
/// `Name::with_seed(seed)`); without, an expression that evaluates to a new
/// model initialised from seed 0.
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
    pub use macrograd_runtime::data::{Dataset, Standardize};
    pub use macrograd_runtime::io::{load_weights, save_weights};
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
    pub use macrograd_runtime::layers::{
        AvgPool2d, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, ImageShape, Layer,
        LayerNorm, LayerNormConfig, LeakyReLU, Linear, MaxPool2d, Pool2dConfig, ReLU, Sigmoid,
        Softmax, Tanh, GELU,
    };
    pub use macrograd_runtime::loss::{CrossEntropy, Huber, BCE, L1, MSE};
    pub use macrograd_runtime::metrics::{predicted_classes, predicted_labels, Task};
    pub use macrograd_runtime::model::{
        LayerSummary, Model, NamedBuffer, NamedBufferMut, Parameter, ParameterMut, Summary,
        TargetBatch,
    };
    pub use macrograd_runtime::ndarray::{Array2, ArrayView2, ArrayViewMut2};
    pub use macrograd_runtime::optim::{
        Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, RMSprop, RMSpropConfig, SGDConfig, SGD,
    };
    pub use macrograd_runtime::pass::{rng_states, set_rng_states, Pass, Slot};
    pub use macrograd_runtime::target::{Classes, Rows};
    pub use macrograd_runtime::{Buffer, Rng, StepState};

    /// A summary's rows from `(index, layer, output, shape, params)`
    /// tuples, the fields of [`LayerSummary`] in order; a `const fn`, so
    /// that the rows are a constant.
    pub const fn summary_rows<const N: usize>(
        rows: [(usize, &'static str, usize, &'static [usize], usize); N],
    ) -> [LayerSummary; N] {
        let mut out = [LayerSummary {
            index: 0,
            layer: "",
            output: 0,
            shape: &[],
            params: 0,
        }; N];
        let mut i = 0;
        while i < N {
            let (index, layer, output, shape, params) = rows[i];
            out[i] = LayerSummary {
                index,
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
            &mut self,
            _input: &[[T; N]],
        ) -> Vec<[T; M]> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_proba<'a>(&mut self, _input: impl Into<ArrayView2<'a, T>>) -> Array2<T> {
            unreachable!("a model with compile errors")
        }

        /// Unreachable: the program that names it does not compile.
        pub fn predict_classes<'a>(&mut self, _input: impl Into<ArrayView2<'a, T>>) -> Vec<usize> {
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
    }
}
