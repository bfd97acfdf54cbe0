//! Normalisation layers: [`BatchNorm`] (PyTorch's `BatchNorm1d` and
//! `BatchNorm2d`) and [`LayerNorm`].
//!
//! Both compute `y = (x - mean) / sqrt(var + eps) * gamma + beta`, with the
//! biased variance; they differ in what the statistics run over:
//!
//! | layer | statistics over | per |
//! | --- | --- | --- |
//! | `BatchNorm1d` (`[b, F]` rows) | the batch | feature |
//! | `BatchNorm2d` (`[b, C*H*W]` rows) | the batch and the `H*W` positions | channel |
//! | `LayerNorm` | the row | sample |
//!
//! In training mode batch norm normalises with the batch's statistics and
//! updates `running = (1 - momentum) running + momentum batch` (the
//! unbiased variance for `running_var`); in evaluation mode it normalises
//! with the running statistics. Its training backward is the full gradient
//! through the batch statistics: with `n` values per channel,
//! `x^ = (x - mean) invstd` and `g = dL/dy`,
//! `dL/dx = gamma invstd (g - mean(g) - x^ mean(g x^))`,
//! `dL/dgamma = sum(g x^)`, `dL/dbeta = sum(g)`; layer norm's is the same
//! per row, with `gamma g` in place of `g` inside the parentheses.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{BatchNorm, BatchNormConfig};
//! use ndarray::{array, Array2};
//! let mut bn = BatchNorm::<f64>::new_1d(1, BatchNormConfig::default());
//! let mut y = Array2::zeros((2, 1));
//! bn.forward(array![[1.0], [3.0]].view(), y.view_mut(), true);
//! assert!((y[[0, 0]] + 1.0).abs() < 1e-5 && (y[[1, 0]] - 1.0).abs() < 1e-5);
//! // running_mean = 0.9 * 0 + 0.1 * 2; running_var = 0.9 * 1 + 0.1 * 2.
//! assert!((bn.running_mean[0] - 0.2).abs() < 1e-12);
//! assert!((bn.running_var[0] - 1.1).abs() < 1e-12);
//! ```

use ndarray::{Array1, ArrayView2, ArrayViewMut2, Zip};

use super::conv::{combine, row, row_mut, sum, ImageShape, LANES};
use super::{export_input_error, export_tensors, Layer};
use crate::distributed;
use crate::onnx::{Attr, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::param::{
    BufferValue, BufferValueMut, NamedBuffer, NamedBufferMut, Parameter, ParameterMut,
};
use crate::Float;

/// Hyperparameters of [`BatchNorm`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// Added to the variance before the square root; default 1e-5.
    pub eps: f64,
    /// Weight of the batch statistics in the running statistics' update;
    /// default 0.1. (PyTorch's `momentum = None`, a cumulative average, is
    /// not supported.)
    pub momentum: f64,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            eps: 1e-5,
            momentum: 0.1,
        }
    }
}

/// Batch normalisation per feature (`BatchNorm1d`) or per channel
/// (`BatchNorm2d`), with a learned scale and shift (PyTorch's
/// `affine = True`, `track_running_stats = True`).
#[derive(Clone, Debug)]
pub struct BatchNorm<T> {
    /// `gamma`, `[C]`, initialised to 1.
    pub weight: Array1<T>,
    /// `beta`, `[C]`, initialised to 0.
    pub bias: Array1<T>,
    /// `dL/dgamma`.
    pub weight_grad: Array1<T>,
    /// `dL/dbeta`.
    pub bias_grad: Array1<T>,
    /// The running mean, `[C]`, initialised to 0.
    pub running_mean: Array1<T>,
    /// The running (unbiased) variance, `[C]`, initialised to 1.
    pub running_var: Array1<T>,
    /// Training-mode forward passes so far.
    pub num_batches_tracked: u64,
    config: BatchNormConfig,
    /// Values per channel and sample: 1 for `BatchNorm1d`, `H*W` for
    /// `BatchNorm2d`.
    spatial: usize,
    /// The mean and `1/sqrt(var + eps)` the last forward normalised with.
    mean: Vec<T>,
    invstd: Vec<T>,
    /// Whether those were the batch's statistics (training mode).
    batch_stats: bool,
    /// Per-channel scratch: sums, the affine map's scale and shift, the
    /// backward's per-channel factors.
    scratch: [Vec<T>; 3],
    /// The buffers of a synchronised batch norm's exchanges
    /// ([`Fit::sync_batch_norm`](crate::train::Fit::sync_batch_norm)).
    sync: (Vec<T>, distributed::Scratch<T>),
}

impl<T: Float> BatchNorm<T> {
    /// Batch norm over `channels` channels of `spatial` values each per
    /// sample: rows of `channels * spatial` values, channel-major.
    ///
    /// # Panics
    ///
    /// If `channels` or `spatial` is 0.
    #[track_caller]
    pub fn new(channels: usize, spatial: usize, config: BatchNormConfig) -> Self {
        assert!(
            channels > 0 && spatial > 0,
            "BatchNorm: expected at least 1 channel of at least 1 value, found {channels} of {spatial}"
        );
        let zeros = || Array1::zeros(channels);
        BatchNorm {
            weight: Array1::ones(channels),
            bias: zeros(),
            weight_grad: zeros(),
            bias_grad: zeros(),
            running_mean: zeros(),
            running_var: Array1::ones(channels),
            num_batches_tracked: 0,
            config,
            spatial,
            mean: vec![T::zero(); channels],
            invstd: vec![T::one(); channels],
            batch_stats: false,
            scratch: [
                vec![T::zero(); channels],
                vec![T::zero(); channels],
                vec![T::zero(); channels],
            ],
            sync: Default::default(),
        }
    }

    /// PyTorch's `BatchNorm1d(num_features)` on `[b, num_features]` rows.
    #[track_caller]
    pub fn new_1d(num_features: usize, config: BatchNormConfig) -> Self {
        Self::new(num_features, 1, config)
    }

    /// PyTorch's `BatchNorm2d(input.channels)` on `[b, C*H*W]` rows.
    #[track_caller]
    pub fn new_2d(input: ImageShape, config: BatchNormConfig) -> Self {
        Self::new(input.channels, input.plane(), config)
    }

    /// The hyperparameters.
    pub fn config(&self) -> BatchNormConfig {
        self.config
    }

    /// Channels (features for `BatchNorm1d`).
    pub fn channels(&self) -> usize {
        self.weight.len()
    }

    /// Values per sample, `C * spatial`.
    pub fn features(&self) -> usize {
        self.channels() * self.spatial
    }

    #[track_caller]
    fn check_shapes(&self, a: (usize, usize), b: (usize, usize)) {
        let f = self.features();
        assert!(
            a.1 == f && b == (a.0, f),
            "BatchNorm: expected [{0}, {f}] and [{0}, {f}], found {a:?} and {b:?}",
            a.0
        );
    }

    /// `output <- (input - mean) invstd gamma + beta` per channel. In
    /// training mode (`training`) the statistics are the batch's, and the
    /// running statistics and `num_batches_tracked` are updated; in
    /// evaluation mode they are the running ones. [`BatchNorm::backward`]
    /// uses those of the last forward.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, C*spatial]` or `output` not the same shape, a
    /// row is not contiguous, or in training mode a channel has a single
    /// value (`b * spatial = 1`: PyTorch's "expected more than 1 value per
    /// channel when training").
    #[track_caller]
    pub fn forward(
        &mut self,
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
        training: bool,
    ) {
        self.check_shapes(input.dim(), output.dim());
        let (channels, spatial) = (self.channels(), self.spatial);
        let eps = T::of(self.config.eps);
        if training {
            let [sums, _, _] = &mut self.scratch;
            // PASS 1: means.
            sums.fill(T::zero());
            for x in input.rows() {
                let x = row(x);
                if spatial == 1 {
                    for (s, &x) in sums.iter_mut().zip(x) {
                        *s = *s + x;
                    }
                } else {
                    for (s, x) in sums.iter_mut().zip(x.chunks_exact(spatial)) {
                        *s = *s + sum(x);
                    }
                }
            }
            // Synchronised batch norm: the sums and count of the whole
            // batch, over every process.
            let n = match distributed::batch_norm_sync(sums, false, &mut self.sync.1) {
                Some((_, samples)) => samples * spatial,
                None => input.nrows() * spatial,
            };
            assert!(
                n > 1,
                "BatchNorm: expected more than 1 value per channel when training, found {n} \
                 (a batch of {} samples of {spatial} values per channel)",
                input.nrows()
            );
            let count = T::of(n as f64);
            for (m, &s) in self.mean.iter_mut().zip(sums.iter()) {
                *m = s / count;
            }
            // PASS 2: sums of squared deviations (two passes: no cancellation).
            sums.fill(T::zero());
            for x in input.rows() {
                let x = row(x);
                if spatial == 1 {
                    for ((s, &x), &m) in sums.iter_mut().zip(x).zip(&self.mean) {
                        *s = *s + (x - m) * (x - m);
                    }
                } else {
                    for ((s, x), &m) in sums.iter_mut().zip(x.chunks_exact(spatial)).zip(&self.mean)
                    {
                        *s = *s + sum_pairs(x, x, |x, _| (x - m) * (x - m));
                    }
                }
            }
            distributed::batch_norm_sync(sums, false, &mut self.sync.1);
            let momentum = T::of(self.config.momentum);
            let keep = T::one() - momentum;
            let unbiased = T::of(n as f64 - 1.0);
            for (c, &squares) in sums.iter().enumerate() {
                self.invstd[c] = T::one() / (squares / count + eps).sqrt();
                self.running_mean[c] = keep * self.running_mean[c] + momentum * self.mean[c];
                self.running_var[c] = keep * self.running_var[c] + momentum * (squares / unbiased);
            }
            self.num_batches_tracked += 1;
        } else {
            for c in 0..channels {
                self.mean[c] = self.running_mean[c];
                self.invstd[c] = T::one() / (self.running_var[c] + eps).sqrt();
            }
        }
        self.batch_stats = training;
        // PASS 3: y = x scale + shift, scale = gamma invstd, shift = beta - mean scale.
        let [scale, shift, _] = &mut self.scratch;
        for c in 0..channels {
            scale[c] = self.weight[c] * self.invstd[c];
            shift[c] = self.bias[c] - self.mean[c] * scale[c];
        }
        affine(input, output.view_mut(), scale, shift, spatial);
    }

    /// [`BatchNorm::forward`] in evaluation mode through a shared
    /// reference: the same numbers, from the running statistics, with
    /// scratch of its own; no state changes.
    ///
    /// # Panics
    ///
    /// As [`BatchNorm::forward`].
    #[track_caller]
    pub fn infer(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        self.check_shapes(input.dim(), output.dim());
        let eps = T::of(self.config.eps);
        let (scale, shift): (Vec<T>, Vec<T>) = (0..self.channels())
            .map(|c| {
                let invstd = T::one() / (self.running_var[c] + eps).sqrt();
                let scale = self.weight[c] * invstd;
                (scale, self.bias[c] - self.running_mean[c] * scale)
            })
            .unzip();
        affine(input, output.view_mut(), &scale, &shift, self.spatial);
    }

    /// Adds (`accumulate`) or writes `dL/dgamma` and `dL/dbeta`, and writes
    /// `grad_input = dL/dx` when asked, for the statistics of the last
    /// forward: through the batch statistics after a training forward, a
    /// fixed affine map after an evaluation one.
    ///
    /// `input` must be the last forward's input.
    ///
    /// # Panics
    ///
    /// If the shapes disagree with `[b, C*spatial]`, or a row is not
    /// contiguous.
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        self.check_shapes(input.dim(), grad_output.dim());
        if let Some(gi) = &grad_input {
            self.check_shapes(input.dim(), gi.dim());
        }
        let (channels, spatial) = (self.channels(), self.spatial);
        let [sum_g, dot, scale] = &mut self.scratch;
        // PASS 1: per channel, sum(g) and sum(g (x - mean)).
        sum_g.fill(T::zero());
        dot.fill(T::zero());
        for (x, g) in input.rows().into_iter().zip(grad_output.rows()) {
            let (x, g) = (row(x), row(g));
            if spatial == 1 {
                let sums = sum_g.iter_mut().zip(dot.iter_mut());
                for ((((sg, d), &x), &g), &m) in sums.zip(x).zip(g).zip(&self.mean) {
                    *sg = *sg + g;
                    *d = *d + (x - m) * g;
                }
                continue;
            }
            for ((((x, g), &m), sg), d) in x
                .chunks_exact(spatial)
                .zip(g.chunks_exact(spatial))
                .zip(&self.mean)
                .zip(sum_g.iter_mut())
                .zip(dot.iter_mut())
            {
                *sg = *sg + sum(g);
                *d = *d + sum_pairs(x, g, |x, g| (x - m) * g);
            }
        }
        // dgamma = sum(g x^) = dot invstd, dbeta = sum(g).
        for c in 0..channels {
            let (dw, db) = (dot[c] * self.invstd[c], sum_g[c]);
            if accumulate {
                self.weight_grad[c] = self.weight_grad[c] + dw;
                self.bias_grad[c] = self.bias_grad[c] + db;
            } else {
                self.weight_grad[c] = dw;
                self.bias_grad[c] = db;
            }
        }
        let Some(mut grad_input) = grad_input else {
            return;
        };
        let mut n = input.nrows() * spatial;
        if self.batch_stats {
            // Synchronised batch norm: the sums over the whole batch, each
            // process's weighed by its share of it (the scale of the
            // batch's mean loss), brought back to this process's scale.
            let (both, scratch) = &mut self.sync;
            both.clear();
            both.extend_from_slice(sum_g);
            both.extend_from_slice(dot);
            if let Some((share, samples)) = distributed::batch_norm_sync(both, true, scratch) {
                let back = T::of(1.0 / share);
                for c in 0..channels {
                    sum_g[c] = both[c] * back;
                    dot[c] = both[channels + c] * back;
                }
                n = samples * spatial;
            }
        }
        // PASS 2: dx = (g - mean(g) - (x - mean) invstd^2 mean(g (x - mean))) gamma invstd,
        // without the two batch terms after an evaluation forward. The
        // scratch holds, per channel, mean(g), invstd^2 mean(g (x - mean))
        // and gamma invstd.
        let n = T::of(n as f64);
        for c in 0..channels {
            let invstd = self.invstd[c];
            if self.batch_stats {
                sum_g[c] = sum_g[c] / n;
                dot[c] = dot[c] / n * invstd * invstd;
            } else {
                sum_g[c] = T::zero();
                dot[c] = T::zero();
            }
            scale[c] = self.weight[c] * invstd;
        }
        let per_channel = self.mean.iter().zip(&*sum_g).zip(&*dot).zip(&*scale);
        for ((x, g), dx) in input
            .rows()
            .into_iter()
            .zip(grad_output.rows())
            .zip(grad_input.rows_mut())
        {
            let (x, g, dx) = (row(x), row(g), row_mut(dx));
            if spatial == 1 {
                for (((dx, &x), &g), (((&m, &mean_g), &proj), &scale)) in
                    dx.iter_mut().zip(x).zip(g).zip(per_channel.clone())
                {
                    *dx = (g - mean_g - (x - m) * proj) * scale;
                }
                continue;
            }
            for (((x, g), dx), (((&m, &mean_g), &proj), &scale)) in x
                .chunks_exact(spatial)
                .zip(g.chunks_exact(spatial))
                .zip(dx.chunks_exact_mut(spatial))
                .zip(per_channel.clone())
            {
                for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(g) {
                    *dx = (g - mean_g - (x - m) * proj) * scale;
                }
            }
        }
    }

    /// Number of parameter tensors: 2 (weight and bias).
    pub fn tensors(&self) -> usize {
        2
    }

    /// One optimizer update of the weight (as parameter `first`) and the
    /// bias (as parameter `first + 1`).
    #[inline]
    pub fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        step_pair(
            optimizer,
            first,
            [&mut self.weight, &mut self.bias],
            [&self.weight_grad, &self.bias_grad],
        );
    }

    /// Calls `f` on the weight and the bias, named `names[0]`, `names[1]`;
    /// gradients are `None` unless `has_grads`.
    pub fn visit_parameters<'a>(
        &'a self,
        names: [&'static str; 2],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        visit_pair(
            names,
            [&self.weight, &self.bias],
            [&self.weight_grad, &self.bias_grad],
            has_grads,
            f,
        );
    }

    /// Calls `f` on the weight and the bias, writable.
    pub fn visit_parameters_mut(
        &mut self,
        names: [&'static str; 2],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        visit_pair_mut(
            names,
            [&mut self.weight, &mut self.bias],
            [&mut self.weight_grad, &mut self.bias_grad],
            f,
        );
    }

    /// Calls `f` on `running_mean`, `running_var` and
    /// `num_batches_tracked`, named `names[0..3]` (PyTorch's state-dict
    /// order, after the weight and bias).
    pub fn visit_buffers<'a>(
        &'a self,
        names: [&'static str; 3],
        f: &mut dyn FnMut(NamedBuffer<'a, T>),
    ) {
        f(NamedBuffer {
            name: names[0],
            value: BufferValue::Float(self.running_mean.view().into_dyn()),
        });
        f(NamedBuffer {
            name: names[1],
            value: BufferValue::Float(self.running_var.view().into_dyn()),
        });
        f(NamedBuffer {
            name: names[2],
            value: BufferValue::Count(self.num_batches_tracked),
        });
    }

    /// Calls `f` on the buffers, writable.
    pub fn visit_buffers_mut(
        &mut self,
        names: [&'static str; 3],
        f: &mut dyn FnMut(NamedBufferMut<'_, T>),
    ) {
        f(NamedBufferMut {
            name: names[0],
            value: BufferValueMut::Float(self.running_mean.view_mut().into_dyn()),
        });
        f(NamedBufferMut {
            name: names[1],
            value: BufferValueMut::Float(self.running_var.view_mut().into_dyn()),
        });
        f(NamedBufferMut {
            name: names[2],
            value: BufferValueMut::Count(&mut self.num_batches_tracked),
        });
    }
}

/// Hyperparameters of [`LayerNorm`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormConfig {
    /// Added to the variance before the square root; default 1e-5.
    pub eps: f64,
}

impl Default for LayerNormConfig {
    fn default() -> Self {
        LayerNormConfig { eps: 1e-5 }
    }
}

/// Layer normalisation over each sample's row (PyTorch's `LayerNorm` with
/// `normalized_shape` the whole sample and `elementwise_affine = True`):
/// the same in training and evaluation mode.
#[derive(Clone, Debug)]
pub struct LayerNorm<T> {
    /// `gamma`, `[features]`, initialised to 1.
    pub weight: Array1<T>,
    /// `beta`, `[features]`, initialised to 0.
    pub bias: Array1<T>,
    /// `dL/dgamma`.
    pub weight_grad: Array1<T>,
    /// `dL/dbeta`.
    pub bias_grad: Array1<T>,
    config: LayerNormConfig,
    /// The sample's image shape, for [`LayerNorm::new_2d`]: the parameters
    /// are then visited as `[C, H, W]`.
    image: Option<ImageShape>,
}

impl<T: Float> LayerNorm<T> {
    /// Layer norm over rows of `features` values.
    ///
    /// # Panics
    ///
    /// If `features` is 0.
    #[track_caller]
    pub fn new(features: usize, config: LayerNormConfig) -> Self {
        assert!(features > 0, "LayerNorm: expected at least 1 feature");
        LayerNorm {
            weight: Array1::ones(features),
            bias: Array1::zeros(features),
            weight_grad: Array1::zeros(features),
            bias_grad: Array1::zeros(features),
            config,
            image: None,
        }
    }

    /// PyTorch's `LayerNorm([C, H, W])` over images of shape `input`:
    /// statistics over each whole sample, a scale and a shift per value,
    /// visited as `[C, H, W]` tensors.
    ///
    /// # Panics
    ///
    /// If the image is empty.
    #[track_caller]
    pub fn new_2d(input: ImageShape, config: LayerNormConfig) -> Self {
        LayerNorm {
            image: Some(input),
            ..Self::new(input.len(), config)
        }
    }

    /// PyTorch's `normalized_shape`: `[features]`, or `[C, H, W]` for
    /// [`LayerNorm::new_2d`].
    pub fn normalized_shape(&self) -> Vec<usize> {
        let (dims, len) = self.dims();
        dims[..len].to_vec()
    }

    /// [`LayerNorm::normalized_shape`] without allocating: the sizes and
    /// how many of them there are.
    fn dims(&self) -> ([usize; 3], usize) {
        match self.image {
            Some(image) => ([image.channels, image.height, image.width], 3),
            None => ([self.features(), 0, 0], 1),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> LayerNormConfig {
        self.config
    }

    /// Values per sample.
    pub fn features(&self) -> usize {
        self.weight.len()
    }

    #[track_caller]
    fn check_shapes(&self, a: (usize, usize), b: (usize, usize)) {
        let f = self.features();
        assert!(
            a.1 == f && b == (a.0, f),
            "LayerNorm: expected [{0}, {f}] and [{0}, {f}], found {a:?} and {b:?}",
            a.0
        );
    }

    /// A row's mean and `1/sqrt(var + eps)` (biased variance, two passes).
    #[inline]
    fn stats(&self, x: &[T]) -> (T, T) {
        let n = T::of(x.len() as f64);
        let mean = sum(x) / n;
        let squares = sum_pairs(x, x, |v, _| (v - mean) * (v - mean));
        (
            mean,
            T::one() / (squares / n + T::of(self.config.eps)).sqrt(),
        )
    }

    /// `output <- (input - mean) invstd gamma + beta`, row by row.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, features]` or `output` not the same shape, or
    /// a row is not contiguous.
    #[track_caller]
    pub fn forward(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        self.check_shapes(input.dim(), output.dim());
        let (weight, bias) = (self.weight.as_slice(), self.bias.as_slice());
        let (Some(weight), Some(bias)) = (weight, bias) else {
            unreachable!("a layer's own arrays are contiguous")
        };
        for (x, y) in input.rows().into_iter().zip(output.rows_mut()) {
            let (x, y) = (row(x), row_mut(y));
            let (mean, invstd) = self.stats(x);
            for (((y, &x), &w), &b) in y.iter_mut().zip(x).zip(weight).zip(bias) {
                *y = (x - mean) * invstd * w + b;
            }
        }
    }

    /// Adds (`accumulate`) or writes `dL/dgamma` and `dL/dbeta`, and writes
    /// `grad_input = dL/dx` when asked; the row statistics are computed
    /// again from `input`, the forward's input.
    ///
    /// # Panics
    ///
    /// If the shapes disagree with `[b, features]`, or a row is not
    /// contiguous.
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        self.check_shapes(input.dim(), grad_output.dim());
        if let Some(gi) = &grad_input {
            self.check_shapes(input.dim(), gi.dim());
        }
        if !accumulate {
            self.weight_grad.fill(T::zero());
            self.bias_grad.fill(T::zero());
        }
        let n = T::of(self.features() as f64);
        for (i, (x, g)) in input.rows().into_iter().zip(grad_output.rows()).enumerate() {
            let (x, g) = (row(x), row(g));
            let (mean, invstd) = self.stats(x);
            // dgamma += g x^, dbeta += g.
            Zip::from(&mut self.weight_grad)
                .and(&mut self.bias_grad)
                .and(x)
                .and(g)
                .for_each(|dw, db, &x, &g| {
                    *dw = *dw + g * (x - mean) * invstd;
                    *db = *db + g;
                });
            if let Some(grad_input) = &mut grad_input {
                // With h = gamma g: dx = invstd (h - mean(h) - x^ mean(h x^)).
                let weight = self
                    .weight
                    .as_slice()
                    .expect("a layer's own arrays are contiguous");
                let sum_wg = sum_pairs(weight, g, |w, g| w * g);
                let sum_wgx = sum_triples(weight, g, x, |w, g, x| w * g * (x - mean));
                let (mean_wg, mean_wgx) = (sum_wg / n, sum_wgx * invstd / n);
                let dx = row_mut(grad_input.row_mut(i));
                for (((dx, &w), &x), &g) in dx.iter_mut().zip(weight).zip(x).zip(g) {
                    let xhat = (x - mean) * invstd;
                    *dx = invstd * (w * g - mean_wg - xhat * mean_wgx);
                }
            }
        }
    }

    /// Number of parameter tensors: 2 (weight and bias).
    pub fn tensors(&self) -> usize {
        2
    }

    /// One optimizer update of the weight (as parameter `first`) and the
    /// bias (as parameter `first + 1`).
    #[inline]
    pub fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        step_pair(
            optimizer,
            first,
            [&mut self.weight, &mut self.bias],
            [&self.weight_grad, &self.bias_grad],
        );
    }

    /// Calls `f` on the weight and the bias, named `names[0]`, `names[1]`,
    /// shaped as [`LayerNorm::normalized_shape`]; gradients are `None`
    /// unless `has_grads`.
    pub fn visit_parameters<'a>(
        &'a self,
        names: [&'static str; 2],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        let (dims, len) = self.dims();
        let shape = &dims[..len];
        visit_pair(
            names,
            [&self.weight, &self.bias],
            [&self.weight_grad, &self.bias_grad],
            has_grads,
            &mut |p: Parameter<'a, T>| {
                f(Parameter {
                    name: p.name,
                    value: reshape(p.value, shape),
                    grad: p.grad.map(|g| reshape(g, shape)),
                })
            },
        );
    }

    /// Calls `f` on the weight and the bias, writable, shaped as
    /// [`LayerNorm::normalized_shape`].
    pub fn visit_parameters_mut(
        &mut self,
        names: [&'static str; 2],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        let (dims, len) = self.dims();
        let shape = &dims[..len];
        visit_pair_mut(
            names,
            [&mut self.weight, &mut self.bias],
            [&mut self.weight_grad, &mut self.bias_grad],
            &mut |p: ParameterMut<'_, T>| {
                f(ParameterMut {
                    name: p.name,
                    value: reshape_mut(p.value, shape),
                    grad: reshape_mut(p.grad, shape),
                })
            },
        );
    }
}

/// `sum_i f(a_i, b_i)` in [`LANES`] interleaved partial sums, as `sum`.
#[inline(always)]
fn sum_pairs<T: Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut part = [T::zero(); LANES];
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail = chunks_a.remainder().iter().zip(chunks_b.remainder());
    for (a, b) in chunks_a.zip(chunks_b) {
        for ((p, &a), &b) in part.iter_mut().zip(a).zip(b) {
            *p = *p + f(a, b);
        }
    }
    let mut total = combine(part);
    for (&a, &b) in tail {
        total = total + f(a, b);
    }
    total
}

/// `sum_i f(a_i, b_i, c_i)`, as [`sum_pairs`].
#[inline(always)]
fn sum_triples<T: Float>(a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) -> T {
    let mut part = [T::zero(); LANES];
    let chunks = a
        .chunks_exact(LANES)
        .zip(b.chunks_exact(LANES))
        .zip(c.chunks_exact(LANES));
    let whole = a.len().min(b.len()).min(c.len()) / LANES * LANES;
    for ((a, b), c) in chunks {
        for (((p, &a), &b), &c) in part.iter_mut().zip(a).zip(b).zip(c) {
            *p = *p + f(a, b, c);
        }
    }
    let mut total = combine(part);
    for ((&a, &b), &c) in a[whole..].iter().zip(&b[whole..]).zip(&c[whole..]) {
        total = total + f(a, b, c);
    }
    total
}

/// A contiguous vector viewed as `shape` (same length).
fn reshape<'a, T>(view: ndarray::ArrayViewD<'a, T>, shape: &[usize]) -> ndarray::ArrayViewD<'a, T> {
    view.into_shape_with_order(ndarray::IxDyn(shape))
        .expect("a layer's own arrays are contiguous and sized by the shape")
}

/// A contiguous vector viewed as `shape`, writable.
fn reshape_mut<'a, T>(
    view: ndarray::ArrayViewMutD<'a, T>,
    shape: &[usize],
) -> ndarray::ArrayViewMutD<'a, T> {
    view.into_shape_with_order(ndarray::IxDyn(shape))
        .expect("a layer's own arrays are contiguous and sized by the shape")
}

/// The optimizer over a weight and a bias vector.
#[inline]
fn step_pair<T: Float, O: Optimizer<T>>(
    optimizer: &mut O,
    first: usize,
    values: [&mut Array1<T>; 2],
    grads: [&Array1<T>; 2],
) {
    for (i, (value, grad)) in values.into_iter().zip(grads).enumerate() {
        let (Some(value), Some(grad)) = (value.as_slice_mut(), grad.as_slice()) else {
            unreachable!("a layer's own arrays are contiguous")
        };
        optimizer.update(first + i, value, grad);
    }
}

fn visit_pair<'a, T: Float>(
    names: [&'static str; 2],
    values: [&'a Array1<T>; 2],
    grads: [&'a Array1<T>; 2],
    has_grads: bool,
    f: &mut dyn FnMut(Parameter<'a, T>),
) {
    for ((name, value), grad) in names.into_iter().zip(values).zip(grads) {
        f(Parameter {
            name,
            value: value.view().into_dyn(),
            grad: has_grads.then(|| grad.view().into_dyn()),
        });
    }
}

fn visit_pair_mut<T: Float>(
    names: [&'static str; 2],
    values: [&mut Array1<T>; 2],
    grads: [&mut Array1<T>; 2],
    f: &mut dyn FnMut(ParameterMut<'_, T>),
) {
    for ((name, value), grad) in names.into_iter().zip(values).zip(grads) {
        f(ParameterMut {
            name,
            value: value.view_mut().into_dyn(),
            grad: grad.view_mut().into_dyn(),
        });
    }
}

/// `y = x scale[c] + shift[c]` for every value `x` of channel `c`, rows of
/// `C * spatial` values.
fn affine<T: Float>(
    input: ArrayView2<'_, T>,
    mut output: ArrayViewMut2<'_, T>,
    scale: &[T],
    shift: &[T],
    spatial: usize,
) {
    for (x, y) in input.rows().into_iter().zip(output.rows_mut()) {
        let (x, y) = (row(x), row_mut(y));
        if spatial == 1 {
            for (((y, &x), &a), &b) in y.iter_mut().zip(x).zip(scale).zip(shift) {
                *y = x * a + b;
            }
            continue;
        }
        for (((x, y), &a), &b) in x
            .chunks_exact(spatial)
            .zip(y.chunks_exact_mut(spatial))
            .zip(scale)
            .zip(shift)
        {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = x * a + b;
            }
        }
    }
}

impl<T: Float> Layer<T> for BatchNorm<T> {
    /// `BatchNormalization` with the running statistics (evaluation
    /// mode), over the features `[C]` or the channels of `[C, H, W]`.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let c = self.weight.len();
        let fits = match input.shape.as_slice() {
            [n] => *n == c && self.spatial == 1,
            [ch, h, w] => *ch == c && h * w == self.spatial,
            _ => false,
        };
        if !fits || input.elem != graph.float() {
            return Err(export_input_error("BatchNorm", names, input));
        }
        export_tensors(self, graph, names)?;
        let inputs = [
            input.name.as_str(),
            names.parameter(0)?,
            names.parameter(1)?,
            names.buffer(0)?,
            names.buffer(1)?,
        ];
        let eps = Attr::Float(self.config.eps as f32);
        let hint = format!("{}.BatchNormalization", names.path);
        let name = graph.node("BatchNormalization", &hint, &inputs, vec![("epsilon", eps)]);
        Ok(Value {
            name,
            ..input.clone()
        })
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
        BatchNorm::forward(self, input, output, training);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        BatchNorm::infer(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let _ = output;
        BatchNorm::backward(self, input, grad_output, grad_input, accumulate);
    }

    #[inline]
    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        BatchNorm::step(self, optimizer, first);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        BatchNorm::visit_parameters(self, [names[0], names[1]], has_grads, f);
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        BatchNorm::visit_parameters_mut(self, [names[0], names[1]], f);
    }

    fn visit_buffers<'a>(&'a self, names: &[&'static str], f: &mut dyn FnMut(NamedBuffer<'a, T>)) {
        BatchNorm::visit_buffers(self, [names[0], names[1], names[2]], f);
    }

    fn visit_buffers_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(NamedBufferMut<'_, T>),
    ) {
        BatchNorm::visit_buffers_mut(self, [names[0], names[1], names[2]], f);
    }
}

impl<T: Float> Layer<T> for LayerNorm<T> {
    /// `LayerNormalization` over the whole sample (`axis = 1`), its scale
    /// and shift shaped as the sample.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let (dims, len) = self.dims();
        if input.shape != dims[..len] || input.elem != graph.float() {
            return Err(export_input_error("LayerNorm", names, input));
        }
        export_tensors(self, graph, names)?;
        let inputs = [
            input.name.as_str(),
            names.parameter(0)?,
            names.parameter(1)?,
        ];
        let attrs = vec![
            ("axis", Attr::Int(1)),
            ("epsilon", Attr::Float(self.config.eps as f32)),
        ];
        let hint = format!("{}.LayerNormalization", names.path);
        let name = graph.node("LayerNormalization", &hint, &inputs, attrs);
        Ok(Value {
            name,
            ..input.clone()
        })
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
        let _ = training;
        LayerNorm::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        LayerNorm::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let _ = output;
        LayerNorm::backward(self, input, grad_output, grad_input, accumulate);
    }

    #[inline]
    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        LayerNorm::step(self, optimizer, first);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        LayerNorm::visit_parameters(self, [names[0], names[1]], has_grads, f);
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        LayerNorm::visit_parameters_mut(self, [names[0], names[1]], f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn run(bn: &mut BatchNorm<f64>, x: &Array2<f64>, training: bool) -> Array2<f64> {
        let mut y = Array2::from_elem(x.raw_dim(), f64::NAN);
        bn.forward(x.view(), y.view_mut(), training);
        y
    }

    #[test]
    fn training_updates_the_running_statistics_and_evaluation_uses_them() {
        // BatchNorm2d over 2 channels of 1x2 images, a batch of 2.
        let mut bn = BatchNorm::new_2d(ImageShape::new(2, 1, 2), BatchNormConfig::default());
        let x = array![[1.0, 3.0, 10.0, 10.0], [5.0, 7.0, 20.0, 20.0]];
        // Evaluation before any training: running stats 0 and 1, nothing moves.
        let y = run(&mut bn, &x, false);
        let s = 1.0 / (1.0 + 1e-5_f64).sqrt();
        assert!((&y - &(&x * s)).iter().all(|d| d.abs() < 1e-12));
        assert_eq!(bn.num_batches_tracked, 0);
        assert_eq!(bn.running_mean, array![0.0, 0.0]);
        assert_eq!(bn.running_var, array![1.0, 1.0]);
        // Training: channel 0 has mean 4, biased var 5, unbiased 20/3;
        // channel 1 mean 15, biased var 25, unbiased 100/3.
        let y = run(&mut bn, &x, true);
        assert_eq!(bn.num_batches_tracked, 1);
        let rm = [0.4, 1.5];
        let rv = [0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 100.0 / 3.0];
        for c in 0..2 {
            assert!((bn.running_mean[c] - rm[c]).abs() < 1e-12);
            assert!((bn.running_var[c] - rv[c]).abs() < 1e-12);
        }
        let expect0 = (1.0 - 4.0) / (5.0 + 1e-5_f64).sqrt();
        assert!((y[[0, 0]] - expect0).abs() < 1e-12);
        // Each channel of the training output has mean 0.
        assert!((y[[0, 0]] + y[[0, 1]] + y[[1, 0]] + y[[1, 1]]).abs() < 1e-12);
        // Evaluation now normalises with the running statistics, and leaves
        // them alone.
        let y = run(&mut bn, &x, false);
        let expect = (x[[1, 2]] - rm[1]) / (rv[1] + 1e-5).sqrt();
        assert!((y[[1, 2]] - expect).abs() < 1e-12);
        assert_eq!(bn.num_batches_tracked, 1);
        assert!((bn.running_mean[1] - rm[1]).abs() < 1e-12);
    }

    #[test]
    fn evaluation_backward_is_the_fixed_affine_map() {
        let mut bn = BatchNorm::new_1d(3, BatchNormConfig::default());
        bn.weight.assign(&array![2.0, -1.0, 0.5]);
        bn.running_var.assign(&array![4.0, 1.0, 0.25]);
        let x = array![[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]];
        run(&mut bn, &x, false);
        let g = array![[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]];
        let mut dx = Array2::zeros((2, 3));
        bn.backward(x.view(), g.view(), Some(dx.view_mut()), false);
        for c in 0..3 {
            let scale = bn.weight[c] / (bn.running_var[c] + 1e-5).sqrt();
            for n in 0..2 {
                assert!((dx[[n, c]] - g[[n, c]] * scale).abs() < 1e-12);
            }
        }
        assert_eq!(bn.bias_grad, array![3.0, 1.0, 0.0]);
    }

    #[test]
    fn buffers_are_visited_with_their_names() {
        let mut bn = BatchNorm::<f32>::new_1d(4, BatchNormConfig::default());
        let mut seen = Vec::new();
        bn.visit_buffers(
            ["1.running_mean", "1.running_var", "1.num_batches_tracked"],
            &mut |b| {
                seen.push(match b.value {
                    BufferValue::Float(v) => (b.name, v.sum() as u64),
                    BufferValue::Count(n) => (b.name, n),
                })
            },
        );
        assert_eq!(
            seen,
            [
                ("1.running_mean", 0),
                ("1.running_var", 4),
                ("1.num_batches_tracked", 0)
            ]
        );
        bn.visit_buffers_mut(["m", "v", "n"], &mut |b| {
            if let BufferValueMut::Count(n) = b.value {
                *n = 7;
            }
        });
        assert_eq!(bn.num_batches_tracked, 7);
    }

    #[test]
    #[should_panic(expected = "more than 1 value per channel")]
    fn training_on_one_value_per_channel_is_rejected() {
        let mut bn = BatchNorm::new_1d(2, BatchNormConfig::default());
        run(&mut bn, &array![[1.0, 2.0]], true);
    }
}
