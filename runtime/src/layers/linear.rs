//! The fully connected layer: `y = x W^T + b`, with `W: [out, in]` as in
//! PyTorch.
//!
//! Backward, for a batch `x: [b, in]` and `g = dL/dy: [b, out]`:
//! `dL/dW = g^T x`, `dL/db = sum over rows of g`, `dL/dx = g W`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::{layers::Linear, Rng};
//! use ndarray::{array, Array2};
//! let mut layer = Linear::<f64>::new(2, 1, true, &mut Rng::new(0));
//! layer.weight.assign(&array![[1.0, 2.0]]);
//! layer.bias.as_mut().unwrap().fill(0.5);
//! let mut y = Array2::zeros((1, 1));
//! layer.forward(array![[3.0, 4.0]].view(), y.view_mut());
//! assert_eq!(y[[0, 0]], 11.5);
//! ```

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Zip};

use super::{export_input_error, export_tensors, Layer};
use crate::onnx::{Attr, ElemType, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::param::{Parameter, ParameterMut};
use crate::{gemm::gemm, Float, Rng};

/// A linear layer's parameters and their gradients.
#[derive(Clone, Debug)]
pub struct Linear<T> {
    /// `[out_features, in_features]`.
    pub weight: Array2<T>,
    /// `[out_features]`, or `None` for `bias = false`.
    pub bias: Option<Array1<T>>,
    /// `dL/dW`, same shape as `weight`.
    pub weight_grad: Array2<T>,
    /// `dL/db`, same shape as `bias`.
    pub bias_grad: Option<Array1<T>>,
}

impl<T: Float> Linear<T> {
    /// PyTorch's default initialisation: `W` and `b` uniform in
    /// `[-k, k)` with `k = 1/sqrt(in_features)`, the weight drawn first in
    /// row-major `[out][in]` order, then the bias. Each value is
    /// `k * rng.sym()` computed in `f64` and rounded once, so the benchmark
    /// workloads' initial weights come out bit for bit.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Self {
        let k = 1.0 / (in_features as f64).sqrt();
        let weight =
            Array2::from_shape_simple_fn((out_features, in_features), || T::of(k * rng.sym()));
        let bias =
            bias.then(|| Array1::from_shape_simple_fn(out_features, || T::of(k * rng.sym())));
        Linear {
            weight_grad: Array2::zeros(weight.raw_dim()),
            bias_grad: bias.as_ref().map(|b| Array1::zeros(b.raw_dim())),
            weight,
            bias,
        }
    }

    /// Features per input sample.
    pub fn in_features(&self) -> usize {
        self.weight.ncols()
    }

    /// Features per output sample.
    pub fn out_features(&self) -> usize {
        self.weight.nrows()
    }

    /// `output <- input W^T + b`.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, in]` or `output` not `[b, out]`.
    #[track_caller]
    pub fn forward(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        let beta = match &self.bias {
            Some(bias) => {
                // Seed every row with the bias, then accumulate the product.
                match (output.as_slice_mut(), bias.as_slice()) {
                    (Some(out), Some(bias)) if bias.len() == 1 => out.fill(bias[0]),
                    (Some(out), Some(bias)) if !bias.is_empty() => {
                        for row in out.chunks_exact_mut(bias.len()) {
                            row.copy_from_slice(bias);
                        }
                    }
                    _ => {
                        for mut row in output.rows_mut() {
                            row.assign(bias);
                        }
                    }
                }
                T::one()
            }
            None => T::zero(),
        };
        gemm(T::one(), input, self.weight.t(), beta, output);
    }

    /// Adds (`accumulate`) or writes the parameter gradients for `input` and
    /// `grad_output = dL/dy`, and writes `grad_input = dL/dx` when asked.
    ///
    /// `accumulate = false` is the first backward after `zero_grad`: the
    /// gradients are overwritten without being read, which saves a pass.
    ///
    /// # Panics
    ///
    /// If the shapes disagree with `[b, in]`, `[b, out]`, `[b, in]`.
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let beta = if accumulate { T::one() } else { T::zero() };
        // dW = g^T x: [out, b] x [b, in].
        gemm(
            T::one(),
            grad_output.t(),
            input,
            beta,
            self.weight_grad.view_mut(),
        );
        if let Some(bias_grad) = &mut self.bias_grad {
            if !accumulate {
                bias_grad.fill(T::zero());
            }
            match (bias_grad.as_slice_mut(), grad_output.as_slice()) {
                (Some(acc), Some(g)) if !acc.is_empty() => add_column_sums(acc, g),
                _ => {
                    for row in grad_output.axis_iter(Axis(0)) {
                        Zip::from(&mut *bias_grad)
                            .and(&row)
                            .for_each(|b, &g| *b = *b + g);
                    }
                }
            }
        }
        if let Some(grad_input) = grad_input {
            // dx = g W: [b, out] x [out, in].
            gemm(
                T::one(),
                grad_output,
                self.weight.view(),
                T::zero(),
                grad_input,
            );
        }
    }

    /// Number of parameter tensors: 2 with a bias, 1 without.
    pub fn tensors(&self) -> usize {
        1 + usize::from(self.bias.is_some())
    }

    /// One optimizer update of the weight (as parameter `first`) and the
    /// bias (as parameter `first + 1`).
    #[inline]
    pub fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        let (Some(weight), Some(weight_grad)) =
            (self.weight.as_slice_mut(), self.weight_grad.as_slice())
        else {
            unreachable!("a layer's own arrays are contiguous")
        };
        optimizer.update(first, weight, weight_grad);
        if let (Some(bias), Some(bias_grad)) = (&mut self.bias, &self.bias_grad) {
            let (Some(bias), Some(bias_grad)) = (bias.as_slice_mut(), bias_grad.as_slice()) else {
                unreachable!("a layer's own arrays are contiguous")
            };
            optimizer.update(first + 1, bias, bias_grad);
        }
    }

    /// Calls `f` on the weight and the bias, named `names[0]`, `names[1]`;
    /// gradients are `None` unless `has_grads`.
    pub fn visit_parameters<'a>(
        &'a self,
        names: [&'static str; 2],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        f(Parameter {
            name: names[0],
            value: self.weight.view().into_dyn(),
            grad: has_grads.then(|| self.weight_grad.view().into_dyn()),
        });
        if let (Some(bias), Some(bias_grad)) = (&self.bias, &self.bias_grad) {
            f(Parameter {
                name: names[1],
                value: bias.view().into_dyn(),
                grad: has_grads.then(|| bias_grad.view().into_dyn()),
            });
        }
    }

    /// Calls `f` on the weight and the bias, writable.
    pub fn visit_parameters_mut(
        &mut self,
        names: [&'static str; 2],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        f(ParameterMut {
            name: names[0],
            value: self.weight.view_mut().into_dyn(),
            grad: self.weight_grad.view_mut().into_dyn(),
        });
        if let (Some(bias), Some(bias_grad)) = (&mut self.bias, &mut self.bias_grad) {
            f(ParameterMut {
                name: names[1],
                value: bias.view_mut().into_dyn(),
                grad: bias_grad.view_mut().into_dyn(),
            });
        }
    }
}

impl<T: Float> Layer<T> for Linear<T> {
    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Linear::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Linear::forward(self, input, output);
    }

    /// `Gemm(x, weight, bias)` with `transB = 1`, the weight as saved,
    /// `[out, in]`. In an `f64` graph `MatMul(x, Transpose(weight))` then
    /// `Add(bias)` instead, the same values: tract's `Gemm` takes `f32`
    /// alone.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let (out, inp) = self.weight.dim();
        if input.shape != [inp] || input.elem != graph.float() {
            return Err(export_input_error("Linear", names, input));
        }
        export_tensors(self, graph, names)?;
        let (path, weight) = (names.path, names.parameter(0)?);
        let name = if graph.float() == ElemType::F32 {
            let mut inputs = vec![input.name.as_str(), weight];
            if self.bias.is_some() {
                inputs.push(names.parameter(1)?);
            }
            graph.node(
                "Gemm",
                &format!("{path}.Gemm"),
                &inputs,
                vec![("transB", Attr::Int(1))],
            )
        } else {
            let perm = vec![("perm", Attr::Ints(vec![1, 0]))];
            let wt = graph.node("Transpose", &format!("{path}.Transpose"), &[weight], perm);
            let product = graph.node(
                "MatMul",
                &format!("{path}.MatMul"),
                &[&input.name, &wt],
                Vec::new(),
            );
            match self.bias {
                Some(_) => {
                    let bias = names.parameter(1)?;
                    graph.node("Add", &format!("{path}.Add"), &[&product, bias], Vec::new())
                }
                None => product,
            }
        };
        Ok(Value {
            name,
            elem: input.elem,
            shape: vec![out],
        })
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        Linear::backward(self, input, grad_output, grad_input, accumulate);
    }

    #[inline]
    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        Linear::step(self, optimizer, first);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        Linear::visit_parameters(self, [names[0], names[1]], has_grads, f);
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        Linear::visit_parameters_mut(self, [names[0], names[1]], f);
    }
}

/// Adds the column sums of the row-major matrix `rows` (`acc.len()` columns)
/// to `acc`: the bias gradient of a batch.
///
/// Narrow matrices (fewer than 8 columns, e.g. a regression output) sum four
/// rows at a time into separate partial sums, so the additions do not wait
/// on each other; wider ones add row by row, which the compiler vectorizes
/// across the columns.
///
/// # Panics
///
/// If `acc` is empty or `rows.len()` is not a multiple of `acc.len()`.
pub fn add_column_sums<T: Float>(acc: &mut [T], rows: &[T]) {
    let n = acc.len();
    assert!(
        n > 0 && rows.len().is_multiple_of(n),
        "{} values are not rows of {n} columns",
        rows.len()
    );
    if n >= 8 {
        add_rows(acc, rows);
        return;
    }
    let mut part = [[T::zero(); 8]; 4];
    let blocks = rows.chunks_exact(4 * n);
    let tail = blocks.remainder();
    for block in blocks {
        for (p, row) in part.iter_mut().zip(block.chunks_exact(n)) {
            for (s, &v) in p.iter_mut().zip(row) {
                *s = *s + v;
            }
        }
    }
    for row in tail.chunks_exact(n) {
        for (s, &v) in part[0].iter_mut().zip(row) {
            *s = *s + v;
        }
    }
    for (j, b) in acc.iter_mut().enumerate() {
        *b = *b + ((part[0][j] + part[1][j]) + (part[2][j] + part[3][j]));
    }
}

crate::simd::dispatch! {
    fn add_rows<T: Float>(acc: &mut [T], rows: &[T]) => add_rows_body
}

/// `acc += row` for each `acc.len()`-wide row of `rows`, in row order.
#[inline(always)]
fn add_rows_body<T: Float>(acc: &mut [T], rows: &[T]) {
    for row in rows.chunks_exact(acc.len()) {
        for (b, &v) in acc.iter_mut().zip(row) {
            *b = *b + v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::add_column_sums;

    #[test]
    fn column_sums_match_a_plain_loop_for_every_width() {
        for cols in 1..=10 {
            for rows in [0, 1, 3, 4, 5, 9, 17] {
                let m: Vec<f64> = (0..rows * cols).map(|i| (i as f64).sin()).collect();
                let mut acc: Vec<f64> = (0..cols).map(|j| j as f64).collect();
                add_column_sums(&mut acc, &m);
                for (j, &a) in acc.iter().enumerate() {
                    let plain: f64 = (0..rows).map(|i| m[i * cols + j]).sum();
                    assert!(
                        (a - (j as f64 + plain)).abs() < 1e-12,
                        "{rows}x{cols}, column {j}: {a} vs {}",
                        j as f64 + plain
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "not rows of 3 columns")]
    fn column_sums_reject_a_ragged_matrix() {
        add_column_sums(&mut [0.0f32; 3], &[1.0; 7]);
    }
}
