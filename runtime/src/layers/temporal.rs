//! Layers over the time axis of a sequence `[T, F]` (stored step after
//! step): [`Conv1d`], the windowed pools [`Pool1d`] (max or average) and
//! the global pools [`GlobalPool1d`].
//!
//! A sequence keeps its features last, as the recurrent layers read it;
//! PyTorch's `nn.Conv1d` and pools read `[N, C, L]`, channels first. So
//! `Conv1d(F, C, k)` here is PyTorch's on `x.transpose(1, 2)`, its result
//! transposed back: the same weight `[C, F, k]`, the same numbers. Output
//! lengths follow PyTorch: `(T + 2 padding - k) / stride + 1`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{Conv1d, Conv1dConfig};
//! use macrograd::Rng;
//! use ndarray::Array2;
//! let config = Conv1dConfig { steps: 5, in_channels: 2, out_channels: 3, kernel_size: 3, stride: 1, padding: 1 };
//! let mut conv = Conv1d::<f64>::new(config, &mut Rng::new(0));
//! let mut y = Array2::zeros((1, 5 * 3));
//! conv.forward(Array2::zeros((1, 10)).view(), y.view_mut());
//! assert_eq!(y.ncols(), conv.out_features());
//! ```

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::{export_input_error, export_tensors, Layer};
use crate::gemm::gemm;
use crate::onnx::{window_attrs, Attr, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::param::{Parameter, ParameterMut};
use crate::{Float, Rng};

/// The sizes of a [`Conv1d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dConfig {
    /// Steps per input sequence, `T`.
    pub steps: usize,
    /// Features per step, `F`.
    pub in_channels: usize,
    /// Features per output step.
    pub out_channels: usize,
    /// Steps per window.
    pub kernel_size: usize,
    /// Steps between windows.
    pub stride: usize,
    /// Zero steps added at each end.
    pub padding: usize,
}

impl Conv1dConfig {
    /// Output steps: `(T + 2 padding - k) / stride + 1`.
    ///
    /// # Panics
    ///
    /// If the window does not fit or the stride is 0 (`model!` checks both).
    pub fn out_steps(&self) -> usize {
        window_steps(self.steps, self.kernel_size, self.stride, self.padding)
    }
}

/// `(steps + 2 padding - kernel) / stride + 1`, checked.
#[track_caller]
fn window_steps(steps: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    let padded = steps + 2 * padding;
    assert!(
        kernel >= 1 && stride >= 1 && kernel <= padded,
        "a window of {kernel} steps (stride {stride}) does not fit {steps} steps padded by {padding}"
    );
    (padded - kernel) / stride + 1
}

/// A 1-D convolution over time, with its weight, bias, gradients and the
/// windows of its last batch.
#[derive(Clone, Debug)]
pub struct Conv1d<T> {
    config: Conv1dConfig,
    /// `[out, in * k]`: PyTorch's `[out, in, k]`, row-major.
    pub weight: Array2<T>,
    /// `[out]`.
    pub bias: Array1<T>,
    /// `dL/dweight`.
    pub weight_grad: Array2<T>,
    /// `dL/dbias`.
    pub bias_grad: Array1<T>,
    /// `[b T', in k]`: every window, `(channel, offset)` ordered.
    windows: Vec<T>,
    /// Its gradient.
    windows_grad: Vec<T>,
}

impl<T: Float> Conv1d<T> {
    /// PyTorch's initialisation: weight and bias uniform in `[-s, s)`,
    /// `s = 1/sqrt(in * k)`, the weight first.
    pub fn new(config: Conv1dConfig, rng: &mut Rng) -> Self {
        let fan_in = config.in_channels * config.kernel_size;
        let s = 1.0 / (fan_in as f64).sqrt();
        let weight =
            Array2::from_shape_simple_fn((config.out_channels, fan_in), || T::of(s * rng.sym()));
        let bias = Array1::from_shape_simple_fn(config.out_channels, || T::of(s * rng.sym()));
        let _ = config.out_steps();
        Conv1d {
            config,
            weight_grad: Array2::zeros(weight.raw_dim()),
            bias_grad: Array1::zeros(config.out_channels),
            weight,
            bias,
            windows: Vec::new(),
            windows_grad: Vec::new(),
        }
    }

    /// Values per input sample, `T F`.
    pub fn in_features(&self) -> usize {
        self.config.steps * self.config.in_channels
    }

    /// Values per output sample, `T' out`.
    pub fn out_features(&self) -> usize {
        self.config.out_steps() * self.config.out_channels
    }

    /// The window rows of `input` into `windows`.
    fn unfold(&self, input: ArrayView2<'_, T>, windows: &mut [T]) {
        let c = self.config;
        let (t_out, width) = (c.out_steps(), c.in_channels * c.kernel_size);
        for (s, x) in input.rows().into_iter().enumerate() {
            for t in 0..t_out {
                let row = &mut windows[(s * t_out + t) * width..(s * t_out + t + 1) * width];
                for f in 0..c.in_channels {
                    for j in 0..c.kernel_size {
                        let src = (t * c.stride + j).checked_sub(c.padding);
                        row[f * c.kernel_size + j] = match src {
                            Some(step) if step < c.steps => x[step * c.in_channels + f],
                            _ => T::zero(),
                        };
                    }
                }
            }
        }
    }

    /// `output <- conv(input)`: `[b, T F] -> [b, T' out]`.
    ///
    /// # Panics
    ///
    /// If the shapes are not the layer's or `output` is not contiguous.
    #[track_caller]
    pub fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut windows = std::mem::take(&mut self.windows);
        self.forward_with(input, output, &mut windows);
        self.windows = windows;
    }

    #[track_caller]
    fn forward_with(
        &self,
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
        windows: &mut Vec<T>,
    ) {
        let c = self.config;
        let batch = input.nrows();
        assert!(
            input.ncols() == self.in_features() && output.dim() == (batch, self.out_features()),
            "Conv1d: expected input [{batch}, {}] and output [{batch}, {}], found {:?} and {:?}",
            self.in_features(),
            self.out_features(),
            input.dim(),
            output.dim()
        );
        let (rows, width) = (batch * c.out_steps(), c.in_channels * c.kernel_size);
        if windows.len() < rows * width {
            windows.resize(rows * width, T::zero());
        }
        self.unfold(input, windows);
        let out = output
            .as_slice_mut()
            .expect("a layer's output rows are contiguous");
        let mut y = ArrayViewMut2::from_shape((rows, c.out_channels), out).expect("[b T', out]");
        for mut row in y.rows_mut() {
            row.assign(&self.bias);
        }
        let w = ArrayView2::from_shape((rows, width), &windows[..rows * width]).expect("windows");
        gemm(T::one(), w, self.weight.t(), T::one(), y);
    }

    /// Adds (`accumulate`) or writes the gradients of the weight and bias
    /// for the last forward and `grad_output`, and writes `grad_input`
    /// when asked.
    ///
    /// # Panics
    ///
    /// If the shapes differ from the last forward's.
    #[track_caller]
    pub fn backward(
        &mut self,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let c = self.config;
        let batch = grad_output.nrows();
        let (rows, width) = (batch * c.out_steps(), c.in_channels * c.kernel_size);
        let dy = grad_output
            .to_shape((rows, c.out_channels))
            .expect("[b T', out]");
        let dy = dy.view();
        let beta = if accumulate { T::one() } else { T::zero() };
        if !accumulate {
            self.bias_grad.fill(T::zero());
        }
        for row in dy.rows() {
            for (b, &g) in self.bias_grad.iter_mut().zip(row) {
                *b = *b + g;
            }
        }
        let w =
            ArrayView2::from_shape((rows, width), &self.windows[..rows * width]).expect("windows");
        gemm(T::one(), dy.t(), w, beta, self.weight_grad.view_mut());
        let Some(mut grad_input) = grad_input else {
            return;
        };
        if self.windows_grad.len() < rows * width {
            self.windows_grad.resize(rows * width, T::zero());
        }
        let dw = ArrayViewMut2::from_shape((rows, width), &mut self.windows_grad[..rows * width])
            .expect("windows");
        gemm(T::one(), dy, self.weight.view(), T::zero(), dw);
        // Fold the windows' gradients back onto the steps they read.
        grad_input.fill(T::zero());
        let t_out = c.out_steps();
        for (s, mut gx) in grad_input.rows_mut().into_iter().enumerate() {
            for t in 0..t_out {
                let row = &self.windows_grad[(s * t_out + t) * width..(s * t_out + t + 1) * width];
                for f in 0..c.in_channels {
                    for j in 0..c.kernel_size {
                        if let Some(step) = (t * c.stride + j).checked_sub(c.padding) {
                            if step < c.steps {
                                let at = step * c.in_channels + f;
                                gx[at] = gx[at] + row[f * c.kernel_size + j];
                            }
                        }
                    }
                }
            }
        }
    }
}

impl<T: Float> Layer<T> for Conv1d<T> {
    /// `Conv` over the steps, with PyTorch's `[out, in, k]` weight as
    /// saved: the sequence transposed to `[F, T]` and back.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let c = self.config;
        if input.shape != [c.steps, c.in_channels] || input.elem != graph.float() {
            return Err(export_input_error("Conv1d", names, input));
        }
        export_tensors(self, graph, names)?;
        let x = graph.transpose(names.path, input, &[0, 2, 1]);
        let inputs = [x.name.as_str(), names.parameter(0)?, names.parameter(1)?];
        let attrs = window_attrs(&[c.kernel_size], &[c.stride], &[c.padding]);
        let name = graph.node("Conv", &format!("{}.Conv", names.path), &inputs, attrs);
        let y = Value {
            name,
            elem: x.elem,
            shape: vec![c.out_channels, c.out_steps()],
        };
        Ok(graph.transpose(names.path, &y, &[0, 2, 1]))
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Conv1d::forward(self, input, output);
    }

    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        self.forward_with(input, output, &mut Vec::new());
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        _input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        Conv1d::backward(self, grad_output, grad_input, accumulate);
    }

    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        let (Some(w), Some(gw)) = (self.weight.as_slice_mut(), self.weight_grad.as_slice()) else {
            unreachable!("a layer's own arrays are contiguous")
        };
        optimizer.update(first, w, gw);
        let (Some(b), Some(gb)) = (self.bias.as_slice_mut(), self.bias_grad.as_slice()) else {
            unreachable!("a layer's own arrays are contiguous")
        };
        optimizer.update(first + 1, b, gb);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        let c = self.config;
        let shape = [c.out_channels, c.in_channels, c.kernel_size];
        f(Parameter {
            name: names[0],
            value: self
                .weight
                .view()
                .into_shape_with_order(shape)
                .expect("[out, in, k]")
                .into_dyn(),
            grad: has_grads.then(|| {
                self.weight_grad
                    .view()
                    .into_shape_with_order(shape)
                    .expect("[out, in, k]")
                    .into_dyn()
            }),
        });
        f(Parameter {
            name: names[1],
            value: self.bias.view().into_dyn(),
            grad: has_grads.then(|| self.bias_grad.view().into_dyn()),
        });
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        let c = self.config;
        let shape = [c.out_channels, c.in_channels, c.kernel_size];
        f(ParameterMut {
            name: names[0],
            value: self
                .weight
                .view_mut()
                .into_shape_with_order(shape)
                .expect("[out, in, k]")
                .into_dyn(),
            grad: self
                .weight_grad
                .view_mut()
                .into_shape_with_order(shape)
                .expect("[out, in, k]")
                .into_dyn(),
        });
        f(ParameterMut {
            name: names[1],
            value: self.bias.view_mut().into_dyn(),
            grad: self.bias_grad.view_mut().into_dyn(),
        });
    }
}

/// Which reduction a pool takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// The largest value (the first of equals takes the gradient).
    Max,
    /// The mean; padding counts as zeros (PyTorch's `count_include_pad`).
    Mean,
}

/// `MaxPool1d` / `AvgPool1d` over time: `[T, F] -> [T', F]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1d {
    /// Max or mean.
    pub reduce: Reduce,
    /// Steps per input sequence.
    pub steps: usize,
    /// Features per step.
    pub features: usize,
    /// Steps per window.
    pub kernel_size: usize,
    /// Steps between windows.
    pub stride: usize,
    /// Steps added at each end (`-inf` for max, zeros for the mean).
    pub padding: usize,
}

impl Pool1d {
    /// Output steps.
    pub fn out_steps(&self) -> usize {
        window_steps(self.steps, self.kernel_size, self.stride, self.padding)
    }

    /// The input steps of window `t`.
    fn window(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.kernel_size).filter_map(move |j| {
            (t * self.stride + j)
                .checked_sub(self.padding)
                .filter(|&s| s < self.steps)
        })
    }

    /// `output <- pool(input)`.
    ///
    /// # Panics
    ///
    /// If the shapes are not the pool's.
    #[track_caller]
    pub fn forward<T: Float>(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        let (t_out, f) = (self.out_steps(), self.features);
        assert!(
            input.ncols() == self.steps * f && output.dim() == (input.nrows(), t_out * f),
            "Pool1d: expected input [b, {}] and output [b, {}], found {:?} and {:?}",
            self.steps * f,
            t_out * f,
            input.dim(),
            output.dim()
        );
        let k = T::of(self.kernel_size as f64);
        for (x, mut y) in input.rows().into_iter().zip(output.rows_mut()) {
            for t in 0..t_out {
                for c in 0..f {
                    let mut values = self.window(t).map(|s| x[s * f + c]);
                    y[t * f + c] = match self.reduce {
                        Reduce::Max => {
                            let first = values.next().unwrap_or(T::neg_infinity());
                            values.fold(first, |m, v| if v > m || v.is_nan() { v } else { m })
                        }
                        Reduce::Mean => values.fold(T::zero(), |a, v| a + v) / k,
                    };
                }
            }
        }
    }

    /// `grad_input` of the pool for `grad_output` (given the forward's
    /// input and output).
    #[track_caller]
    pub fn backward<T: Float>(
        &self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: ArrayViewMut2<'_, T>,
    ) {
        let (t_out, f) = (self.out_steps(), self.features);
        let k = T::of(self.kernel_size as f64);
        grad_input.fill(T::zero());
        for (((x, y), g), mut gx) in input
            .rows()
            .into_iter()
            .zip(output.rows())
            .zip(grad_output.rows())
            .zip(grad_input.rows_mut())
        {
            for t in 0..t_out {
                for c in 0..f {
                    let d = g[t * f + c];
                    match self.reduce {
                        Reduce::Max => {
                            let m = y[t * f + c];
                            let at = self.window(t).find(|&s| {
                                x[s * f + c] == m || (m.is_nan() && x[s * f + c].is_nan())
                            });
                            if let Some(s) = at {
                                gx[s * f + c] = gx[s * f + c] + d;
                            }
                        }
                        Reduce::Mean => {
                            for s in self.window(t) {
                                gx[s * f + c] = gx[s * f + c] + d / k;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl<T: Float> Layer<T> for Pool1d {
    /// `MaxPool` or `AveragePool` (padding counted) over the steps, on
    /// the sequence transposed to `[F, T]` and back.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        if input.shape != [self.steps, self.features] || input.elem != graph.float() {
            return Err(export_input_error("Pool1d", names, input));
        }
        let x = graph.transpose(names.path, input, &[0, 2, 1]);
        let mut attrs = window_attrs(&[self.kernel_size], &[self.stride], &[self.padding]);
        let op = match self.reduce {
            Reduce::Max => "MaxPool",
            Reduce::Mean => {
                attrs.push(("count_include_pad", Attr::Int(1)));
                "AveragePool"
            }
        };
        let y = graph.apply(
            op,
            names.path,
            &x,
            attrs,
            vec![self.features, self.out_steps()],
        );
        Ok(graph.transpose(names.path, &y, &[0, 2, 1]))
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Pool1d::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Pool1d::forward(self, input, output);
    }

    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        _accumulate: bool,
    ) {
        if let Some(grad_input) = grad_input {
            Pool1d::backward(self, input, output, grad_output, grad_input);
        }
    }
}

/// A pool over every step: `[T, F] -> F` (PyTorch's
/// `x.mean(dim=1)` / `x.amax(dim=1)` on `[N, T, F]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalPool1d {
    /// Max or mean.
    pub reduce: Reduce,
    /// Steps per sequence.
    pub steps: usize,
}

impl GlobalPool1d {
    fn pool(&self) -> Pool1d {
        Pool1d {
            reduce: self.reduce,
            steps: self.steps,
            features: 0,
            kernel_size: self.steps,
            stride: self.steps,
            padding: 0,
        }
    }
}

impl<T: Float> Layer<T> for GlobalPool1d {
    /// `ReduceMean` or `ReduceMax` over the steps: `[T, F]` to `[F]`.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let &[steps, features] = input.shape.as_slice() else {
            return Err(export_input_error("GlobalPool1d", names, input));
        };
        if steps != self.steps || input.elem != graph.float() {
            return Err(export_input_error("GlobalPool1d", names, input));
        }
        let op = match self.reduce {
            Reduce::Max => "ReduceMax",
            Reduce::Mean => "ReduceMean",
        };
        let attrs = vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))];
        Ok(graph.apply(op, names.path, input, attrs, vec![features]))
    }

    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Layer::<T>::infer(self, input, output);
    }

    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let pool = Pool1d {
            features: output.ncols(),
            ..self.pool()
        };
        pool.forward(input, output);
    }

    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        _accumulate: bool,
    ) {
        if let Some(grad_input) = grad_input {
            let pool = Pool1d {
                features: output.ncols(),
                ..self.pool()
            };
            pool.backward(input, output, grad_output, grad_input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `sum(layer(x) * w)` against the backward.
    fn check_input_gradient<L: Layer<f64> + Clone>(mut layer: L, x: Array2<f64>, out: usize) {
        let w: Array2<f64> = Rng::new(9).randn((x.nrows(), out));
        let run = |layer: &mut L, x: &Array2<f64>| {
            let mut y = Array2::zeros((x.nrows(), out));
            layer.forward(x.view(), y.view_mut(), true);
            y
        };
        let y = run(&mut layer, &x);
        let mut gx = Array2::zeros(x.raw_dim());
        layer.backward(x.view(), y.view(), w.view(), Some(gx.view_mut()), false);
        for i in 0..x.len() {
            let mut plus = x.clone();
            let mut minus = x.clone();
            *plus.iter_mut().nth(i).unwrap() += 1e-6;
            *minus.iter_mut().nth(i).unwrap() -= 1e-6;
            let numeric = ((&run(&mut layer.clone(), &plus) * &w).sum()
                - (&run(&mut layer.clone(), &minus) * &w).sum())
                / 2e-6;
            let g = *gx.iter().nth(i).unwrap();
            assert!((numeric - g).abs() < 1e-6, "input[{i}]: {g} vs {numeric}");
        }
    }

    #[test]
    fn conv1d_and_pools_pass_the_gradient_check() {
        let config = Conv1dConfig {
            steps: 7,
            in_channels: 2,
            out_channels: 3,
            kernel_size: 3,
            stride: 2,
            padding: 1,
        };
        let conv = Conv1d::<f64>::new(config, &mut Rng::new(1));
        let x: Array2<f64> = Rng::new(2).randn((3, 14));
        check_input_gradient(conv.clone(), x.clone(), conv.out_features());
        // The weight gradient against central differences.
        let w: Array2<f64> = Rng::new(9).randn((3, conv.out_features()));
        let mut layer = conv.clone();
        let mut y = Array2::zeros((3, conv.out_features()));
        layer.forward(x.view(), y.view_mut());
        layer.backward(w.view(), None, false);
        for i in 0..layer.weight.len() {
            let value = |delta: f64| {
                let mut c = conv.clone();
                *c.weight.iter_mut().nth(i).unwrap() += delta;
                let mut y = Array2::zeros((3, conv.out_features()));
                c.forward(x.view(), y.view_mut());
                (&y * &w).sum()
            };
            let numeric = (value(1e-6) - value(-1e-6)) / 2e-6;
            let g = *layer.weight_grad.iter().nth(i).unwrap();
            assert!((numeric - g).abs() < 1e-6, "weight[{i}]: {g} vs {numeric}");
        }
        for reduce in [Reduce::Max, Reduce::Mean] {
            let pool = Pool1d {
                reduce,
                steps: 7,
                features: 2,
                kernel_size: 3,
                stride: 2,
                padding: 1,
            };
            check_input_gradient(pool, x.clone(), pool.out_steps() * 2);
            check_input_gradient(GlobalPool1d { reduce, steps: 7 }, x.clone(), 2);
        }
    }
}
