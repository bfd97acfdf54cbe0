//! Shapes: the sample shape flowing from `input` through every layer, flat
//! features or an image `[C, H, W]`, with the convolution, pooling and
//! flatten arithmetic; and the errors, which spell that arithmetic out
//! (`Flatten` produces 8 x 3 x 3 = 72).
//!
//! One rule per kind of layer (`catalog::Shape`). A mismatch is reported
//! once, on the token at fault, and checking carries on from what the layer
//! declares (its output channels, its `out_features`), or, when even that is
//! unknown, checks nothing more downstream.

use syn::{Error, Ident};

use super::args::Value;
use super::{sizes, BlockKind, BlockSpec, Checked, Errors, LayerSpec, Node};
use crate::catalog::{LayerId, Shape};
use crate::ir::{Dims, Pair};

/// What `input ...;` said.
pub enum Declared {
    Absent,
    /// Written, but not a valid shape (reported).
    Invalid,
    /// The shape, and the statement as it reads in messages (`input 10`,
    /// `input [1, 8, 8]`).
    Dims(Dims, String),
    /// Several named inputs: `(name, shape, statement)` each, in order.
    Several(Vec<(String, Dims, String)>),
}

impl Declared {
    /// `input 10` / `input [1, 8, 8]` from the checked sizes.
    pub fn new(sizes: &[usize]) -> Declared {
        match *sizes {
            [channels, height, width] => Declared::Dims(
                Dims::Image {
                    channels,
                    height,
                    width,
                },
                format!("input [{channels}, {height}, {width}]"),
            ),
            [n] => Declared::Dims(Dims::Flat(n), format!("input {n}")),
            [steps, features] => Declared::Dims(
                Dims::Sequence { steps, features },
                format!("input [{steps}, {features}]"),
            ),
            _ => Declared::Invalid,
        }
    }
}

/// Every layer's shapes, from `check_shapes`.
pub struct Shapes {
    /// The shape of an input sample.
    pub input: Option<Dims>,
    /// `(input, output)` per layer, `None` where unknown.
    pub layers: Vec<Option<(Dims, Dims)>>,
    /// `Layer::text` per layer.
    pub texts: Vec<String>,
    /// What each block makes after its join, by `BlockSpec::id`.
    pub blocks: Vec<Option<Dims>>,
    /// Each input's shape and statement (`input island: category(3)`).
    pub inputs: Vec<(Dims, String)>,
    /// Whether a branch starts with each input.
    pub used: Vec<bool>,
    /// The shape of the last layer's output.
    pub output: Option<Dims>,
}

/// The shape flowing between two layers while checking.
#[derive(Clone)]
enum Width {
    /// Known, and where it comes from (for messages).
    Known(Dims, Source),
    /// Nothing has fixed it yet: no `input` and no layer so far.
    Undeclared,
    /// Several named inputs and no block that names them yet: the texts
    /// of their names.
    Several(Vec<String>),
    /// Follows from an error already reported: check nothing against it.
    Unknown,
}

/// Where a shape comes from.
#[derive(Clone)]
enum Source {
    /// `input ...;`, as text.
    Input(String),
    /// A block's join, by its keyword.
    Block(String),
    /// A layer, as text; `flattened` when the features are a flattened
    /// image (`direct`: the layer is the `Flatten`).
    Layer {
        text: String,
        flattened: Option<([usize; 3], bool)>,
    },
}

impl Source {
    /// The subject and verb before a found shape: "`input 10;` declares",
    /// "the layer before it (`ReLU`) produces", "`Flatten` produces".
    fn producer(&self) -> String {
        match self {
            Source::Input(text) => format!("`{text};` declares"),
            Source::Layer {
                flattened: Some((_, true)),
                ..
            } => "`Flatten` produces".to_owned(),
            Source::Layer { text, .. } => format!("the layer before it (`{text}`) produces"),
            Source::Block(keyword) => format!("the `{keyword}` block before it produces"),
        }
    }

    /// A flat count as found: `72`, `8 x 3 x 3 = 72` from `Flatten`,
    /// `72 (flattened from 8 x 3 x 3)` further on.
    fn count(&self, n: usize) -> String {
        match self {
            Source::Layer {
                flattened: Some(([c, h, w], direct)),
                ..
            } => {
                if *direct {
                    format!("{c} x {h} x {w} = {n}")
                } else {
                    format!("{n} (flattened from {c} x {h} x {w})")
                }
            }
            _ => n.to_string(),
        }
    }

    /// A shape as found: `64 features`, `8 x 3 x 3 = 72 features`,
    /// `an image [8, 3, 3]`.
    fn describe(&self, dims: Dims) -> String {
        match dims {
            Dims::Flat(n) => format!("{} features", self.count(n)),
            Dims::Sequence { steps, features } => {
                format!("a sequence of {steps} steps of {features} features")
            }
            image => describe(&image.shape()),
        }
    }
}

/// `64 features` for `[64]`, `an image [8, 3, 3]` for `[8, 3, 3]`.
fn describe(shape: &[usize]) -> String {
    match shape {
        [n] => format!("{n} features"),
        dims => format!("an image {}", list(dims)),
    }
}

/// `[8, 3, 3]`.
fn list(dims: &[usize]) -> String {
    let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// `1 channel`, `3 channels`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A window pair as written: `3` for `(3, 3)`, `(3, 5)`.
fn pair_text((h, w): Pair) -> String {
    if h == w {
        h.to_string()
    } else {
        format!("({h}, {w})")
    }
}

/// The output size along one dimension of a convolution or a pooling
/// window: `(input + 2 padding - kernel) / stride + 1` (PyTorch's
/// `ceil_mode = False`), `None` if the kernel does not fit the padded input.
/// The runtime's `conv_output_size`, which the constructors assert.
///
/// Checked: every size is at most 2^32 (`sizes`), so `input + 2 padding`
/// is exact in 64 bits; were it not, the window would read as not fitting,
/// never as a wrapped size.
pub fn output_size(input: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = padded(input, padding)?;
    (stride > 0 && kernel > 0 && kernel <= padded).then(|| (padded - kernel) / stride + 1)
}

/// `input + 2 padding`, checked.
fn padded(input: usize, padding: usize) -> Option<usize> {
    padding.checked_mul(2)?.checked_add(input)
}

/// `input + 2 padding` as a message writes it: the sum, or the terms when
/// it does not fit a `usize`.
fn padded_text(input: usize, padding: usize) -> String {
    padded(input, padding).map_or_else(|| format!("{input} + 2 x {padding}"), |n| n.to_string())
}

/// Rule: each layer's input is the output of the layer before it (or the
/// `input` for the first), through the image arithmetic:
///
/// - `Linear` takes flat features, `in_features` of them (`_`: whatever
///   comes); after an image it needs a `Flatten` first.
/// - `Conv2d` takes an image of `in_channels` channels and makes
///   `[out_channels, oh, ow]`, `oh = (H + 2 padding - kernel) / stride + 1`;
///   the kernel must fit the padded image. Pools keep the channels.
/// - `Flatten` turns `[C, H, W]` into `C * H * W` features.
/// - `BatchNorm` is `BatchNorm1d` after flat features and `BatchNorm2d`
///   after an image; `num_features`, when given, must match.
/// - `LayerNorm` normalises each whole sample; elementwise layers keep the
///   shape. `Softmax` reads flat features (its sum over a whole image would
///   not be PyTorch's `Softmax(dim=1)`).
///
/// Why: a product or a window of the wrong size cannot run, and an image
/// read as features by `Linear` is what PyTorch rejects with a shape error
/// at run time; here it is a compile error that says the fix.
pub fn check_shapes(
    declared: &Declared,
    layers: &[LayerSpec],
    nodes: &[Node],
    blocks: usize,
    errors: &mut Errors,
) -> Shapes {
    let width = match declared {
        Declared::Absent => Width::Undeclared,
        Declared::Invalid => Width::Unknown,
        Declared::Dims(dims, text) => Width::Known(*dims, Source::Input(text.clone())),
        Declared::Several(inputs) => {
            Width::Several(inputs.iter().map(|(name, _, _)| name.clone()).collect())
        }
    };
    let mut shapes = Shapes {
        input: match declared {
            Declared::Dims(dims, _) => Some(*dims),
            Declared::Several(inputs) => Some(Dims::Flat(
                inputs.iter().map(|(_, dims, _)| dims.len()).sum(),
            )),
            _ => None,
        },
        inputs: match declared {
            Declared::Dims(dims, text) => vec![(*dims, text.clone())],
            Declared::Several(inputs) => inputs
                .iter()
                .map(|(_, dims, text)| (*dims, text.clone()))
                .collect(),
            _ => Vec::new(),
        },
        used: match declared {
            Declared::Several(inputs) => vec![false; inputs.len()],
            _ => vec![true],
        },
        layers: vec![None; layers.len()],
        texts: layers.iter().map(|l| l.call.name.to_string()).collect(),
        blocks: vec![None; blocks],
        output: None,
    };
    let end = walk(nodes, width, layers, &mut shapes, errors);
    // Without `input`, the first layer says what comes in.
    if let (None, Some(Node::Layer(first))) = (shapes.input, nodes.first()) {
        shapes.input = shapes.layers[*first].map(|(input, _)| input);
    }
    shapes.output = match end {
        Width::Known(dims, _) => Some(dims),
        _ => None,
    };
    shapes
}

/// Checks `nodes` one after the other from `width`; returns what the last
/// one makes.
fn walk(
    nodes: &[Node],
    mut width: Width,
    layers: &[LayerSpec],
    shapes: &mut Shapes,
    errors: &mut Errors,
) -> Width {
    for node in nodes {
        width = match node {
            Node::Layer(index) => step(*index, &layers[*index], &width, shapes, errors),
            Node::Block(block) => check_block(block, width, layers, shapes, errors),
            Node::Input(k) => match shapes.inputs.get(*k) {
                Some((dims, text)) => {
                    let width = Width::Known(*dims, Source::Input(text.clone()));
                    if let Some(used) = shapes.used.get_mut(*k) {
                        *used = true;
                    }
                    width
                }
                None => Width::Unknown,
            },
        };
    }
    width
}

/// One layer: its input and output shapes (into `shapes`), and what it
/// makes.
fn step(
    index: usize,
    layer: &LayerSpec,
    width: &Width,
    shapes: &mut Shapes,
    errors: &mut Errors,
) -> Width {
    errors.at(layer.stmt);
    let Some(checked) = &layer.checked else {
        return Width::Unknown;
    };
    let name = &layer.call.name;
    if let (Width::Several(names), false) = (width, checked.entry.id == LayerId::Embedding) {
        errors.push(Error::new_spanned(
            name,
            format!(
                "`{name}` has no single input: the model has several ({}); a block names them \
                 at the start of its branches, e.g. `concat {{ {}; .. }}`",
                super::code_list(names.iter().map(String::as_str)),
                names[0]
            ),
        ));
        return Width::Unknown;
    }
    // Class indices go into an `Embedding` and nowhere else.
    if let Width::Known(Dims::Category(n) | Dims::Tokens { categories: n, .. }, source) = width {
        if checked.entry.id != LayerId::Embedding {
            let input = match source {
                Source::Input(text) => text.clone(),
                _ => "a category input".into(),
            };
            errors.push(Error::new_spanned(
                name,
                format!(
                    "`{name}` cannot read class indices (`{input};`): embed them first, with \
                     an `Embedding({n}, dim)` before it"
                ),
            ));
            return Width::Unknown;
        }
    }
    // A sequence goes into a recurrent layer, `Last`, `Flatten`, or a
    // layer that works value by value.
    if let Width::Known(dims @ Dims::Sequence { .. }, source) = width {
        let fits = matches!(
            checked.entry.id,
            LayerId::Rnn
                | LayerId::Lstm
                | LayerId::Gru
                | LayerId::Last
                | LayerId::Conv1d
                | LayerId::MaxPool1d
                | LayerId::AvgPool1d
                | LayerId::GlobalAvgPool1d
                | LayerId::GlobalMaxPool1d
                | LayerId::Flatten
                | LayerId::Identity
                | LayerId::Dropout
                | LayerId::ReLU
                | LayerId::LeakyReLU
                | LayerId::Sigmoid
                | LayerId::Tanh
                | LayerId::GELU
        );
        let image_layer = matches!(checked.entry.id.shape(), Shape::Conv | Shape::Pool)
            || checked.entry.id == LayerId::BatchNorm2d;
        if !fits {
            let fix = match (image_layer, dims, source) {
                (true, Dims::Sequence { steps, features }, Source::Input(_)) => format!(
                    "two sizes declare a sequence; for a one-channel image write \
                     `input [1, {steps}, {features}];`"
                ),
                _ => "take the last step with `Last;` (or every step with `Flatten;`) before it"
                    .to_owned(),
            };
            errors.push(Error::new_spanned(
                name,
                format!(
                    "`{name}` does not read sequences, but {} {}: {fix}",
                    source.producer(),
                    source.describe(*dims)
                ),
            ));
            return Width::Unknown;
        }
    }
    let (layer_in, layer_out) = match checked.entry.id.shape() {
        Shape::Recurrent => check_recurrent(checked, name, width, errors),
        Shape::Last => check_last(name, width, errors),
        Shape::Temporal => check_temporal(checked, name, width, errors),
        Shape::GlobalPool => match width {
            Width::Known(dims @ Dims::Sequence { features, .. }, _) => {
                (Some(*dims), Some(Dims::Flat(*features)))
            }
            _ => check_last(name, width, errors),
        },
        Shape::Embedding => check_embedding(checked, name, width, errors),
        Shape::Same => check_same(checked, name, width, errors),
        Shape::Dense => check_dense(checked, name, width, errors),
        Shape::Conv => check_window(checked, name, width, errors),
        Shape::Pool => check_window(checked, name, width, errors),
        Shape::Flatten => check_flatten(name, width, errors),
        Shape::BatchNorm { image } => check_batch_norm(checked, image, name, width, errors),
        Shape::LayerNorm => check_layer_norm(checked, name, width, errors),
    };
    let text = layer_text(checked, layer_in, layer_out);
    shapes.layers[index] = layer_in.zip(layer_out);
    shapes.texts[index] = text.clone();
    let Some(dims) = layer_out else {
        return Width::Unknown;
    };
    let flattened = match (width, dims) {
        (_, Dims::Image { .. }) => None,
        (
            Width::Known(
                Dims::Image {
                    channels,
                    height,
                    width: image_width,
                },
                _,
            ),
            _,
        ) if checked.entry.id == LayerId::Flatten => {
            Some(([*channels, *height, *image_width], true))
        }
        // Elementwise layers (and a second `Flatten`) pass on where the
        // features came from.
        (
            Width::Known(
                _,
                Source::Layer {
                    flattened: Some((image, _)),
                    ..
                },
            ),
            _,
        ) if checked.entry.id != LayerId::Linear => Some((*image, false)),
        _ => None,
    };
    Width::Known(dims, Source::Layer { text, flattened })
}

/// Rule: a block's branches start from the block's input, and its join
/// needs shapes that fit: `residual` and `add` add their branches (the
/// same shape in each), `concat` puts them side by side (flat features of
/// any count, or images of the same height and width, their channels
/// added up). The error names both shapes and what made each.
fn check_block(
    block: &BlockSpec,
    width: Width,
    layers: &[LayerSpec],
    shapes: &mut Shapes,
    errors: &mut Errors,
) -> Width {
    errors.at(block.stmt);
    let keyword = &block.keyword;
    let width = match width {
        Width::Undeclared => {
            errors.push(Error::new_spanned(
                keyword,
                format!(
                    "cannot infer the input of `{keyword}`: declare the model's input first, \
                     e.g. `input 10;` or `input [1, 28, 28];`"
                ),
            ));
            Width::Unknown
        }
        width => width,
    };
    // What each branch makes, with how the message names it.
    let mut made: Vec<(String, Width)> = Vec::new();
    match block.kind {
        BlockKind::Residual => {
            let body = walk(&block.branches[0], width.clone(), layers, shapes, errors);
            made.push(("its body".into(), body));
            match &block.shortcut {
                Some(nodes) => {
                    let shortcut = walk(nodes, width.clone(), layers, shapes, errors);
                    made.push(("its shortcut".into(), shortcut));
                }
                None => made.push(("its input".into(), width.clone())),
            }
        }
        BlockKind::Concat | BlockKind::Add => {
            for (k, branch) in block.branches.iter().enumerate() {
                let out = walk(branch, width.clone(), layers, shapes, errors);
                made.push((format!("branch {}", k + 1), out));
            }
        }
    }
    errors.at(block.stmt);
    let mut known = Vec::with_capacity(made.len());
    for (who, out) in &made {
        match out {
            Width::Known(dims, source) => known.push((who.as_str(), *dims, source)),
            _ => return Width::Unknown,
        }
    }
    let joined = match block.kind {
        BlockKind::Residual | BlockKind::Add => {
            let (first_who, first, first_source) = known[0];
            if let Some((who, dims, source)) = known.iter().find(|(_, d, _)| *d != first) {
                let (verb, fix) = match (block.kind, block.shortcut.is_some()) {
                    (BlockKind::Residual, false) => (
                        "adds its input to its body's output",
                        shortcut_fix(*dims, first),
                    ),
                    (BlockKind::Residual, true) => {
                        ("adds its shortcut's output to its body's", String::new())
                    }
                    _ => ("adds up its branches", String::new()),
                };
                errors.push(Error::new_spanned(
                    keyword,
                    format!(
                        "`{keyword}` {verb}, but they differ: {first_who} makes {}{} and {who} \
                         {}{}{}{fix}",
                        first_source.describe(first),
                        made_by(first_source),
                        if *who == "its input" { "is " } else { "makes " },
                        source.describe(*dims),
                        made_by(source),
                    ),
                ));
            }
            first
        }
        BlockKind::Concat => match concat(&known) {
            Ok(dims) => dims,
            Err(message) => {
                errors.push(Error::new_spanned(
                    keyword,
                    format!("`{keyword}` {message}"),
                ));
                return Width::Unknown;
            }
        },
    };
    shapes.blocks[block.id] = Some(joined);
    Width::Known(joined, Source::Block(keyword.to_string()))
}

/// ` (\`Conv2d(1, 8, 3)\`)` after a shape a layer made; nothing after the
/// model's input.
fn made_by(source: &Source) -> String {
    match source {
        Source::Layer { text, .. } => format!(" (`{text}`)"),
        Source::Block(keyword) => format!(" (`{keyword} {{ .. }}`)"),
        Source::Input(_) => String::new(),
    }
}

/// The fix of a `residual` whose body changes the shape: a shortcut that
/// makes the body's shape from the input's (a 1 x 1 `Conv2d` with the
/// stride that fits, or a `Linear`).
fn shortcut_fix(input: Dims, body: Dims) -> String {
    let layer = match (input, body) {
        (Dims::Flat(n), Dims::Flat(m)) => Some(format!("Linear({n}, {m})")),
        (
            Dims::Image {
                channels: c,
                height: h,
                width: w,
            },
            Dims::Image {
                channels: oc,
                height: oh,
                width: ow,
            },
        ) => (1..=h.max(w))
            .find(|&s| (h - 1) / s + 1 == oh && (w - 1) / s + 1 == ow)
            .map(|s| match s {
                1 => format!("Conv2d({c}, {oc}, 1)"),
                s => format!("Conv2d({c}, {oc}, 1, stride = {s})"),
            }),
        _ => None,
    };
    match layer {
        Some(layer) => format!(
            ": give it a shortcut that makes {} from {}, e.g. `residual(shortcut = {layer}) {{ .. }}`",
            describe(&body.shape()),
            describe(&input.shape())
        ),
        None => String::new(),
    }
}

/// The shape `concat` makes of its branches' shapes, or why it cannot.
fn concat(known: &[(&str, Dims, &Source)]) -> Result<Dims, String> {
    let (first_who, first, first_source) = known[0];
    if let Some((who, dims, source)) = known
        .iter()
        .find(|(_, d, _)| matches!(d, Dims::Sequence { .. } | Dims::Tokens { .. }))
    {
        return Err(format!(
            "cannot join sequences side by side: {who} makes {}{}; take each branch's last \
             step first (`Last`), or add the sequences (`add`)",
            source.describe(*dims),
            made_by(source)
        ));
    }
    match first {
        Dims::Sequence { .. } | Dims::Tokens { .. } => unreachable!("refused above"),
        Dims::Flat(_) | Dims::Category(_) => {
            let mut total = 0usize;
            for (who, dims, source) in known {
                match dims {
                    Dims::Flat(n) => total = total.saturating_add(*n),
                    Dims::Category(_) => total = total.saturating_add(1),
                    image @ (Dims::Image { .. } | Dims::Sequence { .. } | Dims::Tokens { .. }) => {
                        return Err(format!(
                            "joins flat features, from {first_who}, and {who} makes {}{}: add \
                             `Flatten` at the end of {who}",
                            source.describe(*image),
                            made_by(source)
                        ))
                    }
                }
            }
            Ok(Dims::Flat(total))
        }
        Dims::Image { height, width, .. } => {
            let mut channels = 0usize;
            for (who, dims, source) in known {
                match dims {
                    Dims::Image {
                        channels: c,
                        height: h,
                        width: w,
                    } if (*h, *w) == (height, width) => channels = channels.saturating_add(*c),
                    other => {
                        let need = match other {
                            Dims::Image { .. } => "the same height and width",
                            _ => "images in every branch",
                        };
                        return Err(format!(
                            "joins images along their channels, which needs {need}: {first_who} \
                             makes {}{} and {who} makes {}{}",
                            first_source.describe(first),
                            made_by(first_source),
                            source.describe(*other),
                            made_by(source)
                        ));
                    }
                }
            }
            Ok(Dims::Image {
                channels,
                height,
                width,
            })
        }
    }
}

/// `RNN`, `LSTM`, `GRU`: a sequence `[T, F]` to `[T, H]` (`[T, 2 H]` with
/// two directions).
fn check_recurrent(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let args = &checked.args;
    let directions = if args.bool("bidirectional") == Some(true) {
        2
    } else {
        1
    };
    let Some((steps, features, _)) = sequence(name, width, errors) else {
        return (None, None);
    };
    let out = args.size("hidden_size").map(|h| Dims::Sequence {
        steps,
        features: h * directions,
    });
    (Some(Dims::Sequence { steps, features }), out)
}

/// The sequence a layer reads, or `None`, with the error, for anything
/// else.
fn sequence<'w>(
    name: &Ident,
    width: &'w Width,
    errors: &mut Errors,
) -> Option<(usize, usize, &'w Source)> {
    match width {
        Width::Known(Dims::Sequence { steps, features }, source) => {
            Some((*steps, *features, source))
        }
        Width::Known(dims, source) => {
            errors.push(Error::new_spanned(
                name,
                format!(
                    "`{name}` reads a sequence, but {} {}: declare one with `input [T, F];` \
                     (T steps of F features)",
                    source.producer(),
                    source.describe(*dims)
                ),
            ));
            None
        }
        Width::Undeclared => {
            errors.push(Error::new_spanned(
                name,
                format!("cannot infer the input of `{name}`: declare it with `input [T, F];`"),
            ));
            None
        }
        Width::Unknown | Width::Several(_) => None,
    }
}

/// `Conv1d`, `MaxPool1d`, `AvgPool1d`: a window over the steps of a
/// sequence, `(T + 2 padding - kernel) / stride + 1` steps out.
fn check_temporal(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let Some((steps, features, source)) = sequence(name, width, errors) else {
        return (None, None);
    };
    let args = &checked.args;
    let mut one = |arg: &str| -> Option<usize> {
        let (a, b) = args.pair(arg)?;
        if a != b {
            if let Some(expr) = args.get(arg).and_then(|a| a.expr) {
                errors.push(Error::new_spanned(
                    expr,
                    format!(
                        "expected one integer for `{arg}` of `{name}` (over time), found a pair"
                    ),
                ));
            }
            return None;
        }
        Some(a)
    };
    let kernel = one("kernel_size");
    let padding = one("padding");
    let stride = match (checked.entry.id, args.get("stride").map(|a| &a.value)) {
        (LayerId::Conv1d, _) | (_, Some(Value::Pair(..))) => one("stride"),
        _ => kernel,
    };
    let conv = checked.entry.id == LayerId::Conv1d;
    let out_features = if conv {
        check_in_channels(
            checked,
            name,
            features,
            ("feature", " per step"),
            source,
            errors,
        );
        args.size("out_channels")
    } else {
        Some(features)
    };
    let (Some(kernel), Some(stride), Some(padding)) = (kernel, stride, padding) else {
        return (Some(Dims::Sequence { steps, features }), None);
    };
    let Some(out_steps) = output_size(steps, kernel, stride, padding) else {
        let at = args.get("kernel_size").and_then(|a| a.expr);
        let message = format!(
            "`{name}` window of {kernel} steps does not fit the {steps} steps (padding \
             {padding}: {} in all)",
            padded_text(steps, padding)
        );
        match at {
            Some(expr) => errors.push(Error::new_spanned(expr, message)),
            None => errors.push(Error::new_spanned(name, message)),
        }
        return (Some(Dims::Sequence { steps, features }), None);
    };
    (
        Some(Dims::Sequence { steps, features }),
        out_features.map(|f| Dims::Sequence {
            steps: out_steps,
            features: f,
        }),
    )
}

/// Rule: a convolution's `in_channels`, when written, is what comes in
/// (`noun`: "input channel" for images, "feature" with `per` " per step"
/// for the steps of a sequence).
fn check_in_channels(
    checked: &Checked<LayerId>,
    name: &Ident,
    found: usize,
    (noun, per): (&str, &str),
    source: &Source,
    errors: &mut Errors,
) {
    let Some(arg) = checked.args.get("in_channels") else {
        return;
    };
    if let (Value::Size(n), Some(expr)) = (&arg.value, arg.expr) {
        if *n != found {
            errors.push(Error::new_spanned(
                expr,
                format!(
                    "`{name}` expects {}{per}, but {} {found}",
                    plural(*n, noun),
                    source.producer()
                ),
            ));
        }
    }
}

/// `Last`: a sequence's last step.
fn check_last(name: &Ident, width: &Width, errors: &mut Errors) -> (Option<Dims>, Option<Dims>) {
    match sequence(name, width, errors) {
        Some((steps, features, _)) => (
            Some(Dims::Sequence { steps, features }),
            Some(Dims::Flat(features)),
        ),
        None => (None, None),
    }
}

/// `Embedding`: the class indices of a `category` input, at most
/// `num_embeddings` of them, to `embedding_dim` features.
fn check_embedding(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let args = &checked.args;
    let out = args.size("embedding_dim").map(Dims::Flat);
    match width {
        Width::Known(dims @ (Dims::Category(n) | Dims::Tokens { categories: n, .. }), source) => {
            if let Some(arg) = args.get("num_embeddings") {
                if let (Value::Size(m), Some(expr)) = (&arg.value, arg.expr) {
                    if m < n {
                        errors.push(Error::new_spanned(
                            expr,
                            format!(
                                "`{name}` has {} but {} {n} {}: give it at least {n}",
                                plural(*m, "vector"),
                                source.producer(),
                                if *n == 1 { "category" } else { "categories" },
                            ),
                        ));
                    }
                }
            }
            let out = match (dims, out) {
                (Dims::Tokens { steps, .. }, Some(Dims::Flat(dim))) => Some(Dims::Sequence {
                    steps: *steps,
                    features: dim,
                }),
                (_, out) => out,
            };
            (Some(*dims), out)
        }
        Width::Known(dims, source) => {
            errors.push(Error::new_spanned(
                name,
                format!(
                    "`{name}` reads class indices, an input declared `category(n)`, but {} {}: \
                     start the branch with such an input, e.g. `island => {name}(3, 4)`",
                    source.producer(),
                    source.describe(*dims)
                ),
            ));
            (None, out)
        }
        Width::Undeclared | Width::Several(_) => {
            errors.push(Error::new_spanned(
                name,
                format!(
                    "`{name}` reads a `category` input: declare it, e.g. `input island: \
                     category(3);`, and start a branch with it: `island => {name}(3, 4)`"
                ),
            ));
            (None, out)
        }
        Width::Unknown => (None, out),
    }
}

/// Elementwise layers: the shape passes through (`Softmax`: flat only).
fn check_same(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    match width {
        Width::Known(dims, source) => {
            if checked.entry.id == LayerId::Softmax && matches!(dims, Dims::Image { .. }) {
                errors.push(needs_flat(
                    name,
                    *dims,
                    source,
                    ": add `Flatten;` before it",
                ));
            }
            (Some(*dims), Some(*dims))
        }
        Width::Undeclared => {
            errors.push(cannot_infer(name));
            (None, None)
        }
        Width::Unknown | Width::Several(_) => (None, None),
    }
}

/// `Linear`: flat `in_features -> out_features`.
fn check_dense(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let in_arg = checked
        .args
        .get("in_features")
        .map(|arg| (&arg.value, arg.expr));
    let in_features = match (in_arg, width) {
        // One mistake: the missing `Flatten`; carry on as if it were there.
        (_, Width::Known(dims @ Dims::Image { .. }, source)) => {
            errors.push(needs_flat(
                name,
                *dims,
                source,
                ": add `Flatten;` before it",
            ));
            match in_arg {
                Some((Value::Size(n), _)) => Some(*n),
                _ => Some(dims.len()),
            }
        }
        (Some((Value::Size(n), Some(expr))), Width::Known(Dims::Flat(m), source)) => {
            if n != m {
                errors.push(Error::new_spanned(
                    expr,
                    format!(
                        "`{name}` expects {n} inputs, but {} {}",
                        source.producer(),
                        source.count(*m)
                    ),
                ));
            }
            Some(*n)
        }
        (Some((Value::Size(n), _)), _) => Some(*n),
        (Some((Value::Infer, Some(expr))), Width::Undeclared) => {
            errors.push(cannot_infer(expr));
            None
        }
        // `_`, or a bad argument (reported): what comes in.
        (_, Width::Known(Dims::Flat(m), _)) => Some(*m),
        _ => None,
    };
    (
        in_features.map(Dims::Flat),
        checked.args.size("out_features").map(Dims::Flat),
    )
}

/// `Conv2d` and the pools: an image in, an image out, through the window
/// arithmetic.
fn check_window(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let (channels, height, image_width, source) = match width {
        Width::Known(
            Dims::Image {
                channels,
                height,
                width,
            },
            source,
        ) => (*channels, *height, *width, source),
        Width::Known(dims, source) => {
            let fix = match source {
                Source::Input(_) => ": declare `input [C, H, W];`",
                Source::Layer {
                    flattened: Some((_, true)),
                    ..
                } => ": image layers go before `Flatten`",
                Source::Layer { .. } | Source::Block(_) => "",
            };
            errors.push(needs_image(name, *dims, source, fix));
            return (None, None);
        }
        Width::Undeclared => {
            errors.push(cannot_infer_image(name));
            return (None, None);
        }
        Width::Unknown | Width::Several(_) => return (None, None),
    };
    let args = &checked.args;
    let conv = checked.entry.id == LayerId::Conv2d;
    let out_channels = if conv {
        check_in_channels(
            checked,
            name,
            channels,
            ("input channel", ""),
            source,
            errors,
        );
        args.size("out_channels")
    } else {
        Some(channels)
    };
    let kernel = args.pair("kernel_size");
    let stride = match args.get("stride").map(|arg| &arg.value) {
        // A pool's default stride: the kernel.
        Some(Value::Unset) => kernel,
        _ => args.pair("stride"),
    };
    let padding = args.pair("padding");
    let input = Dims::Image {
        channels,
        height,
        width: image_width,
    };
    let (Some(kernel), Some(stride), Some(padding)) = (kernel, stride, padding) else {
        return (Some(input), None);
    };
    if !conv && !pool_padding_fits(kernel, padding) {
        // Reported by `check_pool_padding`.
        return (Some(input), None);
    }
    let spatial = output_size(height, kernel.0, stride.0, padding.0).zip(output_size(
        image_width,
        kernel.1,
        stride.1,
        padding.1,
    ));
    let Some((out_height, out_width)) = spatial else {
        let kernel_text = if kernel.0 == kernel.1 {
            kernel.0.to_string()
        } else {
            format!("{} x {}", kernel.0, kernel.1)
        };
        let padding_text = match padding {
            (0, 0) => "padding 0".to_owned(),
            (ph, pw) => format!(
                "padding {}: {} x {}",
                pair_text((ph, pw)),
                padded_text(height, ph),
                padded_text(image_width, pw)
            ),
        };
        let message = format!(
            "`{name}` kernel {kernel_text} does not fit the {height} x {image_width} input ({padding_text})"
        );
        let error = match args.get("kernel_size").and_then(|arg| arg.expr) {
            Some(expr) => Error::new_spanned(expr, message),
            None => Error::new_spanned(name, message),
        };
        errors.push(error);
        return (Some(input), None);
    };
    let Some(out_channels) = out_channels else {
        return (Some(input), None);
    };
    // Rule: the output image is within the size limit (`sizes`); a large
    // padding, or many channels, can make it bigger than the input.
    let shape = [out_channels, out_height, out_width];
    if let Err(error) = sizes::check_shape(
        checked.call,
        format_args!("the output of `{name}` {}", list(&shape)),
        &shape,
    ) {
        errors.push(error);
        return (Some(input), None);
    }
    let output = Dims::Image {
        channels: out_channels,
        height: out_height,
        width: out_width,
    };
    (Some(input), Some(output))
}

/// PyTorch's rule for pools: padding at most half the window, per
/// dimension (more would make windows of padding only).
/// (`2 p <= k` written as `p <= k / 2`, the same for integers, without
/// an overflow.)
pub fn pool_padding_fits(kernel: Pair, padding: Pair) -> bool {
    padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2
}

/// `Flatten`: `[C, H, W] -> C * H * W`; flat features pass through.
fn check_flatten(name: &Ident, width: &Width, errors: &mut Errors) -> (Option<Dims>, Option<Dims>) {
    match width {
        Width::Known(dims, _) => (Some(*dims), Some(Dims::Flat(dims.len()))),
        Width::Undeclared => {
            errors.push(cannot_infer(name));
            (None, None)
        }
        Width::Unknown | Width::Several(_) => (None, None),
    }
}

/// `BatchNorm` (1d or 2d from the position), `BatchNorm1d`, `BatchNorm2d`.
fn check_batch_norm(
    checked: &Checked<LayerId>,
    image: Option<bool>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let features = checked
        .args
        .get("num_features")
        .map(|arg| (&arg.value, arg.expr));
    match width {
        Width::Known(dims, source) => {
            let is_image = matches!(dims, Dims::Image { .. });
            match image {
                Some(false) if is_image => {
                    let fix = ": write `BatchNorm2d` (or `BatchNorm`)";
                    errors.push(needs_flat(name, *dims, source, fix));
                }
                Some(true) if !is_image => {
                    let fix = ": write `BatchNorm1d` (or `BatchNorm`)";
                    errors.push(needs_image(name, *dims, source, fix));
                }
                _ => {
                    if let Some((Value::Size(n), Some(expr))) = features {
                        let (noun, found) = match dims {
                            Dims::Image { channels, .. } => ("channel", channels.to_string()),
                            Dims::Flat(m) => ("feature", source.count(*m)),
                            Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => {
                                ("feature", "1".into())
                            }
                        };
                        let have = match dims {
                            Dims::Image { channels, .. } => *channels,
                            Dims::Flat(m) => *m,
                            Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => 1,
                        };
                        if *n != have {
                            errors.push(Error::new_spanned(
                                expr,
                                format!(
                                    "`{name}` expects {}, but {} {found}",
                                    plural(*n, noun),
                                    source.producer()
                                ),
                            ));
                        }
                    }
                }
            }
            (Some(*dims), Some(*dims))
        }
        Width::Undeclared => match (features, image) {
            (Some((Value::Size(n), _)), None | Some(false)) => {
                (Some(Dims::Flat(*n)), Some(Dims::Flat(*n)))
            }
            (_, Some(true)) => {
                errors.push(cannot_infer_image(name));
                (None, None)
            }
            (Some((Value::Infer, _)), _) => {
                errors.push(cannot_infer(name));
                (None, None)
            }
            _ => (None, None),
        },
        Width::Unknown | Width::Several(_) => (None, None),
    }
}

/// `LayerNorm`: over the whole sample; `normalized_shape`, when given, is
/// that sample's shape.
fn check_layer_norm(
    checked: &Checked<LayerId>,
    name: &Ident,
    width: &Width,
    errors: &mut Errors,
) -> (Option<Dims>, Option<Dims>) {
    let shape = checked
        .args
        .get("normalized_shape")
        .map(|arg| (&arg.value, arg.expr));
    match width {
        Width::Known(dims, source) => {
            if let Some((Value::Dims(expected), Some(expr))) = shape {
                if *expected != dims.shape() {
                    errors.push(Error::new_spanned(
                        expr,
                        format!(
                            "`{name}` expects {}, but {} {}",
                            describe(expected),
                            source.producer(),
                            source.describe(*dims)
                        ),
                    ));
                }
            }
            (Some(*dims), Some(*dims))
        }
        Width::Undeclared => match shape {
            Some((Value::Dims(sizes), _)) => match Declared::new(sizes) {
                Declared::Dims(dims, _) => (Some(dims), Some(dims)),
                _ => (None, None),
            },
            Some((Value::Infer, _)) => {
                errors.push(cannot_infer(name));
                (None, None)
            }
            _ => (None, None),
        },
        Width::Unknown | Width::Several(_) => (None, None),
    }
}

/// "`Linear` expects flat features, but ... produces an image [8, 3, 3]:
/// add `Flatten;` before it".
fn needs_flat(name: &Ident, dims: Dims, source: &Source, fix: &str) -> Error {
    Error::new_spanned(
        name,
        format!(
            "`{name}` expects flat features, but {} {}{fix}",
            source.producer(),
            source.describe(dims)
        ),
    )
}

/// "`Conv2d` expects an image [C, H, W], but ... produces 64 features".
fn needs_image(name: &Ident, dims: Dims, source: &Source, fix: &str) -> Error {
    Error::new_spanned(
        name,
        format!(
            "`{name}` expects an image [C, H, W], but {} {}{fix}",
            source.producer(),
            source.describe(dims)
        ),
    )
}

pub fn cannot_infer(tokens: impl quote::ToTokens) -> Error {
    Error::new_spanned(
        tokens,
        "cannot infer the input size of the first layer: declare `input N;` or write the number",
    )
}

fn cannot_infer_image(name: &Ident) -> Error {
    Error::new_spanned(
        name,
        format!(
            "cannot infer the image size of the first layer (`{name}`): declare `input [C, H, W];`"
        ),
    )
}

/// `Linear(10, 64)`, `Conv2d(1, 8, 3, padding = 1)`, `MaxPool2d(2)`,
/// `BatchNorm2d(8)`, `LayerNorm([8, 6, 6])`, `Dropout(0.5)`, `ReLU`: the
/// layer with its sizes filled in and its non-default arguments.
fn layer_text(layer: &Checked<LayerId>, input: Option<Dims>, output: Option<Dims>) -> String {
    let size = |n: Option<usize>| n.map_or_else(|| "_".to_owned(), |n| n.to_string());
    let args = &layer.args;
    let name = layer.entry.name;
    let mut extra = String::new();
    let mut named = |arg: &str, value: String| extra.push_str(&format!(", {arg} = {value}"));
    match layer.entry.id {
        LayerId::Rnn | LayerId::Lstm | LayerId::Gru => {
            if let Some(n) = args.size("num_layers").filter(|&n| n != 1) {
                named("num_layers", n.to_string());
            }
            if args.bool("bidirectional") == Some(true) {
                named("bidirectional", "true".into());
            }
            format!("{name}({}{extra})", size(args.size("hidden_size")))
        }
        LayerId::Last | LayerId::GlobalAvgPool1d | LayerId::GlobalMaxPool1d => name.to_owned(),
        LayerId::Conv1d | LayerId::MaxPool1d | LayerId::AvgPool1d => {
            let one = |arg: &str| args.pair(arg).map(|(a, _)| a);
            let kernel = one("kernel_size");
            if let Some(stride) = one("stride").filter(|&s| {
                s != if layer.entry.id == LayerId::Conv1d {
                    1
                } else {
                    kernel.unwrap_or(0)
                }
            }) {
                named("stride", stride.to_string());
            }
            if let Some(padding) = one("padding").filter(|&p| p != 0) {
                named("padding", padding.to_string());
            }
            let kernel = size(kernel);
            if layer.entry.id == LayerId::Conv1d {
                let in_channels = args.size("in_channels").or(match input {
                    Some(Dims::Sequence { features, .. }) => Some(features),
                    _ => None,
                });
                format!(
                    "{name}({}, {}, {kernel}{extra})",
                    size(in_channels),
                    size(args.size("out_channels"))
                )
            } else {
                format!("{name}({kernel}{extra})")
            }
        }
        LayerId::Embedding => format!(
            "{name}({}, {})",
            size(args.size("num_embeddings")),
            size(args.size("embedding_dim"))
        ),
        LayerId::Linear => {
            if args.bool("bias") == Some(false) {
                named("bias", "false".into());
            }
            let in_features = args.size("in_features").or(input.map(Dims::len));
            format!(
                "{name}({}, {}{extra})",
                size(in_features),
                size(output.map(Dims::len))
            )
        }
        LayerId::LeakyReLU => match args.number("negative_slope") {
            Some(slope) => format!("{name}({slope:?})"),
            None => name.to_owned(),
        },
        LayerId::Dropout => match args.number("p") {
            Some(p) => format!("{name}({p:?})"),
            None => name.to_owned(),
        },
        LayerId::Conv2d => {
            let in_channels = args.size("in_channels").or(match input {
                Some(Dims::Image { channels, .. }) => Some(channels),
                _ => None,
            });
            let kernel = args.pair("kernel_size").map(pair_text);
            if let Some(stride) = args.pair("stride").filter(|s| *s != (1, 1)) {
                named("stride", pair_text(stride));
            }
            if let Some(padding) = args.pair("padding").filter(|p| *p != (0, 0)) {
                named("padding", pair_text(padding));
            }
            if args.bool("bias") == Some(false) {
                named("bias", "false".into());
            }
            format!(
                "{name}({}, {}, {}{extra})",
                size(in_channels),
                size(args.size("out_channels")),
                kernel.unwrap_or_else(|| "_".into())
            )
        }
        LayerId::MaxPool2d | LayerId::AvgPool2d => {
            let kernel = args.pair("kernel_size");
            if let (Some(stride), Some(kernel)) = (args.pair("stride"), kernel) {
                if stride != kernel {
                    named("stride", pair_text(stride));
                }
            }
            if let Some(padding) = args.pair("padding").filter(|p| *p != (0, 0)) {
                named("padding", pair_text(padding));
            }
            let kernel = kernel.map_or_else(|| "_".into(), pair_text);
            format!("{name}({kernel}{extra})")
        }
        LayerId::BatchNorm | LayerId::BatchNorm1d | LayerId::BatchNorm2d => {
            let (form, features) = match input {
                Some(Dims::Image { channels, .. }) => ("BatchNorm2d", Some(channels)),
                Some(Dims::Flat(n)) => ("BatchNorm1d", Some(n)),
                Some(Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. }) => {
                    ("BatchNorm1d", Some(1))
                }
                None => (name, args.size("num_features")),
            };
            if let Some(eps) = args.number("eps").filter(|&eps| eps != 1e-5) {
                named("eps", format!("{eps:?}"));
            }
            if let Some(momentum) = args.number("momentum").filter(|&m| m != 0.1) {
                named("momentum", format!("{momentum:?}"));
            }
            format!("{form}({}{extra})", size(features))
        }
        LayerId::LayerNorm => {
            if let Some(eps) = args.number("eps").filter(|&eps| eps != 1e-5) {
                named("eps", format!("{eps:?}"));
            }
            let shape = match input {
                Some(Dims::Flat(n)) => n.to_string(),
                Some(image) => list(&image.shape()),
                None => "_".to_owned(),
            };
            format!("{name}({shape}{extra})")
        }
        LayerId::ReLU
        | LayerId::Sigmoid
        | LayerId::Tanh
        | LayerId::GELU
        | LayerId::Softmax
        | LayerId::Flatten
        | LayerId::Identity => name.to_owned(),
    }
}
