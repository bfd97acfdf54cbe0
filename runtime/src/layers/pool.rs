//! 2-D pooling over images stored as rows: [`MaxPool2d`] and [`AvgPool2d`].
//!
//! Each channel of a `C x H x W` sample is pooled on its own over
//! `kh x kw` windows, `stride` apart, over the input padded by `padding`
//! on each side; the output is `C x oh x ow` with
//! `oh = (H + 2 ph - kh) / sh + 1` ([`conv_output_size`]), as PyTorch's
//! `ceil_mode = False`.
//!
//! | layer | forward | backward |
//! | --- | --- | --- |
//! | `MaxPool2d` | the window's maximum (padding never wins; NaN if the window holds one) | `g` to the first maximum of the window (the last NaN if it holds NaNs) |
//! | `AvgPool2d` | the window's sum / `kh kw` (`count_include_pad = True`) | `g / (kh kw)` to every input of the window |
//!
//! Neither keeps state: the max-pool backward finds each window's argmax
//! again from the forward's input and output (as an activation's backward
//! reads both), so both layers are plain values.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{ImageShape, MaxPool2d, Pool2dConfig};
//! use ndarray::{array, Array2};
//! // One 1x2x4 image, 2x2 windows: the maximum of each half.
//! let pool = MaxPool2d::new(Pool2dConfig::new((2, 2)), ImageShape::new(1, 2, 4));
//! let x = array![[1.0_f32, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 6.0]];
//! let mut y = Array2::zeros((1, 2));
//! pool.forward(x.view(), y.view_mut());
//! assert_eq!(y, array![[5.0, 7.0]]);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

use super::conv::{conv_output_size, inside, row, row_mut, ImageShape};
use super::{export_input_error, Layer};
use crate::onnx::{window_attrs, Attr, Graph, Names, Value};
use crate::Float;

/// Hyperparameters of a pooling layer, with PyTorch's defaults for the
/// optional ones (`stride = kernel_size`, `padding = 0`).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::layers::Pool2dConfig;
/// let c = Pool2dConfig::new((2, 2));
/// assert_eq!((c.stride, c.padding), ((2, 2), (0, 0)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dConfig {
    /// `(kh, kw)`: the window's height and width.
    pub kernel_size: (usize, usize),
    /// `(sh, sw)`: steps between windows; default `kernel_size`.
    pub stride: (usize, usize),
    /// `(ph, pw)`: implicit padding on each side, at most half the window
    /// (PyTorch's rule); default `(0, 0)`. Max pooling pads with `-inf`,
    /// average pooling with zeros that count in the divisor.
    pub padding: (usize, usize),
}

impl Pool2dConfig {
    /// Non-overlapping `kernel_size` windows: stride = kernel, no padding.
    pub const fn new(kernel_size: (usize, usize)) -> Self {
        Pool2dConfig {
            kernel_size,
            stride: kernel_size,
            padding: (0, 0),
        }
    }
}

/// The geometry of a pooling layer over one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Windows {
    config: Pool2dConfig,
    input: ImageShape,
    output: ImageShape,
}

impl Windows {
    /// The pooling node `op` of an ONNX graph, with `extra` attributes.
    fn export(
        &self,
        graph: &mut Graph,
        input: &Value,
        names: &Names<'_>,
        layer: &str,
        op: &str,
        extra: Vec<(&'static str, Attr)>,
    ) -> crate::Result<Value> {
        let (i, o) = (self.input, self.output);
        if input.shape != [i.channels, i.height, i.width] || input.elem != graph.float() {
            return Err(export_input_error(layer, names, input));
        }
        let c = self.config;
        let (k, st, p) = (c.kernel_size, c.stride, c.padding);
        let mut attrs = window_attrs(&[k.0, k.1], &[st.0, st.1], &[p.0, p.1]);
        attrs.extend(extra);
        Ok(graph.apply(
            op,
            names.path,
            input,
            attrs,
            vec![o.channels, o.height, o.width],
        ))
    }

    #[track_caller]
    fn new(layer: &str, config: Pool2dConfig, input: ImageShape) -> Self {
        let Pool2dConfig {
            kernel_size: (kh, kw),
            stride: (sh, sw),
            padding: (ph, pw),
        } = config;
        assert!(
            2 * ph <= kh && 2 * pw <= kw,
            "{layer}: padding {ph}x{pw} is more than half of the {kh}x{kw} window"
        );
        let (Some(oh), Some(ow)) = (
            conv_output_size(input.height, kh, sh, ph),
            conv_output_size(input.width, kw, sw, pw),
        ) else {
            panic!(
                "{layer}: a {kh}x{kw} window with stride {sh}x{sw} and padding {ph}x{pw} \
                 does not fit a {}x{} image",
                input.height, input.width
            )
        };
        Windows {
            config,
            input,
            output: ImageShape::new(input.channels, oh, ow),
        }
    }

    /// The input rows (or columns, with `axis = 1`) under output row `o`:
    /// the window clipped to the image.
    #[inline(always)]
    fn span(&self, o: usize, axis: usize) -> (usize, usize) {
        let c = &self.config;
        let (k, s, p, len) = if axis == 0 {
            (c.kernel_size.0, c.stride.0, c.padding.0, self.input.height)
        } else {
            (c.kernel_size.1, c.stride.1, c.padding.1, self.input.width)
        };
        let start = o * s;
        (
            start.saturating_sub(p),
            (start + k).saturating_sub(p).min(len),
        )
    }

    #[track_caller]
    fn check_shapes(&self, layer: &str, input: (usize, usize), output: (usize, usize)) {
        let batch = input.0;
        assert!(
            input.1 == self.input.len() && output == (batch, self.output.len()),
            "{layer}: expected [{batch}, {}] and [{batch}, {}], found {input:?} and {output:?}",
            self.input.len(),
            self.output.len()
        );
    }

    /// 2x2 windows with stride 2 and no padding (`MaxPool2d(2)`), the
    /// common case, which has its own loops.
    fn is_two_by_two(&self) -> bool {
        let c = &self.config;
        c.kernel_size == (2, 2) && c.stride == (2, 2) && c.padding == (0, 0)
    }

    /// The kernel columns `kj` and, for each, the output columns `lo..hi`
    /// it reads inside the image and the input column read at `lo`.
    #[inline(always)]
    fn column_ranges(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let c = &self.config;
        (0..c.kernel_size.1).map(move |kj| {
            inside(
                kj,
                c.stride.1,
                c.padding.1,
                self.input.width,
                self.output.width,
            )
        })
    }
}

/// `f(y, x)` for `y` in `ys` and every `stride`-th `x` of `xs`, with the
/// common strides compiled separately so that they vectorize.
#[inline(always)]
fn strided<T: Copy>(ys: &mut [T], xs: &[T], stride: usize, f: impl Fn(&mut T, T)) {
    match stride {
        1 => ys.iter_mut().zip(xs).for_each(|(y, &x)| f(y, x)),
        2 => ys
            .iter_mut()
            .zip(xs.iter().step_by(2))
            .for_each(|(y, &x)| f(y, x)),
        _ => ys
            .iter_mut()
            .zip(xs.iter().step_by(stride))
            .for_each(|(y, &x)| f(y, x)),
    }
}

/// `f(x, y)` for every `stride`-th `x` of `xs` and `y` in `ys`, writable
/// `x` (the backward passes' scatter).
#[inline(always)]
fn strided_mut<T: Copy>(xs: &mut [T], ys: &[T], stride: usize, f: impl Fn(&mut T, T)) {
    match stride {
        1 => xs.iter_mut().zip(ys).for_each(|(x, &y)| f(x, y)),
        2 => xs.iter_mut().step_by(2).zip(ys).for_each(|(x, &y)| f(x, y)),
        _ => xs
            .iter_mut()
            .step_by(stride)
            .zip(ys)
            .for_each(|(x, &y)| f(x, y)),
    }
}

/// PyTorch's `MaxPool2d` (dilation 1, `ceil_mode = False`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaxPool2d {
    windows: Windows,
}

/// PyTorch's `AvgPool2d` (`ceil_mode = False`, `count_include_pad = True`,
/// no divisor override): every window divides by `kh kw`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AvgPool2d {
    windows: Windows,
}

/// The running maximum with PyTorch's rule: a value replaces it if greater
/// or NaN, so a NaN in the window is the result.
#[inline(always)]
fn max_nan<T: Float>(best: &mut T, v: T) {
    *best = if v > *best || v.is_nan() { v } else { *best };
}

/// Runs the window reduction shared by both pools' forward passes:
/// `y <- init`, then `reduce(y, x)` for every input `x` of its window.
///
/// LOOP 1: samples; LOOP 2: channels; LOOP 3: output rows; LOOP 4: the
/// input rows under them; LOOP 5: kernel columns; LOOP 6: output columns.
/// The innermost loop runs along an output row, so consecutive windows
/// never wait on each other and unit or 2 strides vectorize; each window
/// still sees its values in row-major order.
#[track_caller]
fn reduce_windows<T: Float>(
    w: &Windows,
    input: ArrayView2<'_, T>,
    mut output: ArrayViewMut2<'_, T>,
    init: T,
    reduce: impl Fn(&mut T, T) + Copy,
    mut finish: impl FnMut(&mut [T]),
) {
    let (width, ow, sw) = (w.input.width, w.output.width, w.config.stride.1);
    for (x, y) in input.rows().into_iter().zip(output.rows_mut()) {
        let (x, y) = (row(x), row_mut(y));
        for (x, y) in x
            .chunks_exact(w.input.plane())
            .zip(y.chunks_exact_mut(w.output.plane()))
        {
            for (oy, y) in y.chunks_exact_mut(ow).enumerate() {
                y.fill(init);
                let (r0, r1) = w.span(oy, 0);
                for x in x[r0 * width..r1 * width].chunks_exact(width) {
                    for (lo, hi, ix) in w.column_ranges() {
                        strided(&mut y[lo..hi], &x[ix..], sw, reduce);
                    }
                }
                finish(y);
            }
        }
    }
}

/// The forward pass of 2x2 windows with stride 2 and no padding:
/// `y <- f([top left, top right, bottom left, bottom right])`. The windows
/// are disjoint and inside the image, so each output row reads two whole
/// input rows in pairs, a loop that vectorizes.
#[track_caller]
fn two_by_two<T: Float>(
    w: &Windows,
    input: ArrayView2<'_, T>,
    mut output: ArrayViewMut2<'_, T>,
    f: impl Fn([T; 4]) -> T,
) {
    let (width, ow) = (w.input.width, w.output.width);
    for (x, y) in input.rows().into_iter().zip(output.rows_mut()) {
        let (x, y) = (row(x), row_mut(y));
        for (x, y) in x
            .chunks_exact(w.input.plane())
            .zip(y.chunks_exact_mut(w.output.plane()))
        {
            for (x, y) in x.chunks_exact(2 * width).zip(y.chunks_exact_mut(ow)) {
                let (top, bottom) = x.split_at(width);
                for ((y, t), b) in y
                    .iter_mut()
                    .zip(top.chunks_exact(2))
                    .zip(bottom.chunks_exact(2))
                {
                    *y = f([t[0], t[1], b[0], b[1]]);
                }
            }
        }
    }
}

/// The max-pool backward pass of 2x2 windows with stride 2 and no padding,
/// for one sample whose `dx` is zeroed: `g` to each window's argmax.
fn two_by_two_backward<T: Float>(w: &Windows, x: &[T], y: &[T], g: &[T], dx: &mut [T]) {
    let (width, ow) = (w.input.width, w.output.width);
    let planes = x
        .chunks_exact(w.input.plane())
        .zip(dx.chunks_exact_mut(w.input.plane()))
        .zip(y.chunks_exact(w.output.plane()))
        .zip(g.chunks_exact(w.output.plane()));
    for (((x, dx), y), g) in planes {
        let rows = x
            .chunks_exact(2 * width)
            .zip(dx.chunks_exact_mut(2 * width))
            .zip(y.chunks_exact(ow))
            .zip(g.chunks_exact(ow));
        for (((x, dx), y), g) in rows {
            let (top, bottom) = x.split_at(width);
            let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
            for (ox, ((t, b), (&best, &g))) in windows.zip(y.iter().zip(g)).enumerate() {
                let values = [t[0], t[1], b[0], b[1]];
                // The window element k = 2 row + column that gets g.
                let k = if best.is_nan() {
                    // The last NaN, scanning forward (rare: a branch).
                    values.iter().rposition(|v| v.is_nan()).unwrap_or(0)
                } else {
                    // The first equal value, by arithmetic on the
                    // comparisons: no branch on the data.
                    let ne = values.map(|v| usize::from(v != best));
                    ne[0] * (1 + ne[1] * (1 + ne[2]))
                };
                dx[(k >> 1) * width + 2 * ox + (k & 1)] = g;
            }
        }
    }
}

impl MaxPool2d {
    /// Max pooling of `input`-shaped samples.
    ///
    /// # Panics
    ///
    /// If the window or the stride is 0, the padding is more than half the
    /// window, or the window does not fit the padded image.
    #[track_caller]
    pub fn new(config: Pool2dConfig, input: ImageShape) -> Self {
        MaxPool2d {
            windows: Windows::new("MaxPool2d", config, input),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> Pool2dConfig {
        self.windows.config
    }

    /// The shape of an input sample.
    pub fn input_shape(&self) -> ImageShape {
        self.windows.input
    }

    /// The shape of an output sample: same channels, `oh x ow`.
    pub fn output_shape(&self) -> ImageShape {
        self.windows.output
    }

    /// `output <- ` the maximum of each window (NaN if it holds one, as
    /// PyTorch).
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, C*H*W]` or `output` not `[b, C*oh*ow]`, or a
    /// row is not contiguous.
    #[track_caller]
    pub fn forward<T: Float>(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let w = &self.windows;
        w.check_shapes("MaxPool2d", input.dim(), output.dim());
        if w.is_two_by_two() {
            return two_by_two(w, input, output, |[a, b, c, d]| {
                let mut best = T::neg_infinity();
                for v in [a, b, c, d] {
                    max_nan(&mut best, v);
                }
                best
            });
        }
        reduce_windows(w, input, output, T::neg_infinity(), max_nan, |_| ());
    }

    /// `grad_input <- ` each window's `grad_output` routed to the input
    /// element that was its maximum, given the forward's `input` and
    /// `output`: PyTorch's argmax, the first maximum in row-major order on
    /// ties (the last NaN if the window holds NaNs). Overlapping windows add
    /// up.
    ///
    /// # Panics
    ///
    /// If the shapes disagree with `[b, C*H*W]`, `[b, C*oh*ow]`,
    /// `[b, C*oh*ow]`, `[b, C*H*W]`, or a row is not contiguous.
    #[track_caller]
    pub fn backward<T: Float>(
        &self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: ArrayViewMut2<'_, T>,
    ) {
        let w = &self.windows;
        w.check_shapes("MaxPool2d", input.dim(), output.dim());
        w.check_shapes("MaxPool2d", input.dim(), grad_output.dim());
        w.check_shapes("MaxPool2d", grad_input.dim(), grad_output.dim());
        let (width, ow) = (w.input.width, w.output.width);
        for (((x, y), g), dx) in input
            .rows()
            .into_iter()
            .zip(output.rows())
            .zip(grad_output.rows())
            .zip(grad_input.rows_mut())
        {
            let (x, y, g, dx) = (row(x), row(y), row(g), row_mut(dx));
            dx.fill(T::zero());
            if w.is_two_by_two() {
                two_by_two_backward(w, x, y, g, dx);
                continue;
            }
            // LOOP 1: channels; LOOP 2: output rows; LOOP 3: output columns;
            // then the window, row by row, until its maximum.
            for (((x, y), g), dx) in x
                .chunks_exact(w.input.plane())
                .zip(y.chunks_exact(w.output.plane()))
                .zip(g.chunks_exact(w.output.plane()))
                .zip(dx.chunks_exact_mut(w.input.plane()))
            {
                for (oy, (y, g)) in y.chunks_exact(ow).zip(g.chunks_exact(ow)).enumerate() {
                    let rows = w.span(oy, 0);
                    for (ox, (&best, &g)) in y.iter().zip(g).enumerate() {
                        let at = argmax(x, width, rows, w.span(ox, 1), best);
                        dx[at] = dx[at] + g;
                    }
                }
            }
        }
    }
}

/// The offset in the plane of PyTorch's argmax of a window whose maximum
/// (as [`max_nan`] finds it) is `best`: the first element equal to it in
/// row-major order, or the last NaN if `best` is NaN.
#[inline(always)]
fn argmax<T: Float>(
    plane: &[T],
    width: usize,
    (r0, r1): (usize, usize),
    (c0, c1): (usize, usize),
    best: T,
) -> usize {
    if best.is_nan() {
        let mut at = r0 * width + c0;
        for r in r0..r1 {
            let start = r * width + c0;
            for (j, &v) in plane[start..start + (c1 - c0)].iter().enumerate() {
                if v.is_nan() {
                    at = start + j;
                }
            }
        }
        return at;
    }
    for r in r0..r1 {
        let start = r * width + c0;
        if let Some(j) = plane[start..start + (c1 - c0)]
            .iter()
            .position(|&v| v == best)
        {
            return start + j;
        }
    }
    // Not the forward's output (or -inf everywhere): the first element,
    // where PyTorch starts its scan.
    r0 * width + c0
}

impl AvgPool2d {
    /// Average pooling of `input`-shaped samples.
    ///
    /// # Panics
    ///
    /// As [`MaxPool2d::new`].
    #[track_caller]
    pub fn new(config: Pool2dConfig, input: ImageShape) -> Self {
        AvgPool2d {
            windows: Windows::new("AvgPool2d", config, input),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> Pool2dConfig {
        self.windows.config
    }

    /// The shape of an input sample.
    pub fn input_shape(&self) -> ImageShape {
        self.windows.input
    }

    /// The shape of an output sample: same channels, `oh x ow`.
    pub fn output_shape(&self) -> ImageShape {
        self.windows.output
    }

    /// The divisor of every window, `kh kw` (padding included).
    fn divisor<T: Float>(&self) -> T {
        let (kh, kw) = self.windows.config.kernel_size;
        T::of((kh * kw) as f64)
    }

    /// `output <- ` each window's sum divided by `kh kw`.
    ///
    /// # Panics
    ///
    /// As [`MaxPool2d::forward`].
    #[track_caller]
    pub fn forward<T: Float>(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let w = &self.windows;
        w.check_shapes("AvgPool2d", input.dim(), output.dim());
        let divisor = self.divisor::<T>();
        if w.is_two_by_two() {
            return two_by_two(w, input, output, |[a, b, c, d]| {
                (((a + b) + c) + d) / divisor
            });
        }
        let add = |s: &mut T, v: T| *s = *s + v;
        reduce_windows(w, input, output, T::zero(), add, |y| {
            for y in y {
                *y = *y / divisor;
            }
        });
    }

    /// `grad_input <- ` each window's `grad_output / (kh kw)` added to every
    /// input element of the window.
    ///
    /// # Panics
    ///
    /// As [`MaxPool2d::backward`].
    #[track_caller]
    pub fn backward<T: Float>(
        &self,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: ArrayViewMut2<'_, T>,
    ) {
        let w = &self.windows;
        w.check_shapes("AvgPool2d", grad_input.dim(), grad_output.dim());
        let divisor = self.divisor::<T>();
        let (width, ow, sw) = (w.input.width, w.output.width, w.config.stride.1);
        for (g, dx) in grad_output.rows().into_iter().zip(grad_input.rows_mut()) {
            let (g, dx) = (row(g), row_mut(dx));
            dx.fill(T::zero());
            // The loops of the forward pass, scattering instead of gathering.
            for (g, dx) in g
                .chunks_exact(w.output.plane())
                .zip(dx.chunks_exact_mut(w.input.plane()))
            {
                for (oy, g) in g.chunks_exact(ow).enumerate() {
                    let (r0, r1) = w.span(oy, 0);
                    for dx in dx[r0 * width..r1 * width].chunks_exact_mut(width) {
                        for (lo, hi, ix) in w.column_ranges() {
                            strided_mut(&mut dx[ix..], &g[lo..hi], sw, |d, g| {
                                *d = *d + g / divisor
                            });
                        }
                    }
                }
            }
        }
    }
}

impl<T: Float> Layer<T> for MaxPool2d {
    /// `MaxPool` over the image (padding never wins a window).
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        self.windows
            .export(graph, input, names, "MaxPool2d", "MaxPool", vec![])
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
        let _ = training;
        MaxPool2d::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        MaxPool2d::forward(self, input, output);
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
        let _ = accumulate;
        if let Some(grad_input) = grad_input {
            MaxPool2d::backward(self, input, output, grad_output, grad_input);
        }
    }
}

impl<T: Float> Layer<T> for AvgPool2d {
    /// `AveragePool` over the image, padding counted (`count_include_pad = 1`).
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        self.windows.export(
            graph,
            input,
            names,
            "AvgPool2d",
            "AveragePool",
            vec![("count_include_pad", Attr::Int(1))],
        )
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
        let _ = training;
        AvgPool2d::forward(self, input, output);
    }

    #[inline]
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        AvgPool2d::forward(self, input, output);
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
        let _ = (input, output, accumulate);
        if let Some(grad_input) = grad_input {
            AvgPool2d::backward(self, grad_output, grad_input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn max_pool_routes_ties_to_the_first_maximum() {
        let pool = MaxPool2d::new(Pool2dConfig::new((2, 2)), ImageShape::new(1, 2, 2));
        let x = array![[3.0_f64, 3.0, 1.0, 3.0]];
        let mut dx = Array2::from_elem((1, 4), f64::NAN);
        let y = array![[3.0]];
        pool.backward(x.view(), y.view(), array![[2.0]].view(), dx.view_mut());
        assert_eq!(dx, array![[2.0, 0.0, 0.0, 0.0]]);
    }

    #[test]
    fn max_pool_follows_pytorch_on_ties_and_nans_in_both_paths() {
        let nan = f64::NAN;
        // 2x2 windows (the fast path) and 2x3 windows with stride 2x3 (the
        // general one) over one 2x6 channel: [ties, a NaN, two NaNs].
        let x = array![[1.0, 4.0, 9.0, 4.0, 4.0, nan, 4.0, 4.0, nan, 0.0, 2.0, nan]];
        let two = MaxPool2d::new(Pool2dConfig::new((2, 2)), ImageShape::new(1, 2, 6));
        let mut y = Array2::zeros((1, 3));
        two.forward(x.view(), y.view_mut());
        assert_eq!(y[[0, 0]], 4.0);
        assert!(y[[0, 1]].is_nan() && y[[0, 2]].is_nan());
        let mut dx = Array2::from_elem((1, 12), nan);
        two.backward(
            x.view(),
            y.view(),
            array![[1.0, 2.0, 3.0]].view(),
            dx.view_mut(),
        );
        // Window 0 = [1, 4 | 4, 4]: the first 4. Window 1 = [9, 4 | nan, 0]:
        // the NaN. Window 2 = [4, nan | 2, nan]: the last NaN.
        let expect = [0., 1., 0., 0., 0., 0., 0., 0., 2., 0., 0., 3.];
        assert_eq!(dx.as_slice().unwrap(), expect);

        let config = Pool2dConfig::new((2, 3));
        let wide = MaxPool2d::new(config, ImageShape::new(1, 2, 6));
        let x = array![[4.0, 1.0, 4.0, 0.0, nan, 0.0, 4.0, 4.0, 2.0, nan, 1.0, 1.0]];
        let mut y = Array2::zeros((1, 2));
        wide.forward(x.view(), y.view_mut());
        assert_eq!(y[[0, 0]], 4.0);
        assert!(y[[0, 1]].is_nan());
        let mut dx = Array2::from_elem((1, 12), nan);
        wide.backward(x.view(), y.view(), array![[1.0, 2.0]].view(), dx.view_mut());
        let expect = [1., 0., 0., 0., 0., 0., 0., 0., 0., 2., 0., 0.];
        assert_eq!(dx.as_slice().unwrap(), expect);
    }

    #[test]
    fn max_pool_with_padding_never_picks_the_padding() {
        // 3x3 windows, stride 2, padding 1 over a 1x3x3 image of negatives.
        let config = Pool2dConfig {
            stride: (2, 2),
            padding: (1, 1),
            ..Pool2dConfig::new((3, 3))
        };
        let pool = MaxPool2d::new(config, ImageShape::new(1, 3, 3));
        assert_eq!(pool.output_shape(), ImageShape::new(1, 2, 2));
        let x = array![[-9.0_f32, -8.0, -7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0]];
        let mut y = Array2::zeros((1, 4));
        pool.forward(x.view(), y.view_mut());
        assert_eq!(y, array![[-5.0, -4.0, -2.0, -1.0]]);
    }

    #[test]
    fn avg_pool_counts_the_padding_in_the_divisor() {
        let config = Pool2dConfig {
            stride: (1, 1),
            padding: (1, 1),
            ..Pool2dConfig::new((2, 2))
        };
        let pool = AvgPool2d::new(config, ImageShape::new(1, 1, 1));
        let mut y = Array2::zeros((1, 4));
        pool.forward(array![[4.0_f64]].view(), y.view_mut());
        assert_eq!(y, array![[1.0, 1.0, 1.0, 1.0]]);
    }

    #[test]
    #[should_panic(expected = "more than half")]
    fn padding_over_half_the_window_is_rejected() {
        let config = Pool2dConfig {
            padding: (2, 0),
            ..Pool2dConfig::new((3, 3))
        };
        MaxPool2d::new(config, ImageShape::new(1, 8, 8));
    }
}
