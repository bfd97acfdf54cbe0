//! The runtime's side of the catalog: for each checked layer, loss and
//! optimizer, the runtime type that implements it, the expression that
//! builds it, and the names of its state. This is the only per-kind code of
//! the expansion; `expand` wires whatever it finds here, calling every layer
//! through the runtime's `Layer` trait.
//!
//! Adding a layer: a runtime file with its type and `impl Layer`, a
//! `catalog` entry with its arguments and shape rule, its `ir::LayerKind`
//! variant (built in `check::layer_kind`), and one arm in each `match`
//! below.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::Ident;

use crate::ir::{Dims, Dtype, Layer, LayerKind, LossKind, OptimKind};

/// The path generated code reaches the runtime through: the alias of
/// `$crate::__private` that `expand` declares.
pub fn mg() -> TokenStream {
    quote!(__mg)
}

impl Layer {
    /// The type of the layer's field, spanned on the layer; `None` for a
    /// layer that only reshapes (`Flatten`: no field, no code, its output
    /// is its input's buffer).
    ///
    /// `rt` is the path of the runtime's hidden module: in full for the
    /// struct, which is declared outside the block that has the `__mg`
    /// alias.
    pub fn runtime_type(&self, rt: &TokenStream, t: &TokenStream) -> Option<TokenStream> {
        let ty = match self.kind {
            LayerKind::Linear { .. } => quote!(Linear<#t>),
            LayerKind::Embedding { .. } => quote!(Embedding<#t>),
            LayerKind::Recurrent { .. } => quote!(Recurrent<#t>),
            LayerKind::Last => quote!(Last),
            LayerKind::Conv1d { .. } => quote!(Conv1d<#t>),
            LayerKind::Pool1d { .. } => quote!(Pool1d),
            LayerKind::GlobalPool1d { .. } => quote!(GlobalPool1d),
            LayerKind::Conv2d { .. } => quote!(Conv2d<#t>),
            LayerKind::MaxPool2d { .. } => quote!(MaxPool2d),
            LayerKind::AvgPool2d { .. } => quote!(AvgPool2d),
            LayerKind::BatchNorm { .. } => quote!(BatchNorm<#t>),
            LayerKind::LayerNorm { .. } => quote!(LayerNorm<#t>),
            LayerKind::Dropout { .. } => quote!(Dropout<#t>),
            LayerKind::ReLU => quote!(ReLU),
            LayerKind::LeakyReLU { .. } => quote!(LeakyReLU),
            LayerKind::Sigmoid => quote!(Sigmoid),
            LayerKind::Tanh => quote!(Tanh),
            LayerKind::GELU => quote!(GELU),
            LayerKind::Softmax => quote!(Softmax),
            LayerKind::Flatten | LayerKind::Identity => return None,
        };
        Some(quote_spanned!(self.span=> #rt::#ty))
    }

    /// The expression that builds the layer, spanned on the layer. It may
    /// read the locals `__rng` (the initial weights' generator, drawn in
    /// layer order) and `seed`.
    ///
    /// Expands to something like `__mg::Linear::new(10usize, 64usize, true,
    /// &mut __rng)`, `__mg::MaxPool2d::new(__mg::Pool2dConfig { .. },
    /// __mg::ImageShape::new(4usize, 8usize, 8usize))`, `__mg::ReLU`.
    pub fn constructor(&self) -> TokenStream {
        let mg = mg();
        let span = self.span;
        // `__rng` and `seed` keep the call-site span: locals named with the
        // user's span would not resolve (hygiene).
        let (rng, seed) = (quote!(__rng), quote!(seed));
        let image = match self.input {
            Dims::Image {
                channels,
                height,
                width,
            } => Some(quote!(#mg::ImageShape::new(#channels, #height, #width))),
            Dims::Flat(_) | Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => None,
        };
        let pair = |(h, w): (usize, usize)| quote!((#h, #w));
        match &self.kind {
            LayerKind::Linear { bias } => {
                let (i, o) = (self.in_features(), self.out_features());
                quote_spanned!(span=> #mg::Linear::new(#i, #o, #bias, &mut #rng))
            }
            LayerKind::Embedding {
                num_embeddings,
                embedding_dim,
            } => {
                quote_spanned!(span=> #mg::Embedding::new(#num_embeddings, #embedding_dim, &mut #rng))
            }
            LayerKind::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias,
            } => {
                let (kernel_size, stride, padding) =
                    (pair(*kernel_size), pair(*stride), pair(*padding));
                let (height, width) = match self.input {
                    Dims::Image { height, width, .. } => (height, width),
                    Dims::Flat(n) => (1, n),
                    Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => (1, 1),
                };
                quote_spanned! {span=>
                    #mg::Conv2d::new(
                        #mg::Conv2dConfig {
                            in_channels: #in_channels,
                            out_channels: #out_channels,
                            kernel_size: #kernel_size,
                            stride: #stride,
                            padding: #padding,
                            bias: #bias,
                        },
                        (#height, #width),
                        &mut #rng,
                    )
                }
            }
            LayerKind::MaxPool2d {
                kernel_size,
                stride,
                padding,
            }
            | LayerKind::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => {
                let ty = match self.kind {
                    LayerKind::MaxPool2d { .. } => quote!(MaxPool2d),
                    _ => quote!(AvgPool2d),
                };
                let (kernel_size, stride, padding) =
                    (pair(*kernel_size), pair(*stride), pair(*padding));
                quote_spanned! {span=>
                    #mg::#ty::new(
                        #mg::Pool2dConfig {
                            kernel_size: #kernel_size,
                            stride: #stride,
                            padding: #padding,
                        },
                        #image,
                    )
                }
            }
            LayerKind::BatchNorm { eps, momentum } => {
                let (eps, momentum) = (float(*eps), float(*momentum));
                let config = quote!(#mg::BatchNormConfig { eps: #eps, momentum: #momentum });
                match image {
                    Some(shape) => quote_spanned!(span=> #mg::BatchNorm::new_2d(#shape, #config)),
                    None => {
                        let n = self.in_features();
                        quote_spanned!(span=> #mg::BatchNorm::new_1d(#n, #config))
                    }
                }
            }
            LayerKind::LayerNorm { eps } => {
                let eps = float(*eps);
                let config = quote!(#mg::LayerNormConfig { eps: #eps });
                match image {
                    Some(shape) => quote_spanned!(span=> #mg::LayerNorm::new_2d(#shape, #config)),
                    None => {
                        let n = self.in_features();
                        quote_spanned!(span=> #mg::LayerNorm::new(#n, #config))
                    }
                }
            }
            LayerKind::Dropout { p } => {
                let p = float(*p);
                let tag = dropout_tag(self.id);
                quote_spanned! {span=>
                    #mg::Dropout::new(#p, #mg::Rng::new(#seed ^ #tag).next_u64())
                }
            }
            LayerKind::Recurrent {
                cell,
                hidden_size,
                num_layers,
                bidirectional,
            } => {
                let Dims::Sequence { steps, features } = self.input else {
                    unreachable!("checked: a recurrent layer reads a sequence")
                };
                let cell = match cell {
                    crate::ir::Cell::Rnn => quote!(Rnn),
                    crate::ir::Cell::Lstm => quote!(Lstm),
                    crate::ir::Cell::Gru => quote!(Gru),
                };
                quote_spanned! {span=>
                    #mg::Recurrent::new(
                        #mg::RecurrentConfig {
                            cell: #mg::Cell::#cell,
                            steps: #steps,
                            input_size: #features,
                            hidden_size: #hidden_size,
                            num_layers: #num_layers,
                            bidirectional: #bidirectional,
                        },
                        &mut #rng,
                    )
                }
            }
            LayerKind::Conv1d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
            } => {
                let Dims::Sequence { steps, .. } = self.input else {
                    unreachable!("checked: `Conv1d` reads a sequence")
                };
                quote_spanned! {span=>
                    #mg::Conv1d::new(
                        #mg::Conv1dConfig {
                            steps: #steps,
                            in_channels: #in_channels,
                            out_channels: #out_channels,
                            kernel_size: #kernel_size,
                            stride: #stride,
                            padding: #padding,
                        },
                        &mut #rng,
                    )
                }
            }
            LayerKind::Pool1d {
                max,
                kernel_size,
                stride,
                padding,
            } => {
                let Dims::Sequence { steps, features } = self.input else {
                    unreachable!("checked: a pool over time reads a sequence")
                };
                let reduce = if *max { quote!(Max) } else { quote!(Mean) };
                quote_spanned! {span=>
                    #mg::Pool1d {
                        reduce: #mg::Reduce::#reduce,
                        steps: #steps,
                        features: #features,
                        kernel_size: #kernel_size,
                        stride: #stride,
                        padding: #padding,
                    }
                }
            }
            LayerKind::GlobalPool1d { max } => {
                let Dims::Sequence { steps, .. } = self.input else {
                    unreachable!("checked: a pool over time reads a sequence")
                };
                let reduce = if *max { quote!(Max) } else { quote!(Mean) };
                quote_spanned!(span=> #mg::GlobalPool1d { reduce: #mg::Reduce::#reduce, steps: #steps })
            }
            LayerKind::Last => {
                let Dims::Sequence { steps, .. } = self.input else {
                    unreachable!("checked: `Last` reads a sequence")
                };
                quote_spanned!(span=> #mg::Last { steps: #steps })
            }
            LayerKind::LeakyReLU { negative_slope } => {
                let s = float(*negative_slope);
                quote_spanned!(span=> #mg::LeakyReLU { negative_slope: #s })
            }
            LayerKind::ReLU => quote_spanned!(span=> #mg::ReLU),
            LayerKind::Sigmoid => quote_spanned!(span=> #mg::Sigmoid),
            LayerKind::Tanh => quote_spanned!(span=> #mg::Tanh),
            LayerKind::GELU => quote_spanned!(span=> #mg::GELU),
            LayerKind::Softmax => quote_spanned!(span=> #mg::Softmax),
            // No field (see `runtime_type`).
            LayerKind::Flatten | LayerKind::Identity => quote!(()),
        }
    }

    /// PyTorch's names of the layer's parameter tensors, in the optimizer's
    /// order, without the `{index}.` prefix.
    pub fn parameter_names(&self) -> Vec<String> {
        let fixed: &[&str] = match self.kind {
            LayerKind::Linear { .. }
            | LayerKind::Conv2d { .. }
            | LayerKind::BatchNorm { .. }
            | LayerKind::LayerNorm { .. }
            | LayerKind::Conv1d { .. } => &["weight", "bias"],
            LayerKind::Embedding { .. } => &["weight"],
            LayerKind::Recurrent {
                num_layers,
                bidirectional,
                ..
            } => {
                // nn.LSTM's order: each layer, forward then `_reverse`.
                let mut names = Vec::new();
                for layer in 0..num_layers {
                    for suffix in ["", "_reverse"].iter().take(1 + usize::from(bidirectional)) {
                        for p in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                            names.push(format!("{p}_l{layer}{suffix}"));
                        }
                    }
                }
                return names;
            }
            _ => &[],
        };
        fixed.iter().map(|n| n.to_string()).collect()
    }

    /// PyTorch's names of the layer's buffers (state saved with the
    /// parameters, never optimized).
    pub fn buffer_names(&self) -> &'static [&'static str] {
        match self.kind {
            LayerKind::BatchNorm { .. } => &["running_mean", "running_var", "num_batches_tracked"],
            _ => &[],
        }
    }

    /// The name of the generator the layer draws from while it trains.
    pub fn generator_name(&self) -> Option<&'static str> {
        match self.kind {
            LayerKind::Dropout { .. } => Some("dropout_rng"),
            _ => None,
        }
    }

    /// The fewest samples a training batch of this layer may hold: batch
    /// norm over one value per channel and sample needs two for a batch
    /// variance (see `Model::MIN_TRAINING_BATCH`).
    pub fn min_training_batch(&self) -> usize {
        let single_value = match self.input {
            Dims::Flat(_) | Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => true,
            Dims::Image { height, width, .. } => height == 1 && width == 1,
        };
        match self.kind {
            LayerKind::BatchNorm { .. } if single_value => 2,
            _ => 1,
        }
    }
}

impl LossKind {
    /// The loss's runtime type, in the runtime module `rt`.
    pub fn runtime_type(&self, rt: &TokenStream) -> TokenStream {
        match self {
            LossKind::MSE => quote!(#rt::MSE),
            LossKind::L1 => quote!(#rt::L1),
            LossKind::Huber { .. } => quote!(#rt::Huber),
            LossKind::BCE { .. } => quote!(#rt::BCE),
            LossKind::CrossEntropy { .. } => quote!(#rt::CrossEntropy),
        }
    }

    /// The expression that builds the loss.
    pub fn constructor(&self) -> TokenStream {
        let mg = mg();
        match self {
            LossKind::MSE => quote!(#mg::MSE),
            LossKind::L1 => quote!(#mg::L1),
            LossKind::Huber { delta } => {
                let delta = float(*delta);
                quote!(#mg::Huber { delta: #delta })
            }
            LossKind::BCE { pos_weight } => {
                let w = pos_weight.iter().map(|&w| float(w));
                quote!(#mg::BCE { pos_weight: ::std::vec![#(#w),*] })
            }
            LossKind::CrossEntropy { label_smoothing } => {
                let s = float(*label_smoothing);
                quote!(#mg::CrossEntropy { label_smoothing: #s })
            }
        }
    }

    /// The kind of targets: class indices for CrossEntropy, rows of values
    /// otherwise.
    pub fn target(&self) -> TokenStream {
        let mg = mg();
        match self {
            LossKind::CrossEntropy { .. } => quote!(#mg::Classes),
            _ => quote!(#mg::Rows),
        }
    }

    /// The typed targets of `train_step_rows`, for `outputs` outputs of
    /// type `t` (inside the block that imports `usize`).
    pub fn target_rows(&self, t: &Ident, outputs: usize) -> TokenStream {
        match self {
            LossKind::CrossEntropy { .. } => quote!(&[usize]),
            _ => quote!(&[[#t; #outputs]]),
        }
    }

    /// How the outputs are read, for metrics: a `Task` variant.
    pub fn task(&self) -> TokenStream {
        let mg = mg();
        match self {
            LossKind::MSE | LossKind::L1 | LossKind::Huber { .. } => {
                quote!(#mg::Task::Regression)
            }
            LossKind::BCE { .. } => quote!(#mg::Task::Binary),
            LossKind::CrossEntropy { .. } => quote!(#mg::Task::Multiclass),
        }
    }

    /// For a classifier's `predict_proba`: what it returns, and the layer
    /// that turns `predict`'s logits into probabilities (`None`: they are
    /// already, the last layer being `Softmax`). `None` for a regressor.
    pub fn probabilities(
        &self,
        last: Option<&LayerKind>,
    ) -> Option<(&'static str, Option<TokenStream>)> {
        let mg = mg();
        Some(match (self, last) {
            (LossKind::CrossEntropy { .. }, _) => (
                "Class probabilities in evaluation mode: the softmax of each row of \
                 `predict`'s logits, `[batch, classes]`, each row summing to 1.",
                Some(quote!(#mg::Softmax)),
            ),
            (LossKind::BCE { .. }, _) => (
                "Probabilities in evaluation mode: the sigmoid of `predict`'s logits, \
                 one per output.",
                Some(quote!(#mg::Sigmoid)),
            ),
            (_, Some(LayerKind::Softmax)) => (
                "Probabilities in evaluation mode: `predict`'s outputs, which the \
                 last layer (`Softmax`) already makes sum to 1 per row.",
                None,
            ),
            _ => return None,
        })
    }

    /// The loss as the docs and the summary spell it.
    pub fn text(&self) -> String {
        match self {
            LossKind::MSE => "MSE".into(),
            LossKind::L1 => "L1".into(),
            LossKind::Huber { delta } => format!("Huber(delta = {delta})"),
            LossKind::BCE { pos_weight } if pos_weight.is_empty() => "BCE".into(),
            LossKind::BCE { pos_weight } => format!("BCE(pos_weight = {pos_weight:?})"),
            LossKind::CrossEntropy { label_smoothing } if *label_smoothing == 0.0 => {
                "CrossEntropy".into()
            }
            LossKind::CrossEntropy { label_smoothing } => {
                format!("CrossEntropy(label_smoothing = {label_smoothing})")
            }
        }
    }
}

impl OptimKind {
    /// The optimizer's runtime type over elements `t`, in the runtime
    /// module `rt`.
    pub fn runtime_type(&self, rt: &TokenStream, t: &impl ToTokens) -> TokenStream {
        match self {
            OptimKind::SGD { .. } => quote!(#rt::SGD<#t>),
            OptimKind::Adam {
                decoupled: false, ..
            } => quote!(#rt::Adam<#t>),
            OptimKind::Adam { .. } => quote!(#rt::AdamW<#t>),
            OptimKind::RMSprop { .. } => quote!(#rt::RMSprop<#t>),
            OptimKind::Adagrad { .. } => quote!(#rt::Adagrad<#t>),
        }
    }

    /// The expression that builds the optimizer over parameter tensors of
    /// lengths `lens`, every hyperparameter written out.
    ///
    /// Expands to something like `__mg::SGD::new(__mg::SGDConfig { lr:
    /// 0.01f64, momentum: 0f64, .. }, &[10usize, 1usize])`.
    pub fn constructor(&self, lens: &[usize]) -> TokenStream {
        let mg = mg();
        let (ty, config, fields) = match *self {
            OptimKind::SGD {
                lr,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            } => {
                let (lr, momentum, dampening, weight_decay) = (
                    float(lr),
                    float(momentum),
                    float(dampening),
                    float(weight_decay),
                );
                (
                    quote!(SGD),
                    quote!(SGDConfig),
                    quote! {
                        lr: #lr,
                        momentum: #momentum,
                        dampening: #dampening,
                        nesterov: #nesterov,
                        weight_decay: #weight_decay,
                    },
                )
            }
            OptimKind::Adam {
                lr,
                betas: (b1, b2),
                eps,
                weight_decay,
                amsgrad,
                decoupled,
            } => {
                let (lr, b1, b2, eps, weight_decay) = (
                    float(lr),
                    float(b1),
                    float(b2),
                    float(eps),
                    float(weight_decay),
                );
                (
                    if decoupled {
                        quote!(AdamW)
                    } else {
                        quote!(Adam)
                    },
                    quote!(AdamConfig),
                    quote! {
                        lr: #lr,
                        betas: (#b1, #b2),
                        eps: #eps,
                        weight_decay: #weight_decay,
                        amsgrad: #amsgrad,
                        decoupled: #decoupled,
                    },
                )
            }
            OptimKind::RMSprop {
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
            } => {
                let (lr, alpha, eps, weight_decay, momentum) = (
                    float(lr),
                    float(alpha),
                    float(eps),
                    float(weight_decay),
                    float(momentum),
                );
                (
                    quote!(RMSprop),
                    quote!(RMSpropConfig),
                    quote! {
                        lr: #lr,
                        alpha: #alpha,
                        eps: #eps,
                        weight_decay: #weight_decay,
                        momentum: #momentum,
                        centered: #centered,
                    },
                )
            }
            OptimKind::Adagrad {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
            } => {
                let (lr, lr_decay, weight_decay, initial_accumulator_value, eps) = (
                    float(lr),
                    float(lr_decay),
                    float(weight_decay),
                    float(initial_accumulator_value),
                    float(eps),
                );
                (
                    quote!(Adagrad),
                    quote!(AdagradConfig),
                    quote! {
                        lr: #lr,
                        lr_decay: #lr_decay,
                        weight_decay: #weight_decay,
                        initial_accumulator_value: #initial_accumulator_value,
                        eps: #eps,
                    },
                )
            }
        };
        quote!(#mg::#ty::new(#mg::#config { #fields }, &[#(#lens),*]))
    }

    /// The optimizer with its learning rate and every other hyperparameter
    /// that differs from its default, as the docs and the summary spell it
    /// (`Adam(lr = 0.001)`).
    pub fn text(&self) -> String {
        let mut args = Vec::new();
        let name = match *self {
            OptimKind::SGD {
                lr,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            } => {
                args.push(format!("lr = {lr}"));
                if momentum != 0.0 {
                    args.push(format!("momentum = {momentum}"));
                }
                if dampening != 0.0 {
                    args.push(format!("dampening = {dampening}"));
                }
                if nesterov {
                    args.push("nesterov = true".into());
                }
                if weight_decay != 0.0 {
                    args.push(format!("weight_decay = {weight_decay}"));
                }
                "SGD"
            }
            OptimKind::Adam {
                lr,
                betas,
                eps,
                weight_decay,
                amsgrad,
                decoupled,
            } => {
                args.push(format!("lr = {lr}"));
                if betas != (0.9, 0.999) {
                    args.push(format!("betas = ({}, {})", betas.0, betas.1));
                }
                if eps != 1e-8 {
                    args.push(format!("eps = {eps}"));
                }
                let default_decay = if decoupled { 0.01 } else { 0.0 };
                if weight_decay != default_decay {
                    args.push(format!("weight_decay = {weight_decay}"));
                }
                if amsgrad {
                    args.push("amsgrad = true".into());
                }
                if decoupled {
                    "AdamW"
                } else {
                    "Adam"
                }
            }
            OptimKind::RMSprop {
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
            } => {
                args.push(format!("lr = {lr}"));
                if alpha != 0.99 {
                    args.push(format!("alpha = {alpha}"));
                }
                if eps != 1e-8 {
                    args.push(format!("eps = {eps}"));
                }
                if weight_decay != 0.0 {
                    args.push(format!("weight_decay = {weight_decay}"));
                }
                if momentum != 0.0 {
                    args.push(format!("momentum = {momentum}"));
                }
                if centered {
                    args.push("centered = true".into());
                }
                "RMSprop"
            }
            OptimKind::Adagrad {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
            } => {
                args.push(format!("lr = {lr}"));
                if lr_decay != 0.0 {
                    args.push(format!("lr_decay = {lr_decay}"));
                }
                if weight_decay != 0.0 {
                    args.push(format!("weight_decay = {weight_decay}"));
                }
                if initial_accumulator_value != 0.0 {
                    args.push(format!(
                        "initial_accumulator_value = {initial_accumulator_value}"
                    ));
                }
                if eps != 1e-10 {
                    args.push(format!("eps = {eps}"));
                }
                "Adagrad"
            }
        };
        format!("{name}({})", args.join(", "))
    }
}

impl Dtype {
    /// The element type, spelled so that no user type can shadow it.
    pub fn runtime_type(self) -> TokenStream {
        match self {
            Dtype::F32 => quote!(::core::primitive::f32),
            Dtype::F64 => quote!(::core::primitive::f64),
        }
    }

    /// `"f32"` or `"f64"`.
    pub fn text(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// The seed tag of the `Dropout` at `index`: its generator is
/// `Rng::new(Rng::new(seed ^ tag).next_u64())`, a stream of its own, apart
/// from the initial weights' (`Rng::new(seed)`) and every other layer's.
fn dropout_tag(index: usize) -> Literal {
    // "DROP" in the high half, the layer's position in the low half.
    Literal::u64_suffixed(0x4452_4F50_0000_0000 | index as u64)
}

/// An `f64` literal (checked finite by `check`).
fn float(v: f64) -> Literal {
    Literal::f64_suffixed(v)
}
