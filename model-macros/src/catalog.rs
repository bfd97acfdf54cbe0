//! What `model!` knows: layers, losses, optimizers and dtypes, each with its
//! parameters (PyTorch's names, positional order and defaults), the kind and
//! range of each value, the layers' shape rule, and "did you mean".
//!
//! `check` is driven by this data: a new hyperparameter with a standard kind
//! needs only a new `Param` here (and a field in `ir`).

use crate::ir::Dtype;

/// One known layer, loss or optimizer.
pub struct Entry<Id: 'static> {
    pub id: Id,
    /// The name as written in the DSL (PyTorch's, without the `Loss` suffix).
    pub name: &'static str,
    /// Parameters in positional order.
    pub params: &'static [Param],
}

/// One parameter: `lr`, `momentum`, `in_features`, ...
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Default,
}

/// What a parameter's value must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// An integer >= 1 (a feature count); with `infer`, `_` as well.
    Size { infer: bool },
    /// A number (ints accepted), finite and in `Range`.
    Number(Range),
    /// `true` or `false`.
    Bool,
    /// A pair of numbers `(beta1, beta2)`, each in [0, 1).
    Betas,
    /// A number >= 0 or an array of them (BCE's `pos_weight`).
    Weights,
    /// A window size, stride or padding: an integer >= `min`, or a pair
    /// `(h, w)` of them (PyTorch's `int | tuple[int, int]`).
    Window { min: usize },
    /// A sample shape: a feature count, or a list `[C, H, W]` of sizes
    /// (`LayerNorm`'s `normalized_shape`); `_` as well.
    Dims,
}

/// The allowed range of a `Kind::Number` (all ranges also require finite).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    Finite,
    Positive,
    NonNegative,
    /// [0, 1]
    UnitClosed,
    /// [0, 1)
    UnitOpen,
}

impl Range {
    /// Whether `x` (finite) is in range.
    pub fn contains(self, x: f64) -> bool {
        match self {
            Range::Finite => true,
            Range::Positive => x > 0.0,
            Range::NonNegative => x >= 0.0,
            Range::UnitClosed => (0.0..=1.0).contains(&x),
            Range::UnitOpen => (0.0..1.0).contains(&x),
        }
    }

    /// The rule as it reads after the parameter's name: "> 0", "in [0, 1]".
    pub fn rule(self) -> &'static str {
        match self {
            Range::Finite => "finite",
            Range::Positive => "> 0",
            Range::NonNegative => ">= 0",
            Range::UnitClosed => "in [0, 1]",
            Range::UnitOpen => "in [0, 1)",
        }
    }
}

/// A parameter's default when the user leaves it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Default {
    /// No default: the argument must be given.
    Required,
    Number(f64),
    Bool(bool),
    Betas(f64, f64),
    /// No value (BCE without `pos_weight`).
    Unset,
    /// `_`: the input size, taken from the layer before (`BatchNorm`'s
    /// `num_features`).
    Infer,
    /// A window pair `(h, w)`.
    Pair(usize, usize),
    /// A size (`num_layers = 1`).
    Size(usize),
    /// The value of `kernel_size` (a pooling layer's `stride`, as PyTorch's
    /// `stride = None`).
    KernelSize,
}

/// How a layer maps the shape of its input sample (flat features or an
/// image `[C, H, W]`) to the shape of its output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// Flat `in_features -> out_features`, both arguments.
    Dense,
    /// Elementwise: the shape passes through.
    Same,
    /// Image `[in_channels, H, W] -> [out_channels, oh, ow]`, with
    /// `oh = (H + 2 padding - kernel) / stride + 1`.
    Conv,
    /// Image `[C, H, W] -> [C, oh, ow]`, the same arithmetic as `Conv`.
    Pool,
    /// Image `[C, H, W] -> C * H * W` features (flat input passes through).
    Flatten,
    /// Per feature (flat input) or per channel (image); `image` says which
    /// form the name demands (`BatchNorm1d`: `Some(false)`, `BatchNorm2d`:
    /// `Some(true)`, `BatchNorm`: `None`, either, from the position).
    BatchNorm { image: Option<bool> },
    /// Over each whole sample, whatever its shape.
    LayerNorm,
    /// A column of class indices -> `embedding_dim` features.
    Embedding,
    /// A sequence `[T, F]` -> `[T, H]` (`[T, 2 H]` with two directions).
    Recurrent,
    /// A sequence `[T, W]` -> its last step, `W` features.
    Last,
    /// A sequence `[T, F]` -> `[T', C]` through a window over time.
    Temporal,
    /// A sequence `[T, F]` -> `F` features, over every step.
    GlobalPool,
}

// The DSL spells these as PyTorch does; the ids follow the DSL.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerId {
    Linear,
    ReLU,
    LeakyReLU,
    Sigmoid,
    Tanh,
    GELU,
    Softmax,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    Flatten,
    Identity,
    Embedding,
    Rnn,
    Lstm,
    Gru,
    Last,
    Conv1d,
    MaxPool1d,
    AvgPool1d,
    GlobalAvgPool1d,
    GlobalMaxPool1d,
    BatchNorm,
    BatchNorm1d,
    BatchNorm2d,
    LayerNorm,
    Dropout,
}

impl LayerId {
    pub fn shape(self) -> Shape {
        match self {
            LayerId::Linear => Shape::Dense,
            LayerId::Conv2d => Shape::Conv,
            LayerId::MaxPool2d | LayerId::AvgPool2d => Shape::Pool,
            LayerId::Flatten => Shape::Flatten,
            LayerId::BatchNorm => Shape::BatchNorm { image: None },
            LayerId::BatchNorm1d => Shape::BatchNorm { image: Some(false) },
            LayerId::BatchNorm2d => Shape::BatchNorm { image: Some(true) },
            LayerId::LayerNorm => Shape::LayerNorm,
            LayerId::Embedding => Shape::Embedding,
            LayerId::Rnn | LayerId::Lstm | LayerId::Gru => Shape::Recurrent,
            LayerId::Last => Shape::Last,
            LayerId::Conv1d | LayerId::MaxPool1d | LayerId::AvgPool1d => Shape::Temporal,
            LayerId::GlobalAvgPool1d | LayerId::GlobalMaxPool1d => Shape::GlobalPool,
            LayerId::ReLU
            | LayerId::Identity
            | LayerId::LeakyReLU
            | LayerId::Sigmoid
            | LayerId::Tanh
            | LayerId::GELU
            | LayerId::Softmax
            | LayerId::Dropout => Shape::Same,
        }
    }
}

#[allow(clippy::upper_case_acronyms)] // spelled as in the DSL
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossId {
    MSE,
    L1,
    Huber,
    BCE,
    CrossEntropy,
}

#[allow(clippy::upper_case_acronyms)] // spelled as in the DSL
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimId {
    SGD,
    Adam,
    AdamW,
    RMSprop,
    Adagrad,
}

const fn param(name: &'static str, kind: Kind, default: Default) -> Param {
    Param {
        name,
        kind,
        default,
    }
}

const fn number(name: &'static str, range: Range, default: f64) -> Param {
    param(name, Kind::Number(range), Default::Number(default))
}

/// A pooling layer's parameters, PyTorch's `MaxPool2d` / `AvgPool2d`
/// (`ceil_mode`, `dilation`, `count_include_pad` and `divisor_override`
/// keep their defaults).
const POOL_PARAMS: [Param; 3] = [
    param("kernel_size", Kind::Window { min: 1 }, Default::Required),
    param("stride", Kind::Window { min: 1 }, Default::KernelSize),
    param("padding", Kind::Window { min: 0 }, Default::Pair(0, 0)),
];

/// Batch norm's parameters (PyTorch's `BatchNorm1d` / `BatchNorm2d`, with
/// `affine` and `track_running_stats` on). `num_features` is optional: the
/// layer before says it. PyTorch accepts `eps = 0`; here it is > 0, since
/// a channel that is constant over a batch (a dead `ReLU` channel) would
/// divide by zero. `momentum = None` (a cumulative average) is not
/// supported.
const BATCH_NORM_PARAMS: [Param; 3] = [
    param("num_features", Kind::Size { infer: true }, Default::Infer),
    number("eps", Range::Positive, 1e-5),
    number("momentum", Range::UnitClosed, 0.1),
];

/// The recurrent layers' parameters (PyTorch's `nn.RNN`, `nn.LSTM`,
/// `nn.GRU` with `batch_first=True`; `input_size` is the sequence's, so the
/// hidden size comes first; `bias`, `dropout` and `proj_size` keep their
/// defaults).
const RECURRENT_PARAMS: [Param; 3] = [
    param(
        "hidden_size",
        Kind::Size { infer: false },
        Default::Required,
    ),
    param("num_layers", Kind::Size { infer: false }, Default::Size(1)),
    param("bidirectional", Kind::Bool, Default::Bool(false)),
];

pub const LAYERS: &[Entry<LayerId>] = &[
    Entry {
        id: LayerId::Linear,
        name: "Linear",
        params: &[
            param("in_features", Kind::Size { infer: true }, Default::Required),
            param(
                "out_features",
                Kind::Size { infer: false },
                Default::Required,
            ),
            param("bias", Kind::Bool, Default::Bool(true)),
        ],
    },
    Entry {
        id: LayerId::ReLU,
        name: "ReLU",
        params: &[],
    },
    Entry {
        id: LayerId::LeakyReLU,
        name: "LeakyReLU",
        params: &[number("negative_slope", Range::Finite, 0.01)],
    },
    Entry {
        id: LayerId::Sigmoid,
        name: "Sigmoid",
        params: &[],
    },
    Entry {
        id: LayerId::Tanh,
        name: "Tanh",
        params: &[],
    },
    Entry {
        id: LayerId::GELU,
        name: "GELU",
        params: &[],
    },
    Entry {
        id: LayerId::Softmax,
        name: "Softmax",
        params: &[],
    },
    Entry {
        id: LayerId::Conv2d,
        name: "Conv2d",
        params: &[
            param("in_channels", Kind::Size { infer: true }, Default::Required),
            param(
                "out_channels",
                Kind::Size { infer: false },
                Default::Required,
            ),
            param("kernel_size", Kind::Window { min: 1 }, Default::Required),
            param("stride", Kind::Window { min: 1 }, Default::Pair(1, 1)),
            param("padding", Kind::Window { min: 0 }, Default::Pair(0, 0)),
            param("bias", Kind::Bool, Default::Bool(true)),
        ],
    },
    Entry {
        id: LayerId::MaxPool2d,
        name: "MaxPool2d",
        params: &POOL_PARAMS,
    },
    Entry {
        id: LayerId::AvgPool2d,
        name: "AvgPool2d",
        params: &POOL_PARAMS,
    },
    Entry {
        id: LayerId::Flatten,
        name: "Flatten",
        params: &[],
    },
    Entry {
        id: LayerId::Identity,
        name: "Identity",
        params: &[],
    },
    Entry {
        id: LayerId::Rnn,
        name: "RNN",
        params: &RECURRENT_PARAMS,
    },
    Entry {
        id: LayerId::Lstm,
        name: "LSTM",
        params: &RECURRENT_PARAMS,
    },
    Entry {
        id: LayerId::Gru,
        name: "GRU",
        params: &RECURRENT_PARAMS,
    },
    Entry {
        id: LayerId::Last,
        name: "Last",
        params: &[],
    },
    Entry {
        id: LayerId::Conv1d,
        name: "Conv1d",
        params: &[
            param("in_channels", Kind::Size { infer: true }, Default::Required),
            param(
                "out_channels",
                Kind::Size { infer: false },
                Default::Required,
            ),
            param("kernel_size", Kind::Window { min: 1 }, Default::Required),
            param("stride", Kind::Window { min: 1 }, Default::Pair(1, 1)),
            param("padding", Kind::Window { min: 0 }, Default::Pair(0, 0)),
        ],
    },
    Entry {
        id: LayerId::MaxPool1d,
        name: "MaxPool1d",
        params: &POOL_PARAMS,
    },
    Entry {
        id: LayerId::AvgPool1d,
        name: "AvgPool1d",
        params: &POOL_PARAMS,
    },
    Entry {
        id: LayerId::GlobalAvgPool1d,
        name: "GlobalAvgPool1d",
        params: &[],
    },
    Entry {
        id: LayerId::GlobalMaxPool1d,
        name: "GlobalMaxPool1d",
        params: &[],
    },
    Entry {
        id: LayerId::Embedding,
        name: "Embedding",
        params: &[
            param(
                "num_embeddings",
                Kind::Size { infer: false },
                Default::Required,
            ),
            param(
                "embedding_dim",
                Kind::Size { infer: false },
                Default::Required,
            ),
        ],
    },
    Entry {
        id: LayerId::BatchNorm,
        name: "BatchNorm",
        params: &BATCH_NORM_PARAMS,
    },
    Entry {
        id: LayerId::BatchNorm1d,
        name: "BatchNorm1d",
        params: &BATCH_NORM_PARAMS,
    },
    Entry {
        id: LayerId::BatchNorm2d,
        name: "BatchNorm2d",
        params: &BATCH_NORM_PARAMS,
    },
    // PyTorch's `LayerNorm(normalized_shape, eps = 1e-5)` over the whole
    // sample (`elementwise_affine = True`); `normalized_shape` is optional.
    Entry {
        id: LayerId::LayerNorm,
        name: "LayerNorm",
        params: &[
            param("normalized_shape", Kind::Dims, Default::Infer),
            number("eps", Range::Positive, 1e-5),
        ],
    },
    // `p = 1` (which PyTorch allows) is rejected: it zeroes every value in
    // training, so nothing before the layer learns and the layers after it
    // see only zeros; that is never what a model means.
    Entry {
        id: LayerId::Dropout,
        name: "Dropout",
        params: &[number("p", Range::UnitOpen, 0.5)],
    },
];

pub const LOSSES: &[Entry<LossId>] = &[
    Entry {
        id: LossId::MSE,
        name: "MSE",
        params: &[],
    },
    Entry {
        id: LossId::L1,
        name: "L1",
        params: &[],
    },
    Entry {
        id: LossId::Huber,
        name: "Huber",
        params: &[number("delta", Range::Positive, 1.0)],
    },
    Entry {
        id: LossId::BCE,
        name: "BCE",
        params: &[param("pos_weight", Kind::Weights, Default::Unset)],
    },
    Entry {
        id: LossId::CrossEntropy,
        name: "CrossEntropy",
        params: &[number("label_smoothing", Range::UnitClosed, 0.0)],
    },
];

/// Adam and AdamW share these but for the default of `weight_decay`.
const fn adam_params(weight_decay: f64) -> [Param; 5] {
    [
        number("lr", Range::Positive, 1e-3),
        param("betas", Kind::Betas, Default::Betas(0.9, 0.999)),
        number("eps", Range::NonNegative, 1e-8),
        number("weight_decay", Range::NonNegative, weight_decay),
        param("amsgrad", Kind::Bool, Default::Bool(false)),
    ]
}

pub const OPTIMS: &[Entry<OptimId>] = &[
    Entry {
        id: OptimId::SGD,
        name: "SGD",
        params: &[
            number("lr", Range::Positive, 1e-3),
            number("momentum", Range::NonNegative, 0.0),
            number("dampening", Range::Finite, 0.0),
            param("nesterov", Kind::Bool, Default::Bool(false)),
            number("weight_decay", Range::NonNegative, 0.0),
        ],
    },
    Entry {
        id: OptimId::Adam,
        name: "Adam",
        params: &adam_params(0.0),
    },
    Entry {
        id: OptimId::AdamW,
        name: "AdamW",
        params: &adam_params(0.01),
    },
    // PyTorch checks `alpha >= 0` only; here it is also < 1, as Adam's
    // betas: at 1 the average of g^2 never leaves 0 (each step divides by
    // `eps`), above 1 it turns negative and the step is NaN.
    Entry {
        id: OptimId::RMSprop,
        name: "RMSprop",
        params: &[
            number("lr", Range::Positive, 1e-2),
            number("alpha", Range::UnitOpen, 0.99),
            number("eps", Range::NonNegative, 1e-8),
            number("weight_decay", Range::NonNegative, 0.0),
            number("momentum", Range::NonNegative, 0.0),
            param("centered", Kind::Bool, Default::Bool(false)),
        ],
    },
    Entry {
        id: OptimId::Adagrad,
        name: "Adagrad",
        params: &[
            number("lr", Range::Positive, 1e-2),
            number("lr_decay", Range::NonNegative, 0.0),
            number("weight_decay", Range::NonNegative, 0.0),
            number("initial_accumulator_value", Range::NonNegative, 0.0),
            number("eps", Range::NonNegative, 1e-10),
        ],
    },
];

pub const DTYPES: &[(&str, Dtype)] = &[("f32", Dtype::F32), ("f64", Dtype::F64)];

/// Layers and optimizers that are planned but not in the IR yet: named as
/// "not supported yet" rather than "unknown". (Both lists are empty now;
/// they stay for the next additions.)
pub const PLANNED_LAYERS: &[&str] = &[];
pub const PLANNED_OPTIMS: &[&str] = &[];

/// Other frameworks' names (lowercase) for things in the catalog: Keras
/// layers, losses and argument names, PyTorch's `BCEWithLogitsLoss`.
const ALIASES: &[(&str, &str)] = &[
    ("dense", "Linear"),
    ("bcewithlogits", "BCE"),
    ("binarycrossentropy", "BCE"),
    ("categoricalcrossentropy", "CrossEntropy"),
    ("sparsecategoricalcrossentropy", "CrossEntropy"),
    ("meansquarederror", "MSE"),
    ("mae", "L1"),
    ("meanabsoluteerror", "L1"),
    ("learning_rate", "lr"),
    ("epsilon", "eps"),
    ("rho", "alpha"),
    ("alpha", "negative_slope"),
    ("maxpooling2d", "MaxPool2d"),
    ("averagepooling2d", "AvgPool2d"),
    ("batchnormalization", "BatchNorm"),
    ("layernormalization", "LayerNorm"),
    ("filters", "out_channels"),
    ("pool_size", "kernel_size"),
    ("kernel", "kernel_size"),
    ("rate", "p"),
];

/// Looks an entry up by its exact (case-sensitive) name.
pub fn lookup<'a, Id>(entries: &'a [Entry<Id>], name: &str) -> Option<&'a Entry<Id>> {
    entries.iter().find(|entry| entry.name == name)
}

/// The known name closest to `name`, if it is close enough to be what the user
/// meant: same letters in another case (`relu` -> `ReLU`), a typo or two
/// (`Linaer` -> `Linear`, `momentun` -> `momentum`), PyTorch's `Loss` suffix
/// (`MSELoss` -> `MSE`), or another framework's name for it (`Dense`).
pub fn suggest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let stripped = lower
        .strip_suffix("loss")
        .filter(|rest| !rest.is_empty())
        .map(str::to_owned);
    let alias = ALIASES
        .iter()
        .find(|(from, _)| *from == lower || Some(*from) == stripped.as_deref())
        .map(|(_, to)| *to);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in known {
        if Some(candidate) == alias {
            return Some(candidate);
        }
        let target = candidate.to_ascii_lowercase();
        let distance = std::iter::once(&lower)
            .chain(stripped.as_ref())
            .map(|word| distance(word, &target))
            .min()
            .unwrap_or(usize::MAX);
        let allowed = (candidate.len() / 3).max(1);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of adjacent characters each cost 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<Id>(entries: &'static [Entry<Id>]) -> impl Iterator<Item = &'static str> {
        entries.iter().map(|entry| entry.name)
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("Linaer", names(LAYERS)), Some("Linear"));
        assert_eq!(suggest("relu", names(LAYERS)), Some("ReLU"));
        assert_eq!(suggest("Dense", names(LAYERS)), Some("Linear"));
        assert_eq!(suggest("Adma", names(OPTIMS)), Some("Adam"));
        assert_eq!(suggest("adamw", names(OPTIMS)), Some("AdamW"));
        assert_eq!(suggest("MSELoss", names(LOSSES)), Some("MSE"));
        assert_eq!(
            suggest("CrossEntropyLoss", names(LOSSES)),
            Some("CrossEntropy")
        );
        assert_eq!(suggest("BCEWithLogitsLoss", names(LOSSES)), Some("BCE"));
        assert_eq!(suggest("HuberLoss", names(LOSSES)), Some("Huber"));
        let sgd = OPTIMS[0].params.iter().map(|p| p.name);
        assert_eq!(suggest("momentun", sgd), Some("momentum"));
        let adam = OPTIMS[1].params.iter().map(|p| p.name);
        assert_eq!(suggest("learning_rate", adam), Some("lr"));
        assert_eq!(suggest("RMSProp", names(OPTIMS)), Some("RMSprop"));
        assert_eq!(suggest("Conv2D", names(LAYERS)), Some("Conv2d"));
        assert_eq!(suggest("MaxPooling2D", names(LAYERS)), Some("MaxPool2d"));
        assert_eq!(
            suggest("BatchNormalization", names(LAYERS)),
            Some("BatchNorm")
        );
        assert_eq!(suggest("Conv3d", names(LAYERS)), Some("Conv2d"));
        let conv = lookup(LAYERS, "Conv2d").map(|e| e.params.iter().map(|p| p.name));
        assert_eq!(
            suggest("filters", conv.into_iter().flatten()),
            Some("out_channels")
        );
        let pool = lookup(LAYERS, "MaxPool2d").map(|e| e.params.iter().map(|p| p.name));
        assert_eq!(
            suggest("kernel", pool.into_iter().flatten()),
            Some("kernel_size")
        );
        let dropout = lookup(LAYERS, "Dropout").map(|e| e.params.iter().map(|p| p.name));
        assert_eq!(suggest("rate", dropout.into_iter().flatten()), Some("p"));
        assert_eq!(suggest("rmsprop", names(OPTIMS)), Some("RMSprop"));
        assert_eq!(suggest("Adagard", names(OPTIMS)), Some("Adagrad"));
        assert_eq!(suggest("AdaGrad", names(OPTIMS)), Some("Adagrad"));
        let rmsprop = lookup(OPTIMS, "RMSprop").map(|e| e.params.iter().map(|p| p.name));
        assert_eq!(suggest("rho", rmsprop.into_iter().flatten()), Some("alpha"));
        let adagrad = lookup(OPTIMS, "Adagrad").map(|e| e.params.iter().map(|p| p.name));
        assert_eq!(
            suggest("initial_accumulator", adagrad.into_iter().flatten()),
            Some("initial_accumulator_value")
        );
    }

    #[test]
    fn optimizer_defaults_are_pytorchs() {
        let defaults = |name| {
            let entry = lookup(OPTIMS, name).map(|e| e.params).unwrap_or(&[]);
            entry
                .iter()
                .map(|p| (p.name, p.default))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            defaults("RMSprop"),
            [
                ("lr", Default::Number(1e-2)),
                ("alpha", Default::Number(0.99)),
                ("eps", Default::Number(1e-8)),
                ("weight_decay", Default::Number(0.0)),
                ("momentum", Default::Number(0.0)),
                ("centered", Default::Bool(false)),
            ]
        );
        assert_eq!(
            defaults("Adagrad"),
            [
                ("lr", Default::Number(1e-2)),
                ("lr_decay", Default::Number(0.0)),
                ("weight_decay", Default::Number(0.0)),
                ("initial_accumulator_value", Default::Number(0.0)),
                ("eps", Default::Number(1e-10)),
            ]
        );
    }

    #[test]
    fn does_not_suggest_far_names() {
        assert_eq!(suggest("Transformer", names(LAYERS)), None);
        assert_eq!(suggest("Lion", names(OPTIMS)), None);
        assert_eq!(suggest("Loss", names(LOSSES)), None);
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(distance("linaer", "linear"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
