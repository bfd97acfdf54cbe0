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
//! The samples of a batch go through the products together, in chunks of
//! up to [`CHUNK_VALUES`] im2col values: the chunk's im2col matrices side by
//! side, `[in*kh*kw, n*oh*ow]`, make one product per chunk, wide enough for
//! the packed kernels and for the threads (one product per sample of a
//! small image is too short for either). Its `[out, n*oh*ow]` result is
//! then copied to the samples' rows, the bias added on the way; backward
//! copies `g` into that layout and makes `dL/dW` one product over the
//! chunk's `n*oh*ow` positions. The chunk size depends on the batch and the
//! layer only, never on the threads, so 1 and 2 threads give the same bits.
//! im2col reads each sample inside a zero border of the padding's width, so
//! every output row of a window is one short copy; long chunks split it
//! across the threads by input channels, and col2im by samples. When the
//! whole batch was one chunk, backward reuses the forward's im2col matrix
//! (the [`Layer::backward`] contract: the same input again).
//!
//! The output size per dimension is `(in + 2 padding - kernel) / stride + 1`
//! ([`conv_output_size`]). The scratch (im2col matrix and products of a
//! chunk) is owned by the layer and grows to the largest chunk met, so once
//! a batch of the largest size has run, forward and backward allocate
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
    s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, ArrayViewMutD, Axis,
};

use super::{export_input_error, export_tensors, Layer};
use crate::gemm::gemm;
use crate::onnx::{window_attrs, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::parallel::split_rows;
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
    scratch: Scratch<T>,
}

/// The working memory of a convolution's passes, grown on first use.
#[derive(Clone, Debug, Default)]
struct Scratch<T> {
    /// A chunk's im2col matrices side by side, `[in*kh*kw, n*oh*ow]`.
    cols: Vec<T>,
    /// A chunk's outputs or output gradients, `[out, n*oh*ow]`.
    planes: Vec<T>,
    /// A chunk's `W^T g`, same shape as `cols`.
    grad_cols: Vec<T>,
    /// One sample inside a zero border of the padding's width (whose border
    /// no pass writes, so it stays zero).
    padded: Vec<T>,
    /// One sample's gradient with the border, added to by col2im.
    padded_grad: Vec<T>,
    /// The input whose im2col matrices `cols` holds, when the last forward
    /// ran the whole batch as one chunk: its address, rows and row stride.
    /// Backward, given that input again, reuses them.
    cols_of: Option<(usize, usize, isize)>,
}

/// What identifies a pass's input for [`Scratch::cols_of`].
fn identity<T>(input: &ArrayView2<'_, T>) -> (usize, usize, isize) {
    (input.as_ptr() as usize, input.nrows(), input.strides()[0])
}

/// The most im2col values a chunk of the batch makes at once (256 KiB of
/// `f32`): enough that a chunk of small images is one product of hundreds
/// of columns, few enough that the matrix is still in L2 when the product
/// packs it. On the digits CNN (`docs/workloads.md`, W6) 2^14 to 2^16 ran
/// alike and 2^18 and 2^19 (the whole batch, whose im2col backward could
/// reuse) 5-10 % slower. A sample larger than this is a chunk of its own.
pub const CHUNK_VALUES: usize = 1 << 16;

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
        Conv2d {
            weight_grad: Array2::zeros(weight.raw_dim()),
            bias_grad: bias.as_ref().map(|b| Array1::zeros(b.raw_dim())),
            weight,
            bias,
            config,
            patches,
            scratch: Scratch::default(),
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

    /// `output <- conv(input) + b`: for each chunk of the batch, im2col of
    /// its samples side by side, one `[out, in*kh*kw] x [in*kh*kw, n*oh*ow]`
    /// product, and the result copied to the samples' rows with the bias.
    ///
    /// # Panics
    ///
    /// If `input` is not `[b, in*h*w]` or `output` not `[b, out*oh*ow]`, or
    /// their rows are not contiguous (a column stride other than 1; the
    /// runtime's buffers always are).
    #[track_caller]
    pub fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.forward_with(input, output, &mut scratch);
        self.scratch = scratch;
    }

    /// [`Conv2d::forward`] with `scratch` as working memory.
    #[track_caller]
    fn forward_with(
        &self,
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
        scratch: &mut Scratch<T>,
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
        let chunk = self.chunk(batch);
        scratch.cols_of = (chunk >= batch).then(|| identity(&input));
        let chunks = input
            .axis_chunks_iter(Axis(0), chunk)
            .zip(output.axis_chunks_iter_mut(Axis(0), chunk));
        for (x, mut y) in chunks {
            let width = x.nrows() * positions;
            let cols = grown(&mut scratch.cols, patch_len * width);
            self.patches.im2col_rows(x, cols, &mut scratch.padded);
            let planes = grown(&mut scratch.planes, out_channels * width);
            gemm(
                T::one(),
                self.weight.view(),
                matrix(cols, patch_len, width),
                T::zero(),
                matrix_mut(planes, out_channels, width),
            );
            // Output channel `o` of sample `j` is `planes[o][j*oh*ow..]`.
            for (j, y) in y.rows_mut().into_iter().enumerate() {
                let y = row_mut(y);
                let rows = y
                    .chunks_exact_mut(positions)
                    .zip(planes.chunks_exact(width));
                for (o, (dst, src)) in rows.enumerate() {
                    let src = &src[j * positions..(j + 1) * positions];
                    match &self.bias {
                        Some(bias) => {
                            let b = bias[o];
                            for (d, &s) in dst.iter_mut().zip(src) {
                                *d = s + b;
                            }
                        }
                        None => dst.copy_from_slice(src),
                    }
                }
            }
        }
    }

    /// Samples per chunk for a batch of `batch`: as many as
    /// [`CHUNK_VALUES`] allows (at least 1), the batch split into chunks
    /// of equal size but the last.
    fn chunk(&self, batch: usize) -> usize {
        let per_sample = self.patches.patch_len() * self.patches.positions();
        let most = (CHUNK_VALUES / per_sample).max(1);
        match batch.div_ceil(most) {
            0 => 1,
            chunks => batch.div_ceil(chunks),
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
            // The products below overwrite only when a chunk runs them.
            if batch == 0 {
                self.weight_grad.fill(T::zero());
            }
            if let Some(bias_grad) = &mut self.bias_grad {
                bias_grad.fill(T::zero());
            }
        }
        let (patch_len, positions) = (self.patches.patch_len(), self.patches.positions());
        let out_channels = self.config.out_channels;
        let chunk = self.chunk(batch);
        let chunks = input
            .axis_chunks_iter(Axis(0), chunk)
            .zip(grad_output.axis_chunks_iter(Axis(0), chunk));
        for (c, (x, g)) in chunks.enumerate() {
            let width = x.nrows() * positions;
            // g as [out, n*oh*ow]: channel `o` of sample `j` at `[o][j*oh*ow..]`.
            let scratch = &mut self.scratch;
            let planes = grown(&mut scratch.planes, out_channels * width);
            for (j, g) in g.rows().into_iter().enumerate() {
                let rows = row(g).chunks_exact(positions);
                for (src, dst) in rows.zip(planes.chunks_exact_mut(width)) {
                    dst[j * positions..(j + 1) * positions].copy_from_slice(src);
                }
            }
            if let Some(bias_grad) = &mut self.bias_grad {
                for (b, plane) in bias_grad.iter_mut().zip(planes.chunks_exact(width)) {
                    *b = *b + sum(plane);
                }
            }
            let planes = matrix(planes, out_channels, width);
            // dW (+)= g cols^T: [out, n*oh*ow] x [n*oh*ow, in*kh*kw].
            let cols = grown(&mut scratch.cols, patch_len * width);
            if scratch.cols_of != Some(identity(&input)) {
                self.patches.im2col_rows(x, cols, &mut scratch.padded);
            }
            let beta = if accumulate || c > 0 {
                T::one()
            } else {
                T::zero()
            };
            gemm(
                T::one(),
                planes,
                matrix(cols, patch_len, width).t(),
                beta,
                self.weight_grad.view_mut(),
            );
            if let Some(grad_input) = &mut grad_input {
                // dx = col2im(W^T g): [in*kh*kw, out] x [out, n*oh*ow].
                let grad_cols = grown(&mut scratch.grad_cols, patch_len * width);
                let dcols = matrix_mut(grad_cols, patch_len, width);
                gemm(T::one(), self.weight.t(), planes, T::zero(), dcols);
                let first = c * chunk;
                let dx = grad_input.slice_mut(s![first..first + x.nrows(), ..]);
                self.patches
                    .col2im_rows(grad_cols, dx, &mut scratch.padded_grad);
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
        self.forward_with(input, output, &mut Scratch::default());
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

    /// The width of a padded row, `w + 2*pw`.
    fn padded_width(&self) -> usize {
        self.input.width + 2 * self.padding.1
    }

    /// Values per padded channel, `(h + 2*ph) * (w + 2*pw)`.
    fn padded_plane(&self) -> usize {
        (self.input.height + 2 * self.padding.0) * self.padded_width()
    }

    /// The im2col matrices of the samples (rows) of `images` side by side
    /// in `cols`, `[in*kh*kw, n*oh*ow]`: sample `j` in columns
    /// `j*oh*ow..(j+1)*oh*ow`. When the convolution pads, the samples are
    /// first copied inside their zero borders in `padded` (`n` padded
    /// samples, grown with zeros; only the insides are ever written). Long
    /// chunks are split across the threads: the padding by samples, im2col
    /// by input channels (each a block of `kh*kw` rows of `cols`).
    fn im2col_rows<T: Float>(
        &self,
        images: ArrayView2<'_, T>,
        cols: &mut [T],
        padded: &mut Vec<T>,
    ) {
        let (n, positions) = (images.nrows(), self.positions());
        let width = n * positions;
        let sample = self.input.channels * self.padded_plane();
        let (source, stride) = if self.padding == (0, 0) {
            match images.as_slice() {
                Some(all) => (all, self.input.len()),
                // Rows apart in memory: padded copies (with no border).
                None => (self.padded_copies(images, padded), sample),
            }
        } else {
            (self.padded_copies(images, padded), sample)
        };
        let plane = self.padded_plane();
        let block = self.kernel.0 * self.kernel.1 * width;
        split_rows(cols, block, |channels, cols| {
            for j in 0..n {
                let planes = &source[j * stride..][channels.start * plane..channels.end * plane];
                self.im2col(planes, cols, width, j * positions);
            }
        });
    }

    /// The samples (rows) of `images`, each inside its zero border, in the
    /// first `n` padded samples of `padded`.
    fn padded_copies<'a, T: Float>(
        &self,
        images: ArrayView2<'_, T>,
        padded: &'a mut Vec<T>,
    ) -> &'a [T] {
        let sample = self.input.channels * self.padded_plane();
        let padded = grown(padded, images.nrows() * sample);
        split_rows(padded, sample, |samples, padded| {
            let rows = images.slice(s![samples, ..]);
            for (image, padded) in rows.rows().into_iter().zip(padded.chunks_exact_mut(sample)) {
                self.pad(row(image), padded);
            }
        });
        padded
    }

    /// `images <- col2im` of the matrices [`Patches::im2col_rows`] lays out
    /// side by side in `cols` (each row of `images` overwritten): each
    /// sample summed inside its border in `padded` (`n` padded samples),
    /// then cropped. Long chunks are split across the threads by samples.
    fn col2im_rows<T: Float>(
        &self,
        cols: &[T],
        mut images: ArrayViewMut2<'_, T>,
        padded: &mut Vec<T>,
    ) {
        let (n, positions) = (images.nrows(), self.positions());
        let width = n * positions;
        let sample = self.input.channels * self.padded_plane();
        let padded = grown(padded, n * sample);
        split_rows(padded, sample, |samples, padded| {
            for (j, padded) in samples.zip(padded.chunks_exact_mut(sample)) {
                padded.fill(T::zero());
                self.col2im(cols, width, j * positions, padded);
            }
        });
        for (image, padded) in images
            .rows_mut()
            .into_iter()
            .zip(padded.chunks_exact(sample))
        {
            self.crop(padded, row_mut(image));
        }
    }

    /// Copies `image` inside the border of `padded` (the border untouched).
    fn pad<T: Float>(&self, image: &[T], padded: &mut [T]) {
        let (width, padded_width) = (self.input.width, self.padded_width());
        let inside = self.padding.0 * padded_width + self.padding.1;
        let planes = image.chunks_exact(self.input.plane());
        for (src, dst) in planes.zip(padded.chunks_exact_mut(self.padded_plane())) {
            let rows = src.chunks_exact(width);
            for (src, dst) in rows.zip(dst[inside..].chunks_mut(padded_width)) {
                copy_short(&mut dst[..width], src);
            }
        }
    }

    /// `image <- ` the inside of `padded`, the transpose of [`Patches::pad`].
    fn crop<T: Float>(&self, padded: &[T], image: &mut [T]) {
        let (width, padded_width) = (self.input.width, self.padded_width());
        let inside = self.padding.0 * padded_width + self.padding.1;
        let planes = image.chunks_exact_mut(self.input.plane());
        for (dst, src) in planes.zip(padded.chunks_exact(self.padded_plane())) {
            let rows = dst.chunks_exact_mut(width);
            for (dst, src) in rows.zip(src[inside..].chunks(padded_width)) {
                copy_short(dst, &src[..width]);
            }
        }
    }

    /// `im2col(image)` into columns `first..first + oh*ow` of `cols`, a
    /// matrix of `in*kh*kw` rows of `width` values: row `(c, ki, kj)` holds,
    /// for each output position `(oy, ox)`, the value under kernel element
    /// `(ki, kj)` of channel `c` in `padded`, the sample inside its border
    /// (or the sample itself without padding). Every window lies inside the
    /// padded image, so each output row is one copy of `ow` values (every
    /// `sw`-th value with a stride).
    fn im2col<T: Float>(&self, padded: &[T], cols: &mut [T], width: usize, first: usize) {
        let (kh, kw) = self.kernel;
        let ((sh, sw), (oh, ow)) = (self.stride, self.output);
        let padded_width = self.padded_width();
        let mut rows = cols.chunks_exact_mut(width);
        // LOOP 1: channels; LOOP 2: kernel rows; LOOP 3: kernel columns.
        for plane in padded.chunks_exact(self.padded_plane()) {
            for ki in 0..kh {
                for kj in 0..kw {
                    let dst = rows.next().expect("cols holds in*kh*kw rows");
                    let dst = &mut dst[first..first + oh * ow];
                    // LOOP 4: output rows, one padded row each.
                    for (oy, dst) in dst.chunks_exact_mut(ow).enumerate() {
                        let src = &plane[(oy * sh + ki) * padded_width + kj..];
                        if sw == 1 {
                            copy_short(dst, &src[..ow]);
                        } else {
                            for (d, &s) in dst.iter_mut().zip(src.iter().step_by(sw)) {
                                *d = s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// `padded += col2im(cols)` of columns `first..first + oh*ow` of `cols`
    /// (rows of `width` values): the transpose of [`Patches::im2col`], each
    /// window value added back to the element it was read from (the border
    /// collects the padding's share, which [`Patches::crop`] drops).
    fn col2im<T: Float>(&self, cols: &[T], width: usize, first: usize, padded: &mut [T]) {
        let (kh, kw) = self.kernel;
        let ((sh, sw), (oh, ow)) = (self.stride, self.output);
        let padded_width = self.padded_width();
        let mut rows = cols.chunks_exact(width);
        // The loops of im2col, with the copies reversed into additions.
        for plane in padded.chunks_exact_mut(self.padded_plane()) {
            for ki in 0..kh {
                for kj in 0..kw {
                    let src = rows.next().expect("cols holds in*kh*kw rows");
                    let src = &src[first..first + oh * ow];
                    for (oy, src) in src.chunks_exact(ow).enumerate() {
                        let dst = &mut plane[(oy * sh + ki) * padded_width + kj..];
                        if sw == 1 {
                            for (d, &s) in dst[..ow].iter_mut().zip(src) {
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

/// The first `len` values of `buffer`, grown (with zeros) if shorter:
/// a chunk's scratch, allocated only when a larger chunk than before runs.
fn grown<T: Float>(buffer: &mut Vec<T>, len: usize) -> &mut [T] {
    if buffer.len() < len {
        buffer.resize(len, T::zero());
    }
    &mut buffer[..len]
}

/// `dst <- src` for the short rows of small images: lengths up to 32 as
/// two fixed-size copies (overlapping in the middle), which compile to a
/// few vector moves instead of a call to `memcpy`.
#[inline(always)]
fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    #[inline(always)]
    fn two<T: Copy, const N: usize>(dst: &mut [T], src: &[T]) {
        let n = dst.len();
        let head: &[T; N] = src[..N].try_into().expect("N values");
        let tail: &[T; N] = src[n - N..n].try_into().expect("N values");
        *<&mut [T; N]>::try_from(&mut dst[..N]).expect("N values") = *head;
        *<&mut [T; N]>::try_from(&mut dst[n - N..]).expect("N values") = *tail;
    }
    assert_eq!(dst.len(), src.len(), "copy_short: lengths differ");
    match dst.len() {
        0..4 => dst.copy_from_slice(src),
        4..8 => two::<T, 4>(dst, src),
        8..16 => two::<T, 8>(dst, src),
        16..=32 => two::<T, 16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
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
                        // Three samples side by side, as a chunk of a batch.
                        let n = 3;
                        let images = Array2::from_shape_fn((n, c * h * w), |(j, i)| {
                            ((j * 1000 + i) as f64 * 0.37).sin()
                        });
                        let (rows, width) = (p.patch_len(), n * p.positions());
                        let mut cols = vec![f64::NAN; rows * width];
                        p.im2col_rows(images.view(), &mut cols, &mut Vec::new());
                        for (j, image) in images.rows().into_iter().enumerate() {
                            let expect = naive_im2col(&p, image.as_slice().unwrap());
                            let block = (0..rows).flat_map(|r| {
                                let start = r * width + j * p.positions();
                                cols[start..start + p.positions()].iter().copied()
                            });
                            assert_eq!(block.collect::<Vec<_>>(), expect, "{p:?}, sample {j}");
                        }
                        // <im2col(x), y> = <x, col2im(y)> for any y.
                        let y: Vec<f64> =
                            (0..cols.len()).map(|i| (i as f64 * 0.91).cos()).collect();
                        let mut back = Array2::from_elem(images.raw_dim(), f64::NAN);
                        p.col2im_rows(&y, back.view_mut(), &mut Vec::new());
                        let lhs: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
                        let rhs: f64 = images.iter().zip(&back).map(|(a, b)| a * b).sum();
                        assert!((lhs - rhs).abs() < 1e-9, "{p:?}: {lhs} vs {rhs}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_batch_in_several_chunks_matches_its_samples_one_by_one() {
        // 16 x 3 x 3 patches at 15 x 15 positions: two samples per chunk,
        // so a batch of 5 runs as chunks of 2, 2 and 1.
        let config = Conv2dConfig {
            padding: (1, 1),
            ..Conv2dConfig::new(16, 2, (3, 3))
        };
        let mut conv = Conv2d::<f64>::new(config, (15, 15), &mut Rng::new(5));
        assert_eq!(conv.chunk(5), 2);
        let mut rng = Rng::new(6);
        let x = Array2::from_shape_simple_fn((5, conv.in_features()), || rng.sym());
        let g = Array2::from_shape_simple_fn((5, conv.out_features()), || rng.sym());
        let mut y = Array2::zeros(g.raw_dim());
        conv.forward(x.view(), y.view_mut());
        let mut dx = Array2::zeros(x.raw_dim());
        conv.backward(x.view(), g.view(), Some(dx.view_mut()), false);
        let (dw, db) = (conv.weight_grad.clone(), conv.bias_grad.clone().unwrap());

        let (mut dw1, mut db1) = (Array2::zeros(dw.raw_dim()), Array1::zeros(db.raw_dim()));
        for j in 0..5 {
            let (xj, gj) = (x.slice(s![j..j + 1, ..]), g.slice(s![j..j + 1, ..]));
            let mut yj = Array2::zeros((1, conv.out_features()));
            conv.forward(xj, yj.view_mut());
            let mut dxj = Array2::zeros((1, conv.in_features()));
            conv.backward(xj, gj, Some(dxj.view_mut()), false);
            dw1 += &conv.weight_grad;
            db1 += conv.bias_grad.as_ref().unwrap();
            let close = |a: &Array2<f64>, b: ndarray::ArrayView2<'_, f64>| {
                a.iter().zip(b).all(|(u, v)| (u - v).abs() < 1e-12)
            };
            assert!(
                close(&yj, y.slice(s![j..j + 1, ..])),
                "output of sample {j}"
            );
            assert!(
                close(&dxj, dx.slice(s![j..j + 1, ..])),
                "input gradient of sample {j}"
            );
        }
        assert!(dw.iter().zip(&dw1).all(|(u, v)| (u - v).abs() < 1e-10));
        assert!(db.iter().zip(&db1).all(|(u, v)| (u - v).abs() < 1e-10));
    }

    #[test]
    fn an_empty_batch_runs_and_zeroes_the_gradients() {
        let mut conv =
            Conv2d::<f64>::new(Conv2dConfig::new(2, 3, (3, 3)), (5, 5), &mut Rng::new(1));
        let x = Array2::zeros((0, conv.in_features()));
        let mut y = Array2::zeros((0, conv.out_features()));
        conv.forward(x.view(), y.view_mut());
        conv.weight_grad.fill(1.0);
        let mut dx = Array2::zeros(x.raw_dim());
        conv.backward(x.view(), y.view(), Some(dx.view_mut()), false);
        assert!(conv.weight_grad.iter().all(|&g| g == 0.0));
        assert!(conv.bias_grad.as_ref().unwrap().iter().all(|&g| g == 0.0));
    }

    #[test]
    fn threads_give_the_same_bits() {
        // (a) one sample per chunk, whose im2col splits by channels; (b) a
        // strided 1x1 kernel, chunks of 3 samples whose col2im splits by
        // samples.
        let a = Conv2dConfig {
            padding: (1, 1),
            ..Conv2dConfig::new(16, 4, (3, 3))
        };
        let b = Conv2dConfig {
            stride: (2, 2),
            ..Conv2dConfig::new(16, 4, (1, 1))
        };
        for (config, size, batch) in [(a, (22, 22), 3), (b, (64, 64), 9)] {
            let run = |threads| {
                let mut conv = Conv2d::<f32>::new(config, size, &mut Rng::new(8));
                let mut rng = Rng::new(9);
                let x =
                    Array2::from_shape_simple_fn((batch, conv.in_features()), || rng.sym() as f32);
                let g =
                    Array2::from_shape_simple_fn((batch, conv.out_features()), || rng.sym() as f32);
                let mut y = Array2::zeros(g.raw_dim());
                let mut dx = Array2::zeros(x.raw_dim());
                crate::parallel::with_threads(threads, || {
                    conv.forward(x.view(), y.view_mut());
                    conv.backward(x.view(), g.view(), Some(dx.view_mut()), false);
                });
                (y, dx, conv.weight_grad, conv.bias_grad)
            };
            let one = run(1);
            assert_eq!(one, run(2), "{config:?}");
            assert_eq!(one, run(3), "{config:?}");
        }
    }

    #[test]
    fn short_copies_copy_every_length() {
        let src: Vec<u32> = (1..=80).collect();
        for n in 0..=80 {
            let mut dst = vec![0; n + 1];
            copy_short(&mut dst[..n], &src[..n]);
            assert_eq!(dst[..n], src[..n], "length {n}");
            assert_eq!(dst[n], 0, "length {n} wrote past the end");
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
