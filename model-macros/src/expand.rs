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
//! Every path starts with the forwarded crate path (`$crate`) or `::core`,
//! `::std`; generated names start with `__`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ir::{Dtype, Layer, LayerKind, LossKind, Model, OptimKind};

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
        let outputs = m.layers.last().map_or(m.inputs, |l| l.out_features);
        let first_param = m
            .layers
            .iter()
            .position(|l| l.kind.has_params())
            .unwrap_or(m.layers.len());
        Gen {
            k,
            m,
            name,
            t,
            outputs,
            first_param,
        }
    }

    /// `a_i`: the input of layer `i` (`a_0` the model input, `a_L` its output).
    fn act(&self, i: usize) -> Ident {
        format_ident!("__a{}", i)
    }

    /// `g_i = dL/da_i`, kept for `i > first_param` only.
    fn grad(&self, i: usize) -> Ident {
        format_ident!("__g{}", i)
    }

    fn grads(&self) -> impl Iterator<Item = usize> {
        self.first_param + 1..=self.m.layers.len()
    }

    fn layer_field(&self, layer: &Layer) -> Ident {
        format_ident!("__l{}", layer.index)
    }

    fn linears(&self) -> impl Iterator<Item = &'a Layer> {
        self.m
            .layers
            .iter()
            .filter(|l| matches!(l.kind, LayerKind::Linear { .. }))
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
        let layers = self.linears().map(|l| {
            let field = self.layer_field(l);
            quote!(#field: #k::__private::Linear<#t>,)
        });
        let acts = (0..=self.m.layers.len()).map(|i| {
            let a = self.act(i);
            quote!(#a: #k::__private::Buffer<#t>,)
        });
        let grads = self.grads().map(|i| {
            let g = self.grad(i);
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
        doc.push_str(&format!(" | | input | `[b, {}]` | |\n", self.m.inputs));
        for l in &self.m.layers {
            doc.push_str(&format!(
                " | {} | `{}` | `[b, {}]` | {} |\n",
                l.index,
                l.text,
                l.out_features,
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
        let mut lens = Vec::new();
        for l in self.linears() {
            lens.push(l.in_features * l.out_features);
            if matches!(l.kind, LayerKind::Linear { bias: true }) {
                lens.push(l.out_features);
            }
        }
        lens
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
        let (inputs, outputs) = (self.m.inputs, self.outputs);
        let layer_inits = self.linears().map(|l| {
            let field = self.layer_field(l);
            let (i, o) = (l.in_features, l.out_features);
            let bias = matches!(l.kind, LayerKind::Linear { bias: true });
            // `__rng` keeps the call-site span: a local named with the
            // user's span would not resolve (hygiene).
            let rng = quote!(__rng);
            quote_spanned! {l.span=>
                let #field = #k::__private::Linear::<#t>::new(#i, #o, #bias, &mut #rng);
            }
        });
        let fields = self.linears().map(|l| self.layer_field(l));
        let acts = (0..=self.m.layers.len()).map(|i| {
            let a = self.act(i);
            let width = if i == 0 {
                inputs
            } else {
                self.m.layers[i - 1].out_features
            };
            quote!(#a: #k::__private::Buffer::new(#width),)
        });
        let grads = self.grads().map(|i| {
            let g = self.grad(i);
            let width = self.m.layers[i - 1].out_features;
            quote!(#g: #k::__private::Buffer::new(#width),)
        });
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
                /// each `Linear` in order, weight `[out][in]` then bias,
                /// uniform in `[-1/sqrt(in), 1/sqrt(in))`.
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
        let (inputs, outputs) = (self.m.inputs, self.outputs);
        let target = self.target_kind();
        let last_a = self.act(self.m.layers.len());
        let last_g = self.grad(self.m.layers.len());
        let reserve = (0..=self.m.layers.len())
            .map(|i| self.act(i))
            .chain(self.grads().map(|i| self.grad(i)))
            .map(|b| quote!(self.#b.reserve(__batch);));
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
        let summary = self.expand_summary();
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
                #summary
            }
        }
    }

    /// One layer of the forward pass, spanned on the user's layer:
    /// `a_{i+1} <- layer_i(a_i)`.
    fn expand_forward_layer(&self, l: &Layer) -> TokenStream {
        let Gen { k, t, .. } = self;
        let (a_in, a_out) = (self.act(l.index), self.act(l.index + 1));
        let input = quote!(self.#a_in.view(__b));
        let output = quote!(self.#a_out.view_mut(__b));
        match self.activation(l) {
            None => {
                let field = self.layer_field(l);
                let this = quote!(self);
                quote_spanned! {l.span=>
                    #this.#field.forward(#input, #output);
                }
            }
            Some(act) => quote_spanned! {l.span=>
                #k::__private::Activation::<#t>::forward(&#act, #input, #output);
            },
        }
    }

    /// One layer of the backward pass: parameter gradients, and
    /// `g_i <- dL/da_i` unless nothing before the layer needs it.
    fn expand_backward_layer(&self, l: &Layer) -> TokenStream {
        let Gen { k, t, .. } = self;
        let i = l.index;
        let (a_in, a_out, g_out) = (self.act(i), self.act(i + 1), self.grad(i + 1));
        let needs_input_grad = i > self.first_param;
        match self.activation(l) {
            None => {
                let field = self.layer_field(l);
                let grad_input = if needs_input_grad {
                    let g_in = self.grad(i);
                    quote!(::core::option::Option::Some(self.#g_in.view_mut(__b)))
                } else {
                    quote!(::core::option::Option::None)
                };
                let (input, grad_output) =
                    (quote!(self.#a_in.view(__b)), quote!(self.#g_out.view(__b)));
                let (this, accumulate) = (quote!(self), quote!(__accumulate));
                quote_spanned! {l.span=>
                    #this.#field.backward(#input, #grad_output, #grad_input, #accumulate);
                }
            }
            // An activation before every parameter needs no gradient; the
            // filter in `expand_model_impl` never passes one here.
            Some(act) => {
                let g_in = self.grad(i);
                let views = quote! {
                    self.#a_in.view(__b),
                    self.#a_out.view(__b),
                    self.#g_out.view(__b),
                    self.#g_in.view_mut(__b),
                };
                quote_spanned! {l.span=>
                    #k::__private::Activation::<#t>::backward(&#act, #views);
                }
            }
        }
    }

    /// The activation value for a parameter-free layer, `None` for `Linear`.
    fn activation(&self, l: &Layer) -> Option<TokenStream> {
        let k = self.k;
        Some(match &l.kind {
            LayerKind::Linear { .. } => return None,
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
    fn expand_step(&self) -> TokenStream {
        let mut index = 0usize;
        let steps = self.linears().map(|l| {
            let field = self.layer_field(l);
            let first = index;
            index += 1 + usize::from(matches!(l.kind, LayerKind::Linear { bias: true }));
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
        let visit = self.linears().map(|l| {
            let field = self.layer_field(l);
            let names = names(l);
            quote!(self.#field.visit_parameters(#names, __has_grads, f);)
        });
        let visit_mut = self.linears().map(|l| {
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

    fn expand_summary(&self) -> TokenStream {
        let k = self.k;
        let name = match &self.m.name {
            Some(n) => n.to_string(),
            None => "model".to_string(),
        };
        let dtype = dtype_text(self.m.dtype);
        let inputs = self.m.inputs;
        let rows = self.m.layers.iter().map(|l| {
            let (index, text, output, params) = (l.index, &l.text, l.out_features, params(l));
            quote! {
                #k::__private::LayerSummary {
                    index: #index,
                    layer: #text,
                    output: #output,
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
                    layers: &[#(#rows),*],
                    loss: #loss,
                    optim: #optim,
                }
            }
        }
    }
}

/// Parameter count of a layer.
fn params(l: &Layer) -> usize {
    match l.kind {
        LayerKind::Linear { bias } => {
            l.in_features * l.out_features + usize::from(bias) * l.out_features
        }
        _ => 0,
    }
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
