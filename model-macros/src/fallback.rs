//! On check errors: the errors, plus a stand-in for the model so that the
//! user's code that uses it (`Net::new()`, `model.fit(..)`) does not add
//! follow-on errors to the real ones.
//!
//! Expands to something like
//! `compile_error!("..."); pub type Net = $crate::__private::Invalid;`
//! (item form) or `{ compile_error!("..."); $crate::__private::Invalid::new() }`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;

pub fn expand(krate: &TokenStream, input: &Input, errors: syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    match &input.name {
        Some(name) => {
            let vis = &input.vis;
            let attrs = input.attrs.iter().filter(|a| a.path().is_ident("doc"));
            quote! {
                #errors
                #(#attrs)*
                #vis type #name = #krate::__private::Invalid;
            }
        }
        None => quote! {
            {
                #errors
                #krate::__private::Invalid::new()
            }
        },
    }
}
