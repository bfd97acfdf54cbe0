//! Elementwise activations and the row-wise softmax.
//!
//! Each is a value spelled as in the `model!` language. `forward` writes
//! `output = f(input)`; `backward` writes `grad_input = grad_output * f'`,
//! reading whichever of `input` and `output` the derivative needs.
//!
//! | layer | f(x) | f'(x) |
//! | --- | --- | --- |
//! | `ReLU` | max(x, 0) | 1 if x > 0 else 0 |
//! | `LeakyReLU` | x if x > 0 else s x | 1 if x > 0 else s |
//! | `Sigmoid` | y = 1 / (1 + e^-x) | y (1 - y) |
//! | `Tanh` | y = tanh x | 1 - y^2 |
//! | `GELU` | x Phi(x) | Phi(x) + x phi(x) |
//! | `Softmax` | y_i = e^x_i / sum_j e^x_j | y_i (g_i - sum_j g_j y_j) |
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{Activation, ReLU};
//! use ndarray::{array, Array2};
//! let x = array![[-1.0_f32, 2.0]];
//! let mut y = Array2::zeros((1, 2));
//! ReLU.forward(x.view(), y.view_mut());
//! assert_eq!(y, array![[0.0, 2.0]]);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use super::{export_input_error, Layer};
use crate::onnx::{Attr, Graph, Names, Value};
use crate::parallel::split_map;
use crate::Float;

/// A parameter-free layer that keeps the width of its input.
pub trait Activation<T: Float> {
    /// `output <- f(input)`.
    fn forward(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>);

    /// `grad_input <- grad_output * f'(input)`, given the forward's `input`
    /// and `output`.
    fn backward(
        &self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: ArrayViewMut2<'_, T>,
    );
}

/// `max(x, 0)`; its gradient at 0 is 0, as in PyTorch.
///
/// NaN is not hidden: as PyTorch's `relu` (`clamp_min(x, 0)`), it maps NaN
/// to NaN (and `-0.0` to `-0.0`), and its backward (PyTorch's
/// `threshold_backward(g, y, 0)`: 0 where `y <= 0`, else `g`) passes the
/// gradient through at NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReLU;

/// `x` for `x > 0`, else `negative_slope * x` (PyTorch default 0.01).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReLU {
    /// Slope for negative inputs.
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

/// The logistic function `1 / (1 + e^-x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

/// The exact Gaussian error linear unit `x Phi(x)` (PyTorch's
/// `approximate="none"`), with `Phi` the standard normal CDF.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GELU;

/// Softmax over the features of each sample (each row sums to 1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl<T: Float> Activation<T> for ReLU {
    fn forward(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        if let (Some(x), Some(y)) = (input.as_slice(), output.as_slice_mut()) {
            split_map([x], [y], |[x], [y]| relu_forward(x, y));
            return;
        }
        Zip::from(output).and(input).for_each(|y, &x| *y = relu(x));
    }

    fn backward(
        &self,
        input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: ArrayViewMut2<'_, T>,
    ) {
        if let (Some(x), Some(g), Some(gi)) = (
            input.as_slice(),
            grad_output.as_slice(),
            grad_input.as_slice_mut(),
        ) {
            split_map([x, g], [gi], |[x, g], [gi]| relu_backward(x, g, gi));
            return;
        }
        Zip::from(grad_input)
            .and(input)
            .and(grad_output)
            .for_each(|gi, &x, &g| *gi = relu_grad(x, g));
    }
}

/// `max(x, 0)` as PyTorch's `std::max(x, 0)`: 0 where `x < 0`, else `x`,
/// so NaN stays NaN and `-0.0` stays `-0.0`. Written as this comparison,
/// it is x86's `max(0, x)` (which returns its second operand when either
/// is NaN), one instruction per vector, with the same bits as here.
#[inline(always)]
fn relu<T: Float>(x: T) -> T {
    if x < T::zero() {
        T::zero()
    } else {
        x
    }
}

/// 0 where `x <= 0`, else `g`, as PyTorch's `threshold_backward`: a NaN
/// input (whose output is NaN) passes `g` through.
#[inline(always)]
fn relu_grad<T: Float>(x: T, g: T) -> T {
    if x <= T::zero() {
        T::zero()
    } else {
        g
    }
}

// The contiguous case (every buffer of a generated model), compiled for
// the widest vectors the CPU has.
crate::simd::dispatch! {
    fn relu_forward<T: Float>(x: &[T], y: &mut [T]) => relu_forward_body
}

crate::simd::dispatch! {
    fn relu_backward<T: Float>(x: &[T], g: &[T], gi: &mut [T]) => relu_backward_body
}

#[inline(always)]
fn relu_forward_body<T: Float>(x: &[T], y: &mut [T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = relu(x);
    }
}

#[inline(always)]
fn relu_backward_body<T: Float>(x: &[T], g: &[T], gi: &mut [T]) {
    for ((gi, &x), &g) in gi.iter_mut().zip(x).zip(g) {
        *gi = relu_grad(x, g);
    }
}

impl<T: Float> Activation<T> for LeakyReLU {
    fn forward(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let s = T::of(self.negative_slope);
        Zip::from(output)
            .and(input)
            .for_each(|y, &x| *y = if x > T::zero() { x } else { x * s });
    }

    fn backward(
        &self,
        input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: ArrayViewMut2<'_, T>,
    ) {
        let s = T::of(self.negative_slope);
        Zip::from(grad_input)
            .and(input)
            .and(grad_output)
            .for_each(|gi, &x, &g| *gi = if x > T::zero() { g } else { g * s });
    }
}

impl<T: Float> Activation<T> for Sigmoid {
    fn forward(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Zip::from(output)
            .and(input)
            .for_each(|y, &x| *y = sigmoid(x));
    }

    fn backward(
        &self,
        _input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: ArrayViewMut2<'_, T>,
    ) {
        Zip::from(grad_input)
            .and(output)
            .and(grad_output)
            .for_each(|gi, &y, &g| *gi = g * y * (T::one() - y));
    }
}

impl<T: Float> Activation<T> for Tanh {
    fn forward(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Zip::from(output).and(input).for_each(|y, &x| *y = x.tanh());
    }

    fn backward(
        &self,
        _input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: ArrayViewMut2<'_, T>,
    ) {
        Zip::from(grad_input)
            .and(output)
            .and(grad_output)
            .for_each(|gi, &y, &g| *gi = g * (T::one() - y * y));
    }
}

impl<T: Float> Activation<T> for GELU {
    fn forward(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Zip::from(output)
            .and(input)
            .for_each(|y, &x| *y = x * normal_cdf(x));
    }

    fn backward(
        &self,
        input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: ArrayViewMut2<'_, T>,
    ) {
        // d/dx [x Phi(x)] = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi).
        let inv_sqrt_2pi = T::of(1.0 / (2.0 * std::f64::consts::PI).sqrt());
        let half = T::of(0.5);
        Zip::from(grad_input)
            .and(input)
            .and(grad_output)
            .for_each(|gi, &x, &g| {
                let pdf = (-half * x * x).exp() * inv_sqrt_2pi;
                *gi = g * (normal_cdf(x) + x * pdf);
            });
    }
}

impl<T: Float> Activation<T> for Softmax {
    fn forward(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        for (x, mut y) in input.rows().into_iter().zip(output.rows_mut()) {
            // Subtract the row maximum so that exp never overflows.
            let max = x.fold(T::neg_infinity(), |m, &v| m.max(v));
            let mut sum = T::zero();
            Zip::from(&mut y).and(&x).for_each(|y, &x| {
                *y = (x - max).exp();
                sum = sum + *y;
            });
            let inv = T::one() / sum;
            y.mapv_inplace(|v| v * inv);
        }
    }

    fn backward(
        &self,
        _input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: ArrayViewMut2<'_, T>,
    ) {
        for ((y, g), mut gi) in output
            .rows()
            .into_iter()
            .zip(grad_output.rows())
            .zip(grad_input.rows_mut())
        {
            let dot = y.dot(&g);
            Zip::from(&mut gi)
                .and(&y)
                .and(&g)
                .for_each(|gi, &y, &g| *gi = y * (g - dot));
        }
    }
}

/// The ONNX node of each activation: one operator, the exact GELU written
/// out (opset 17 has no `Gelu`).
impl ReLU {
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        Ok(graph.apply("Relu", path, x, Vec::new(), x.shape.clone()))
    }
}

impl LeakyReLU {
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        let alpha = vec![("alpha", Attr::Float(self.negative_slope as f32))];
        Ok(graph.apply("LeakyRelu", path, x, alpha, x.shape.clone()))
    }
}

impl Sigmoid {
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        Ok(graph.apply("Sigmoid", path, x, Vec::new(), x.shape.clone()))
    }
}

impl Tanh {
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        Ok(graph.apply("Tanh", path, x, Vec::new(), x.shape.clone()))
    }
}

impl Softmax {
    /// Over the features of each sample (the last axis).
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        let axis = vec![("axis", Attr::Int(-1))];
        Ok(graph.apply("Softmax", path, x, axis, x.shape.clone()))
    }
}

impl GELU {
    /// `x * (1 + erf(x / sqrt 2)) / 2`, as [`normal_cdf`] computes it:
    /// `Mul`, `Erf`, `Add`, `Mul`, `Mul`.
    fn onnx(&self, graph: &mut Graph, x: &Value, path: &str) -> crate::Result<Value> {
        let inv_sqrt2 = graph.scalar(
            &format!("{path}.inv_sqrt2"),
            &[],
            std::f64::consts::FRAC_1_SQRT_2,
        )?;
        let one = graph.scalar(&format!("{path}.one"), &[], 1.0)?;
        let half = graph.scalar(&format!("{path}.half"), &[], 0.5)?;
        let scaled = graph.node(
            "Mul",
            &format!("{path}.Mul"),
            &[&x.name, &inv_sqrt2],
            Vec::new(),
        );
        let erf = graph.node("Erf", &format!("{path}.Erf"), &[&scaled], Vec::new());
        let plus = graph.node("Add", &format!("{path}.Add"), &[&erf, &one], Vec::new());
        let cdf = graph.node("Mul", &format!("{path}.Mul"), &[&plus, &half], Vec::new());
        let name = graph.node("Mul", &format!("{path}.Mul"), &[&x.name, &cdf], Vec::new());
        Ok(Value { name, ..x.clone() })
    }
}

/// `1 / (1 + e^-x)`, evaluated so that neither branch overflows.
#[inline]
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// The standard normal CDF, `(1 + erf(x / sqrt 2)) / 2`.
#[inline]
fn normal_cdf<T: Float>(x: T) -> T {
    T::of(0.5) * (T::one() + (x * T::of(std::f64::consts::FRAC_1_SQRT_2)).erf())
}

/// Every activation is a [`Layer`] without state: `forward` and `backward`
/// are [`Activation`]'s, whatever the mode.
macro_rules! activation_layers {
    ($($name:ty),*) => {$(
        impl<T: Float> Layer<T> for $name {
            #[inline]
            fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
                let _ = training;
                Activation::forward(self, input, output);
            }

            #[inline]
            fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
                Activation::forward(self, input, output);
            }

            fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
                if input.elem != graph.float() {
                    return Err(export_input_error(stringify!($name), names, input));
                }
                self.onnx(graph, input, names.path)
            }

            #[inline]
            fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
                let _ = accumulate;
                if let Some(grad_input) = grad_input {
                    Activation::backward(self, input, output, grad_output, grad_input);
                }
            }
        }
    )*};
}

activation_layers!(ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{levels, with_level};
    use ndarray::{s, Array2};

    /// Inputs with every special value among ordinary ones, 37 long so
    /// that each vector width has a remainder.
    fn specials<T: Float>() -> Vec<T> {
        let special = [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
        ];
        (0..37)
            .map(|i| match i % 5 {
                0 => T::of(special[(i / 5) % special.len()]),
                _ => T::of((i as f64 - 18.0) / 3.0),
            })
            .collect()
    }

    fn bits<T: Float>(values: &[T]) -> Vec<u64> {
        values.iter().map(|&v| Float::to_f64(v).to_bits()).collect()
    }

    /// The dispatched ReLU, forward and backward, gives the scalar
    /// function's bits on every instruction set this CPU has, NaN, the
    /// infinities and signed zeros included; and the strided path agrees.
    fn relu_paths_agree<T: Float>() {
        let x = specials::<T>();
        let g: Vec<T> = (0..x.len()).map(|i| T::of(i as f64 + 0.5)).collect();
        let want_y: Vec<T> = x.iter().map(|&x| relu(x)).collect();
        let want_gi: Vec<T> = x.iter().zip(&g).map(|(&x, &g)| relu_grad(x, g)).collect();
        for level in levels() {
            let (mut y, mut gi) = (vec![T::zero(); x.len()], vec![T::zero(); x.len()]);
            with_level(level, || {
                relu_forward(&x, &mut y);
                relu_backward(&x, &g, &mut gi);
            });
            assert_eq!(bits(&y), bits(&want_y), "{level:?} forward");
            assert_eq!(bits(&gi), bits(&want_gi), "{level:?} backward");
        }
        // Every other column of a wider array: the `Zip` path.
        let n = x.len();
        let wide = Array2::from_shape_fn((1, 2 * n), |(_, j)| x[j / 2]);
        let mut out = Array2::zeros((1, 2 * n));
        let strided = wide.slice(s![.., ..;2]);
        ReLU.forward(strided, out.slice_mut(s![.., ..;2]));
        let got: Vec<T> = out.slice(s![.., ..;2]).iter().copied().collect();
        assert_eq!(bits(&got), bits(&want_y), "strided forward");
    }

    #[test]
    fn relu_paths_agree_f32() {
        relu_paths_agree::<f32>();
    }

    #[test]
    fn relu_paths_agree_f64() {
        relu_paths_agree::<f64>();
    }

    /// PyTorch's values: `relu(nan) = nan`, `relu(-0.0) = -0.0`,
    /// `relu(-inf) = 0`; the backward passes the gradient at NaN and
    /// stops it at 0 and below.
    #[test]
    fn relu_keeps_nan_as_pytorch() {
        for level in levels() {
            let x = [
                f32::NAN,
                -0.0,
                0.0,
                f32::NEG_INFINITY,
                f32::INFINITY,
                -2.0,
                3.0,
            ];
            let mut y = [0.0_f32; 7];
            let mut gi = [9.0_f32; 7];
            with_level(level, || {
                relu_forward(&x, &mut y);
                relu_backward(&x, &[1.0; 7], &mut gi);
            });
            assert!(y[0].is_nan(), "{level:?}");
            assert_eq!(
                bits(&y[1..]),
                bits(&[-0.0, 0.0, 0.0, f32::INFINITY, 0.0, 3.0])
            );
            assert_eq!(gi, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0], "{level:?}");
        }
    }

    /// Every activation keeps a NaN input NaN; the gradient at it is
    /// PyTorch's: `g` for ReLU (`threshold_backward`), `slope * g` for
    /// LeakyReLU (`x > 0 ? g : slope * g`), NaN for the others. Softmax
    /// makes its whole row NaN.
    #[test]
    fn nan_passes_every_activation() {
        let x = ndarray::array![[f64::NAN, 1.0, -2.0]];
        let g = ndarray::array![[1.0, 1.0, 1.0]];
        let layers: [(&str, &dyn Activation<f64>, Option<f64>); 6] = [
            ("ReLU", &ReLU, Some(1.0)),
            ("LeakyReLU", &LeakyReLU::default(), Some(0.01)),
            ("Sigmoid", &Sigmoid, None),
            ("Tanh", &Tanh, None),
            ("GELU", &GELU, None),
            ("Softmax", &Softmax, None),
        ];
        for (name, layer, grad_at_nan) in layers {
            let mut y = Array2::zeros((1, 3));
            layer.forward(x.view(), y.view_mut());
            assert!(y[[0, 0]].is_nan(), "{name} forward: {y}");
            assert_eq!(
                name == "Softmax",
                y.iter().all(|v| v.is_nan()),
                "{name}: {y}"
            );
            let mut gi = Array2::zeros((1, 3));
            layer.backward(x.view(), y.view(), g.view(), gi.view_mut());
            match grad_at_nan {
                Some(want) => assert_eq!(gi[[0, 0]], want, "{name} backward"),
                None => assert!(gi[[0, 0]].is_nan(), "{name} backward: {gi}"),
            }
        }
    }
}
