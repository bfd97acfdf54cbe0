//! ast -> checked `ir::Model`, or every mistake in the model at once.
//!
//! Each rule is one `check_*` function. Errors are collected, one per
//! mistake, spanned on the offending token, and combined into one
//! `syn::Error`; after a mistake, checking carries on with the best guess of
//! what was meant (a layer's declared output after a shape mismatch, a
//! parameter's default after a bad value) and stays silent about anything
//! that only follows from an error already reported.

mod args;
mod shapes;
mod sizes;

use proc_macro2::Span;
use syn::{Error, Ident};

use crate::ast::{Block, Call, Element, Input, StmtKind};
use crate::catalog::{self, Entry, LayerId, LossId, OptimId};
use crate::ir::{
    Dims, Dtype, Graph, JoinKind, Layer, LayerKind, Loss, LossKind, Model, NamedInput, Op, Optim,
    OptimKind, Row,
};
use args::{Args, Value};
use shapes::{check_shapes, Declared, Shapes};
use sizes::check_sizes;

/// Checks the whole model.
pub fn model(input: &Input) -> Result<Model, Error> {
    let mut errors = Errors::default();
    check_attrs(input, &mut errors);
    check_order(input, &mut errors);
    let dtype = check_dtype(input, &mut errors);
    let (declared, input_names) = check_input(input, &mut errors);
    let mut layers = Vec::new();
    let mut nodes = Vec::new();
    let mut blocks = 0;
    let mut loss = None;
    let mut optim = None;
    for (index, stmt) in input.stmts.iter().enumerate() {
        errors.at(index);
        match &stmt.kind {
            StmtKind::Layer(call) if input_name(&input_names, call).is_some() => {
                errors.push(Error::new_spanned(
                    &call.name,
                    format!(
                        "`{0}` is an input: name it at the start of a branch of `concat` or \
                         `add`, e.g. `concat {{ {0}; .. }}`",
                        call.name
                    ),
                ));
            }
            StmtKind::Layer(call) => {
                let path = nodes.len().to_string();
                nodes.push(Node::Layer(layers.len()));
                layers.push(check_layer(index, call, path, 0, &mut errors));
            }
            StmtKind::Block(block) => {
                let path = nodes.len().to_string();
                let mut tree = Tree {
                    stmt: index,
                    layers: &mut layers,
                    blocks: &mut blocks,
                    inputs: &input_names,
                    errors: &mut errors,
                };
                nodes.push(Node::Block(tree.block(block, path, 1)));
            }
            StmtKind::Loss { call, .. } if loss.is_none() => {
                loss = Some(check_loss(index, call, &mut errors));
            }
            StmtKind::Optim { call, .. } if optim.is_none() => {
                optim = Some(check_optim(index, call, &mut errors));
            }
            _ => {}
        }
    }
    let shapes = check_shapes(&declared, &layers, &nodes, blocks, &mut errors);
    if let Declared::Several(_) = declared {
        for input in &input_names {
            if !shapes.used.get(input.index).copied().unwrap_or(true) {
                let start = match input.categories {
                    Some(n) => format!("{} => Embedding({n}, 4)", input.ident),
                    None => input.ident.to_string(),
                };
                errors.push_last(Error::new_spanned(
                    &input.ident,
                    format!(
                        "input `{}` is never used: name it at the start of a branch, e.g. \
                         `concat {{ {start}; .. }}`",
                        input.ident
                    ),
                ));
            }
        }
    }
    let params = check_sizes(&layers, &shapes, &mut errors);
    check_softmax_last(&layers, &nodes, &mut errors);
    if let Some(Some(loss)) = &loss {
        check_logits(&layers, &nodes, loss, &mut errors);
        if let Some(output) = shapes.output {
            let last = match nodes.last() {
                Some(Node::Layer(i)) => shapes.texts[*i].clone(),
                Some(Node::Block(block)) => format!("{} {{ .. }}", block.keyword),
                Some(Node::Input(_)) | None => String::new(),
            };
            check_outputs(loss, output, &last, &mut errors);
        }
    }
    errors.finish()?;
    build(
        input,
        dtype,
        &layers,
        &nodes,
        &shapes,
        &params,
        loss.flatten(),
        optim.flatten(),
    )
    .ok_or_else(|| {
        Error::new(
            Span::call_site(),
            "internal error in `model!`: the model passed every check but could not be built",
        )
    })
}

/// Check errors, reported in the order of the statements they are about
/// (the checks run rule by rule, but a reader goes top to bottom).
#[derive(Default)]
struct Errors {
    /// Each error with the index of its statement.
    list: Vec<(usize, Error)>,
    /// The statement being checked.
    stmt: usize,
}

impl Errors {
    /// Files the next errors under statement `stmt`.
    fn at(&mut self, stmt: usize) {
        self.stmt = stmt;
    }

    fn push(&mut self, error: Error) {
        self.list.push((self.stmt, error));
    }

    /// For errors about the model as a whole, reported after the others.
    fn push_last(&mut self, error: Error) {
        self.list.push((usize::MAX, error));
    }

    fn finish(mut self) -> Result<(), Error> {
        self.list.sort_by_key(|(stmt, _)| *stmt);
        let mut errors = self.list.into_iter().map(|(_, error)| error);
        match errors.next() {
            Some(mut combined) => {
                combined.extend(errors);
                Err(combined)
            }
            None => Ok(()),
        }
    }
}

/// "`a`, `b`, `c`".
fn code_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    names.join(", ")
}

/// A call whose name is in the catalog, with its arguments bound.
struct Checked<'a, Id: 'static> {
    /// Index of the statement.
    stmt: usize,
    entry: &'static Entry<Id>,
    call: &'a Call,
    args: Args<'a>,
}

/// A layer statement; `checked` is `None` for an unknown name.
struct LayerSpec<'a> {
    stmt: usize,
    call: &'a Call,
    checked: Option<Checked<'a, LayerId>>,
    /// The module path PyTorch gives it: `3`, `2.body.0`.
    path: String,
    /// 0 for the model's own layers, 1 inside a block, ...
    depth: usize,
}

/// The model as written: layers (indices into the flat list of
/// `LayerSpec`s, in the order PyTorch registers them) and blocks.
enum Node<'a> {
    Layer(usize),
    Block(BlockSpec<'a>),
    /// A named input, by position: where a branch starts.
    Input(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BlockKind {
    /// `body(x) + x`, or `body(x) + shortcut(x)`.
    Residual,
    /// The branches side by side.
    Concat,
    /// The branches added up.
    Add,
}

/// A block with its branches: one (its body) for `residual`.
struct BlockSpec<'a> {
    kind: BlockKind,
    keyword: &'a syn::Ident,
    stmt: usize,
    /// Numbered in the order the blocks are met, from 0.
    id: usize,
    path: String,
    depth: usize,
    branches: Vec<Vec<Node<'a>>>,
    shortcut: Option<Vec<Node<'a>>>,
}

/// Builds the nodes of a block statement, adding its layers to `layers`.
struct Tree<'a, 'e> {
    stmt: usize,
    layers: &'e mut Vec<LayerSpec<'a>>,
    blocks: &'e mut usize,
    inputs: &'e [InputName],
    errors: &'e mut Errors,
}

impl<'a> Tree<'a, '_> {
    /// `block` at module path `path`, its layers at `depth`.
    fn block(&mut self, block: &'a Block, path: String, depth: usize) -> BlockSpec<'a> {
        let keyword = &block.keyword;
        let kind = match keyword.to_string().as_str() {
            "residual" => BlockKind::Residual,
            "concat" => BlockKind::Concat,
            _ => BlockKind::Add,
        };
        let id = *self.blocks;
        *self.blocks += 1;
        // The arguments first, the layers in PyTorch's registration order
        // after: the body (or branches), then the shortcut.
        let mut shortcut_arg = None;
        for arg in &block.args {
            if kind != BlockKind::Residual || arg.name != "shortcut" {
                let expected = match kind {
                    BlockKind::Residual => "`residual` takes `shortcut = ..`",
                    _ => "it takes none",
                };
                self.errors.push(Error::new_spanned(
                    &arg.name,
                    format!("unknown argument `{}` of `{keyword}`; {expected}", arg.name),
                ));
                continue;
            }
            if shortcut_arg.is_some() {
                self.errors.push(Error::new_spanned(
                    &arg.name,
                    "expected one `shortcut`, found a second one",
                ));
                continue;
            }
            if arg.calls.is_empty() {
                self.errors.push(Error::new_spanned(
                    &arg.name,
                    "expected at least one layer in `shortcut = [..]`",
                ));
                continue;
            }
            shortcut_arg = Some(arg);
        }
        let branches = match kind {
            BlockKind::Residual => {
                let elements: Vec<&'a Element> =
                    block.items.iter().flat_map(|c| &c.elems).collect();
                if elements.is_empty() {
                    self.errors.push(Error::new_spanned(
                        keyword,
                        "expected at least one layer in `residual { .. }`",
                    ));
                }
                let body = elements
                    .into_iter()
                    .enumerate()
                    .map(|(j, e)| self.element(e, format!("{path}.body.{j}"), depth, false))
                    .collect();
                vec![body]
            }
            BlockKind::Concat | BlockKind::Add => {
                if block.items.len() < 2 {
                    self.errors.push(Error::new_spanned(
                        keyword,
                        format!(
                            "expected at least 2 branches in `{keyword} {{ .. }}`, found {}: one \
                             per line, ending in `;` (`Identity` passes the input on)",
                            block.items.len()
                        ),
                    ));
                }
                block
                    .items
                    .iter()
                    .enumerate()
                    .map(|(k, chain)| {
                        chain
                            .elems
                            .iter()
                            .enumerate()
                            .scan(0, |j, (i, e)| {
                                // An input starts the branch; the layers
                                // after it count from 0.
                                let node = self.element(
                                    e,
                                    format!("{path}.branches.{k}.{j}"),
                                    depth,
                                    i == 0,
                                );
                                if !matches!(node, Node::Input(_)) {
                                    *j += 1;
                                }
                                Some(node)
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        let shortcut = shortcut_arg.map(|arg| match (&arg.bracket, &arg.calls[..]) {
            (None, [call]) => vec![self.layer(call, format!("{path}.shortcut"), depth)],
            (_, calls) => calls
                .iter()
                .enumerate()
                .map(|(j, call)| self.layer(call, format!("{path}.shortcut.{j}"), depth))
                .collect(),
        });
        BlockSpec {
            kind,
            keyword,
            stmt: self.stmt,
            id,
            path,
            depth: depth - 1,
            branches,
            shortcut,
        }
    }

    /// `first`: the element starts a branch of `concat` or `add`, where an
    /// input's name may stand.
    fn element(
        &mut self,
        element: &'a Element,
        path: String,
        depth: usize,
        first: bool,
    ) -> Node<'a> {
        match element {
            Element::Layer(call) => match input_name(self.inputs, call) {
                Some(index) if first => Node::Input(index),
                Some(index) => {
                    self.errors.push(Error::new_spanned(
                        &call.name,
                        format!(
                            "`{}` is an input: it can only start a branch of `concat` or `add`",
                            call.name
                        ),
                    ));
                    Node::Input(index)
                }
                None => self.layer(call, path, depth),
            },
            Element::Block(block) => Node::Block(self.block(block, path, depth + 1)),
        }
    }

    fn layer(&mut self, call: &'a Call, path: String, depth: usize) -> Node<'a> {
        let index = self.layers.len();
        let spec = check_layer(self.stmt, call, path, depth, self.errors);
        self.layers.push(spec);
        Node::Layer(index)
    }
}

impl LayerSpec<'_> {
    fn id(&self) -> Option<LayerId> {
        self.checked.as_ref().map(|checked| checked.entry.id)
    }
}

/// Rule: attributes go at the top (they belong to the generated type); on a
/// later statement only doc comments are allowed, read as comments. Any other
/// attribute there would be silently dropped.
fn check_attrs(input: &Input, errors: &mut Errors) {
    for (index, attr) in input
        .stmts
        .iter()
        .enumerate()
        .flat_map(|(index, stmt)| stmt.attrs.iter().map(move |attr| (index, attr)))
    {
        errors.at(index);
        if !attr.path().is_ident("doc") {
            let path: Vec<String> = attr
                .path()
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            errors.push(Error::new_spanned(
                attr,
                format!(
                    "expected attributes only at the top of the model, found `#[{}]` on a statement",
                    path.join("::")
                ),
            ));
        }
    }
}

/// Rule: `struct Name;` first and at most once; `input` and `dtype` at most
/// once and before the layers; at least one layer; exactly one `loss` and one
/// `optim`, after every layer. This is the layout the generated code (a
/// `nn.Sequential` and its training step) has, so anything else is a mistake
/// rather than a variant. Each misplaced statement is one error; a layer after
/// `loss`/`optim` is reported once (moving the `loss` fixes all of them).
fn check_order(input: &Input, errors: &mut Errors) {
    let mut layers = 0;
    let mut later_struct = false;
    let mut seen_input = false;
    let mut seen_dtype = false;
    let mut seen_loss = false;
    let mut seen_optim = false;
    let mut first_body: Option<String> = None;
    let mut late_layer_reported = false;
    // A loss or optimizer written as a layer (`MSE;`, `SGD(0.01);` without
    // its keyword): `check_name` reports it and says where it goes, so
    // "missing `loss`" or "layer after `loss`" would repeat the error.
    let mut bare_loss = false;
    let mut bare_optim = false;
    for (index, stmt) in input.stmts.iter().enumerate() {
        errors.at(index);
        match &stmt.kind {
            StmtKind::Struct(item) => {
                let message = if input.name.is_some() || later_struct {
                    "expected at most one `struct`, found a second one".to_owned()
                } else {
                    format!(
                        "expected `struct {};` as the first statement, found it after other statements",
                        item.name
                    )
                };
                later_struct = true;
                errors.push(Error::new_spanned(item, message));
            }
            StmtKind::Input { keyword, name, .. } => {
                // Named inputs may be several (`check_input` checks them).
                let mut named = false;
                let seen = if name.is_some() {
                    &mut named
                } else {
                    &mut seen_input
                };
                check_header(&stmt.kind, keyword, seen, first_body.as_deref(), errors);
            }
            StmtKind::Dtype { keyword, .. } => {
                check_header(
                    &stmt.kind,
                    keyword,
                    &mut seen_dtype,
                    first_body.as_deref(),
                    errors,
                );
            }
            StmtKind::Layer(call) => {
                first_body.get_or_insert_with(|| format!("`{}`", call.name));
                match bare_keyword(call) {
                    Some(Category::Loss) => bare_loss = true,
                    Some(_) => bare_optim = true,
                    None => {}
                }
                if bare_keyword(call).is_some() {
                    // Not a layer, and not misplaced as one either.
                    continue;
                }
                layers += 1;
                late_layer(
                    call,
                    &call.name,
                    (seen_loss, seen_optim),
                    &mut late_layer_reported,
                    errors,
                );
            }
            StmtKind::Block(block) => {
                first_body.get_or_insert_with(|| format!("`{}`", block.keyword));
                layers += 1;
                let at = &block.keyword;
                late_layer(
                    at,
                    at,
                    (seen_loss, seen_optim),
                    &mut late_layer_reported,
                    errors,
                );
            }
            StmtKind::Loss { .. } | StmtKind::Optim { .. } => {
                let (word, seen) = match &stmt.kind {
                    StmtKind::Loss { .. } => ("loss", &mut seen_loss),
                    _ => ("optim", &mut seen_optim),
                };
                first_body.get_or_insert_with(|| format!("`{word}`"));
                if *seen {
                    errors.push(Error::new_spanned(
                        &stmt.kind,
                        format!("expected exactly one `{word}`, found a second one"),
                    ));
                }
                *seen = true;
            }
        }
    }
    let end = input.end;
    if layers == 0 {
        errors.push_last(Error::new(
            end,
            "expected at least one layer, found none: add e.g. `Linear(10, 1);` before `loss`",
        ));
    }
    if !seen_loss && !bare_loss {
        errors.push_last(Error::new(
            end,
            "missing `loss`: add e.g. `loss MSE;` after the layers",
        ));
    }
    if !seen_optim && !bare_optim {
        errors.push_last(Error::new(
            end,
            "missing `optim`: add e.g. `optim Adam(lr = 1e-3);` after the loss",
        ));
    }
}

/// A layer or block after `loss` or `optim` (`seen`): one error, for the
/// first only (moving the `loss` fixes all of them).
fn late_layer(
    at: &dyn quote::ToTokens,
    name: &Ident,
    seen: (bool, bool),
    reported: &mut bool,
    errors: &mut Errors,
) {
    let after = match seen {
        (true, _) => "loss",
        (false, true) => "optim",
        (false, false) => return,
    };
    if !*reported {
        *reported = true;
        errors.push(Error::new_spanned(
            at,
            format!(
                "expected every layer before `loss` and `optim`, found `{name}` after `{after}`"
            ),
        ));
    }
}

/// `Some(Loss)` / `Some(Optim)` for a layer statement that names a loss or an
/// optimizer, written without its keyword (`MSE;`): `check_name` reports it.
fn bare_keyword(call: &Call) -> Option<Category> {
    let name = call.name.to_string();
    if catalog::lookup(catalog::LOSSES, &name).is_some() {
        Some(Category::Loss)
    } else if catalog::lookup(catalog::OPTIMS, &name).is_some() {
        Some(Category::Optim)
    } else {
        None
    }
}

/// `input` / `dtype`: once, before any layer, `loss` or `optim`.
fn check_header(
    kind: &StmtKind,
    keyword: &Ident,
    seen: &mut bool,
    first_body: Option<&str>,
    errors: &mut Errors,
) {
    if *seen {
        errors.push(Error::new_spanned(
            kind,
            format!("expected at most one `{keyword}`, found a second one"),
        ));
    } else if let Some(body) = first_body {
        errors.push(Error::new_spanned(
            kind,
            format!("expected `{keyword}` before the layers, found it after {body}"),
        ));
    }
    *seen = true;
}

/// Rule: the element type is `f32` or `f64`, the two the runtime's kernels
/// are written for (default `f32`, as in PyTorch).
fn check_dtype(input: &Input, errors: &mut Errors) -> Option<Dtype> {
    let Some((index, ty)) =
        input
            .stmts
            .iter()
            .enumerate()
            .find_map(|(index, stmt)| match &stmt.kind {
                StmtKind::Dtype { ty, .. } => Some((index, ty)),
                _ => None,
            })
    else {
        return Some(Dtype::F32);
    };
    errors.at(index);
    let name = ty.to_string();
    if let Some((_, dtype)) = catalog::DTYPES.iter().find(|(known, _)| *known == name) {
        return Some(*dtype);
    }
    let known = catalog::DTYPES.iter().map(|(known, _)| *known);
    let hint = match catalog::suggest(&name, known.clone()) {
        Some(known) => format!("did you mean `{known}`?"),
        None => format!("expected one of {}", code_list(known)),
    };
    errors.push(Error::new_spanned(
        ty,
        format!("unknown dtype `{name}`; {hint}"),
    ));
    None
}

/// Rule: `input N;` is a feature count, `input [C, H, W];` an image
/// (channels, height, width), `input category(n);` a column of class
/// indices `0..n`, each size an integer >= 1. An image is what `Conv2d` and
/// the pools read, class indices what `Embedding` reads; `Linear` reads
/// flat features. Several inputs are named (`input island: category(3);`),
/// each name once, and are not mixed with an unnamed one; their columns
/// are side by side in the input rows, in order.
fn check_input(input: &Input, errors: &mut Errors) -> (Declared, Vec<InputName>) {
    let stmts: Vec<(usize, Option<&Ident>, &syn::Expr)> = input
        .stmts
        .iter()
        .enumerate()
        .filter_map(|(index, stmt)| match &stmt.kind {
            StmtKind::Input { name, size, .. } => {
                Some((index, name.as_ref().map(|(n, _)| n), size))
            }
            _ => None,
        })
        .collect();
    if stmts.is_empty() {
        return (Declared::Absent, Vec::new());
    }
    let named = stmts.iter().any(|(_, name, _)| name.is_some());
    let mut declared = Vec::new();
    let mut names = Vec::new();
    let mut invalid = false;
    for (k, &(index, name, size)) in stmts.iter().enumerate() {
        errors.at(index);
        if named && name.is_none() {
            errors.push(Error::new_spanned(
                size,
                "expected a name for this input, as the others have one: `input name: ..;`",
            ));
            invalid = true;
            continue;
        }
        if !named && k > 0 {
            // A second unnamed `input`: `check_order` reports it.
            continue;
        }
        let dims = match args::input_category(size) {
            Some(Ok((n, None))) => Some(Dims::Category(n)),
            Some(Ok((categories, Some(steps)))) => Some(Dims::Tokens { steps, categories }),
            Some(Err(error)) => {
                errors.push(error);
                None
            }
            None => match args::input_shape(size) {
                Ok(sizes) => match Declared::new(&sizes) {
                    Declared::Dims(dims, _) => Some(dims),
                    _ => None,
                },
                Err(error) => {
                    errors.push(error);
                    None
                }
            },
        };
        let Some(dims) = dims else {
            invalid = true;
            continue;
        };
        let shape = match dims {
            Dims::Category(n) => format!("category({n})"),
            Dims::Sequence { steps, features } => format!("[{steps}, {features}]"),
            Dims::Tokens { steps, categories } => {
                format!("category({categories}, steps = {steps})")
            }
            Dims::Flat(n) => n.to_string(),
            Dims::Image {
                channels,
                height,
                width,
            } => format!("[{channels}, {height}, {width}]"),
        };
        let text = match name {
            Some(name) => format!("input {name}: {shape}"),
            None => format!("input {shape}"),
        };
        if let Some(name) = name {
            if names.iter().any(|n: &InputName| n.ident == *name) {
                // The first one stands; checking goes on with it.
                errors.push(Error::new_spanned(
                    name,
                    format!("expected each input's name once, found `{name}` twice"),
                ));
                continue;
            }
            names.push(InputName {
                ident: name.clone(),
                index: declared.len(),
                categories: match dims {
                    Dims::Category(n) => Some(n),
                    _ => None,
                },
            });
        }
        declared.push((name.map_or_else(String::new, Ident::to_string), dims, text));
    }
    let result = match (invalid, declared.len()) {
        (true, _) | (_, 0) => Declared::Invalid,
        (false, 1) => {
            let (_, dims, text) = declared.remove(0);
            Declared::Dims(dims, text)
        }
        (false, _) => Declared::Several(declared),
    };
    (result, names)
}

/// The names of the model's inputs, in order (`""` for an unnamed one).
fn input_names(input: &Input) -> Vec<String> {
    input
        .stmts
        .iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Input { name, .. } => Some(
                name.as_ref()
                    .map_or_else(String::new, |(n, _)| n.to_string()),
            ),
            _ => None,
        })
        .collect()
}

/// The position of the input `call` names (a bare name, no arguments).
fn input_name(inputs: &[InputName], call: &Call) -> Option<usize> {
    if call.paren.is_some() {
        return None;
    }
    inputs
        .iter()
        .find(|input| input.ident == call.name)
        .map(|input| input.index)
}

/// A named input, as the model's statements may refer to it.
struct InputName {
    ident: Ident,
    /// Its position among the inputs.
    index: usize,
    /// `n` for `category(n)`.
    categories: Option<usize>,
}

/// What a name is, for "unknown" messages.
#[derive(Clone, Copy, PartialEq)]
enum Category {
    Layer,
    Loss,
    Optim,
}

impl Category {
    fn noun(self) -> &'static str {
        match self {
            Category::Layer => "layer",
            Category::Loss => "loss",
            Category::Optim => "optimizer",
        }
    }

    fn a_noun(self) -> &'static str {
        match self {
            Category::Layer => "a layer",
            Category::Loss => "a loss",
            Category::Optim => "an optimizer",
        }
    }

    fn names(self) -> Vec<&'static str> {
        match self {
            Category::Layer => catalog::LAYERS.iter().map(|e| e.name).collect(),
            Category::Loss => catalog::LOSSES.iter().map(|e| e.name).collect(),
            Category::Optim => catalog::OPTIMS.iter().map(|e| e.name).collect(),
        }
    }

    fn planned(self) -> &'static [&'static str] {
        match self {
            Category::Layer => catalog::PLANNED_LAYERS,
            Category::Loss => &[],
            Category::Optim => catalog::PLANNED_OPTIMS,
        }
    }
}

/// Rule: layer, loss and optimizer names are the catalog's. An unknown name
/// gets the closest known one ("did you mean"), or is pointed to the right
/// statement when it names something of another category (`MSE;` as a
/// layer), or is named as not supported yet when the catalog lists it as
/// planned (`catalog::PLANNED_LAYERS`, `catalog::PLANNED_OPTIMS`).
///
/// With a close name, the error comes with its entry: checking goes on as
/// if it had been written, so the mistakes after it are reported too.
fn check_name<Id>(
    entries: &'static [Entry<Id>],
    category: Category,
    call: &Call,
) -> Result<&'static Entry<Id>, (Error, Option<&'static Entry<Id>>)> {
    let name = call.name.to_string();
    if let Some(entry) = catalog::lookup(entries, &name) {
        return Ok(entry);
    }
    let noun = category.noun();
    let known = category.names();
    let mut guess = None;
    let elsewhere = [Category::Layer, Category::Loss, Category::Optim]
        .into_iter()
        .find(|other| *other != category && other.names().contains(&name.as_str()));
    let message = if let Some(other) = elsewhere {
        let fix = match other {
            Category::Layer => format!("write `{name};` before `loss`"),
            Category::Loss => format!("write `loss {name};` after the layers"),
            Category::Optim => format!("write `optim {name}(...);` at the end"),
        };
        format!(
            "unknown {noun} `{name}`; `{name}` is {}: {fix}",
            other.a_noun()
        )
    } else if category.planned().contains(&name.as_str()) {
        format!(
            "{noun} `{name}` is not supported yet; expected one of {}",
            code_list(known)
        )
    } else if let Some(close) = catalog::suggest(&name, known.iter().copied()) {
        guess = catalog::lookup(entries, close);
        format!("unknown {noun} `{name}`; did you mean `{close}`?")
    } else {
        format!(
            "unknown {noun} `{name}`; expected one of {}",
            code_list(known)
        )
    };
    Err((Error::new_spanned(&call.name, message), guess))
}

fn check_call<'a, Id>(
    stmt: usize,
    entries: &'static [Entry<Id>],
    category: Category,
    call: &'a Call,
    errors: &mut Errors,
) -> Option<Checked<'a, Id>> {
    let entry = match check_name(entries, category, call) {
        Ok(entry) => entry,
        Err((error, guess)) => {
            errors.push(error);
            guess?
        }
    };
    Some(Checked {
        stmt,
        entry,
        call,
        args: args::bind(entry, call, errors),
    })
}

/// A layer's name and arguments (count, kind and range: `args::bind`),
/// then `check_pool_padding`.
fn check_layer<'a>(
    stmt: usize,
    call: &'a Call,
    path: String,
    depth: usize,
    errors: &mut Errors,
) -> LayerSpec<'a> {
    let checked = check_call(stmt, catalog::LAYERS, Category::Layer, call, errors);
    if let Some(layer) = &checked {
        check_pool_padding(layer, errors);
    }
    LayerSpec {
        stmt,
        call,
        checked,
        path,
        depth,
    }
}

/// Rule: a pool's padding is at most half its window, per dimension;
/// PyTorch raises "pad should be at most half of effective kernel size"
/// otherwise (a window could hold padding only, and a max pool return
/// `-inf`). Checked when both values are valid.
fn check_pool_padding(layer: &Checked<LayerId>, errors: &mut Errors) {
    if !matches!(layer.entry.id, LayerId::MaxPool2d | LayerId::AvgPool2d) {
        return;
    }
    let args = &layer.args;
    let (Some(kernel), Some(padding), Some(expr)) = (
        args.pair("kernel_size"),
        args.pair("padding"),
        args.get("padding").and_then(|arg| arg.expr),
    ) else {
        return;
    };
    if shapes::pool_padding_fits(kernel, padding) {
        return;
    }
    let square = kernel.0 == kernel.1 && padding.0 == padding.1;
    let (dim, k, p) = if padding.0 > kernel.0 / 2 {
        (".0", kernel.0, padding.0)
    } else {
        (".1", kernel.1, padding.1)
    };
    let dim = if square { "" } else { dim };
    errors.push(Error::new_spanned(
        expr,
        format!(
            "expected `padding{dim}` at most half of `kernel_size{dim}` ({k} / 2 = {}), found {p}",
            k / 2
        ),
    ));
}

/// The loss's name and arguments.
fn check_loss<'a>(stmt: usize, call: &'a Call, errors: &mut Errors) -> Option<Checked<'a, LossId>> {
    check_call(stmt, catalog::LOSSES, Category::Loss, call, errors)
}

/// The optimizer's name and arguments, then `check_nesterov`.
fn check_optim<'a>(
    stmt: usize,
    call: &'a Call,
    errors: &mut Errors,
) -> Option<Checked<'a, OptimId>> {
    let optim = check_call(stmt, catalog::OPTIMS, Category::Optim, call, errors)?;
    check_nesterov(&optim, errors);
    Some(optim)
}

/// Rule: Nesterov momentum needs a momentum and zero dampening; PyTorch's
/// `SGD` raises `ValueError` otherwise. Checked only when both values are
/// valid, so a bad `momentum` is not reported twice.
fn check_nesterov(optim: &Checked<OptimId>, errors: &mut Errors) {
    let args = &optim.args;
    let Some(nesterov) = args.get("nesterov") else {
        return;
    };
    let (Value::Bool(true), Some(expr), Some(momentum), Some(dampening)) = (
        &nesterov.value,
        nesterov.expr,
        args.number("momentum"),
        args.number("dampening"),
    ) else {
        return;
    };
    let mut expected = Vec::new();
    let mut found = Vec::new();
    if momentum <= 0.0 {
        expected.push("`momentum` > 0");
        found.push(format!("momentum {momentum}"));
    }
    if dampening != 0.0 {
        expected.push("`dampening` = 0");
        found.push(format!("dampening {dampening}"));
    }
    if !expected.is_empty() {
        errors.push(Error::new_spanned(
            expr,
            format!(
                "`nesterov = true` expects {}, found {}",
                expected.join(" and "),
                found.join(" and ")
            ),
        ));
    }
}

/// Rule: `Softmax` only as the last layer. Its output sums to 1 per sample,
/// which is only meaningful as probabilities; inside the network it is almost
/// always a mistake (and the runtime's backward assumes it is last). Inside
/// a block it is never last.
fn check_softmax_last(layers: &[LayerSpec], nodes: &[Node], errors: &mut Errors) {
    for layer in layers.iter().filter(|l| l.depth > 0) {
        if layer.id() == Some(LayerId::Softmax) {
            errors.at(layer.stmt);
            errors.push(Error::new_spanned(
                &layer.call.name,
                "expected `Softmax` only as the last layer, found it inside a block",
            ));
        }
    }
    // A loss written as a layer after `Softmax` (`Softmax; CrossEntropy;`)
    // is reported as such; it does not make `Softmax` not last.
    let top: Vec<&Node> = nodes
        .iter()
        .filter(|node| match node {
            Node::Layer(i) => bare_keyword(layers[*i].call).is_none(),
            Node::Block(_) | Node::Input(_) => true,
        })
        .collect();
    for pair in top.windows(2) {
        let [Node::Layer(softmax), next] = pair else {
            continue;
        };
        let softmax = &layers[*softmax];
        if softmax.id() == Some(LayerId::Softmax) {
            let next = match next {
                Node::Layer(i) => layers[*i].call.name.to_string(),
                Node::Block(block) => block.keyword.to_string(),
                Node::Input(_) => "an input".to_string(),
            };
            errors.at(softmax.stmt);
            errors.push(Error::new_spanned(
                &softmax.call.name,
                format!("expected `Softmax` only as the last layer, found it before `{next}`"),
            ));
        }
    }
}

/// Rule: `CrossEntropy` and `BCE` take logits and apply log-softmax / the
/// sigmoid themselves (PyTorch's `CrossEntropyLoss`, `BCEWithLogitsLoss`).
/// A `Softmax` / `Sigmoid` before them squashes twice: it trains, badly, with
/// vanishing gradients, and no error would ever show it.
fn check_logits(layers: &[LayerSpec], nodes: &[Node], loss: &Checked<LossId>, errors: &mut Errors) {
    let Some(Node::Layer(last)) = nodes.last() else {
        return;
    };
    let last = &layers[*last];
    let applies = match (last.id(), loss.entry.id) {
        (Some(LayerId::Softmax), LossId::CrossEntropy) => "log-softmax",
        (Some(LayerId::Sigmoid), LossId::BCE) => "the sigmoid",
        _ => return,
    };
    errors.at(last.stmt);
    let (layer, loss) = (&last.call.name, loss.entry.name);
    errors.push(Error::new_spanned(
        layer,
        format!(
            "`{loss}` expects logits, found the output of `{layer}`: \
             remove `{layer}`, `{loss}` applies {applies} itself"
        ),
    ));
}

/// Rule: `CrossEntropy` needs a logit per class, at least 2 (one output is a
/// yes/no: `BCE`), as flat features (PyTorch would read an image
/// `[C, H, W]` as a class per pixel); `BCE`'s `pos_weight` has one value
/// (broadcast) or one per output, as PyTorch broadcasts it.
fn check_outputs(loss: &Checked<LossId>, output: Dims, last: &str, errors: &mut Errors) {
    errors.at(loss.stmt);
    let outputs = output.len();
    match loss.entry.id {
        LossId::CrossEntropy if matches!(output, Dims::Image { .. }) => {
            let shape: Vec<String> = output.shape().iter().map(usize::to_string).collect();
            errors.push(Error::new_spanned(
                &loss.call.name,
                format!(
                    "`CrossEntropy` expects one logit per class, but the last layer (`{last}`) \
                     produces an image [{}]: add `Flatten;` and a `Linear` to the class count",
                    shape.join(", ")
                ),
            ));
        }
        LossId::CrossEntropy if outputs < 2 => errors.push(Error::new_spanned(
            &loss.call.name,
            format!(
                "`CrossEntropy` expects at least 2 outputs (one per class), found {outputs}; \
                 for a yes/no target use 1 output with `BCE`"
            ),
        )),
        LossId::BCE => {
            let Some(arg) = loss.args.get("pos_weight") else {
                return;
            };
            let (Value::Weights(weights), Some(expr)) = (&arg.value, arg.expr) else {
                return;
            };
            if weights.len() != 1 && weights.len() != outputs {
                let expected = if outputs == 1 {
                    "1 value".to_owned()
                } else {
                    format!("1 or {outputs} values (one per output)")
                };
                errors.push(Error::new_spanned(
                    expr,
                    format!(
                        "expected `pos_weight` with {expected}, found {}",
                        weights.len()
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// The checked model; `None` only if something was not checked (a bug).
#[allow(clippy::too_many_arguments)]
fn build(
    input: &Input,
    dtype: Option<Dtype>,
    layers: &[LayerSpec],
    nodes: &[Node],
    shapes: &Shapes,
    params: &[Option<Vec<usize>>],
    loss: Option<Checked<LossId>>,
    optim: Option<Checked<OptimId>>,
) -> Option<Model> {
    let model_input = shapes.input?;
    let several = shapes.inputs.len() > 1;
    let mut graph = GraphBuilder {
        specs: layers,
        shapes,
        params,
        input_slots: vec![None; shapes.inputs.len()],
        several,
        layers: (0..layers.len()).map(|_| None).collect(),
        graph: Graph {
            ops: Vec::new(),
            widths: vec![model_input.len()],
            output: 0,
            rows: Vec::new(),
        },
    };
    graph.graph.output = graph.chain(nodes, 0)?;
    let ir_layers = graph.layers.into_iter().collect::<Option<Vec<Layer>>>()?;
    let mut offset = 0;
    let names = input_names(input);
    let inputs = shapes
        .inputs
        .iter()
        .zip(names)
        .map(|((dims, text), name)| {
            let named = NamedInput {
                name,
                dims: *dims,
                offset,
                text: text.clone(),
            };
            offset += dims.len();
            named
        })
        .collect::<Vec<NamedInput>>();
    // The table lists named inputs first.
    let mut graph = graph.graph;
    let named_rows = inputs.iter().filter(|i| !i.name.is_empty()).map(|i| Row {
        name: String::new(),
        depth: 0,
        text: i.text.clone(),
        output: i.dims,
        params: 0,
    });
    graph.rows.splice(0..0, named_rows.collect::<Vec<_>>());
    let (loss, optim) = (loss?, optim?);
    Some(Model {
        attrs: input.attrs.clone(),
        vis: input.vis.clone(),
        name: input.name.clone(),
        dtype: dtype?,
        input: model_input,
        inputs,
        layers: ir_layers,
        graph,
        loss: Loss {
            kind: loss_kind(&loss)?,
            span: loss.call.name.span(),
        },
        optim: Optim {
            kind: optim_kind(&optim)?,
            span: optim.call.name.span(),
        },
        span: Span::call_site(),
    })
}

/// Lays the checked nodes out as slots and steps.
struct GraphBuilder<'s, 'a> {
    specs: &'s [LayerSpec<'a>],
    shapes: &'s Shapes,
    params: &'s [Option<Vec<usize>>],
    /// The slot of each named input once a branch has started with it.
    input_slots: Vec<Option<usize>>,
    /// Several inputs: each is sliced from slot 0 into its own.
    several: bool,
    layers: Vec<Option<Layer>>,
    graph: Graph,
}

impl GraphBuilder<'_, '_> {
    fn slot(&mut self, dims: Dims) -> usize {
        self.graph.widths.push(dims.len());
        self.graph.widths.len() - 1
    }

    /// `nodes` from slot `src`; returns the slot of the last one's output.
    fn chain(&mut self, nodes: &[Node], mut src: usize) -> Option<usize> {
        for node in nodes {
            src = match node {
                Node::Layer(i) => self.layer(*i, src)?,
                Node::Block(block) => self.block(block, src)?,
                Node::Input(k) => self.input(*k)?,
            };
        }
        Some(src)
    }

    /// The slot of input `k`: slot 0 for a model's only input, else its
    /// columns of slot 0, copied once.
    fn input(&mut self, k: usize) -> Option<usize> {
        if !self.several {
            return Some(0);
        }
        if let Some(slot) = *self.input_slots.get(k)? {
            return Some(slot);
        }
        let (dims, _) = *self.shapes.inputs.get(k)?;
        let offset = self.shapes.inputs[..k].iter().map(|(d, _)| d.len()).sum();
        let dst = self.slot(dims);
        self.graph.ops.push(Op::Slice { offset, dst });
        self.input_slots[k] = Some(dst);
        Some(dst)
    }

    fn layer(&mut self, i: usize, src: usize) -> Option<usize> {
        let spec = self.specs.get(i)?;
        let checked = spec.checked.as_ref()?;
        let (input, output) = (*self.shapes.layers.get(i)?)?;
        let kind = layer_kind(checked, input)?;
        let dst = match kind {
            LayerKind::Flatten | LayerKind::Identity => src,
            _ => self.slot(output),
        };
        let params = self.params.get(i)?.clone()?;
        let text = self.shapes.texts.get(i)?.clone();
        self.graph.rows.push(Row {
            name: spec.path.clone(),
            depth: spec.depth,
            text,
            output,
            params: params.iter().sum(),
        });
        self.layers[i] = Some(Layer {
            kind,
            id: i,
            path: spec.path.clone(),
            src,
            dst,
            input,
            output,
            span: spec.call.name.span(),
            params,
        });
        self.graph.ops.push(Op::Layer(i));
        Some(dst)
    }

    fn block(&mut self, block: &BlockSpec, src: usize) -> Option<usize> {
        let output = (*self.shapes.blocks.get(block.id)?)?;
        let row = self.graph.rows.len();
        self.graph.rows.push(Row {
            name: block.path.clone(),
            depth: block.depth,
            text: String::new(),
            output,
            params: 0,
        });
        let mut srcs = Vec::new();
        for branch in &block.branches {
            srcs.push(self.chain(branch, src)?);
        }
        let kind = match block.kind {
            BlockKind::Residual => {
                srcs.push(match &block.shortcut {
                    Some(nodes) => self.chain(nodes, src)?,
                    None => src,
                });
                JoinKind::Add
            }
            BlockKind::Add => JoinKind::Add,
            BlockKind::Concat => JoinKind::Concat,
        };
        let widths: Vec<usize> = srcs.iter().map(|&s| self.graph.widths[s]).collect();
        let text = match (block.kind, &block.shortcut) {
            (BlockKind::Residual, None) => "residual: body + input".to_owned(),
            (BlockKind::Residual, Some(_)) => "residual: body + shortcut".to_owned(),
            (BlockKind::Add, _) => format!("add: {} branches", srcs.len()),
            (BlockKind::Concat, _) => {
                let (parts, unit): (Vec<usize>, &str) = match output {
                    Dims::Flat(_)
                    | Dims::Category(_)
                    | Dims::Sequence { .. }
                    | Dims::Tokens { .. } => (widths.clone(), "features"),
                    Dims::Image { height, width, .. } => (
                        widths.iter().map(|w| w / (height * width).max(1)).collect(),
                        "channels",
                    ),
                };
                let parts: Vec<String> = parts.iter().map(usize::to_string).collect();
                let total = match output {
                    Dims::Flat(n) => n,
                    Dims::Category(_) => 1,
                    Dims::Sequence { features, .. } => features,
                    Dims::Tokens { .. } => 1,
                    Dims::Image { channels, .. } => channels,
                };
                format!("concat: {} = {total} {unit}", parts.join(" + "))
            }
        };
        let dst = self.slot(output);
        let params = self.graph.rows[row + 1..]
            .iter()
            .filter(|r| r.depth == block.depth + 1)
            .map(|r| r.params)
            .sum();
        self.graph.rows[row].text = text;
        self.graph.rows[row].params = params;
        self.graph.ops.push(Op::Join { kind, srcs, dst });
        Some(dst)
    }
}

fn layer_kind(layer: &Checked<LayerId>, input: Dims) -> Option<LayerKind> {
    let args = &layer.args;
    Some(match layer.entry.id {
        LayerId::Linear => LayerKind::Linear {
            bias: args.bool("bias")?,
        },
        LayerId::ReLU => LayerKind::ReLU,
        LayerId::LeakyReLU => LayerKind::LeakyReLU {
            negative_slope: args.number("negative_slope")?,
        },
        LayerId::Sigmoid => LayerKind::Sigmoid,
        LayerId::Tanh => LayerKind::Tanh,
        LayerId::GELU => LayerKind::GELU,
        LayerId::Softmax => LayerKind::Softmax,
        LayerId::Conv2d => LayerKind::Conv2d {
            in_channels: args.size("in_channels").or(match input {
                Dims::Image { channels, .. } => Some(channels),
                Dims::Flat(_) | Dims::Category(_) | Dims::Sequence { .. } | Dims::Tokens { .. } => {
                    None
                }
            })?,
            out_channels: args.size("out_channels")?,
            kernel_size: args.pair("kernel_size")?,
            stride: args.pair("stride")?,
            padding: args.pair("padding")?,
            bias: args.bool("bias")?,
        },
        LayerId::MaxPool2d | LayerId::AvgPool2d => {
            let kernel_size = args.pair("kernel_size")?;
            let stride = match args.get("stride")?.value {
                Value::Unset => kernel_size,
                _ => args.pair("stride")?,
            };
            let padding = args.pair("padding")?;
            if layer.entry.id == LayerId::MaxPool2d {
                LayerKind::MaxPool2d {
                    kernel_size,
                    stride,
                    padding,
                }
            } else {
                LayerKind::AvgPool2d {
                    kernel_size,
                    stride,
                    padding,
                }
            }
        }
        LayerId::Flatten => LayerKind::Flatten,
        LayerId::Identity => LayerKind::Identity,
        LayerId::Rnn | LayerId::Lstm | LayerId::Gru => LayerKind::Recurrent {
            cell: match layer.entry.id {
                LayerId::Rnn => crate::ir::Cell::Rnn,
                LayerId::Lstm => crate::ir::Cell::Lstm,
                _ => crate::ir::Cell::Gru,
            },
            hidden_size: args.size("hidden_size")?,
            num_layers: args.size("num_layers")?,
            bidirectional: args.bool("bidirectional")?,
        },
        LayerId::Last => LayerKind::Last,
        LayerId::Conv1d => LayerKind::Conv1d {
            in_channels: args.size("in_channels").or(match input {
                Dims::Sequence { features, .. } => Some(features),
                _ => None,
            })?,
            out_channels: args.size("out_channels")?,
            kernel_size: args.pair("kernel_size")?.0,
            stride: args.pair("stride")?.0,
            padding: args.pair("padding")?.0,
        },
        LayerId::MaxPool1d | LayerId::AvgPool1d => {
            let kernel_size = args.pair("kernel_size")?.0;
            LayerKind::Pool1d {
                max: layer.entry.id == LayerId::MaxPool1d,
                kernel_size,
                stride: match args.get("stride")?.value {
                    Value::Unset => kernel_size,
                    _ => args.pair("stride")?.0,
                },
                padding: args.pair("padding")?.0,
            }
        }
        LayerId::GlobalAvgPool1d | LayerId::GlobalMaxPool1d => LayerKind::GlobalPool1d {
            max: layer.entry.id == LayerId::GlobalMaxPool1d,
        },
        LayerId::Embedding => LayerKind::Embedding {
            num_embeddings: args.size("num_embeddings")?,
            embedding_dim: args.size("embedding_dim")?,
        },
        LayerId::BatchNorm | LayerId::BatchNorm1d | LayerId::BatchNorm2d => LayerKind::BatchNorm {
            eps: args.number("eps")?,
            momentum: args.number("momentum")?,
        },
        LayerId::LayerNorm => LayerKind::LayerNorm {
            eps: args.number("eps")?,
        },
        LayerId::Dropout => LayerKind::Dropout {
            p: args.number("p")?,
        },
    })
}

fn loss_kind(loss: &Checked<LossId>) -> Option<LossKind> {
    let args = &loss.args;
    Some(match loss.entry.id {
        LossId::MSE => LossKind::MSE,
        LossId::L1 => LossKind::L1,
        LossId::Huber => LossKind::Huber {
            delta: args.number("delta")?,
        },
        LossId::BCE => LossKind::BCE {
            pos_weight: args.weights("pos_weight")?,
        },
        LossId::CrossEntropy => LossKind::CrossEntropy {
            label_smoothing: args.number("label_smoothing")?,
        },
    })
}

fn optim_kind(optim: &Checked<OptimId>) -> Option<OptimKind> {
    let args = &optim.args;
    let adam = |decoupled| {
        Some(OptimKind::Adam {
            lr: args.number("lr")?,
            betas: args.betas("betas")?,
            eps: args.number("eps")?,
            weight_decay: args.number("weight_decay")?,
            amsgrad: args.bool("amsgrad")?,
            decoupled,
        })
    };
    match optim.entry.id {
        OptimId::SGD => Some(OptimKind::SGD {
            lr: args.number("lr")?,
            momentum: args.number("momentum")?,
            dampening: args.number("dampening")?,
            nesterov: args.bool("nesterov")?,
            weight_decay: args.number("weight_decay")?,
        }),
        OptimId::Adam => adam(false),
        OptimId::AdamW => adam(true),
        OptimId::RMSprop => Some(OptimKind::RMSprop {
            lr: args.number("lr")?,
            alpha: args.number("alpha")?,
            eps: args.number("eps")?,
            weight_decay: args.number("weight_decay")?,
            momentum: args.number("momentum")?,
            centered: args.bool("centered")?,
        }),
        OptimId::Adagrad => Some(OptimKind::Adagrad {
            lr: args.number("lr")?,
            lr_decay: args.number("lr_decay")?,
            weight_decay: args.number("weight_decay")?,
            initial_accumulator_value: args.number("initial_accumulator_value")?,
            eps: args.number("eps")?,
        }),
    }
}

#[cfg(test)]
mod tests;
