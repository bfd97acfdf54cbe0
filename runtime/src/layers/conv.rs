//! 2-D convolution over images stored as rows, through im2col and [`gemm`].
//!
//! A sample is `C x H x W` values flattened row-major into one row of a
//! `[batch, C*H*W]` matrix, so `Flatten` costs nothing. With PyTorch's
//! definitions (weight `[out, in, kh, kw]`, stored here as the
//! `[out, in*kh*kw]` matrix `W`), for each sample `x`:
//!
//! - forward: `cols = im2col(x)`: `[in*kh*kw, oh*ow]`, then
//!   `y = W cols + b`: `[out, oh*ow]`, which is the sample's output row;
//! - backward, with `g = dL/dy` viewed as `[out, oh*ow]`:
//!   `dL/dW += g cols^T`, `dL/db += sum over positions of g`,
//!   `dL/dx = col2im(W^T g)` (the transpose of im2col: overlapping patches
//!   add up).
//!
//! The output size per dimension is `(in + 2 padding - kernel) / stride + 1`
//! ([`conv_output_size`]). The im2col scratch is one sample's worth, owned by
//! the layer and allocated at construction, so forward and backward allocate
//! nothing; [`Layer::infer`], on a shared reference, allocates a scratch of
//! its own per call.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::{Conv2d, Conv2dConfig};
//! use macrograd::Rng;
//! use ndarray::{array, Array2};
//! // One 1x3x3 image, a 2x2 kernel of ones, no bias: sums of 2x2 windows.
//! let config = Conv2dConfig { bias: false, ..Conv2dConfig::new(1, 1, (2, 2)) };
//! let mut conv = Conv2d::<f64>::new(config, (3, 3), &mut Rng::new(0));
//! conv.weight.fill(1.0);
//! let x = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]];
//! let mut y = Array2::zeros((1, 4));
//! conv.forward(x.view(), y.view_mut());
//! assert_eq!(y, array![[12.0, 16.0, 24.0, 28.0]]);
//! ```

use ndarray::{
    Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, ArrayViewMutD,
};

use super::{export_input_error, export_tensors, Layer};
use crate::gemm::gemm;
use crate::onnx::{window_attrs, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::param::{Parameter, ParameterMut};
use crate::{Float, Rng};

/// The shape of one sample of an image layer: `channels x height x width`,
/// flattened row-major into a row of [`ImageShape::len`] values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageShape {
    /// Channels (feature maps).
    pub channels: usize,
    /// Rows of each channel.
    pub height: usize,
    /// Columns of each channel.
    pub width: usize,
}

impl ImageShape {
    /// `channels x height x width`.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        ImageShape {
            channels,
            height,
            width,
        }
    }

    /// Values per sample: `channels * height * width`.
    pub const fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Whether a sample holds no value.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per channel: `height * width`.
    pub const fn plane(&self) -> usize {
        self.height * self.width
    }
}

/// The output size along one dimension of a convolution or pooling window:
/// `(input + 2 padding - kernel) / stride + 1` (rounded down, PyTorch's
/// `ceil_mode = False`, dilation 1).
///
/// `None` if the stride or the kernel is 0 or the kernel does not fit in the
/// padded input.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::layers::conv_output_size;
/// assert_eq!(conv_output_size(28, 3, 1, 1), Some(28));
/// assert_eq!(conv_output_size(7, 2, 2, 0), Some(3));
/// assert_eq!(conv_output_size(2, 3, 1, 0), None);
/// ```
pub const fn conv_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Option<usize> {
    if stride == 0 || kernel == 0 || kernel > input + 2 * padding {
        None
    } else {
        Some((input + 2 * padding - kernel) / stride + 1)
    }
}

/// Hyperparameters of [`Conv2d`], with PyTorch's defaults for the optional
/// ones (`stride = 1`, `padding = 0`, `bias = true`; dilation 1, groups 1,
/// zero padding).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::layers::Conv2dConfig;
/// let c = Conv2dConfig { stride: (2, 2), padding: (1, 1), ..Conv2dConfig::new(3, 16, (3, 3)) };
/// assert!(c.bias);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dConfig {
    /// Channels of the input image.
    pub in_channels: usize,
    /// Channels of the output image (the number of filters).
    pub out_channels: usize,
    /// `(kh, kw)`: the filter's height and width.
    pub kernel_size: (usize, usize),
    /// `(sh, sw)`: steps between windows; default `(1, 1)`.
    pub stride: (usize, usize),
    /// `(ph, pw)`: zeros added on each side; default `(0, 0)`.
    pub padding: (usize, usize),
    /// Whether the layer adds a learned bias per output channel; default
    /// `true`.
    pub bias: bool,
}

impl Conv2dConfig {
    /// `in_channels -> out_channels` with a `kernel_size` filter and the
    /// defaults: stride 1, padding 0, a bias.
    pub const fn new(in_channels: usize, out_channels: usize, kernel_size: (usize, usize)) -> Self {
        Conv2dConfig {
            in_channels,
            out_channels,
            kernel_size,
            stride: (1, 1),
            padding: (0, 0),
            bias: true,
        }
    }
}

/// A 2-D convolution's parameters, their gradients and its im2col scratch.
#[derive(Clone, Debug)]
pub struct Conv2d<T> {
    /// `[out, in*kh*kw]`: PyTorch's `[out, in, kh, kw]` weight, row-major.
    pub weight: Array2<T>,
    /// `[out]`, or `None` for `bias = false`.
    pub bias: Option<Array1<T>>,
    /// `dL/dW`, same shape as `weight`.
    pub weight_grad: Array2<T>,
    /// `dL/db`, same shape as `bias`.
    pub bias_grad: Option<Array1<T>>,
    config: Conv2dConfig,
    patches: Patches,
    /// One sample's im2col matrix, `[in*kh*kw, oh*ow]` (empty for a
    /// pointwise convolution, whose input already is that matrix).
    cols: Vec<T>,
    /// One sample's `W^T g`, same shape as `cols`.
    grad_cols: Vec<T>,
}

impl<T: Float> Conv2d<T> {
    /// A convolution over `height x width` images, with PyTorch's default
    /// initialisation: weight and bias uniform in `[-k, k)` with
    /// `k = 1/sqrt(in*kh*kw)`, the weight drawn first in row-major
    /// `[out][in][kh][kw]` order, then the bias; each value is `k * rng.sym()`
    /// computed in `f64` and rounded once, as [`Linear`](super::Linear).
    ///
    /// # Panics
    ///
    /// If a channel count, the kernel or the stride is 0, or the kernel does
    /// not fit in the padded image.
    #[track_caller]
    pub fn new(config: Conv2dConfig, (height, width): (usize, usize), rng: &mut Rng) -> Self {
        let Conv2dConfig {
            in_channels,
            out_channels,
            kernel_size: (kh, kw),
            stride: (sh, sw),
            padding: (ph, pw),
            bias,
        } = config;
        assert!(
            in_channels > 0 && out_channels > 0,
            "Conv2d: expected at least 1 input and 1 output channel, found {in_channels} and {out_channels}"
        );
        let (Some(oh), Some(ow)) = (
            conv_output_size(height, kh, sh, ph),
            conv_output_size(width, kw, sw, pw),
        ) else {
            panic!(
                "Conv2d: a {kh}x{kw} kernel with stride {sh}x{sw} and padding {ph}x{pw} \
                 does not fit a {height}x{width} image"
            )
        };
        let patches = Patches {
            input: ImageShape::new(in_channels, height, width),
            kernel: (kh, kw),
            stride: (sh, sw),
            padding: (ph, pw),
            output: (oh, ow),
        };
        let fan_in = patches.patch_len();
        let k = 1.0 / (fan_in as f64).sqrt();
        let weight = Array2::from_shape_simple_fn((out_channels, fan_in), || T::of(k * rng.sym()));
        let bias =
            bias.then(|| Array1::from_shape_simple_fn(out_channels, || T::of(k * rng.sym())));
        let scratch = if patches.is_pointwise() {
            0
        } else {
            fan_in * oh * ow
        };
        Conv2d {
            weight_grad: Array2::zeros(weight.raw_dim()),
            bias_grad: bias.as_ref().map(|b| Array1::zeros(b.raw_dim())),
            weight,
            bias,
            config,
            patches,
            cols: vec![T::zero(); scratch],
            grad_cols: vec![T::zero(); scratch],
        }
    }

    /// The hyperparameters this layer was built with.
    pub fn config(&self) -> Conv2dConfig {
        self.config
    }

    /// The shape of an input sample, `in x height x width`.
    pub fn input_shape(&self) -> ImageShape {
        self.patches.input
    }

    /// The shape of an output sample, `out x oh x ow`.
    pub fn output_shape(&self) -> ImageShape {
        let (oh, ow) = self.patches.output;
        ImageShape::new(self.config.out_channels, oh, ow)
    }

    /// Values per input sample, `in*height*width`.
    pub fn in_features(&self) -> usize {
        self.patches.input.len()
    }

    /// Values per output sample, `out*oh*ow`.
    pub fn out_features(&self) -> usize {
        self.output_shape().len()
    }

    /// `output <- conv(input) + b`, sample by sample: im2col, then one
    /// `[out, in*kh*kw] x [in*kh*kw, oh*ow]` product.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, in*h*w]` or `output` not `[b, out*oh*ow]`, or
    /// their rows are not contiguous (a column stride other than 1; the
    /// runtime's buffers always are).
    #[track_caller]
    pub fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut cols = std::mem::take(&mut self.cols);
        self.forward_with(input, output, &mut cols);
        self.cols = cols;
    }

    /// [`Conv2d::forward`] with `cols` as the im2col scratch.
    #[track_caller]
    fn forward_with(
        &self,
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
        cols_scratch: &mut [T],
    ) {
        let (batch, out_features) = (input.nrows(), self.out_features());
        assert!(
            input.ncols() == self.in_features() && output.dim() == (batch, out_features),
            "Conv2d: expected input [{batch}, {}] and output [{batch}, {out_features}], found {:?} and {:?}",
            self.in_features(),
            input.dim(),
            output.dim()
        );
        let (patch_len, positions) = (self.patches.patch_len(), self.patches.positions());
        let out_channels = self.config.out_channels;
        for (x, y) in input.rows().into_iter().zip(output.rows_mut()) {
            let (x, y) = (row(x), row_mut(y));
            let cols = if self.patches.is_pointwise() {
                x
            } else {
                self.patches.im2col(x, cols_scratch);
                &cols_scratch[..]
            };
            let beta = match &self.bias {
                Some(bias) => {
                    // Seed each output channel with its bias, then accumulate.
                    for (plane, &b) in y.chunks_exact_mut(positions).zip(bias) {
                        plane.fill(b);
                    }
                    T::one()
                }
                None => T::zero(),
            };
            gemm(
                T::one(),
                self.weight.view(),
                matrix(cols, patch_len, positions),
                beta,
                matrix_mut(y, out_channels, positions),
            );
        }
    }

    /// Adds (`accumulate`) or writes the parameter gradients for `input` and
    /// `grad_output = dL/dy`, and writes `grad_input = dL/dx` when asked.
    ///
    /// `accumulate = false` is the first backward after `zero_grad`: the
    /// gradients are overwritten without being read, as [`Linear`](super::Linear).
    ///
    /// # Panics
    ///
    /// If the shapes disagree with `[b, in*h*w]`, `[b, out*oh*ow]`,
    /// `[b, in*h*w]`, or a row is not contiguous.
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        mut grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let (batch, in_features, out_features) =
            (input.nrows(), self.in_features(), self.out_features());
        assert!(
            input.ncols() == in_features
                && grad_output.dim() == (batch, out_features)
                && grad_input
                    .as_ref()
                    .is_none_or(|g| g.dim() == (batch, in_features)),
            "Conv2d: expected input [{batch}, {in_features}], grad_output [{batch}, {out_features}] \
             and grad_input [{batch}, {in_features}], found {:?}, {:?} and {:?}",
            input.dim(),
            grad_output.dim(),
            grad_input.as_ref().map(|g| g.dim())
        );
        if !accumulate {
            // The products below overwrite only when a sample runs them.
            if batch == 0 {
                self.weight_grad.fill(T::zero());
            }
            if let Some(bias_grad) = &mut self.bias_grad {
                bias_grad.fill(T::zero());
            }
        }
        let (patch_len, positions) = (self.patches.patch_len(), self.patches.positions());
        let out_channels = self.config.out_channels;
        for (n, (x, g)) in input.rows().into_iter().zip(grad_output.rows()).enumerate() {
            let (x, g) = (row(x), row(g));
            let g_matrix = matrix(g, out_channels, positions);
            // dW (+)= g cols^T: [out, oh*ow] x [oh*ow, in*kh*kw].
            let cols = if self.patches.is_pointwise() {
                x
            } else {
                self.patches.im2col(x, &mut self.cols);
                &self.cols[..]
            };
            let beta = if accumulate || n > 0 {
                T::one()
            } else {
                T::zero()
            };
            gemm(
                T::one(),
                g_matrix,
                matrix(cols, patch_len, positions).t(),
                beta,
                self.weight_grad.view_mut(),
            );
            if let Some(bias_grad) = &mut self.bias_grad {
                for (b, plane) in bias_grad.iter_mut().zip(g.chunks_exact(positions)) {
                    *b = *b + sum(plane);
                }
            }
            if let Some(grad_input) = &mut grad_input {
                // dx = col2im(W^T g): [in*kh*kw, out] x [out, oh*ow].
                let dx = row_mut(grad_input.row_mut(n));
                if self.patches.is_pointwise() {
                    let dx = matrix_mut(dx, patch_len, positions);
                    gemm(T::one(), self.weight.t(), g_matrix, T::zero(), dx);
                } else {
                    let grad_cols = matrix_mut(&mut self.grad_cols, patch_len, positions);
                    gemm(T::one(), self.weight.t(), g_matrix, T::zero(), grad_cols);
                    dx.fill(T::zero());
                    self.patches.col2im(&self.grad_cols, dx);
                }
            }
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

    /// PyTorch's weight shape, `[out, in, kh, kw]`.
    fn weight_shape(&self) -> [usize; 4] {
        let (kh, kw) = self.config.kernel_size;
        [self.config.out_channels, self.config.in_channels, kh, kw]
    }

    /// Calls `f` on the weight (as `[out, in, kh, kw]`) and the bias, named
    /// `names[0]`, `names[1]`; gradients are `None` unless `has_grads`.
    pub fn visit_parameters<'a>(
        &'a self,
        names: [&'static str; 2],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        let shape = self.weight_shape();
        let as_4d = |w: &'a Array2<T>| {
            w.view()
                .into_shape_with_order(shape)
                .expect("a layer's own arrays are contiguous")
                .into_dyn()
        };
        f(Parameter {
            name: names[0],
            value: as_4d(&self.weight),
            grad: has_grads.then(|| as_4d(&self.weight_grad)),
        });
        if let (Some(bias), Some(bias_grad)) = (&self.bias, &self.bias_grad) {
            f(Parameter {
                name: names[1],
                value: bias.view().into_dyn(),
                grad: has_grads.then(|| bias_grad.view().into_dyn()),
            });
        }
    }

    /// Calls `f` on the weight (as `[out, in, kh, kw]`) and the bias,
    /// writable.
    pub fn visit_parameters_mut(
        &mut self,
        names: [&'static str; 2],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        let shape = self.weight_shape();
        fn as_4d<T>(w: &mut Array2<T>, shape: [usize; 4]) -> ArrayViewMutD<'_, T> {
            w.view_mut()
                .into_shape_with_order(shape)
                .expect("a layer's own arrays are contiguous")
                .into_dyn()
        }
        f(ParameterMut {
            name: names[0],
            value: as_4d(&mut self.weight, shape),
            grad: as_4d(&mut self.weight_grad, shape),
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

impl<T: Float> Layer<T> for Conv2d<T> {
    /// `Conv` with PyTorch's `[out, in, kh, kw]` weight as saved.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let (i, o) = (self.input_shape(), self.output_shape());
        if input.shape != [i.channels, i.height, i.width] || input.elem != graph.float() {
            return Err(export_input_error("Conv2d", names, input));
        }
        export_tensors(self, graph, names)?;
        let c = self.config;
        let mut inputs = vec![input.name.as_str(), names.parameter(0)?];
        if self.bias.is_some() {
            inputs.push(names.parameter(1)?);
        }
        let (k, st, p) = (c.kernel_size, c.stride, c.padding);
        let attrs = window_attrs(&[k.0, k.1], &[st.0, st.1], &[p.0, p.1]);
        let name = graph.node("Conv", &format!("{}.Conv", names.path), &inputs, attrs);
        Ok(Value {
            name,
            elem: input.elem,
            shape: vec![o.channels, o.height, o.width],
        })
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Conv2d::forward(self, input, output);
    }

    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut cols = vec![T::zero(); self.cols.len()];
        self.forward_with(input, output, &mut cols);
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
        Conv2d::backward(self, input, grad_output, grad_input, accumulate);
    }

    #[inline]
    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        Conv2d::step(self, optimizer, first);
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        Conv2d::visit_parameters(self, [names[0], names[1]], has_grads, f);
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        Conv2d::visit_parameters_mut(self, [names[0], names[1]], f);
    }
}

/// The geometry of a convolution's sliding windows over one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Patches {
    input: ImageShape,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    output: (usize, usize),
}

impl Patches {
    /// Values per window: `in*kh*kw`, the rows of the im2col matrix.
    fn patch_len(&self) -> usize {
        self.input.channels * self.kernel.0 * self.kernel.1
    }

    /// Windows per sample: `oh*ow`, the columns of the im2col matrix.
    fn positions(&self) -> usize {
        self.output.0 * self.output.1
    }

    /// A 1x1 kernel with stride 1 and no padding: the sample, read as
    /// `[in, h*w]`, already is its im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == (1, 1) && self.stride == (1, 1) && self.padding == (0, 0)
    }

    /// The input row read by kernel row `ki` at output row `oy`, if inside
    /// the image (else the window reads padding).
    #[inline(always)]
    fn input_row(&self, oy: usize, ki: usize) -> Option<usize> {
        (oy * self.stride.0 + ki)
            .checked_sub(self.padding.0)
            .filter(|&iy| iy < self.input.height)
    }

    /// The output columns `lo..hi` whose kernel column `kj` falls inside the
    /// image, and the input column read at `lo`.
    #[inline(always)]
    fn column_range(&self, kj: usize) -> (usize, usize, usize) {
        inside(
            kj,
            self.stride.1,
            self.padding.1,
            self.input.width,
            self.output.1,
        )
    }

    /// `cols <- im2col(image)`: row `(c, ki, kj)` of `cols` holds, for each
    /// output position `(oy, ox)`, the input value under kernel element
    /// `(ki, kj)` of channel `c`, or 0 in the padding.
    fn im2col<T: Float>(&self, image: &[T], cols: &mut [T]) {
        let (kh, kw) = self.kernel;
        let (ow, sw, width) = (self.output.1, self.stride.1, self.input.width);
        let positions = self.positions();
        let mut rows = cols.chunks_exact_mut(positions);
        // LOOP 1: channels; LOOP 2: kernel rows; LOOP 3: kernel columns.
        for plane in image.chunks_exact(self.input.plane()) {
            for ki in 0..kh {
                for kj in 0..kw {
                    let dst = rows.next().expect("cols holds in*kh*kw rows");
                    let (lo, hi, ix) = self.column_range(kj);
                    // LOOP 4: output rows, one input row (or padding) each.
                    for (oy, dst) in dst.chunks_exact_mut(ow).enumerate() {
                        let Some(iy) = self.input_row(oy, ki) else {
                            dst.fill(T::zero());
                            continue;
                        };
                        let src = &plane[iy * width + ix..(iy + 1) * width];
                        let (left, rest) = dst.split_at_mut(lo);
                        let (mid, right) = rest.split_at_mut(hi - lo);
                        left.fill(T::zero());
                        right.fill(T::zero());
                        if sw == 1 {
                            mid.copy_from_slice(&src[..mid.len()]);
                        } else {
                            for (d, &s) in mid.iter_mut().zip(src.iter().step_by(sw)) {
                                *d = s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// `image += col2im(cols)`: the transpose of [`Patches::im2col`], each
    /// window value added back to the input element it was read from
    /// (padding values are dropped).
    fn col2im<T: Float>(&self, cols: &[T], image: &mut [T]) {
        let (kh, kw) = self.kernel;
        let (ow, sw, width) = (self.output.1, self.stride.1, self.input.width);
        let positions = self.positions();
        let mut rows = cols.chunks_exact(positions);
        // The loops of im2col, with the copies reversed into additions.
        for plane in image.chunks_exact_mut(self.input.plane()) {
            for ki in 0..kh {
                for kj in 0..kw {
                    let src = rows.next().expect("cols holds in*kh*kw rows");
                    let (lo, hi, ix) = self.column_range(kj);
                    for (oy, src) in src.chunks_exact(ow).enumerate() {
                        let Some(iy) = self.input_row(oy, ki) else {
                            continue;
                        };
                        let dst = &mut plane[iy * width + ix..(iy + 1) * width];
                        let src = &src[lo..hi];
                        if sw == 1 {
                            for (d, &s) in dst.iter_mut().zip(src) {
                                *d = *d + s;
                            }
                        } else {
                            for (d, &s) in dst.iter_mut().step_by(sw).zip(src) {
                                *d = *d + s;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Along one dimension of a sliding window: the outputs `lo..hi` whose
/// kernel offset `k` reads inside the input (output `o` reads input
/// `o*stride + k - padding`), and the input read by output `lo` (0 if the
/// range is empty).
#[inline(always)]
pub(super) fn inside(
    k: usize,
    stride: usize,
    padding: usize,
    input: usize,
    outputs: usize,
) -> (usize, usize, usize) {
    // i >= 0  <=>  o*stride >= padding - k.
    let lo = padding.saturating_sub(k).div_ceil(stride).min(outputs);
    // i < input  <=>  o*stride < input + padding - k.
    let hi = (input + padding)
        .saturating_sub(k)
        .div_ceil(stride)
        .min(outputs)
        .max(lo);
    let first = if lo < hi {
        lo * stride + k - padding
    } else {
        0
    };
    (lo, hi, first)
}

/// The values of one sample: a contiguous row.
#[track_caller]
pub(super) fn row<T>(row: ArrayView1<'_, T>) -> &[T] {
    row.to_slice()
        .expect("image layers need contiguous rows (column stride 1)")
}

/// The values of one sample, writable: a contiguous row.
#[track_caller]
pub(super) fn row_mut<T>(row: ArrayViewMut1<'_, T>) -> &mut [T] {
    row.into_slice()
        .expect("image layers need contiguous rows (column stride 1)")
}

/// `values` read as a row-major `[rows, cols]` matrix.
#[inline]
fn matrix<T>(values: &[T], rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols), values).expect("a sample holds rows x cols values")
}

/// `values` read as a row-major `[rows, cols]` matrix, writable.
#[inline]
fn matrix_mut<T>(values: &mut [T], rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((rows, cols), values).expect("a sample holds rows x cols values")
}

/// Partial sums in the reductions of the image and normalisation layers:
/// two SSE vectors' worth, so that consecutive additions do not wait on
/// each other.
pub(super) const LANES: usize = 8;

/// The sum of `values` in [`LANES`] interleaved partial sums (which
/// vectorize and lose less precision than one running sum).
#[inline]
pub(super) fn sum<T: Float>(values: &[T]) -> T {
    let mut part = [T::zero(); LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (p, &v) in part.iter_mut().zip(c) {
            *p = *p + v;
        }
    }
    let mut total = combine(part);
    for &v in tail {
        total = total + v;
    }
    total
}

/// The total of [`LANES`] partial sums, pairwise.
#[inline(always)]
pub(super) fn combine<T: Float>(part: [T; LANES]) -> T {
    ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// im2col by the definition, one index at a time.
    fn naive_im2col(p: &Patches, image: &[f64]) -> Vec<f64> {
        let (kh, kw) = p.kernel;
        let (oh, ow) = p.output;
        let (h, w) = (p.input.height as isize, p.input.width as isize);
        let mut cols = Vec::new();
        for c in 0..p.input.channels {
            for ki in 0..kh {
                for kj in 0..kw {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * p.stride.0 + ki) as isize - p.padding.0 as isize;
                            let ix = (ox * p.stride.1 + kj) as isize - p.padding.1 as isize;
                            cols.push(if (0..h).contains(&iy) && (0..w).contains(&ix) {
                                image[c * p.input.plane() + (iy * w + ix) as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        cols
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_transpose() {
        for (c, h, w) in [(1, 1, 1), (2, 5, 7), (3, 4, 4), (1, 6, 3)] {
            for kernel in [(1, 1), (3, 2), (2, 3), (3, 3)] {
                for stride in [(1, 1), (2, 1), (1, 3), (2, 2)] {
                    for padding in [(0, 0), (1, 0), (0, 1), (1, 2), (2, 2)] {
                        let (Some(oh), Some(ow)) = (
                            conv_output_size(h, kernel.0, stride.0, padding.0),
                            conv_output_size(w, kernel.1, stride.1, padding.1),
                        ) else {
                            continue;
                        };
                        let p = Patches {
                            input: ImageShape::new(c, h, w),
                            kernel,
                            stride,
                            padding,
                            output: (oh, ow),
                        };
                        let image: Vec<f64> =
                            (0..c * h * w).map(|i| (i as f64 * 0.37).sin()).collect();
                        let mut cols = vec![f64::NAN; p.patch_len() * p.positions()];
                        p.im2col(&image, &mut cols);
                        let expect = naive_im2col(&p, &image);
                        assert_eq!(cols, expect, "{p:?}");
                        // <im2col(x), y> = <x, col2im(y)> for any y.
                        let y: Vec<f64> =
                            (0..cols.len()).map(|i| (i as f64 * 0.91).cos()).collect();
                        let mut back = vec![0.0; image.len()];
                        p.col2im(&y, &mut back);
                        let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
                        let rhs: f64 = image.iter().zip(&back).map(|(a, b)| a * b).sum();
                        assert!((lhs - rhs).abs() < 1e-9, "{p:?}: {lhs} vs {rhs}");
                    }
                }
            }
        }
    }

    #[test]
    fn init_draws_the_weight_then_the_bias_like_linear() {
        let config = Conv2dConfig::new(2, 3, (3, 2));
        let conv = Conv2d::<f64>::new(config, (5, 7), &mut Rng::new(4));
        let linear = super::super::Linear::<f64>::new(12, 3, true, &mut Rng::new(4));
        assert_eq!(conv.weight, linear.weight);
        assert_eq!(conv.bias, linear.bias);
        assert_eq!(conv.output_shape(), ImageShape::new(3, 3, 6));
    }

    #[test]
    #[should_panic(expected = "does not fit a 2x7 image")]
    fn a_kernel_larger_than_the_image_is_rejected() {
        Conv2d::<f32>::new(Conv2dConfig::new(1, 1, (3, 3)), (2, 7), &mut Rng::new(0));
    }
}
