//! `Last`: the last step of a sequence, `[b, T W] -> [b, W]` (PyTorch's
//! `output[:, -1, :]`): what a recurrent layer's last hidden state is for
//! a model that reads a whole sequence and answers once.

use ndarray::{s, ArrayView2, ArrayViewMut2};

use super::{export_input_error, Layer};
use crate::onnx::{Attr, Graph, Names, Value};
use crate::Float;

/// The last step of a sequence of `steps` steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Last {
    /// Steps per sequence.
    pub steps: usize,
}

impl Last {
    /// `output <- input[:, (T - 1) W ..]`.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, T W]` for the `output`'s `[b, W]`.
    #[track_caller]
    pub fn forward<T: Float>(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        let w = output.ncols();
        assert!(
            input.dim() == (output.nrows(), self.steps * w),
            "Last: expected input [{}, {}], found {:?}",
            output.nrows(),
            self.steps * w,
            input.dim()
        );
        output.assign(&input.slice(s![.., (self.steps - 1) * w..]));
    }
}

impl<T: Float> Layer<T> for Last {
    /// `Gather` of step `T - 1` along the steps: `[T, F]` to `[F]`.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let &[steps, features] = input.shape.as_slice() else {
            return Err(export_input_error("Last", names, input));
        };
        if steps != self.steps || input.elem != graph.float() {
            return Err(export_input_error("Last", names, input));
        }
        let index = graph.ints(
            &format!("{}.last_step", names.path),
            &[],
            &[steps as i64 - 1],
        )?;
        let hint = format!("{}.Gather", names.path);
        let name = graph.node(
            "Gather",
            &hint,
            &[&input.name, &index],
            vec![("axis", Attr::Int(1))],
        );
        Ok(Value {
            name,
            elem: input.elem,
            shape: vec![features],
        })
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Last::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        Last::forward(self, input, output);
    }

    /// `dL/d(input)` is `grad_output` at the last step and 0 elsewhere.
    #[track_caller]
    fn backward(
        &mut self,
        _input: ArrayView2<'_, T>,
        _output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        _accumulate: bool,
    ) {
        if let Some(mut grad_input) = grad_input {
            let w = grad_output.ncols();
            match grad_input.as_slice_mut() {
                // A `memset` for the usual contiguous rows.
                Some(all) => all.fill(T::zero()),
                None => grad_input.fill(T::zero()),
            }
            grad_input
                .slice_mut(s![.., (self.steps - 1) * w..])
                .assign(&grad_output);
        }
    }
}
