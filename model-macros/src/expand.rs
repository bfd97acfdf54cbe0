//! IR -> tokens: the generated model type.
//!
//! For `Linear(10, 64); ReLU; Linear(64, 1); loss MSE; optim SGD(0.01)` the
//! output is, in outline:
//!
//! ```text
//! /// (the layer table)
//! struct Net {
//!     __l0: Linear<f32>, __l2: Linear<f32>,     // parameters + gradients
//!     __loss: MSE, __optim: Sgd<f32>,           // optimizer state inside
//!     __state: StepState,                       // batch size, phase, flags
//!     __a0 .. __a3: Buffer<f32>,                // a_i: input of layer i
//!     __g2, __g3: Buffer<f32>,                  // g_i = dL/da_i, where needed
//! }
//! impl Net { fn new(), fn with_seed(u64), typed `*_rows` entries }
//! impl Model for Net { forward: l0, relu, l2; backward: l2, relu, l0 ... }
//! ```
//!
//! Image layers are fields too (`__l0: Conv2d<f32>`, `__l2: MaxPool2d`,
//! `__l3: BatchNorm<f32>`, `__l5: Dropout<f32>`), each buffer holds a
//! batch of rows of `C * H * W` values, and `Flatten` generates no code at
//! all: `a_{i+1}` is the same buffer as `a_i` (and `g_{i+1}` as `g_i`).
//!
//! Every path starts with the forwarded crate path (`$crate`) or `::core`,
//! `::std`; generated names start with `__`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ir::{Dims, Dtype, Layer, LayerKind, LossKind, Model, OptimKind};

/// The whole expansion: an item for `struct Name;`, else a block expression
/// that declares the type and evaluates to `Type::new()`.
pub fn model(krate: &TokenStream, model: &Model) -> TokenStream {
    let g = Gen::new(krate, model);
    let definition = g.expand_struct();
    let inherent = g.expand_inherent();
    let model_impl = g.expand_model_impl();
    let default_impl = g.expand_default();
    let items = quote! {
        #definition
        #inherent
        #default_impl
        #model_impl
    };
    match &model.name {
        Some(_) => items,
        None => {
            let name = &g.name;
            quote! {
                {
                    #items
                    #name::new()
                }
            }
        }
    }
}

/// Everything the expansion functions share.
struct Gen<'a> {
    k: &'a TokenStream,
    m: &'a Model,
    name: Ident,
    /// `f32` or `f64`.
    t: TokenStream,
    /// Outputs of the last layer.
    outputs: usize,
    /// Index of the first layer with parameters: nothing before it needs a
    /// gradient.
    first_param: usize,
    /// `slots[i]`: the buffer that holds `a_i` (and `g_i`): `i`, or the
    /// slot of `a_{i-1}` when layer `i - 1` is a `Flatten`, which moves no
    /// value.
    slots: Vec<usize>,
}

impl<'a> Gen<'a> {
    fn new(k: &'a TokenStream, m: &'a Model) -> Self {
        let name = m
            .name
            .clone()
            .unwrap_or_else(|| Ident::new("__MacrogradModel", Span::call_site()));
        let t = match m.dtype {
            Dtype::F32 => quote!(::core::primitive::f32),
            Dtype::F64 => quote!(::core::primitive::f64),
        };
        let outputs = m.layers.last().map_or(m.inputs(), Layer::out_features);
        let first_param = m
            .layers
            .iter()
            .position(|l| l.kind.has_params())
            .unwrap_or(m.layers.len());
        let mut slots = vec![0];
        for l in &m.layers {
            let slot = match l.kind {
                LayerKind::Flatten => slots[l.index],
                _ => l.index + 1,
            };
            slots.push(slot);
        }
        Gen {
            k,
            m,
            name,
            t,
            outputs,
            first_param,
            slots,
        }
    }

    /// `a_i`: the input of layer `i` (`a_0` the model input, `a_L` its output).
    fn act(&self, i: usize) -> Ident {
        format_ident!("__a{}", self.slots[i])
    }

    /// `g_i = dL/da_i`, kept for `i > first_param` only.
    fn grad(&self, i: usize) -> Ident {
        format_ident!("__g{}", self.slots[i])
    }

    fn grads(&self) -> impl Iterator<Item = usize> {
        self.first_param + 1..=self.m.layers.len()
    }

    /// The activation buffers, once each: `(slot, values per sample)`.
    fn act_buffers(&self) -> Vec<(usize, usize)> {
        self.buffers(0..=self.m.layers.len())
    }

    /// The gradient buffers, once each.
    fn grad_buffers(&self) -> Vec<(usize, usize)> {
        self.buffers(self.grads())
    }

    fn buffers(&self, indices: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
        let mut buffers: Vec<(usize, usize)> = Vec::new();
        for i in indices {
            let slot = self.slots[i];
            if buffers.iter().all(|&(s, _)| s != slot) {
                let width = match i {
                    0 => self.m.inputs(),
                    _ => self.m.layers[i - 1].out_features(),
                };
                buffers.push((slot, width));
            }
        }
        buffers
    }

    fn layer_field(&self, layer: &Layer) -> Ident {
        format_ident!("__l{}", layer.index)
    }

    /// Layers that are fields of the struct (all but `Flatten` and the
    /// activations), in order.
    fn fielded(&self) -> impl Iterator<Item = &'a Layer> {
        self.m.layers.iter().filter(|l| has_field(&l.kind))
    }

    /// Layers with parameters, in order (PyTorch's parameter order).
    fn param_layers(&self) -> impl Iterator<Item = &'a Layer> {
        self.m.layers.iter().filter(|l| l.kind.has_params())
    }

    /// Whether any layer reads the training flag.
    fn reads_training(&self) -> bool {
        self.m.layers.iter().any(|l| {
            matches!(
                l.kind,
                LayerKind::BatchNorm { .. } | LayerKind::Dropout { .. }
            )
        })
    }

    /// The field type of a layer that keeps state (see [`has_field`]).
    fn field_type_of(k: &TokenStream, t: &TokenStream, l: &Layer) -> Option<TokenStream> {
        Some(match l.kind {
            LayerKind::Linear { .. } => quote!(#k::__private::Linear<#t>),
            LayerKind::Conv2d { .. } => quote!(#k::__private::Conv2d<#t>),
            LayerKind::MaxPool2d { .. } => quote!(#k::__private::MaxPool2d),
            LayerKind::AvgPool2d { .. } => quote!(#k::__private::AvgPool2d),
            LayerKind::BatchNorm { .. } => quote!(#k::__private::BatchNorm<#t>),
            LayerKind::LayerNorm { .. } => quote!(#k::__private::LayerNorm<#t>),
            LayerKind::Dropout { .. } => quote!(#k::__private::Dropout<#t>),
            LayerKind::ReLU
            | LayerKind::LeakyReLU { .. }
            | LayerKind::Sigmoid
            | LayerKind::Tanh
            | LayerKind::GELU
            | LayerKind::Softmax
            | LayerKind::Flatten => return None,
        })
    }

    fn target_kind(&self) -> TokenStream {
        let k = self.k;
        match self.m.loss.kind {
            LossKind::CrossEntropy { .. } => quote!(#k::__private::Classes),
            _ => quote!(#k::__private::Rows),
        }
    }

    /// The struct, with the user's attributes and the layer table as docs.
    ///
    /// Expands to something like
    /// `#[doc = "..."] pub struct Net { __l0: Linear<f32>, ..., __a0: Buffer<f32>, ... }`.
    fn expand_struct(&self) -> TokenStream {
        let Gen { k, t, name, .. } = self;
        let attrs = &self.m.attrs;
        let vis = &self.m.vis;
        let doc = Literal::string(&self.doc_table());
        let layers = self.fielded().map(|l| {
            let field = self.layer_field(l);
            let ty = Gen::field_type_of(k, t, l);
            quote!(#field: #ty,)
        });
        let acts = self.act_buffers().into_iter().map(|(slot, _)| {
            let a = format_ident!("__a{}", slot);
            quote!(#a: #k::__private::Buffer<#t>,)
        });
        let grads = self.grad_buffers().into_iter().map(|(slot, _)| {
            let g = format_ident!("__g{}", slot);
            quote!(#g: #k::__private::Buffer<#t>,)
        });
        let loss_ty = self.loss_type();
        let optim_ty = self.optim_type();
        quote_spanned! {self.m.span=>
            #(#attrs)*
            #[doc = #doc]
            #[derive(Clone, Debug)]
            #vis struct #name {
                #(#layers)*
                __loss: #loss_ty,
                __optim: #optim_ty,
                __state: #k::__private::StepState,
                #(#acts)*
                #(#grads)*
            }
        }
    }

    /// The rustdoc table: layers, output shapes, parameter counts.
    fn doc_table(&self) -> String {
        let mut doc = String::from(
            " A neural network declared with `model!`.\n\n\
             | # | layer | output | parameters |\n| --- | --- | --- | --- |\n",
        );
        doc.push_str(&format!(
            " | | input | `{}` | |\n",
            self.m.input.batch_text()
        ));
        for l in &self.m.layers {
            doc.push_str(&format!(
                " | {} | `{}` | `{}` | {} |\n",
                l.index,
                l.text,
                l.output.batch_text(),
                params(l)
            ));
        }
        let total: usize = self.m.layers.iter().map(params).sum();
        doc.push_str(&format!(
            "\n Loss `{}`, optimizer `{}`, element type `{}`, {} parameters in all.",
            loss_text(&self.m.loss.kind),
            optim_text(&self.m.optim.kind),
            dtype_text(self.m.dtype),
            total
        ));
        doc
    }

    fn loss_type(&self) -> TokenStream {
        let k = self.k;
        match &self.m.loss.kind {
            LossKind::MSE => quote!(#k::__private::MSE),
            LossKind::L1 => quote!(#k::__private::L1),
            LossKind::Huber { .. } => quote!(#k::__private::Huber),
            LossKind::BCE { .. } => quote!(#k::__private::BCE),
            LossKind::CrossEntropy { .. } => quote!(#k::__private::CrossEntropy),
        }
    }

    fn loss_value(&self) -> TokenStream {
        let k = self.k;
        match &self.m.loss.kind {
            LossKind::MSE => quote!(#k::__private::MSE),
            LossKind::L1 => quote!(#k::__private::L1),
            LossKind::Huber { delta } => {
                let delta = float(*delta);
                quote!(#k::__private::Huber { delta: #delta })
            }
            LossKind::BCE { pos_weight } => {
                let w = pos_weight.iter().map(|&w| float(w));
                quote!(#k::__private::BCE { pos_weight: ::std::vec![#(#w),*] })
            }
            LossKind::CrossEntropy { label_smoothing } => {
                let s = float(*label_smoothing);
                quote!(#k::__private::CrossEntropy { label_smoothing: #s })
            }
        }
    }

    fn optim_type(&self) -> TokenStream {
        let Gen { k, t, .. } = self;
        match self.m.optim.kind {
            OptimKind::SGD { .. } => quote!(#k::__private::Sgd<#t>),
            OptimKind::Adam { .. } => quote!(#k::__private::Adam<#t>),
            OptimKind::RMSprop { .. } => quote!(#k::__private::RmsProp<#t>),
            OptimKind::Adagrad { .. } => quote!(#k::__private::Adagrad<#t>),
        }
    }

    /// Parameter tensor lengths in optimizer order (weight, then bias).
    fn param_lens(&self) -> Vec<usize> {
        self.param_layers()
            .flat_map(|l| l.params.iter().copied())
            .collect()
    }

    fn optim_value(&self) -> TokenStream {
        let Gen { k, t, .. } = self;
        let lens = self.param_lens();
        match self.m.optim.kind {
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
                quote! {
                    #k::__private::Sgd::<#t>::new(
                        #k::__private::SgdConfig {
                            lr: #lr,
                            momentum: #momentum,
                            dampening: #dampening,
                            nesterov: #nesterov,
                            weight_decay: #weight_decay,
                        },
                        &[#(#lens),*],
                    )
                }
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
                quote! {
                    #k::__private::Adam::<#t>::new(
                        #k::__private::AdamConfig {
                            lr: #lr,
                            betas: (#b1, #b2),
                            eps: #eps,
                            weight_decay: #weight_decay,
                            amsgrad: #amsgrad,
                            decoupled: #decoupled,
                        },
                        &[#(#lens),*],
                    )
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
                let (lr, alpha, eps, weight_decay, momentum) = (
                    float(lr),
                    float(alpha),
                    float(eps),
                    float(weight_decay),
                    float(momentum),
                );
                quote! {
                    #k::__private::RmsProp::<#t>::new(
                        #k::__private::RmsPropConfig {
                            lr: #lr,
                            alpha: #alpha,
                            eps: #eps,
                            weight_decay: #weight_decay,
                            momentum: #momentum,
                            centered: #centered,
                        },
                        &[#(#lens),*],
                    )
                }
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
                quote! {
                    #k::__private::Adagrad::<#t>::new(
                        #k::__private::AdagradConfig {
                            lr: #lr,
                            lr_decay: #lr_decay,
                            weight_decay: #weight_decay,
                            initial_accumulator_value: #initial_accumulator_value,
                            eps: #eps,
                        },
                        &[#(#lens),*],
                    )
                }
            }
        }
    }

    /// Constructors and the typed `*_rows` entries.
    ///
    /// Expands to something like
    /// `impl Net { pub fn new() -> Self; pub fn with_seed(seed: u64) -> Self;
    /// pub fn forward_rows(&mut self, &[[f32; 10]]) -> ArrayView2<f32>; ... }`.
    fn expand_inherent(&self) -> TokenStream {
        let Gen { k, t, name, .. } = self;
        let (inputs, outputs) = (self.m.inputs(), self.outputs);
        let layer_inits = self.fielded().map(|l| {
            let field = self.layer_field(l);
            let init = self.layer_init(l);
            quote!(let #field = #init;)
        });
        let fields = self.fielded().map(|l| self.layer_field(l));
        let acts = self.act_buffers().into_iter().map(|(slot, width)| {
            let a = format_ident!("__a{}", slot);
            quote!(#a: #k::__private::Buffer::new(#width),)
        });
        let grads = self.grad_buffers().into_iter().map(|(slot, width)| {
            let g = format_ident!("__g{}", slot);
            quote!(#g: #k::__private::Buffer::new(#width),)
        });
        let predict_proba = self.expand_predict_proba();
        let loss = self.loss_value();
        let loss = quote_spanned!(self.m.loss.span=> #loss);
        let optim = self.optim_value();
        let optim = quote_spanned!(self.m.optim.span=> #optim);
        let target_rows = match self.m.loss.kind {
            LossKind::CrossEntropy { .. } => quote!(&[::core::primitive::usize]),
            _ => quote!(&[[#t; #outputs]]),
        };
        quote! {
            impl #name {
                /// A new model with PyTorch's default initialisation drawn
                /// from seed 0.
                pub fn new() -> Self {
                    Self::with_seed(0)
                }

                /// A new model whose initial weights are drawn from `seed`:
                /// each `Linear` and `Conv2d` in order, weight
                /// `[out][in]` (`[out][in][kh][kw]`) then bias, uniform in
                /// `[-1/sqrt(fan_in), 1/sqrt(fan_in))`; norm layers start at
                /// scale 1, shift 0. Each `Dropout` draws its masks from its
                /// own generator, seeded from `seed` and its position, so
                /// adding one changes no initial weight.
                pub fn with_seed(seed: ::core::primitive::u64) -> Self {
                    let mut __rng = #k::__private::Rng::new(seed);
                    #(#layer_inits)*
                    Self {
                        #(#fields,)*
                        __loss: #loss,
                        __optim: #optim,
                        __state: ::core::default::Default::default(),
                        #(#acts)*
                        #(#grads)*
                    }
                }

                /// Forward pass on fixed-width rows: a wrong feature count is
                /// a compile error.
                pub fn forward_rows(
                    &mut self,
                    input: &[[#t; #inputs]],
                ) -> #k::__private::ArrayView2<'_, #t> {
                    #k::__private::Model::forward(self, input)
                }

                /// Outputs in evaluation mode for fixed-width rows.
                pub fn predict_rows(
                    &mut self,
                    input: &[[#t; #inputs]],
                ) -> ::std::vec::Vec<[#t; #outputs]> {
                    let __out = #k::__private::Model::predict(self, input);
                    __out
                        .rows()
                        .into_iter()
                        .map(|__row| ::core::array::from_fn(|__j| __row[__j]))
                        .collect()
                }

                /// One training iteration (forward, loss, zero_grad,
                /// backward, step) on fixed-width rows; returns the loss.
                pub fn train_step_rows(
                    &mut self,
                    input: &[[#t; #inputs]],
                    targets: #target_rows,
                ) -> #t {
                    #k::__private::Model::train_step(self, input, targets)
                }

                #predict_proba
            }
        }
    }

    /// The value a layer's field starts with, spanned on the user's layer.
    ///
    /// Expands to something like `Linear::<f32>::new(10, 64, true, &mut __rng)`,
    /// `Conv2d::<f32>::new(Conv2dConfig { .. }, (8, 8), &mut __rng)`,
    /// `MaxPool2d::new(Pool2dConfig { .. }, ImageShape::new(4, 8, 8))`,
    /// `BatchNorm::<f32>::new_2d(ImageShape::new(6, 2, 2), BatchNormConfig { .. })`,
    /// `Dropout::<f32>::new(0.5, seed_of(seed, 3))`.
    fn layer_init(&self, l: &Layer) -> TokenStream {
        let Gen { k, t, .. } = self;
        let span = l.span;
        // `__rng` and `seed` keep the call-site span: locals named with the
        // user's span would not resolve (hygiene).
        let (rng, seed) = (quote!(__rng), quote!(seed));
        let image = |dims: Dims| match dims {
            Dims::Image {
                channels,
                height,
                width,
            } => Some(quote!(#k::__private::ImageShape::new(#channels, #height, #width))),
            Dims::Flat(_) => None,
        };
        let pair = |(h, w): (usize, usize)| quote!((#h, #w));
        match &l.kind {
            LayerKind::Linear { bias } => {
                let (i, o) = (l.in_features(), l.out_features());
                quote_spanned!(span=> #k::__private::Linear::<#t>::new(#i, #o, #bias, &mut #rng))
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
                let (height, width) = match l.input {
                    Dims::Image { height, width, .. } => (height, width),
                    Dims::Flat(n) => (1, n),
                };
                quote_spanned! {span=>
                    #k::__private::Conv2d::<#t>::new(
                        #k::__private::Conv2dConfig {
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
                let ty = match l.kind {
                    LayerKind::MaxPool2d { .. } => quote!(MaxPool2d),
                    _ => quote!(AvgPool2d),
                };
                let (kernel_size, stride, padding) =
                    (pair(*kernel_size), pair(*stride), pair(*padding));
                let shape = image(l.input);
                quote_spanned! {span=>
                    #k::__private::#ty::new(
                        #k::__private::Pool2dConfig {
                            kernel_size: #kernel_size,
                            stride: #stride,
                            padding: #padding,
                        },
                        #shape,
                    )
                }
            }
            LayerKind::BatchNorm { eps, momentum } => {
                let (eps, momentum) = (float(*eps), float(*momentum));
                let config = quote! {
                    #k::__private::BatchNormConfig { eps: #eps, momentum: #momentum }
                };
                match image(l.input) {
                    Some(shape) => {
                        quote_spanned!(span=> #k::__private::BatchNorm::<#t>::new_2d(#shape, #config))
                    }
                    None => {
                        let n = l.in_features();
                        quote_spanned!(span=> #k::__private::BatchNorm::<#t>::new_1d(#n, #config))
                    }
                }
            }
            LayerKind::LayerNorm { eps } => {
                let eps = float(*eps);
                let config = quote!(#k::__private::LayerNormConfig { eps: #eps });
                match image(l.input) {
                    Some(shape) => {
                        quote_spanned!(span=> #k::__private::LayerNorm::<#t>::new_2d(#shape, #config))
                    }
                    None => {
                        let n = l.in_features();
                        quote_spanned!(span=> #k::__private::LayerNorm::<#t>::new(#n, #config))
                    }
                }
            }
            LayerKind::Dropout { p } => {
                let p = float(*p);
                let tag = dropout_tag(l.index);
                quote_spanned! {span=>
                    #k::__private::Dropout::<#t>::new(
                        #p,
                        #k::__private::Rng::new(#seed ^ #tag).next_u64(),
                    )
                }
            }
            LayerKind::ReLU
            | LayerKind::LeakyReLU { .. }
            | LayerKind::Sigmoid
            | LayerKind::Tanh
            | LayerKind::GELU
            | LayerKind::Softmax
            // Not fields: `fielded` never passes them here.
            | LayerKind::Flatten => quote!(()),
        }
    }

    /// `predict_proba` for classifiers: the softmax of `predict`'s logits
    /// for CrossEntropy, their sigmoid for BCE, and `predict` itself for a
    /// model whose last layer is `Softmax`. Other models have none, so
    /// asking a regressor for probabilities does not compile.
    fn expand_predict_proba(&self) -> TokenStream {
        let Gen { k, t, .. } = self;
        let (doc, squash) = match (&self.m.loss.kind, self.m.layers.last().map(|l| &l.kind)) {
            (LossKind::CrossEntropy { .. }, _) => (
                "Class probabilities in evaluation mode: the softmax of each row of \
                 `predict`'s logits, `[batch, classes]`, each row summing to 1.",
                Some(quote!(#k::__private::Softmax)),
            ),
            (LossKind::BCE { .. }, _) => (
                "Probabilities in evaluation mode: the sigmoid of `predict`'s logits, \
                 one per output.",
                Some(quote!(#k::__private::Sigmoid)),
            ),
            (_, Some(LayerKind::Softmax)) => (
                "Probabilities in evaluation mode: `predict`'s outputs, which the \
                 last layer (`Softmax`) already makes sum to 1 per row.",
                None,
            ),
            _ => return TokenStream::new(),
        };
        let body = match squash {
            Some(squash) => quote! {
                let __logits = #k::__private::Model::predict(self, input);
                let mut __probs = __logits.clone();
                #k::__private::Activation::<#t>::forward(
                    &#squash,
                    __logits.view(),
                    __probs.view_mut(),
                );
                __probs
            },
            None => quote!(#k::__private::Model::predict(self, input)),
        };
        quote! {
            #[doc = #doc]
            ///
            /// # Panics
            ///
            /// If the inputs do not have `INPUTS` columns.
            #[track_caller]
            pub fn predict_proba<'__i>(
                &mut self,
                input: impl ::core::convert::Into<#k::__private::ArrayView2<'__i, #t>>,
            ) -> #k::__private::Array2<#t> {
                #body
            }
        }
    }

    fn expand_default(&self) -> TokenStream {
        let name = &self.name;
        quote! {
            impl ::core::default::Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    }

    /// `impl Model`: buffers, forward, loss, backward, step, parameters.
    fn expand_model_impl(&self) -> TokenStream {
        let Gen { k, t, name, .. } = self;
        let (inputs, outputs) = (self.m.inputs(), self.outputs);
        let target = self.target_kind();
        let last_a = self.act(self.m.layers.len());
        let last_g = self.grad(self.m.layers.len());
        let reserve = self
            .act_buffers()
            .into_iter()
            .map(|(slot, _)| format_ident!("__a{}", slot))
            .chain(
                self.grad_buffers()
                    .into_iter()
                    .map(|(slot, _)| format_ident!("__g{}", slot)),
            )
            .map(|b| quote!(self.#b.reserve(__batch);));
        let training = self
            .reads_training()
            .then(|| quote!(let __training = self.__state.training();));
        let forward = self.m.layers.iter().map(|l| self.expand_forward_layer(l));
        let backward = self
            .m
            .layers
            .iter()
            .rev()
            .filter(|l| l.index >= self.first_param)
            .map(|l| self.expand_backward_layer(l));
        let steps = self.expand_step();
        let (visit, visit_mut) = self.expand_visitors();
        let buffers = self.expand_buffer_visitors();
        let rngs = self.expand_rng_states();
        let summary = self.expand_summary();
        // Batch norm over one value per channel and sample needs two
        // samples for a batch variance (see `Model::MIN_TRAINING_BATCH`).
        let single_value_norm = self.m.layers.iter().any(|l| {
            matches!(l.kind, LayerKind::BatchNorm { .. })
                && match l.input {
                    Dims::Flat(_) => true,
                    Dims::Image { height, width, .. } => height == 1 && width == 1,
                }
        });
        let min_training_batch: usize = if single_value_norm { 2 } else { 1 };
        let task = format_ident!(
            "{}",
            match self.m.loss.kind {
                LossKind::MSE | LossKind::L1 | LossKind::Huber { .. } => "Regression",
                LossKind::BCE { .. } => "Binary",
                LossKind::CrossEntropy { .. } => "Multiclass",
            }
        );
        quote! {
            impl #k::__private::Model for #name {
                type Elem = #t;
                type Target = #target;
                const INPUTS: ::core::primitive::usize = #inputs;
                const OUTPUTS: ::core::primitive::usize = #outputs;
                const TASK: #k::__private::Task = #k::__private::Task::#task;
                const MIN_TRAINING_BATCH: ::core::primitive::usize = #min_training_batch;

                fn input_buffer(
                    &mut self,
                    __batch: ::core::primitive::usize,
                ) -> #k::__private::ArrayViewMut2<'_, #t> {
                    self.__state.begin_input(__batch);
                    #(#reserve)*
                    self.__a0.view_mut(__batch)
                }

                fn forward_buffered(&mut self) -> #k::__private::ArrayView2<'_, #t> {
                    let __b = self.__state.batch();
                    #training
                    #(#forward)*
                    self.__state.end_forward();
                    self.#last_a.view(__b)
                }

                fn compute_loss(
                    &mut self,
                    __target: #k::__private::TargetBatch<'_, Self>,
                    __grad: ::core::primitive::bool,
                ) -> #t {
                    let __n = <#target as #k::__private::Target<#t>>::batch_len(__target);
                    let __b = self.__state.begin_loss(__n, __grad);
                    let __d = if __grad {
                        ::core::option::Option::Some(self.#last_g.view_mut(__b))
                    } else {
                        ::core::option::Option::None
                    };
                    #k::__private::Loss::<#t>::compute(
                        &self.__loss,
                        self.#last_a.view(__b),
                        __target,
                        __d,
                    )
                }

                fn zero_grad(&mut self) {
                    self.__state.zero_grad();
                }

                fn backward(&mut self) {
                    let __accumulate = self.__state.begin_backward();
                    let __b = self.__state.batch();
                    #(#backward)*
                }

                fn step(&mut self) {
                    if !self.__state.has_grads() {
                        return;
                    }
                    #steps
                }

                fn set_training(&mut self, training: ::core::primitive::bool) {
                    self.__state.set_training(training);
                }

                fn learning_rate(&self) -> ::core::primitive::f64 {
                    #k::__private::Optimizer::<#t>::learning_rate(&self.__optim)
                }

                fn set_learning_rate(&mut self, lr: ::core::primitive::f64) {
                    #k::__private::Optimizer::<#t>::set_learning_rate(&mut self.__optim, lr);
                }
                fn momentum(&self) -> ::core::option::Option<::core::primitive::f64> {
                    #k::__private::Optimizer::<#t>::momentum(&self.__optim)
                }
                fn set_momentum(&mut self, momentum: ::core::primitive::f64) {
                    #k::__private::Optimizer::<#t>::set_momentum(&mut self.__optim, momentum);
                }
                fn optimizer_state(
                    &self,
                ) -> ::std::vec::Vec<(::std::string::String, ::std::vec::Vec<::core::primitive::f64>)> {
                    #k::__private::Optimizer::<#t>::state(&self.__optim)
                }
                fn load_optimizer_state(
                    &mut self,
                    state: &[(::std::string::String, ::std::vec::Vec<::core::primitive::f64>)],
                ) -> ::core::result::Result<(), ::std::string::String> {
                    #k::__private::Optimizer::<#t>::load_state(&mut self.__optim, state)
                }

                #visit
                #visit_mut
                #buffers
                #rngs
                #summary
            }
        }
    }

    /// One layer of the forward pass, spanned on the user's layer:
    /// `a_{i+1} <- layer_i(a_i)`; nothing for `Flatten` (same buffer).
    ///
    /// Expands to something like `self.__l0.forward(self.__a0.view(__b),
    /// self.__a1.view_mut(__b));`, with `, __training` for batch norm and
    /// dropout, or `Activation::forward(&ReLU, ...)`.
    fn expand_forward_layer(&self, l: &Layer) -> TokenStream {
        let Gen { k, t, .. } = self;
        if l.kind == LayerKind::Flatten {
            return TokenStream::new();
        }
        let (a_in, a_out) = (self.act(l.index), self.act(l.index + 1));
        let input = quote!(self.#a_in.view(__b));
        let output = quote!(self.#a_out.view_mut(__b));
        match self.activation(l) {
            None => {
                let field = self.layer_field(l);
                let this = quote!(self);
                let training = match l.kind {
                    LayerKind::BatchNorm { .. } | LayerKind::Dropout { .. } => {
                        quote!(, __training)
                    }
                    _ => TokenStream::new(),
                };
                quote_spanned! {l.span=>
                    #this.#field.forward(#input, #output #training);
                }
            }
            Some(act) => quote_spanned! {l.span=>
                #k::__private::Activation::<#t>::forward(&#act, #input, #output);
            },
        }
    }

    /// One layer of the backward pass: parameter gradients, and
    /// `g_i <- dL/da_i` unless nothing before the layer needs it; nothing
    /// for `Flatten` (`g_i` is `g_{i+1}`).
    ///
    /// Expands to something like `self.__l2.backward(self.__a2.view(__b),
    /// self.__g3.view(__b), Some(self.__g2.view_mut(__b)), __accumulate);`
    /// for a layer with parameters, `self.__l3.backward(a3, a4, g4, g3)` for
    /// a max pool, `self.__l5.backward(g6, g5)` for dropout and average
    /// pooling, or `Activation::backward(&ReLU, a1, a2, g2, g1)`.
    fn expand_backward_layer(&self, l: &Layer) -> TokenStream {
        let Gen { k, t, .. } = self;
        let i = l.index;
        if l.kind == LayerKind::Flatten {
            return TokenStream::new();
        }
        let (a_in, a_out, g_out) = (self.act(i), self.act(i + 1), self.grad(i + 1));
        let needs_input_grad = i > self.first_param;
        let this = quote!(self);
        let field = self.layer_field(l);
        // Layers without parameters come after the first one that has
        // some (the filter in `expand_model_impl`), so they always pass
        // the gradient on.
        let g_in = self.grad(i);
        let views = match l.kind {
            LayerKind::Linear { .. }
            | LayerKind::Conv2d { .. }
            | LayerKind::BatchNorm { .. }
            | LayerKind::LayerNorm { .. } => {
                let grad_input = if needs_input_grad {
                    quote!(::core::option::Option::Some(self.#g_in.view_mut(__b)))
                } else {
                    quote!(::core::option::Option::None)
                };
                quote! {
                    self.#a_in.view(__b),
                    self.#g_out.view(__b),
                    #grad_input,
                    __accumulate
                }
            }
            LayerKind::MaxPool2d { .. } => quote! {
                self.#a_in.view(__b),
                self.#a_out.view(__b),
                self.#g_out.view(__b),
                self.#g_in.view_mut(__b)
            },
            LayerKind::AvgPool2d { .. } | LayerKind::Dropout { .. } => quote! {
                self.#g_out.view(__b),
                self.#g_in.view_mut(__b)
            },
            _ => {
                let act = self.activation(l);
                let views = quote! {
                    self.#a_in.view(__b),
                    self.#a_out.view(__b),
                    self.#g_out.view(__b),
                    self.#g_in.view_mut(__b),
                };
                return quote_spanned! {l.span=>
                    #k::__private::Activation::<#t>::backward(&#act, #views);
                };
            }
        };
        quote_spanned! {l.span=>
            #this.#field.backward(#views);
        }
    }

    /// The activation value for an elementwise layer without state, `None`
    /// for the layers that are fields (and `Flatten`).
    fn activation(&self, l: &Layer) -> Option<TokenStream> {
        let k = self.k;
        Some(match &l.kind {
            LayerKind::Linear { .. }
            | LayerKind::Conv2d { .. }
            | LayerKind::MaxPool2d { .. }
            | LayerKind::AvgPool2d { .. }
            | LayerKind::Flatten
            | LayerKind::BatchNorm { .. }
            | LayerKind::LayerNorm { .. }
            | LayerKind::Dropout { .. } => return None,
            LayerKind::ReLU => quote!(#k::__private::ReLU),
            LayerKind::LeakyReLU { negative_slope } => {
                let s = float(*negative_slope);
                quote!(#k::__private::LeakyReLU { negative_slope: #s })
            }
            LayerKind::Sigmoid => quote!(#k::__private::Sigmoid),
            LayerKind::Tanh => quote!(#k::__private::Tanh),
            LayerKind::GELU => quote!(#k::__private::GELU),
            LayerKind::Softmax => quote!(#k::__private::Softmax),
        })
    }

    /// The optimizer over every parameter tensor, in PyTorch's order.
    ///
    /// Expands to something like `self.__l0.step(&mut self.__optim, 0);
    /// self.__l3.step(&mut self.__optim, 2); ...`: each layer's weight and
    /// bias are the optimizer's parameters `first` and `first + 1`.
    fn expand_step(&self) -> TokenStream {
        let mut index = 0usize;
        let steps = self.param_layers().map(|l| {
            let field = self.layer_field(l);
            let first = index;
            index += l.params.len();
            quote!(self.#field.step(&mut self.__optim, #first);)
        });
        quote!(#(#steps)*)
    }

    fn expand_visitors(&self) -> (TokenStream, TokenStream) {
        let Gen { k, t, .. } = self;
        let names = |l: &Layer| {
            let w = format!("{}.weight", l.index);
            let b = format!("{}.bias", l.index);
            quote!([#w, #b])
        };
        let visit = self.param_layers().map(|l| {
            let field = self.layer_field(l);
            let names = names(l);
            quote!(self.#field.visit_parameters(#names, __has_grads, f);)
        });
        let visit_mut = self.param_layers().map(|l| {
            let field = self.layer_field(l);
            let names = names(l);
            quote!(self.#field.visit_parameters_mut(#names, f);)
        });
        (
            quote! {
                fn visit_parameters<'__p>(
                    &'__p self,
                    f: &mut dyn ::core::ops::FnMut(#k::__private::Parameter<'__p, #t>),
                ) {
                    let __has_grads = self.__state.has_grads();
                    #(#visit)*
                }
            },
            quote! {
                fn visit_parameters_mut(
                    &mut self,
                    f: &mut dyn ::core::ops::FnMut(#k::__private::ParameterMut<'_, #t>),
                ) {
                    #(#visit_mut)*
                }
            },
        )
    }

    /// `visit_buffers` and `visit_buffers_mut` over each batch norm's
    /// running statistics (PyTorch's names: `1.running_mean`,
    /// `1.running_var`, `1.num_batches_tracked`); nothing (the trait's empty
    /// defaults) for a model without batch norm.
    fn expand_buffer_visitors(&self) -> TokenStream {
        let Gen { k, t, .. } = self;
        let norms: Vec<&Layer> = self
            .m
            .layers
            .iter()
            .filter(|l| matches!(l.kind, LayerKind::BatchNorm { .. }))
            .collect();
        if norms.is_empty() {
            return TokenStream::new();
        }
        let names = |l: &Layer| {
            let i = l.index;
            let names = [
                format!("{i}.running_mean"),
                format!("{i}.running_var"),
                format!("{i}.num_batches_tracked"),
            ];
            quote!([#(#names),*])
        };
        let visit = norms.iter().map(|l| {
            let (field, names) = (self.layer_field(l), names(l));
            quote!(self.#field.visit_buffers(#names, f);)
        });
        let visit_mut = norms.iter().map(|l| {
            let (field, names) = (self.layer_field(l), names(l));
            quote!(self.#field.visit_buffers_mut(#names, f);)
        });
        quote! {
            fn visit_buffers<'__p>(
                &'__p self,
                f: &mut dyn ::core::ops::FnMut(#k::__private::NamedBuffer<'__p, #t>),
            ) {
                #(#visit)*
            }
            fn visit_buffers_mut(
                &mut self,
                f: &mut dyn ::core::ops::FnMut(#k::__private::NamedBufferMut<'_, #t>),
            ) {
                #(#visit_mut)*
            }
        }
    }

    /// `rng_states` and `set_rng_states` over each dropout's mask
    /// generator (`3.dropout_rng`), so that a checkpoint resumes the masks;
    /// nothing (the trait's empty defaults) for a model without dropout.
    ///
    /// Expands to something like:
    ///
    /// ```text
    /// fn rng_states(&self) -> Vec<(String, u64)> {
    ///     vec![("3.dropout_rng".to_string(), self.__l3.rng.state())]
    /// }
    /// fn set_rng_states(&mut self, states: &[(String, u64)]) -> Result<(), String> {
    ///     let __s = match_rng_states(&["3.dropout_rng"], states)?;
    ///     self.__l3.rng = Rng::from_state(__s[0]);
    ///     Ok(())
    /// }
    /// ```
    fn expand_rng_states(&self) -> TokenStream {
        let k = self.k;
        let dropouts: Vec<&Layer> = self
            .m
            .layers
            .iter()
            .filter(|l| matches!(l.kind, LayerKind::Dropout { .. }))
            .collect();
        if dropouts.is_empty() {
            return TokenStream::new();
        }
        let names: Vec<String> = dropouts
            .iter()
            .map(|l| format!("{}.dropout_rng", l.index))
            .collect();
        let fields: Vec<Ident> = dropouts.iter().map(|l| self.layer_field(l)).collect();
        let indices = 0..dropouts.len();
        quote! {
            fn rng_states(
                &self,
            ) -> ::std::vec::Vec<(::std::string::String, ::core::primitive::u64)> {
                ::std::vec![
                    #((::std::string::String::from(#names), self.#fields.rng.state())),*
                ]
            }
            fn set_rng_states(
                &mut self,
                states: &[(::std::string::String, ::core::primitive::u64)],
            ) -> ::core::result::Result<(), ::std::string::String> {
                let __s = #k::__private::match_rng_states(&[#(#names),*], states)?;
                #(self.#fields.rng = #k::__private::Rng::from_state(__s[#indices]);)*
                ::core::result::Result::Ok(())
            }
        }
    }

    fn expand_summary(&self) -> TokenStream {
        let k = self.k;
        let name = match &self.m.name {
            Some(n) => n.to_string(),
            None => "model".to_string(),
        };
        let dtype = dtype_text(self.m.dtype);
        let inputs = self.m.inputs();
        let input_shape = self.m.input.shape();
        let rows = self.m.layers.iter().map(|l| {
            let (index, text, output, params) = (l.index, &l.text, l.out_features(), params(l));
            let shape = l.output.shape();
            quote! {
                #k::__private::LayerSummary {
                    index: #index,
                    layer: #text,
                    output: #output,
                    shape: &[#(#shape),*],
                    params: #params,
                }
            }
        });
        let loss = loss_text(&self.m.loss.kind);
        let optim = optim_text(&self.m.optim.kind);
        quote! {
            fn summary(&self) -> #k::__private::Summary {
                #k::__private::Summary {
                    name: #name,
                    dtype: #dtype,
                    inputs: #inputs,
                    input_shape: &[#(#input_shape),*],
                    layers: &[#(#rows),*],
                    loss: #loss,
                    optim: #optim,
                }
            }
        }
    }
}

/// Whether a layer is a field of the struct: it has parameters, a
/// geometry (the pools) or state (dropout's generator and mask). The
/// activations are unit values and `Flatten` is nothing at all.
fn has_field(kind: &LayerKind) -> bool {
    !matches!(
        kind,
        LayerKind::ReLU
            | LayerKind::LeakyReLU { .. }
            | LayerKind::Sigmoid
            | LayerKind::Tanh
            | LayerKind::GELU
            | LayerKind::Softmax
            | LayerKind::Flatten
    )
}

/// Parameter count of a layer. (`check` bounds each layer's and the
/// model's count by 2^32, so neither this sum nor the model's total can
/// overflow.)
fn params(l: &Layer) -> usize {
    l.params.iter().sum()
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

fn dtype_text(d: Dtype) -> &'static str {
    match d {
        Dtype::F32 => "f32",
        Dtype::F64 => "f64",
    }
}

fn loss_text(kind: &LossKind) -> String {
    match kind {
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

/// The optimizer with every hyperparameter that differs from its default.
fn optim_text(kind: &OptimKind) -> String {
    let mut args = Vec::new();
    let name = match *kind {
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
