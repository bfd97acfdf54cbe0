//! The checked model, free of syntax.
//!
//! `check` turns the ast into this; `expand` turns this into tokens. Every
//! value here has been validated: sizes are positive and chain from one layer
//! to the next, hyperparameters are in range, there is exactly one loss and
//! one optimizer. Spans are kept only so that generated code can point back at
//! the user's tokens.

// Variant names are spelled as in the DSL and PyTorch (`MSE`, `SGD`, `GELU`).
#![allow(clippy::upper_case_acronyms)]

use proc_macro2::Span;
use syn::{Attribute, Ident, Visibility};

/// A whole model declaration, checked.
pub struct Model {
    /// Doc comments and other attributes written before `struct Name;` (or at
    /// the top of the macro when there is no struct): passed through to the
    /// generated type.
    pub attrs: Vec<Attribute>,
    /// Visibility of `struct Name;` (inherited when absent).
    pub vis: Visibility,
    /// `Some` for the item form (`struct Name;`), `None` for the expression
    /// form, which evaluates to a fresh model of an anonymous type.
    pub name: Option<Ident>,
    /// Element type chosen by `dtype f64;` (default `f32`).
    pub dtype: Dtype,
    /// The shape of an input sample (from `input N;`, `input [C, H, W];` or
    /// the first layer); [`Model::inputs`] values per sample. With several
    /// named inputs, all their columns side by side (`Flat`).
    pub input: Dims,
    /// The named inputs (`input island: category(3);`), in order, each
    /// with its first column in the input rows; empty for `input N;`.
    pub inputs: Vec<NamedInput>,
    /// Every layer, those of blocks included, in the order PyTorch
    /// registers the modules (a block's body, then its shortcut; branch
    /// after branch), which is also the order they run in; `Layer::id` is
    /// the position here.
    pub layers: Vec<Layer>,
    /// How the layers and joins connect.
    pub graph: Graph,
    pub loss: Loss,
    pub optim: Optim,
    /// Span of the whole macro input, for generated items that belong to no
    /// single statement.
    pub span: Span,
}

impl Model {
    /// Values per input sample (`C * H * W` for an image).
    pub fn inputs(&self) -> usize {
        self.input.len()
    }
}

/// `input name: ..;`.
pub struct NamedInput {
    pub name: String,
    pub dims: Dims,
    /// Its first column in the model's input rows.
    pub offset: usize,
    /// As declared: `input island: category(3)`.
    pub text: String,
}

/// The shape of one sample between two layers. An image is stored as its
/// `C * H * W` values, row-major, in one row of the batch, so `Flatten`
/// changes the shape and not the values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dims {
    /// `n` features.
    Flat(usize),
    /// `channels x height x width`.
    Image {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// One column of class indices `0..n` (an input declared
    /// `category(n)`), which only an `Embedding` reads.
    Category(usize),
    /// A sequence of `steps` steps of `features` values (`input [T, F]`),
    /// stored step after step.
    Sequence { steps: usize, features: usize },
    /// A sequence of `steps` class indices `0..categories` (tokens: an
    /// input declared `category(n, steps = T)`), which only an `Embedding`
    /// reads.
    Tokens { steps: usize, categories: usize },
}

impl Dims {
    /// Values per sample. `check` admits only shapes of at most 2^32
    /// values (`check::sizes`), so the product is exact; it saturates
    /// rather than wrap or panic all the same.
    pub fn len(self) -> usize {
        match self {
            Dims::Flat(n) => n,
            Dims::Image {
                channels,
                height,
                width,
            } => channels.saturating_mul(height).saturating_mul(width),
            Dims::Category(_) => 1,
            Dims::Sequence { steps, features } => steps.saturating_mul(features),
            Dims::Tokens { steps, .. } => steps,
        }
    }

    /// The shape as PyTorch writes it, without the batch: `[n]` or
    /// `[C, H, W]`.
    pub fn shape(self) -> Vec<usize> {
        match self {
            Dims::Flat(n) => vec![n],
            Dims::Image {
                channels,
                height,
                width,
            } => vec![channels, height, width],
            Dims::Category(_) => vec![1],
            Dims::Sequence { steps, features } => vec![steps, features],
            Dims::Tokens { steps, .. } => vec![steps],
        }
    }

    /// `[b, 64]`, `[b, 8, 6, 6]`: the shape of a batch, for tables.
    pub fn batch_text(self) -> String {
        let dims: Vec<String> = self.shape().iter().map(usize::to_string).collect();
        format!("[b, {}]", dims.join(", "))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dtype {
    F32,
    F64,
}

/// The forward pass as a list of steps over slots (the buffers between
/// layers: slot 0 the input, `output` the model's output).
pub struct Graph {
    pub ops: Vec<Op>,
    /// Values per sample of each slot.
    pub widths: Vec<usize>,
    pub output: usize,
    /// The layer table: every layer and block, blocks before their layers.
    pub rows: Vec<Row>,
}

/// One step of the forward pass.
pub enum Op {
    /// `layers[i]`, from its `src` slot to its `dst` slot (the same slot
    /// for a layer that does not change the values).
    Layer(usize),
    /// A named input's columns `offset..` of slot 0, copied to `dst`.
    Slice { offset: usize, dst: usize },
    /// A block's join: `dst` from the branches' slots, in order.
    Join {
        kind: JoinKind,
        srcs: Vec<usize>,
        dst: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JoinKind {
    Add,
    Concat,
}

/// A row of the layer table.
pub struct Row {
    /// The module path (`3`, `2.body.0`).
    pub name: String,
    pub depth: usize,
    /// The layer as written, or the block and its join.
    pub text: String,
    pub output: Dims,
    pub params: usize,
}

/// One checked layer.
pub struct Layer {
    pub kind: LayerKind,
    /// Position in `Model::layers`; names the layer's field and seeds a
    /// dropout's generator.
    pub id: usize,
    /// PyTorch's module path: `3`, `2.body.0`; a parameter is
    /// `"{path}.weight"`.
    pub path: String,
    /// The slot the layer reads and the slot it writes.
    pub src: usize,
    pub dst: usize,
    /// The sample shapes going in and coming out.
    pub input: Dims,
    pub output: Dims,
    /// Span of the layer's name token (`Linear`, `ReLU`, ...).
    pub span: Span,
    /// The lengths of its parameter tensors, weight then bias, in the
    /// optimizer's order (empty without parameters). Each, and their sum over
    /// the model, is at most 2^32 (`check::sizes`).
    pub params: Vec<usize>,
}

impl Layer {
    /// Values per input sample.
    pub fn in_features(&self) -> usize {
        self.input.len()
    }

    /// Values per output sample.
    pub fn out_features(&self) -> usize {
        self.output.len()
    }
}

/// The recurrence of a recurrent layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Rnn,
    Lstm,
    Gru,
}

/// `(height, width)` of a window, stride or padding.
pub type Pair = (usize, usize);

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// `y = x W^T + b`, `W: [out, in]`.
    Linear {
        bias: bool,
    },
    ReLU,
    /// `negative_slope`, PyTorch default 0.01.
    LeakyReLU {
        negative_slope: f64,
    },
    Sigmoid,
    Tanh,
    /// Exact GELU (`x * Phi(x)`, PyTorch's `approximate="none"`).
    GELU,
    /// Softmax over the features of each sample; only valid as the last layer.
    Softmax,
    /// PyTorch's `Conv2d` (dilation 1, groups 1, zero padding): weight
    /// `[out, in, kh, kw]`; the input is the layer's `input` image.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: Pair,
        stride: Pair,
        padding: Pair,
        bias: bool,
    },
    /// PyTorch's `MaxPool2d` (`ceil_mode = False`); `stride` defaults to
    /// the kernel, `2 padding <= kernel`.
    MaxPool2d {
        kernel_size: Pair,
        stride: Pair,
        padding: Pair,
    },
    /// PyTorch's `AvgPool2d` (`count_include_pad = True`), as `MaxPool2d`.
    AvgPool2d {
        kernel_size: Pair,
        stride: Pair,
        padding: Pair,
    },
    /// Image -> flat features; the values do not move.
    Flatten,
    /// The values as they are (PyTorch's `nn.Identity`): a branch that
    /// passes the block's input on.
    Identity,
    /// `nn.RNN`, `nn.LSTM`, `nn.GRU` (`batch_first=True`).
    Recurrent {
        cell: Cell,
        hidden_size: usize,
        num_layers: usize,
        bidirectional: bool,
    },
    /// The last step of a sequence (`output[:, -1, :]`).
    Last,
    /// `nn.Conv1d` over the time of a sequence (features last).
    Conv1d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
    },
    /// `nn.MaxPool1d` (`max`) or `nn.AvgPool1d` over time.
    Pool1d {
        max: bool,
        kernel_size: usize,
        stride: usize,
        padding: usize,
    },
    /// The mean (or max) over every step.
    GlobalPool1d {
        max: bool,
    },
    /// PyTorch's `nn.Embedding`: a vector of `embedding_dim` per category
    /// of a `category` input.
    Embedding {
        num_embeddings: usize,
        embedding_dim: usize,
    },
    /// `BatchNorm1d` after flat features, `BatchNorm2d` after an image (its
    /// `input` says which); running statistics with `momentum`.
    BatchNorm {
        eps: f64,
        momentum: f64,
    },
    /// Normalisation over each whole sample (`normalized_shape` = the
    /// input's shape), with a learned scale and shift per value.
    LayerNorm {
        eps: f64,
    },
    /// Inverted dropout with probability `0 <= p < 1`; the identity in
    /// evaluation mode.
    Dropout {
        p: f64,
    },
}

impl LayerKind {
    /// Whether this layer owns parameters.
    pub fn has_params(&self) -> bool {
        matches!(
            self,
            LayerKind::Linear { .. }
                | LayerKind::Embedding { .. }
                | LayerKind::Recurrent { .. }
                | LayerKind::Conv1d { .. }
                | LayerKind::Conv2d { .. }
                | LayerKind::BatchNorm { .. }
                | LayerKind::LayerNorm { .. }
        )
    }
}

pub struct Loss {
    pub kind: LossKind,
    /// Span of the loss name token.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LossKind {
    /// Mean of squared errors over all elements.
    MSE,
    /// Mean of absolute errors over all elements.
    L1,
    /// Huber loss with `delta > 0` (default 1.0).
    Huber { delta: f64 },
    /// Binary cross-entropy on logits. `pos_weight` is empty (no weighting),
    /// one value (broadcast to every output) or one value per output.
    BCE { pos_weight: Vec<f64> },
    /// Softmax cross-entropy on logits with class-index targets;
    /// `0 <= label_smoothing <= 1`.
    CrossEntropy { label_smoothing: f64 },
}

pub struct Optim {
    pub kind: OptimKind,
    /// Span of the optimizer name token.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OptimKind {
    /// PyTorch `SGD`. Defaults (torch 2.15): lr 1e-3, momentum 0,
    /// dampening 0, nesterov false, weight_decay 0.
    SGD {
        lr: f64,
        momentum: f64,
        dampening: f64,
        nesterov: bool,
        weight_decay: f64,
    },
    /// PyTorch `Adam` (`decoupled == false`, default weight_decay 0) or
    /// `AdamW` (`decoupled == true`, default weight_decay 0.01).
    /// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, amsgrad false.
    Adam {
        lr: f64,
        betas: (f64, f64),
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
        decoupled: bool,
    },
    /// PyTorch `RMSprop`. Defaults: lr 1e-2, alpha 0.99, eps 1e-8,
    /// weight_decay 0, momentum 0, centered false; `0 <= alpha < 1`.
    RMSprop {
        lr: f64,
        alpha: f64,
        eps: f64,
        weight_decay: f64,
        momentum: f64,
        centered: bool,
    },
    /// PyTorch `Adagrad`. Defaults: lr 1e-2, lr_decay 0, weight_decay 0,
    /// initial_accumulator_value 0, eps 1e-10.
    Adagrad {
        lr: f64,
        lr_decay: f64,
        weight_decay: f64,
        initial_accumulator_value: f64,
        eps: f64,
    },
}
