//! The `model!` compiler behind macrograd.
//!
//! Users call `macrograd::model!`, a `macro_rules!` wrapper that forwards
//! `$crate` here as the first tokens, followed by `;` and the user's model:
//!
//! ```text
//! model_impl! { $crate; Linear(10, 1); loss MSE; optim SGD(0.01) }
//! ```
//!
//! The pipeline is parse (`ast`, `parse`) -> check (`catalog`, `check`, into
//! `ir`) -> expand (`expand`), with `fallback` emitting the errors and a stub
//! when checking fails. Nothing here panics on user input, and no
//! arithmetic on the user's numbers wraps: every size, every tensor and the
//! parameter count are checked against a limit of 2^32 (`check::sizes`),
//! with exact (checked) products, so the expander only writes literals.

mod ast;
mod catalog;
mod check;
mod expand;
mod fallback;
mod ir;
mod parse;
mod runtime;

use proc_macro::TokenStream;
use proc_macro2::{TokenStream as TokenStream2, TokenTree};

/// Not public API: use `macrograd::model!`.
#[doc(hidden)]
#[proc_macro]
pub fn model_impl(input: TokenStream) -> TokenStream {
    expand_input(input.into()).into()
}

/// Splits the forwarded crate path from the model, parses, checks, expands.
fn expand_input(input: TokenStream2) -> TokenStream2 {
    let (krate, body) = split_crate_path(input);
    let ast = match syn::parse2::<ast::Input>(body) {
        Ok(ast) => ast,
        Err(error) => return error.to_compile_error(),
    };
    match check::model(&ast) {
        Ok(model) => expand::model(&krate, &model),
        Err(errors) => fallback::expand(&krate, &ast, errors),
    }
}

/// The tokens before the first top-level `;` are the runtime crate's path.
fn split_crate_path(input: TokenStream2) -> (TokenStream2, TokenStream2) {
    let mut krate = TokenStream2::new();
    let mut iter = input.into_iter();
    for tree in iter.by_ref() {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ';' => break,
            _ => krate.extend(std::iter::once(tree)),
        }
    }
    (krate, iter.collect())
}

#[cfg(test)]
mod tests;
