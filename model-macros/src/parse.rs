//! `impl Parse` for the ast: the grammar in `ast`'s doc, parsed loosely.
//!
//! Only the shape of statements is enforced here (names, parentheses, `=`,
//! `;`); a syntax error stops at the first, as in rustc. Everything that can be
//! wrong while still parsing (unknown names, argument kinds and ranges,
//! statement order and counts) is left to `check`, which reports all of them.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Attribute, Expr, Ident, Result, Token, Visibility};

use crate::ast::{Arg, Block, BlockArg, Call, Chain, Element, Input, Stmt, StmtKind, StructStmt};

impl Parse for Input {
    fn parse(input: ParseStream) -> Result<Self> {
        let end = last_span(input);
        let attrs = input.call(Attribute::parse_outer)?;
        let mut vis = Visibility::Inherited;
        let mut name = None;
        let mut stmts = Vec::new();
        let mut first = true;
        loop {
            // Stray `;` (an empty statement, as Rust allows) are skipped.
            while input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            if input.is_empty() {
                break;
            }
            let stmt_attrs = if first {
                Vec::new()
            } else {
                input.call(Attribute::parse_outer)?
            };
            let kind: StmtKind = input.parse()?;
            // A block ends at its `}`; a `;` after it is allowed, not needed.
            let semi = if input.is_empty()
                || (matches!(kind, StmtKind::Block(_)) && !input.peek(Token![;]))
            {
                None
            } else {
                Some(input.parse::<Token![;]>()?)
            };
            match kind {
                StmtKind::Struct(item) if first => {
                    vis = item.vis;
                    name = Some(item.name);
                }
                kind => stmts.push(Stmt {
                    attrs: stmt_attrs,
                    kind,
                    semi,
                }),
            }
            first = false;
        }
        Ok(Input {
            attrs,
            vis,
            name,
            stmts,
            end,
        })
    }
}

impl Parse for StmtKind {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(Token![pub]) || input.peek(Token![struct]) {
            return input.parse().map(StmtKind::Struct);
        }
        if !input.peek(syn::Ident) {
            return Err(input.error(
                "expected a layer (e.g. `Linear(10, 1)`), `input`, `dtype`, `loss` or `optim`",
            ));
        }
        let word = input.fork().parse::<Ident>()?.to_string();
        match word.as_str() {
            "dtype" => {
                let keyword = input.parse()?;
                if !input.peek(syn::Ident) {
                    return Err(input.error("expected `f32` or `f64` after `dtype`"));
                }
                let ty = input.parse()?;
                Ok(StmtKind::Dtype { keyword, ty })
            }
            "input" => {
                let keyword = input.parse()?;
                let name =
                    if input.peek(syn::Ident) && input.peek2(Token![:]) && !input.peek2(Token![::])
                    {
                        Some((input.parse()?, input.parse()?))
                    } else {
                        None
                    };
                if input.is_empty() || input.peek(Token![;]) {
                    return Err(input.error(
                        "expected a feature count or an image shape after `input`, \
                         e.g. `input 10` or `input [1, 28, 28]`",
                    ));
                }
                let size = input.parse()?;
                Ok(StmtKind::Input {
                    keyword,
                    name,
                    size,
                })
            }
            "loss" => {
                let keyword = input.parse()?;
                if !input.peek(syn::Ident) {
                    return Err(input.error("expected a loss after `loss`, e.g. `loss MSE`"));
                }
                let call = input.parse()?;
                Ok(StmtKind::Loss { keyword, call })
            }
            "optim" => {
                let keyword = input.parse()?;
                if !input.peek(syn::Ident) {
                    return Err(input.error(
                        "expected an optimizer after `optim`, e.g. `optim Adam(lr = 1e-3)`",
                    ));
                }
                let call = input.parse()?;
                Ok(StmtKind::Optim { keyword, call })
            }
            _ if starts_block(input) => input.parse().map(StmtKind::Block),
            _ => input.parse().map(StmtKind::Layer),
        }
    }
}

/// The words that open a block.
pub const BLOCK_WORDS: [&str; 3] = ["residual", "concat", "add"];

/// Whether the input starts with a block: one of its words followed by
/// `{` or `(`.
fn starts_block(input: ParseStream) -> bool {
    let fork = input.fork();
    let Ok(word) = fork.parse::<Ident>() else {
        return false;
    };
    BLOCK_WORDS.contains(&word.to_string().as_str())
        && (fork.peek(syn::token::Brace) || fork.peek(syn::token::Paren))
}

impl Parse for Block {
    fn parse(input: ParseStream) -> Result<Self> {
        let keyword: Ident = input.parse()?;
        let mut args = Vec::new();
        let paren = if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            while !content.is_empty() {
                args.push(content.parse()?);
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            Some(paren)
        } else {
            None
        };
        if !input.peek(syn::token::Brace) {
            return Err(input.error(format!(
                "expected `{{` after `{keyword}`: its layers go in braces, e.g. \
                 `{keyword} {{ Linear(_, 16); ReLU }}`"
            )));
        }
        let content;
        let brace = braced!(content in input);
        let mut items = Vec::new();
        loop {
            while content.peek(Token![;]) {
                content.parse::<Token![;]>()?;
            }
            if content.is_empty() {
                break;
            }
            let chain: Chain = content.parse()?;
            let ends_in_block = matches!(chain.elems.last(), Some(Element::Block(_)));
            items.push(chain);
            if !content.is_empty() && (!ends_in_block || content.peek(Token![;])) {
                content.parse::<Token![;]>()?;
            }
        }
        Ok(Block {
            keyword,
            paren,
            args,
            brace,
            items,
        })
    }
}

impl Parse for BlockArg {
    fn parse(input: ParseStream) -> Result<Self> {
        let name = input.parse()?;
        let eq_token = input.parse()?;
        if input.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let calls = content.parse_terminated(Call::parse, Token![,])?;
            Ok(BlockArg {
                name,
                eq_token,
                bracket: Some(bracket),
                calls: calls.into_iter().collect(),
            })
        } else {
            Ok(BlockArg {
                name,
                eq_token,
                bracket: None,
                calls: vec![input.parse()?],
            })
        }
    }
}

impl Parse for Chain {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut elems = vec![input.parse()?];
        while input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            elems.push(input.parse()?);
        }
        Ok(Chain { elems })
    }
}

impl Parse for Element {
    fn parse(input: ParseStream) -> Result<Self> {
        if !input.peek(syn::Ident) {
            return Err(input.error("expected a layer (e.g. `Linear(_, 16)`) or a block"));
        }
        if starts_block(input) {
            input.parse().map(Element::Block)
        } else {
            input.parse().map(Element::Layer)
        }
    }
}

impl Parse for StructStmt {
    fn parse(input: ParseStream) -> Result<Self> {
        Ok(StructStmt {
            vis: input.parse()?,
            struct_token: input.parse()?,
            name: input.parse()?,
        })
    }
}

impl Parse for Call {
    fn parse(input: ParseStream) -> Result<Self> {
        let name = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Ok(Call {
                name,
                paren: None,
                args: Punctuated::new(),
            });
        }
        let content;
        let paren = parenthesized!(content in input);
        let args = content.parse_terminated(Arg::parse, Token![,])?;
        Ok(Call {
            name,
            paren: Some(paren),
            args,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> Result<Self> {
        let named = input.peek(syn::Ident)
            && input.peek2(Token![=])
            && !input.peek2(Token![==])
            && !input.peek2(Token![=>]);
        if named {
            Ok(Arg::Named {
                name: input.parse()?,
                eq_token: input.parse()?,
                value: input.parse()?,
            })
        } else {
            input.parse::<Expr>().map(Arg::Positional)
        }
    }
}

/// The span of the input's last token (call site when the input is empty).
fn last_span(input: ParseStream) -> Span {
    let mut span = Span::call_site();
    let mut cursor = input.cursor();
    while let Some((tree, next)) = cursor.token_tree() {
        span = tree.span();
        cursor = next;
    }
    span
}
