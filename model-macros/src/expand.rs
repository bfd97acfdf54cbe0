//! IR -> tokens: the generated model type. Only wiring lives here; what a
//! layer, loss or optimizer is comes from `runtime`, and every layer is
//! called through the runtime's `Layer` trait, so no code here depends on
//! the kind of a layer.
//!
//! For `Linear(10, 64); ReLU; Linear(64, 1); loss MSE; optim SGD(0.01)` the
//! output is, in outline (the whole of a real one is in
//! `model-macros/tests/snapshots/mlp.rs`):
//!
//! ```text
//! /// (the layer table)
//! struct Net {
//!     __l0: Linear<f32>, __l1: ReLU, __l2: Linear<f32>,  // every layer but Flatten
//!     __loss: MSE, __optim: SGD<f32>, __state: StepState,
//!     __s0 .. __s3: Slot<f32>,   // slot i: a_i, the input of layer i, and dL/da_i
//! }
//! const _: () = {
//!     use $crate::__private::{self as __mg, Layer as __Layer};
//!     use ::core::primitive::{bool, f32, u64, usize};
//!     impl Net {
//!         fn new(), fn with_seed(u64), fn load(path), typed `*_rows` entries,
//!         (classifiers) predict_proba, predict_classes, predict_names
//!     }
//!     impl Model for Net {
//!         forward: __p.forward(&mut self.__l0, &self.__s0, &mut self.__s1); ...
//!         backward: __p.backward(&mut self.__l2, &mut self.__s2, &self.__s3); ...
//!         step: __Layer::step(&mut self.__l0, &mut self.__optim, 0usize); ...
//!         infer: __r.run(&self.__l0, 64usize); ...
//!     }
//! };
//! ```
//!
//! `Flatten` generates no code at all: slot `i + 1` is slot `i`. The
//! struct is declared with full paths; everything else sits in an
//! anonymous `const` block that names the runtime `__mg` (`$crate`'s hidden
//! module), its `Layer` trait `__Layer`, and imports the primitive types,
//! so nothing in the caller's scope can shadow a path or a type (a user's
//! `struct f32` or `struct Layer`) and nothing leaks into it. Generated
//! names start with `__`; other std paths are spelled from `::core` and
//! `::std`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ir::{Dims, JoinKind, Layer, LayerKind, LossKind, Model, Op};
use crate::runtime::mg;

/// The whole expansion: items for `struct Name;`, else a block expression
/// that declares the type and evaluates to `Type::new()`.
pub fn model(krate: &TokenStream, model: &Model) -> TokenStream {
    let g = Gen::new(krate, model);
    let definition = g.expand_struct();
    let inherent = g.expand_inherent();
    let model_impl = g.expand_model_impl();
    let (name, e) = (&g.name, &g.e);
    let items = quote! {
        #definition
        const _: () = {
            use #krate::__private::{self as __mg, Layer as __Layer};
            use ::core::primitive::{bool, #e, u64, usize};
            #inherent
            impl ::core::default::Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
            #model_impl
        };
    };
    match &model.name {
        Some(_) => items,
        None => quote! {
            {
                #items
                #name::new()
            }
        },
    }
}

/// Everything the expansion functions share.
struct Gen<'a> {
    k: &'a TokenStream,
    m: &'a Model,
    name: Ident,
    /// `f32` or `f64`, in full (`::core::primitive::f32`), for the struct.
    t: TokenStream,
    /// `f32` or `f64`, inside the block that imports the primitive types.
    e: Ident,
    /// Outputs of the model.
    outputs: usize,
    /// Whether each slot keeps `dL/da`: whether its values depend on a
    /// parameter (the input and what is computed from it alone do not).
    needs: Vec<bool>,
    /// The backward pass, in order.
    backward: Vec<Back>,
}

/// A step of the backward pass.
enum Back {
    /// Layer `id`'s backward, into its input slot as `grad` says.
    Layer { id: usize, grad: Grad },
    /// A join's backward into each input slot that keeps a gradient:
    /// `(slot, offset in the join's output, first to write it)`.
    Join {
        dst: usize,
        parts: Vec<(usize, usize, bool)>,
    },
}

/// What a layer's backward does with `dL/d(input)`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grad {
    /// Its input keeps none (nothing before it has parameters).
    None,
    /// Writes it: the first of the input's readers to pass one back.
    Write,
    /// Adds it, through a scratch buffer `__g{id}`: another reader wrote
    /// first.
    Add,
}

impl<'a> Gen<'a> {
    fn new(k: &'a TokenStream, m: &'a Model) -> Self {
        let name = m
            .name
            .clone()
            .unwrap_or_else(|| Ident::new("__MacrogradModel", Span::call_site()));
        let graph = &m.graph;
        let mut needs = vec![false; graph.widths.len()];
        for op in &graph.ops {
            match op {
                Op::Layer(i) => {
                    let l = &m.layers[*i];
                    if l.src != l.dst {
                        needs[l.dst] = needs[l.src] || l.kind.has_params();
                    }
                }
                Op::Join { srcs, dst, .. } => needs[*dst] = srcs.iter().any(|&s| needs[s]),
                Op::Slice { .. } => {}
            }
        }
        let mut fed = vec![false; graph.widths.len()];
        let mut backward = Vec::new();
        for op in graph.ops.iter().rev() {
            match op {
                Op::Layer(i) => {
                    let l = &m.layers[*i];
                    if l.src == l.dst || !needs[l.dst] {
                        continue;
                    }
                    let grad = match (needs[l.src], fed[l.src]) {
                        (false, _) => Grad::None,
                        (true, false) => Grad::Write,
                        (true, true) => Grad::Add,
                    };
                    fed[l.src] |= needs[l.src];
                    backward.push(Back::Layer { id: l.id, grad });
                }
                Op::Slice { .. } => {}
                Op::Join { kind, srcs, dst } => {
                    if !needs[*dst] {
                        continue;
                    }
                    let mut parts = Vec::new();
                    let mut offset = 0;
                    for &src in srcs {
                        if needs[src] {
                            parts.push((src, offset, !fed[src]));
                            fed[src] = true;
                        }
                        if *kind == JoinKind::Concat {
                            offset += graph.widths[src];
                        }
                    }
                    backward.push(Back::Join { dst: *dst, parts });
                }
            }
        }
        Gen {
            k,
            m,
            name,
            t: m.dtype.runtime_type(),
            e: Ident::new(m.dtype.text(), Span::call_site()),
            outputs: graph.widths[graph.output],
            needs,
            backward,
        }
    }

    fn slot(k: usize) -> Ident {
        format_ident!("__s{}", k)
    }

    fn scratch(id: usize) -> Ident {
        format_ident!("__g{}", id)
    }

    /// `(id, width)` of each scratch buffer: one per layer whose backward
    /// adds into its input slot.
    fn scratches(&self) -> Vec<(usize, usize)> {
        self.backward
            .iter()
            .filter_map(|b| match b {
                Back::Layer {
                    id,
                    grad: Grad::Add,
                } => Some((*id, self.m.graph.widths[self.m.layers[*id].src])),
                _ => None,
            })
            .collect()
    }

    fn field(l: &Layer) -> Ident {
        format_ident!("__l{}", l.id)
    }

    /// Layers that are fields of the struct (all but `Flatten`), with
    /// their types.
    fn fields(&self) -> impl Iterator<Item = (&'a Layer, TokenStream)> + '_ {
        let (k, t) = (self.k, &self.t);
        let rt = quote!(#k::__private);
        self.m
            .layers
            .iter()
            .filter_map(move |l| l.runtime_type(&rt, t).map(|ty| (l, ty)))
    }

    /// Layers with parameters, in order (PyTorch's parameter order).
    fn param_layers(&self) -> impl Iterator<Item = &'a Layer> {
        self.m.layers.iter().filter(|l| l.kind.has_params())
    }

    /// The struct, with the user's attributes and the layer table as docs.
    ///
    /// Expands to something like `#[doc = "..."] pub struct Net { __l0:
    /// Linear<f32>, __l1: ReLU, ..., __s0: Slot<f32>, ... }`.
    fn expand_struct(&self) -> TokenStream {
        let Gen { k, t, name, .. } = self;
        let rt = quote!(#k::__private);
        let attrs = &self.m.attrs;
        let vis = &self.m.vis;
        let doc = Literal::string(&self.doc_table());
        let layers = self.fields().map(|(l, ty)| {
            let field = Gen::field(l);
            quote!(#field: #ty,)
        });
        let slots = (0..self.needs.len()).map(|k| {
            let s = Gen::slot(k);
            quote!(#s: #rt::Slot<#t>,)
        });
        let scratches = self.scratches().into_iter().map(|(id, _)| {
            let g = Gen::scratch(id);
            quote!(#g: #rt::Buffer<#t>,)
        });
        let loss = self.m.loss.kind.runtime_type(&rt);
        let optim = self.m.optim.kind.runtime_type(&rt, t);
        quote_spanned! {self.m.span=>
            #(#attrs)*
            #[doc = #doc]
            #[derive(Clone, Debug)]
            #vis struct #name {
                #(#layers)*
                __loss: #loss,
                __optim: #optim,
                __state: #rt::StepState,
                __prep: #rt::Preprocessing,
                #(#slots)*
                #(#scratches)*
            }
        }
    }

    /// Constructors, `load`, the typed `*_rows` entries and, for a
    /// classifier, `predict_proba`, `predict_classes` and `predict_names`.
    ///
    /// Expands to something like
    /// `impl Net { pub fn new() -> Self; pub fn with_seed(seed: u64) -> Self;
    /// pub fn forward_rows(&mut self, &[[f32; 10]]) -> ArrayView2<f32>; ...
    /// pub fn load(path: impl AsRef<Path>) -> Result<Self>; ... }`.
    fn expand_inherent(&self) -> TokenStream {
        let Gen { e, name, .. } = self;
        let mg = mg();
        let (inputs, outputs) = (self.m.inputs(), self.outputs);
        let layers = self.fields().map(|(l, _)| {
            let (field, init) = (Gen::field(l), l.constructor());
            quote!(#field: #init,)
        });
        let slots = self.needs.iter().enumerate().map(|(k, grad)| {
            let (s, width) = (Gen::slot(k), self.m.graph.widths[k]);
            quote!(#s: #mg::Slot::new(#width, #grad),)
        });
        let scratches = self.scratches().into_iter().map(|(id, width)| {
            let g = Gen::scratch(id);
            quote!(#g: #mg::Buffer::new(#width),)
        });
        let predict_proba = self.expand_predict_proba();
        let predict_classes = self.expand_predict_classes();
        let loss = self.m.loss.kind.constructor();
        let loss = quote_spanned!(self.m.loss.span=> #loss);
        let lens: Vec<usize> = self
            .param_layers()
            .flat_map(|l| l.params.iter().copied())
            .collect();
        let optim = self.m.optim.kind.constructor(&lens);
        let optim = quote_spanned!(self.m.optim.span=> #optim);
        let target_rows = self.m.loss.kind.target_rows(e, outputs);
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
                pub fn with_seed(seed: u64) -> Self {
                    let mut __rng = #mg::Rng::new(seed);
                    Self {
                        #(#layers)*
                        __loss: #loss,
                        __optim: #optim,
                        __state: ::core::default::Default::default(),
                        __prep: ::core::default::Default::default(),
                        #(#slots)*
                        #(#scratches)*
                    }
                }

                /// Forward pass on fixed-width rows: a wrong feature count is
                /// a compile error.
                pub fn forward_rows(
                    &mut self,
                    input: &[[#e; #inputs]],
                ) -> #mg::ArrayView2<'_, #e> {
                    #mg::Model::forward(self, input)
                }

                /// Outputs in evaluation mode for fixed-width rows
                /// (`Model::predict`).
                pub fn predict_rows(
                    &self,
                    input: &[[#e; #inputs]],
                ) -> ::std::vec::Vec<[#e; #outputs]> {
                    #mg::fixed_rows(&#mg::Model::predict(self, input))
                }

                /// One training iteration (forward, loss, zero_grad,
                /// backward, step) on fixed-width rows; returns the loss.
                pub fn train_step_rows(
                    &mut self,
                    input: &[[#e; #inputs]],
                    targets: #target_rows,
                ) -> #e {
                    #mg::Model::train_step(self, input, targets)
                }

                /// A model with the weights, buffers and preprocessing
                /// that `save_weights` wrote to `path`: the one call a
                /// program that serves a trained model needs.
                ///
                /// # Errors
                ///
                /// As `macrograd::io::load_weights`.
                pub fn load(
                    path: impl ::core::convert::AsRef<::std::path::Path>,
                ) -> #mg::Result<Self> {
                    let mut __model = Self::new();
                    #mg::load_weights(&mut __model, path)?;
                    ::core::result::Result::Ok(__model)
                }

                #predict_proba
                #predict_classes
            }
        }
    }

    /// `predict_proba` for classifiers: the softmax of `predict`'s logits
    /// for CrossEntropy, their sigmoid for BCE, and `predict` itself for a
    /// model whose last layer is `Softmax`. Other models have none, so
    /// asking a regressor for probabilities does not compile.
    fn expand_predict_proba(&self) -> TokenStream {
        let Gen { e, .. } = self;
        let mg = mg();
        let last = self.m.layers.last().map(|l| &l.kind);
        let Some((doc, squash)) = self.m.loss.kind.probabilities(last) else {
            return TokenStream::new();
        };
        let body = match squash {
            Some(squash) => quote! {
                let __logits = #mg::Model::predict(self, input);
                let mut __probs = __logits.clone();
                __Layer::infer(&#squash, __logits.view(), __probs.view_mut());
                __probs
            },
            None => quote!(#mg::Model::predict(self, input)),
        };
        quote! {
            #[doc = #doc]
            ///
            /// # Panics
            ///
            /// If the inputs do not have `INPUTS` columns.
            #[track_caller]
            pub fn predict_proba<'__i>(
                &self,
                input: impl ::core::convert::Into<#mg::ArrayView2<'__i, #e>>,
            ) -> #mg::Array2<#e> {
                #body
            }
        }
    }

    /// `predict_classes` for classifiers: each row's class (the first
    /// largest logit) for CrossEntropy; for BCE each output's 0/1 answer
    /// (`logit > 0`), one per sample when the model has one output; and
    /// `predict_names` where there is one class per sample (CrossEntropy,
    /// or BCE with one output). Regressors have none.
    fn expand_predict_classes(&self) -> TokenStream {
        let Gen { e, .. } = self;
        let mg = mg();
        let (doc, ty, body) = match (&self.m.loss.kind, self.outputs) {
            (LossKind::CrossEntropy { .. }, _) => (
                "The class each sample is predicted to be, in evaluation mode: \
                 the index of the first largest of its logits, as the accuracy \
                 metric counts it (`macrograd::metrics::predicted_class`).",
                quote!(::std::vec::Vec<usize>),
                quote!(#mg::predicted_classes(__logits.view())),
            ),
            (LossKind::BCE { .. }, 1) => (
                "The 0/1 answer for each sample, in evaluation mode: 1 where its \
                 probability is above 0.5 (its logit above 0), as the accuracy \
                 metric counts it.",
                quote!(::std::vec::Vec<usize>),
                quote!(#mg::predicted_labels(__logits.view()).into_iter().collect()),
            ),
            (LossKind::BCE { .. }, _) => (
                "The 0/1 answers, `[batch, outputs]`, in evaluation mode: 1 where \
                 an output's probability is above 0.5 (its logit above 0), as the \
                 accuracy metric counts them.",
                quote!(#mg::Array2<usize>),
                quote!(#mg::predicted_labels(__logits.view())),
            ),
            _ => return TokenStream::new(),
        };
        let names = (matches!(self.m.loss.kind, LossKind::CrossEntropy { .. })
            || self.outputs == 1)
            .then(|| {
                quote! {
                    /// The name of the class each sample is predicted to be
                    /// (`predict_classes`), from the labels of the model's
                    /// preprocessing (`Model::set_preprocessing`, or the file
                    /// it was loaded from); a class without a name is its
                    /// number.
                    ///
                    /// # Panics
                    ///
                    /// If the inputs do not have `INPUTS` columns.
                    #[track_caller]
                    pub fn predict_names<'__i>(
                        &self,
                        input: impl ::core::convert::Into<#mg::ArrayView2<'__i, #e>>,
                    ) -> ::std::vec::Vec<::std::string::String> {
                        self.predict_classes(input)
                            .into_iter()
                            .map(|__c| self.__prep.class_name(__c).into_owned())
                            .collect()
                    }
                }
            });
        quote! {
            #[doc = #doc]
            ///
            /// # Panics
            ///
            /// If the inputs do not have `INPUTS` columns.
            #[track_caller]
            pub fn predict_classes<'__i>(
                &self,
                input: impl ::core::convert::Into<#mg::ArrayView2<'__i, #e>>,
            ) -> #ty {
                let __logits = #mg::Model::predict(self, input);
                #body
            }

            #names
        }
    }

    /// `impl Model`: buffers, forward, loss, backward, step, inference
    /// (`infer`), preprocessing, parameters.
    fn expand_model_impl(&self) -> TokenStream {
        let Gen { e, name, .. } = self;
        let mg = mg();
        let (inputs, outputs) = (self.m.inputs(), self.outputs);
        let target = self.m.loss.kind.target();
        let optim = self.m.optim.kind.runtime_type(&mg, e);
        let task = self.m.loss.kind.task();
        let last = Gen::slot(self.m.graph.output);
        let reserve = (0..self.needs.len())
            .map(Gen::slot)
            .map(|s| quote!(self.#s.reserve(__b);))
            .chain(self.scratches().into_iter().map(|(id, _)| {
                let g = Gen::scratch(id);
                quote!(self.#g.reserve(__b);)
            }));
        let this = quote!(self);
        let p = quote!(__p);
        let r = quote!(__r);
        let slots = |srcs: &[usize]| {
            let srcs = srcs.iter().map(|&s| Gen::slot(s));
            quote!(&[#(&#this.#srcs),*])
        };
        let mut forward = Vec::new();
        let mut infer = Vec::new();
        // The last step that reads each slot, to free it in `infer`.
        let mut last_read = vec![0; self.needs.len()];
        for (n, op) in self.m.graph.ops.iter().enumerate() {
            match op {
                Op::Layer(i) => last_read[self.m.layers[*i].src] = n,
                Op::Join { srcs, .. } => srcs.iter().for_each(|&s| last_read[s] = n),
                Op::Slice { .. } => last_read[0] = n,
            }
        }
        for (n, op) in self.m.graph.ops.iter().enumerate() {
            match op {
                Op::Layer(i) => {
                    let l = &self.m.layers[*i];
                    if l.src == l.dst {
                        continue;
                    }
                    let (field, a, b) = (Gen::field(l), Gen::slot(l.src), Gen::slot(l.dst));
                    let (src, dst) = (l.src, l.dst);
                    forward.push(quote_spanned! {l.span=>
                        #p.forward(&mut #this.#field, &#this.#a, &mut #this.#b);
                    });
                    infer.push(quote_spanned! {l.span=>
                        #r.run(&#this.#field, #src, #dst);
                    });
                }
                Op::Slice { offset, dst } => {
                    let (d, dst) = (Gen::slot(*dst), *dst);
                    forward.push(quote!(#p.slice(&#this.__s0, #offset, &mut #this.#d);));
                    infer.push(quote!(#r.slice(0usize, #offset, #dst);));
                }
                Op::Join { kind, srcs, dst } => {
                    let (list, d, dst) = (slots(srcs), Gen::slot(*dst), *dst);
                    let (method, run) = match kind {
                        JoinKind::Add => (quote!(add), quote!(add)),
                        JoinKind::Concat => (quote!(concat), quote!(concat)),
                    };
                    forward.push(quote!(#p.#method(#list, &mut #this.#d);));
                    infer.push(quote!(#r.#run(&[#(#srcs),*], #dst);));
                }
            }
            // Free what no later step reads (never the output).
            for (slot, &at) in last_read.iter().enumerate() {
                if at == n && slot != self.m.graph.output {
                    infer.push(quote!(#r.release(#slot);));
                }
            }
        }
        let widths = &self.m.graph.widths;
        let output_slot = self.m.graph.output;
        let backward: Vec<TokenStream> = self
            .backward
            .iter()
            .map(|step| match step {
                Back::Layer { id, grad } => {
                    let l = &self.m.layers[*id];
                    let (field, a, b) = (Gen::field(l), Gen::slot(l.src), Gen::slot(l.dst));
                    if *grad == Grad::Add {
                        let g = Gen::scratch(*id);
                        quote_spanned! {l.span=>
                            #p.backward_add(&mut #this.#field, &mut #this.#a, &mut #this.#g, &#this.#b);
                        }
                    } else {
                        quote_spanned! {l.span=>
                            #p.backward(&mut #this.#field, &mut #this.#a, &#this.#b);
                        }
                    }
                }
                Back::Join { dst, parts } => {
                    let d = Gen::slot(*dst);
                    let parts = parts.iter().map(|(src, offset, first)| {
                        let s = Gen::slot(*src);
                        quote!(#p.join_grad(&#this.#d, #offset, &mut #this.#s, #first);)
                    });
                    quote!(#(#parts)*)
                }
            })
            .collect();
        let mut first = 0usize;
        let steps = self.param_layers().map(|l| {
            let field = Gen::field(l);
            let index = first;
            first += l.params.len();
            quote!(__Layer::step(&mut self.#field, &mut self.__optim, #index);)
        });
        let categories: Vec<TokenStream> = self
            .m
            .inputs
            .iter()
            .flat_map(|input| {
                let (n, steps) = match input.dims {
                    crate::ir::Dims::Category(n) => (n, 1),
                    crate::ir::Dims::Tokens { steps, categories } => (categories, steps),
                    _ => (0, 0),
                };
                (input.offset..input.offset + steps).map(move |column| quote!((#column, #n)))
            })
            .collect();
        let categories = (!categories.is_empty())
            .then(|| quote!(const CATEGORIES: &'static [(usize, usize)] = &[#(#categories),*];));
        let min_training_batch = self
            .m
            .layers
            .iter()
            .map(Layer::min_training_batch)
            .max()
            .filter(|&n| n > 1)
            .map(|n| quote!(const MIN_TRAINING_BATCH: usize = #n;));
        let visitors = self.expand_visitors();
        let export = self.expand_export();
        let rngs = self.expand_rng_states();
        let summary = self.expand_summary();
        quote! {
            impl #mg::Model for #name {
                type Elem = #e;
                type Target = #target;
                type Optim = #optim;
                const INPUTS: usize = #inputs;
                const OUTPUTS: usize = #outputs;
                const TASK: #mg::Task = #task;
                #min_training_batch
                #categories

                fn input_buffer(
                    &mut self,
                    __b: usize,
                ) -> #mg::ArrayViewMut2<'_, #e> {
                    self.__state.begin_input(__b);
                    #(#reserve)*
                    self.__s0.value.view_mut(__b)
                }

                fn forward_buffered(&mut self) -> #mg::ArrayView2<'_, #e> {
                    let __p = #mg::Pass::for_forward(&self.__state);
                    if self.__state.take_raw_input() {
                        self.__prep.apply_except(
                            self.__s0.value.view_mut(__p.batch),
                            <Self as #mg::Model>::CATEGORIES,
                        );
                    }
                    #(#forward)*
                    self.__state.end_forward();
                    self.#last.view(__p.batch)
                }

                fn compute_loss(&mut self, __y: #mg::TargetBatch<'_, Self>, __g: bool) -> #e {
                    self.#last.loss(&self.__loss, &mut self.__state, __y, __g)
                }

                fn zero_grad(&mut self) {
                    self.__state.zero_grad();
                }

                fn backward(&mut self) {
                    let __p = #mg::Pass::for_backward(&mut self.__state);
                    #(#backward)*
                }

                fn step(&mut self) {
                    if self.__state.has_grads() {
                        #(#steps)*
                    }
                }

                fn set_training(&mut self, training: bool) {
                    self.__state.set_training(training);
                }

                fn optimizer(&self) -> &Self::Optim {
                    &self.__optim
                }

                fn optimizer_mut(&mut self) -> &mut Self::Optim {
                    &mut self.__optim
                }

                fn infer(&self, __x: #mg::ArrayView2<'_, #e>) -> #mg::Array2<#e> {
                    let mut __r = #mg::Inference::new(__x, &[#(#widths),*]);
                    self.__prep.apply_except(__r.values_mut(0), <Self as #mg::Model>::CATEGORIES);
                    #(#infer)*
                    __r.finish(#output_slot)
                }

                fn preprocessing(&self) -> &#mg::Preprocessing {
                    &self.__prep
                }

                fn preprocessing_mut(&mut self) -> &mut #mg::Preprocessing {
                    &mut self.__prep
                }

                #visitors
                #export
                #rngs
                #summary
            }
        }
    }

    /// `export_onnx`: the ONNX graph of the forward pass, op by op as
    /// `infer` runs it, each value a local `__v{slot}` (shadowed when a
    /// slot is written again), each layer's value checked against the
    /// shape the declaration gives it.
    ///
    /// Expands to something like `let __v0 = __mg::onnx_input(__g,
    /// &self.__prep, "input", &[4usize], 0usize, false)?; let __v1 =
    /// __Layer::export(&self.__l0, __g, &__v0, &__mg::OnnxNames { .. })?;
    /// __g.expect(&__v1, &[8usize], "..")?; ...`.
    fn expand_export(&self) -> TokenStream {
        let mg = mg();
        let v = |slot: usize| format_ident!("__v{}", slot);
        let shape = |dims: Dims| -> Vec<usize> {
            match dims {
                Dims::Category(_) => Vec::new(),
                other => other.shape(),
            }
        };
        let is_category = |dims: Dims| matches!(dims, Dims::Category(_) | Dims::Tokens { .. });
        let e = &self.e;
        let mut body = Vec::new();
        // One input is slot 0 itself (several are sliced from it): named
        // as declared, or `input`.
        if self.m.inputs.len() <= 1 {
            let (name, dims) = match self.m.inputs.first() {
                Some(input) if !input.name.is_empty() => (input.name.as_str(), input.dims),
                _ => ("input", self.m.input),
            };
            let (category, dims) = (is_category(dims), shape(dims));
            body.push(quote! {
                let __v0 = #mg::onnx_input(__g, &self.__prep, #name, &[#(#dims),*], 0usize, #category)?;
            });
        }
        for op in &self.m.graph.ops {
            match op {
                Op::Layer(i) => {
                    let l = &self.m.layers[*i];
                    let (src, dst) = (v(l.src), v(l.dst));
                    let path = &l.path;
                    let value = match l.kind {
                        LayerKind::Flatten => quote!(__g.flatten(#path, &#src)),
                        LayerKind::Identity => quote!(#src.clone()),
                        _ => {
                            let field = Gen::field(l);
                            let params = l
                                .parameter_names()
                                .into_iter()
                                .map(|n| format!("{path}.{n}"));
                            let buffers = l.buffer_names().iter().map(|n| format!("{path}.{n}"));
                            quote! {
                                __Layer::<#e>::export(&self.#field, __g, &#src, &#mg::OnnxNames {
                                    path: #path,
                                    parameters: &[#(#params),*],
                                    buffers: &[#(#buffers),*],
                                })?
                            }
                        }
                    };
                    let dims = shape(l.output);
                    let what = format!("layer `{path}`");
                    body.push(quote! {
                        let #dst = #value;
                        __g.expect(&#dst, &[#(#dims),*], #what)?;
                    });
                }
                Op::Slice { offset, dst } => {
                    let input = self
                        .m
                        .inputs
                        .iter()
                        .find(|input| input.offset == *offset)
                        .expect("a slice starts at a named input's first column");
                    let (name, dims, category) =
                        (&input.name, shape(input.dims), is_category(input.dims));
                    let d = v(*dst);
                    body.push(quote! {
                        let #d = #mg::onnx_input(__g, &self.__prep, #name, &[#(#dims),*], #offset, #category)?;
                    });
                }
                Op::Join { kind, srcs, dst } => {
                    let d = v(*dst);
                    let srcs = srcs.iter().map(|&s| v(s));
                    // Dotted, as no input name (an identifier) is.
                    let hint = format!("join.{dst}");
                    let method = match kind {
                        JoinKind::Add => quote!(add),
                        JoinKind::Concat => quote!(concat),
                    };
                    body.push(quote! {
                        let #d = __g.#method(#hint, &[#(#srcs.clone()),*])?;
                    });
                }
            }
        }
        let out = v(self.m.graph.output);
        let last = self.m.layers.last().map(|l| &l.kind);
        let probabilities = match self.m.loss.kind.probabilities(last) {
            Some((_, Some(squash))) => quote! {
                <#squash as __Layer<#e>>::export(&#squash, __g, &#out, &#mg::OnnxNames {
                    path: "probabilities",
                    parameters: &[],
                    buffers: &[],
                })
            },
            Some((_, None)) => quote!(::core::result::Result::Ok(#out)),
            None => quote! {
                ::core::result::Result::Err(#mg::Error::Export {
                    message: ::std::string::String::from(
                        "a regressor has no probabilities: export its outputs"
                    ),
                })
            },
        };
        quote! {
            fn export_onnx(
                &self,
                __g: &mut #mg::OnnxGraph,
                __probabilities: bool,
            ) -> #mg::Result<#mg::OnnxValue> {
                #(#body)*
                if __probabilities {
                    #probabilities
                } else {
                    ::core::result::Result::Ok(#out)
                }
            }
        }
    }

    /// The parameter and buffer visitors: each layer's tensors under
    /// PyTorch's names (`0.weight`, `1.running_mean`); the buffer visitors
    /// only for a model that has buffers (else the trait's empty defaults).
    ///
    /// Expands to something like `Layer::visit_parameters(&self.__l0,
    /// &["0.weight", "0.bias"], __g, f); ...`.
    fn expand_visitors(&self) -> TokenStream {
        let Gen { e, .. } = self;
        let mg = mg();
        let names = |l: &Layer, names: &[String]| -> TokenStream {
            let names = names.iter().map(|n| format!("{}.{n}", l.path));
            quote!(&[#(#names),*])
        };
        let params: Vec<(Ident, TokenStream)> = self
            .param_layers()
            .map(|l| (Gen::field(l), names(l, &l.parameter_names())))
            .collect();
        let (fields, names_p) = (params.iter().map(|p| &p.0), params.iter().map(|p| &p.1));
        let (fields_mut, names_p_mut) = (fields.clone(), names_p.clone());
        let mut code = quote! {
            fn visit_parameters<'__p>(
                &'__p self,
                f: &mut dyn ::core::ops::FnMut(#mg::Parameter<'__p, #e>),
            ) {
                let __g = self.__state.has_grads();
                #(__Layer::visit_parameters(&self.#fields, #names_p, __g, f);)*
            }

            fn visit_parameters_mut(
                &mut self,
                f: &mut dyn ::core::ops::FnMut(#mg::ParameterMut<'_, #e>),
            ) {
                #(__Layer::visit_parameters_mut(&mut self.#fields_mut, #names_p_mut, f);)*
            }
        };
        let buffers: Vec<(Ident, TokenStream)> = self
            .m
            .layers
            .iter()
            .filter(|l| !l.buffer_names().is_empty())
            .map(|l| {
                let buffers: Vec<String> = l.buffer_names().iter().map(|n| n.to_string()).collect();
                (Gen::field(l), names(l, &buffers))
            })
            .collect();
        if !buffers.is_empty() {
            let (fields, names_b) = (buffers.iter().map(|b| &b.0), buffers.iter().map(|b| &b.1));
            let (fields_mut, names_b_mut) = (fields.clone(), names_b.clone());
            code.extend(quote! {
                fn visit_buffers<'__p>(
                    &'__p self,
                    f: &mut dyn ::core::ops::FnMut(#mg::NamedBuffer<'__p, #e>),
                ) {
                    #(__Layer::visit_buffers(&self.#fields, #names_b, f);)*
                }

                fn visit_buffers_mut(
                    &mut self,
                    f: &mut dyn ::core::ops::FnMut(#mg::NamedBufferMut<'_, #e>),
                ) {
                    #(__Layer::visit_buffers_mut(&mut self.#fields_mut, #names_b_mut, f);)*
                }
            });
        }
        code
    }

    /// `rng_states` and `set_rng_states` over each layer's generator
    /// (`3.dropout_rng`), so that a checkpoint resumes the masks; nothing
    /// (the trait's empty defaults) for a model without one.
    ///
    /// Expands to something like
    /// `rng_states([("3.dropout_rng", Layer::rng(&self.__l3))])`.
    fn expand_rng_states(&self) -> TokenStream {
        let Gen { e, .. } = self;
        let mg = mg();
        let (names, fields): (Vec<String>, Vec<Ident>) = self
            .m
            .layers
            .iter()
            .filter_map(|l| {
                let name = l.generator_name()?;
                Some((format!("{}.{name}", l.path), Gen::field(l)))
            })
            .unzip();
        if names.is_empty() {
            return TokenStream::new();
        }
        quote! {
            fn rng_states(
                &self,
            ) -> ::std::vec::Vec<(::std::string::String, u64)> {
                #mg::rng_states([#((#names, __Layer::<#e>::rng(&self.#fields))),*])
            }

            fn set_rng_states(
                &mut self,
                states: &[(::std::string::String, u64)],
            ) -> ::core::result::Result<(), ::std::string::String> {
                #mg::set_rng_states(
                    [#((#names, __Layer::<#e>::rng_mut(&mut self.#fields))),*],
                    states,
                )
            }
        }
    }

    /// `summary`: the layer table as data, every value computed here.
    fn expand_summary(&self) -> TokenStream {
        let mg = mg();
        let name = match &self.m.name {
            Some(n) => n.to_string(),
            None => "model".to_string(),
        };
        let dtype = self.m.dtype.text();
        let inputs = self.m.inputs();
        let input_shape = self.m.input.shape();
        let n = self.m.graph.rows.len();
        let rows = self.m.graph.rows.iter().map(|r| {
            let (name, depth, text, output, params) =
                (&r.name, r.depth, &r.text, r.output.len(), r.params);
            let shape = r.output.shape();
            quote!((#name, #depth, #text, #output, &[#(#shape),*], #params))
        });
        let loss = self.m.loss.kind.text();
        let optim = self.m.optim.kind.text();
        quote! {
            fn summary(&self) -> #mg::Summary {
                // (name, depth, layer, output, shape, params)
                const __LAYERS: [#mg::LayerSummary; #n] = #mg::summary_rows([#(#rows),*]);
                #mg::Summary {
                    name: #name,
                    dtype: #dtype,
                    inputs: #inputs,
                    input_shape: &[#(#input_shape),*],
                    layers: &__LAYERS,
                    loss: #loss,
                    optim: #optim,
                }
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
        for r in &self.m.graph.rows {
            let indent = "&nbsp;&nbsp;".repeat(r.depth);
            doc.push_str(&format!(
                " | {} | {indent}`{}` | `{}` | {} |\n",
                r.name,
                r.text,
                r.output.batch_text(),
                r.params
            ));
        }
        let total: usize = self.m.layers.iter().map(params).sum();
        doc.push_str(&format!(
            "\n Loss `{}`, optimizer `{}`, element type `{}`, {} parameters in all.",
            self.m.loss.kind.text(),
            self.m.optim.kind.text(),
            self.m.dtype.text(),
            total
        ));
        doc
    }
}

/// Parameter count of a layer. (`check` bounds each layer's and the
/// model's count by 2^32, so neither this sum nor the model's total can
/// overflow.)
fn params(l: &Layer) -> usize {
    l.params.iter().sum()
}
