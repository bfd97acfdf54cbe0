//! Expansion tests: the generated code parses as Rust and has the expected
//! parts. (Behaviour is tested in the workspace's `tests/`.)

use quote::quote;

fn expand(body: proc_macro2::TokenStream) -> syn::File {
    let out = crate::expand_input(quote!(::macrograd; #body));
    match syn::parse2::<syn::File>(out.clone()) {
        Ok(file) => file,
        Err(_) => {
            // The expression form is a block: wrap it to parse it.
            syn::parse2::<syn::File>(quote!(fn __wrap() { let _ = #out; }))
                .unwrap_or_else(|e| panic!("expansion does not parse: {e}\n{out}"))
        }
    }
}

fn pretty(body: proc_macro2::TokenStream) -> String {
    prettyplease::unparse(&expand(body))
}

#[test]
fn item_form_expands_to_a_struct_and_impls() {
    let code = pretty(quote! {
        /// A regressor.
        pub struct Net;
        Linear(10, 64); ReLU; Linear(_, 1); loss MSE; optim SGD(0.01)
    });
    assert!(code.contains("pub struct Net"), "{code}");
    assert!(
        code.contains("impl ::macrograd::__private::Model for Net"),
        "{code}"
    );
    assert!(code.contains("const INPUTS: usize = 10usize"), "{code}");
    assert!(code.contains("\"2.weight\""), "{code}");
    // The first Linear computes no input gradient: no `__g0` buffer.
    assert!(!code.contains("__g0"), "{code}");
    assert!(code.contains("/// A regressor."), "{code}");
}

#[test]
fn expression_form_is_a_block_ending_in_new() {
    let code = pretty(quote! { Linear(10, 1); loss MSE; optim SGD(0.01) });
    assert!(code.contains("__MacrogradModel::new()"), "{code}");
}

#[test]
fn cross_entropy_targets_are_classes_and_f64_is_used() {
    let code = pretty(quote! {
        dtype f64; input 4; Linear(_, 8); Tanh; Linear(_, 3); loss CrossEntropy; optim Adam(lr = 0.01)
    });
    assert!(
        code.contains("type Target = ::macrograd::__private::Classes"),
        "{code}"
    );
    assert!(code.contains("type Elem = f64"), "{code}");
}

#[test]
fn errors_expand_to_compile_errors_and_a_stub() {
    let out = crate::expand_input(
        quote!(::macrograd; pub struct Net; Linaer(10, 1); loss MSE; optim SGD(0.01)),
    );
    let text = out.to_string();
    assert!(text.contains("compile_error"), "{text}");
    assert!(text.contains("Invalid"), "{text}");
}

#[test]
fn syntax_errors_do_not_panic() {
    for input in [
        quote!(),
        quote!(;;),
        quote!(Linear(,);),
        quote!(loss),
        quote!(optim 3),
    ] {
        let out = crate::expand_input(quote!(::macrograd; #input));
        assert!(out.to_string().contains("compile_error"), "{input}: {out}");
    }
}
