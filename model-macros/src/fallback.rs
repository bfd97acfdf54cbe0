//! On check errors: the errors, plus a stand-in for the model so that the
//! user's code that uses it (`Net::new()`, `model.fit(..)`,
//! `net.forward_rows(..)`) does not add follow-on errors to the real ones.
//!
//! The stand-in has the model's element type and target kind when the
//! declaration says them (`dtype f64;`, `loss CrossEntropy`), so code
//! written for them type-checks. Expands to something like
//! `compile_error!("..."); pub type Net = $crate::__private::Invalid<f64, Classes>;`
//! (item form) or `{ compile_error!("..."); $crate::__private::Invalid::<f32, Rows>::new() }`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Input, StmtKind};

pub fn expand(krate: &TokenStream, input: &Input, errors: syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let mut dtype = quote!(::core::primitive::f32);
    let mut target = quote!(#krate::__private::Rows);
    // A `struct` written after other statements is an error, but still
    // names the model the user's code refers to.
    let mut named = input.name.as_ref().map(|n| (&input.vis, n));
    for stmt in &input.stmts {
        match &stmt.kind {
            StmtKind::Dtype { ty, .. } if ty == "f64" => dtype = quote!(::core::primitive::f64),
            StmtKind::Loss { call, .. } if call.name == "CrossEntropy" => {
                target = quote!(#krate::__private::Classes)
            }
            StmtKind::Struct(s) if named.is_none() => named = Some((&s.vis, &s.name)),
            _ => {}
        }
    }
    let stand_in = quote!(#krate::__private::Invalid<#dtype, #target>);
    match named {
        Some((vis, name)) => {
            let attrs = input.attrs.iter().filter(|a| a.path().is_ident("doc"));
            quote! {
                #errors
                #(#attrs)*
                #vis type #name = #stand_in;
            }
        }
        None => quote! {
            {
                #errors
                <#stand_in>::new()
            }
        },
    }
}
