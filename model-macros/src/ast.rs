//! The surface syntax of `model!`, as written, with every token's span.
//!
//! The grammar (statements separated by `;`, the last `;` optional):
//!
//! ```text
//! Input     := Attr* Statement (";" Statement)* ";"?
//! Statement := Attr* Vis "struct" Ident          -- first statement only (checked)
//!            | "dtype" Ident                     -- `f32` | `f64` (checked)
//!            | "input" (Ident ":")? Expr         -- `10`, an image `[C, H, W]`, `island: category(3)` (checked)
//!            | Call                              -- a layer: `ReLU`, `Linear(10, 64)`, `Conv2d(1, 8, 3)`
//!            | Block                             -- `residual { .. }`, `concat { .. }`, `add { .. }`
//!            | "loss" Call                       -- `loss MSE`, `loss Huber(delta = 0.5)`
//!            | "optim" Call                      -- `optim SGD(0.01, momentum = 0.9)`
//! Call      := Ident ("(" Arg ("," Arg)* ","? ")")?
//! Arg       := Expr | Ident "=" Expr             -- positional, or named
//! Block     := BlockWord ("(" BlockArg ("," BlockArg)* ","? ")")? "{" Chain (";" Chain)* ";"? "}"
//! BlockWord := "residual" | "concat" | "add"
//! BlockArg  := Ident "=" (Call | "[" Call ("," Call)* ","? "]")  -- `shortcut = Conv2d(16, 32, 1)`
//! Chain     := Element ("=>" Element)*           -- a branch of `concat`/`add`; layers in order in `residual`
//! Element   := Call | Block
//! ```
//!
//! Parsing is loose on purpose (see `parse`): any `Ident(args)` is a layer and
//! any expression is an argument value, so that unknown names, wrong kinds and
//! misplaced statements become check errors, all reported at once, instead of
//! a single syntax error.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{token, Attribute, Expr, Ident, Token, Visibility};

/// The whole macro input (after the forwarded crate path).
#[derive(Debug)]
pub struct Input {
    /// Outer attributes and doc comments at the top of the input (before
    /// `struct Name;`, or before the first statement when there is none).
    pub attrs: Vec<Attribute>,
    /// Visibility of the leading `struct Name;` (inherited when absent).
    pub vis: Visibility,
    /// Name from the leading `struct Name;`.
    pub name: Option<Ident>,
    /// The statements after the leading `struct Name;` (all of them when
    /// there is none), in order.
    pub stmts: Vec<Stmt>,
    /// Span of the last token of the input (call site when empty): where
    /// errors about something missing at the end point.
    pub end: Span,
}

/// One statement with its attributes and terminating `;`.
#[derive(Debug)]
pub struct Stmt {
    /// Attributes before a statement other than the first (only doc
    /// comments are accepted there, checked).
    pub attrs: Vec<Attribute>,
    pub kind: StmtKind,
    /// `None` for the last statement when the trailing `;` is left out.
    pub semi: Option<Token![;]>,
}

#[derive(Debug)]
pub enum StmtKind {
    /// `vis struct Name` anywhere but first (a check error).
    Struct(StructStmt),
    /// `dtype f64`.
    Dtype { keyword: Ident, ty: Ident },
    /// `input 10`, `input [1, 28, 28]`; named: `input island: category(3)`.
    Input {
        keyword: Ident,
        name: Option<(Ident, Token![:])>,
        size: Expr,
    },
    /// `Linear(10, 64)`, `ReLU`.
    Layer(Call),
    /// `residual { .. }`, `concat { .. }`, `add { .. }`.
    Block(Block),
    /// `loss MSE`.
    Loss { keyword: Ident, call: Call },
    /// `optim SGD(0.01)`.
    Optim { keyword: Ident, call: Call },
}

/// `vis struct Name`.
#[derive(Debug)]
pub struct StructStmt {
    pub vis: Visibility,
    pub struct_token: Token![struct],
    pub name: Ident,
}

/// A name with optional arguments: `ReLU`, `ReLU()`, `SGD(0.01, momentum = 0.9)`.
#[derive(Debug)]
pub struct Call {
    pub name: Ident,
    pub paren: Option<token::Paren>,
    pub args: Punctuated<Arg, Token![,]>,
}

/// A block: a residual connection or parallel branches, with its body.
#[derive(Debug)]
pub struct Block {
    /// `residual`, `concat` or `add` (checked).
    pub keyword: Ident,
    /// `(shortcut = ...)`, when written.
    pub paren: Option<token::Paren>,
    pub args: Vec<BlockArg>,
    pub brace: token::Brace,
    /// The `;`-separated items: in `residual`, layers run one after the
    /// other; in `concat` and `add`, each item is a branch.
    pub items: Vec<Chain>,
}

/// `shortcut = Conv2d(16, 32, 1, stride = 2)` or `shortcut = [Conv2d(..),
/// BatchNorm]`.
#[derive(Debug)]
pub struct BlockArg {
    pub name: Ident,
    pub eq_token: Token![=],
    pub bracket: Option<token::Bracket>,
    pub calls: Vec<Call>,
}

/// `Conv2d(16, 8, 1) => ReLU`: elements run one after the other.
#[derive(Debug)]
pub struct Chain {
    pub elems: Vec<Element>,
}

#[derive(Debug)]
pub enum Element {
    Layer(Call),
    Block(Block),
}

/// One argument of a call.
#[derive(Debug)]
pub enum Arg {
    /// `0.01`
    Positional(Expr),
    /// `momentum = 0.9`
    Named {
        name: Ident,
        eq_token: Token![=],
        value: Expr,
    },
}

impl ToTokens for Call {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.name.to_tokens(tokens);
        if let Some(paren) = &self.paren {
            paren.surround(tokens, |tokens| self.args.to_tokens(tokens));
        }
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Arg::Positional(value) => value.to_tokens(tokens),
            Arg::Named {
                name,
                eq_token,
                value,
            } => {
                name.to_tokens(tokens);
                eq_token.to_tokens(tokens);
                value.to_tokens(tokens);
            }
        }
    }
}

impl ToTokens for StructStmt {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.vis.to_tokens(tokens);
        self.struct_token.to_tokens(tokens);
        self.name.to_tokens(tokens);
    }
}

impl ToTokens for StmtKind {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            StmtKind::Struct(item) => item.to_tokens(tokens),
            StmtKind::Dtype { keyword, ty } => {
                keyword.to_tokens(tokens);
                ty.to_tokens(tokens);
            }
            StmtKind::Input {
                keyword,
                name,
                size,
            } => {
                keyword.to_tokens(tokens);
                if let Some((name, colon)) = name {
                    name.to_tokens(tokens);
                    colon.to_tokens(tokens);
                }
                size.to_tokens(tokens);
            }
            StmtKind::Layer(call) => call.to_tokens(tokens),
            StmtKind::Block(block) => block.to_tokens(tokens),
            StmtKind::Loss { keyword, call } | StmtKind::Optim { keyword, call } => {
                keyword.to_tokens(tokens);
                call.to_tokens(tokens);
            }
        }
    }
}

impl ToTokens for Stmt {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for attr in &self.attrs {
            attr.to_tokens(tokens);
        }
        self.kind.to_tokens(tokens);
        self.semi.to_tokens(tokens);
    }
}

impl ToTokens for Block {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.keyword.to_tokens(tokens);
        if let Some(paren) = &self.paren {
            paren.surround(tokens, |tokens| {
                for arg in &self.args {
                    arg.name.to_tokens(tokens);
                    arg.eq_token.to_tokens(tokens);
                    match &arg.bracket {
                        Some(bracket) => bracket.surround(tokens, |tokens| {
                            for call in &arg.calls {
                                call.to_tokens(tokens);
                            }
                        }),
                        None => {
                            for call in &arg.calls {
                                call.to_tokens(tokens);
                            }
                        }
                    }
                }
            });
        }
        self.brace.surround(tokens, |tokens| {
            for chain in &self.items {
                for element in &chain.elems {
                    match element {
                        Element::Layer(call) => call.to_tokens(tokens),
                        Element::Block(block) => block.to_tokens(tokens),
                    }
                }
            }
        });
    }
}
