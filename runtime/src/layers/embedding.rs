//! The embedding: a learned vector per category, PyTorch's `nn.Embedding`.
//!
//! The input is a column of class indices, held as values of the element
//! type (`0.0`, `1.0`, ...), as a categorical input column of a model is
//! stored, or `T` such columns (a sequence of tokens); the output is the
//! row of `weight: [num_embeddings, embedding_dim]` at each index, side by
//! side (`[b, T * dim]`: a sequence of `T` steps of `dim` features).
//!
//! Backward, for a batch of indices `i` and `g = dL/dy: [b, dim]`:
//! `dL/dweight[k] = sum of g[s] over the samples s with i[s] = k` (rows of
//! categories that do not occur get 0, PyTorch's dense gradient). Indices
//! are not differentiable: there is no `dL/d(input)`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::{layers::Embedding, Rng};
//! use ndarray::{array, Array2};
//! let mut layer = Embedding::<f64>::new(3, 2, &mut Rng::new(0));
//! layer.weight.assign(&array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
//! let mut y = Array2::zeros((2, 2));
//! layer.forward(array![[2.0], [0.0]].view(), y.view_mut());
//! assert_eq!(y, array![[4.0, 5.0], [0.0, 1.0]]);
//! ```

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::{export_input_error, export_tensors, Layer};
use crate::onnx::{Attr, ElemType, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::param::{Parameter, ParameterMut};
use crate::{Float, Rng};

/// An embedding's table and its gradient.
#[derive(Clone, Debug)]
pub struct Embedding<T> {
    /// `[num_embeddings, embedding_dim]`: row `k` is category `k`'s vector.
    pub weight: Array2<T>,
    /// `dL/dweight`, same shape.
    pub weight_grad: Array2<T>,
}

impl<T: Float> Embedding<T> {
    /// PyTorch's default initialisation: every value drawn from the
    /// standard normal distribution, row by row.
    pub fn new(num_embeddings: usize, embedding_dim: usize, rng: &mut Rng) -> Self {
        let weight =
            Array2::from_shape_simple_fn((num_embeddings, embedding_dim), || T::of(rng.normal()));
        Embedding {
            weight_grad: Array2::zeros(weight.raw_dim()),
            weight,
        }
    }

    /// Categories it has a vector for.
    pub fn num_embeddings(&self) -> usize {
        self.weight.nrows()
    }

    /// Values per vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.ncols()
    }

    /// The category of sample `s` whose index is `x`.
    ///
    /// # Panics
    ///
    /// If `x` is not a whole number below `num_embeddings` (a model's data
    /// checks catch this before training).
    #[track_caller]
    fn index(&self, s: usize, x: T) -> usize {
        let value = x.to_f64();
        let n = self.num_embeddings();
        assert!(
            value >= 0.0 && value.fract() == 0.0 && value < n as f64,
            "Embedding: sample {s} has category {value}, but the table has {n} (0 to {})",
            n.saturating_sub(1)
        );
        value as usize
    }

    /// `output[s, t] <- weight[input[s, t]]`.
    ///
    /// # Panics
    ///
    /// If `output` is not `[b, T * embedding_dim]` for `input: [b, T]`, or
    /// an index is not a category of the table.
    #[track_caller]
    pub fn forward(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        let (batch, steps, dim) = (input.nrows(), input.ncols(), self.embedding_dim());
        assert!(
            output.dim() == (batch, steps * dim),
            "Embedding: expected output [{batch}, {}] for input {:?}, found {:?}",
            steps * dim,
            input.dim(),
            output.dim()
        );
        for (s, (x, mut y)) in input.rows().into_iter().zip(output.rows_mut()).enumerate() {
            for (t, &index) in x.iter().enumerate() {
                y.slice_mut(ndarray::s![t * dim..(t + 1) * dim])
                    .assign(&self.weight.row(self.index(s, index)));
            }
        }
    }

    /// Adds (`accumulate`) or writes `dL/dweight` for the indices `input`
    /// and `grad_output = dL/dy`.
    ///
    /// # Panics
    ///
    /// As [`Embedding::forward`].
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        accumulate: bool,
    ) {
        let dim = self.embedding_dim();
        assert!(
            grad_output.dim() == (input.nrows(), input.ncols() * dim),
            "Embedding: expected a gradient [b, {}] for input {:?}, found {:?}",
            input.ncols() * dim,
            input.dim(),
            grad_output.dim()
        );
        if !accumulate {
            self.weight_grad.fill(T::zero());
        }
        for (s, (x, g)) in input.rows().into_iter().zip(grad_output.rows()).enumerate() {
            for (t, &index) in x.iter().enumerate() {
                let k = self.index(s, index);
                let g = g.slice(ndarray::s![t * dim..(t + 1) * dim]);
                for (w, &g) in self.weight_grad.row_mut(k).iter_mut().zip(g) {
                    *w = *w + g;
                }
            }
        }
    }
}

impl<T: Float> Layer<T> for Embedding<T> {
    /// `Gather(weight, indices)` on the `int64` indices of a category
    /// input (`[]`, giving `[D]`) or of tokens (`[T]`, giving `[T, D]`).
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        if input.elem != ElemType::I64 || input.shape.len() > 1 {
            return Err(export_input_error("Embedding", names, input));
        }
        export_tensors(self, graph, names)?;
        let inputs = [names.parameter(0)?, input.name.as_str()];
        let hint = format!("{}.Gather", names.path);
        let name = graph.node("Gather", &hint, &inputs, vec![("axis", Attr::Int(0))]);
        let mut shape = input.shape.clone();
        shape.push(self.weight.ncols());
        Ok(Value {
            name,
            elem: graph.float(),
            shape,
        })
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Embedding::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Embedding::forward(self, input, output);
    }

    /// No `dL/d(input)`: indices are not differentiable (`grad_input` is
    /// left alone; a model never asks for it).
    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        _grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        Embedding::backward(self, input, grad_output, accumulate);
    }

    #[inline]
    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        let (Some(weight), Some(grad)) = (self.weight.as_slice_mut(), self.weight_grad.as_slice())
        else {
            unreachable!("a layer's own arrays are contiguous")
        };
        optimizer.update(first, weight, grad);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        f(Parameter {
            name: names[0],
            value: self.weight.view().into_dyn(),
            grad: has_grads.then(|| self.weight_grad.view().into_dyn()),
        });
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        f(ParameterMut {
            name: names[0],
            value: self.weight.view_mut().into_dyn(),
            grad: self.weight_grad.view_mut().into_dyn(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn backward_sums_the_rows_of_each_category() {
        let mut layer = Embedding::<f64>::new(3, 2, &mut Rng::new(1));
        let x = array![[2.0], [0.0], [2.0]];
        let g = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        layer.backward(x.view(), g.view(), false);
        assert_eq!(
            layer.weight_grad,
            array![[3.0, 4.0], [0.0, 0.0], [6.0, 8.0]]
        );
        layer.backward(x.view(), g.view(), true);
        assert_eq!(
            layer.weight_grad,
            array![[6.0, 8.0], [0.0, 0.0], [12.0, 16.0]]
        );
    }

    #[test]
    #[should_panic(expected = "sample 1 has category 3, but the table has 3 (0 to 2)")]
    fn an_index_beyond_the_table_is_named() {
        let layer = Embedding::<f32>::new(3, 2, &mut Rng::new(1));
        let mut y = Array2::zeros((2, 2));
        layer.forward(array![[0.0], [3.0]].view(), y.view_mut());
    }

    #[test]
    fn initial_values_are_standard_normal() {
        let layer = Embedding::<f64>::new(200, 50, &mut Rng::new(7));
        let n = layer.weight.len() as f64;
        let mean = layer.weight.sum() / n;
        let var = layer.weight.mapv(|v| (v - mean) * (v - mean)).sum() / n;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }
}
