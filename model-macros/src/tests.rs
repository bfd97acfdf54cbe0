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
    assert!(code.contains("impl __mg::Model for Net"), "{code}");
    assert!(
        code.contains("use ::macrograd::__private::{self as __mg, Layer as __Layer};"),
        "{code}"
    );
    assert!(code.contains("const INPUTS: usize = 10usize"), "{code}");
    assert!(code.contains("\"2.weight\""), "{code}");
    // The first Linear computes no input gradient: slot 0 keeps none.
    assert!(
        code.contains("__s0: __mg::Slot::new(10usize, false)"),
        "{code}"
    );
    assert!(
        code.contains("__s1: __mg::Slot::new(64usize, true)"),
        "{code}"
    );
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
    assert!(code.contains("type Target = __mg::Classes"), "{code}");
    assert!(code.contains("type Elem = f64"), "{code}");
    assert!(
        code.contains("__l0: ::macrograd::__private::Linear<::core::primitive::f64>"),
        "{code}"
    );
}

/// The design's CNN: image layers are fields, `Flatten` is free, batch
/// norm's buffers are visited, dropout is seeded apart from the weights.
#[test]
fn cnn_expands_to_image_layers_and_aliases_the_flattened_buffer() {
    let code = pretty(quote! {
        struct Cnn;
        dtype f64;
        input [1, 8, 8];
        Conv2d(1, 4, 3, padding = 1); ReLU; MaxPool2d(2); Conv2d(4, 6, 3); BatchNorm; ReLU;
        Dropout(0.5); Flatten; Linear(_, 10);
        loss CrossEntropy; optim SGD(0.1)
    });
    for part in [
        "__l0: ::macrograd::__private::Conv2d<::core::primitive::f64>",
        "__l1: ::macrograd::__private::ReLU",
        "__l2: ::macrograd::__private::MaxPool2d",
        "__l4: ::macrograd::__private::BatchNorm<::core::primitive::f64>",
        "__l6: ::macrograd::__private::Dropout<::core::primitive::f64>",
        "const INPUTS: usize = 64usize",
        "__mg::BatchNorm::new_2d(",
        "\"4.running_mean\"",
        "\"8.weight\"",
        "\"6.dropout_rng\"",
        "pub fn predict_proba",
        "let __p = __mg::Pass::for_forward(&self.__state);",
        "&[6usize, 2usize, 2usize]",
    ] {
        assert!(code.contains(part), "missing {part}:\n{code}");
    }
    // `Flatten` (layer 7) has no field and moves nothing: the layer after
    // it reads the slot the layer before it wrote (7), and writes slot 8.
    assert!(!code.contains("__l7"), "{code}");
    assert!(!code.contains("__s9"), "{code}");
    assert!(
        code.contains("__p.forward(&mut self.__l8, &self.__s7, &mut self.__s8);"),
        "{code}"
    );
    assert!(
        code.contains("__p.backward(&mut self.__l8, &mut self.__s7, &self.__s8);"),
        "{code}"
    );
    // The first layer computes no input gradient; nothing before it has one.
    assert!(
        code.contains("__s0: __mg::Slot::new(64usize, false)"),
        "{code}"
    );
    // Dropout's generator is not the weights' (which draws Conv2d and
    // Linear only).
    assert!(
        code.contains("__mg::Rng::new(seed ^ 4923084547685351430u64)"),
        "{code}"
    );
}

#[test]
fn regressors_have_no_predict_proba_and_no_buffers() {
    let code = pretty(
        quote! { input [1, 4, 4]; Conv2d(1, 2, 3); Flatten; Linear(_, 1); loss MSE; optim SGD(0.1) },
    );
    assert!(!code.contains("predict_proba"), "{code}");
    assert!(!code.contains("visit_buffers"), "{code}");
    assert!(!code.contains("rng_states"), "{code}");
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

/// Sizes whose products overflow (the expander used to multiply them, and
/// panic) or pass the 2^32 limit (a model that compiled and aborted in
/// `new()`) expand to compile errors and the stub, never a panic.
#[test]
fn sizes_over_the_limit_expand_to_compile_errors() {
    for input in [
        quote!(Linear(4294967296, 4294967296)),
        quote!(Linear(100000000, 100000000)),
        quote!(input [4294967296, 4294967296, 2]; Flatten; Linear(_, 10)),
        quote!(input [1, 8, 8]; Conv2d(1, 1, 3, padding = 9223372036854775807)),
        quote!(input [1, 8, 8]; MaxPool2d(18446744073709551615, padding = 9223372036854775807)),
        quote!(Linear(99999999999999999999999, 1)),
        quote!(Linear(65536, 65535); Linear(65535, 65536)),
    ] {
        let out = crate::expand_input(quote!(::macrograd; #input; loss MSE; optim SGD(0.01)));
        let text = out.to_string();
        assert!(text.contains("compile_error"), "{input}: {text}");
        assert!(text.contains("4294967296 (2^32)"), "{input}: {text}");
        assert!(text.contains("Invalid"), "{input}: {text}");
    }
}

/// Mutates valid models token by token (delete, duplicate, swap, replace)
/// and expands every variant: the macro must never panic, whatever the input.
#[test]
fn mutated_inputs_never_panic() {
    use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

    let seeds: Vec<TokenStream> = vec![
        quote!(pub struct Net; dtype f64; input 4; Linear(_, 8, bias = false); LeakyReLU(0.2); Linear(8, 3); loss CrossEntropy(label_smoothing = 0.1); optim Adam(lr = 1e-3, betas = (0.9, 0.99), amsgrad = true)),
        quote!(Linear(10, 1); loss MSE; optim SGD(0.01, momentum = 0.9, nesterov = true)),
        quote!(Linear(2, 4); Sigmoid; Linear(_, 2); Softmax; loss BCE(pos_weight = [1.0, 2.0]); optim AdamW(weight_decay = 0.1)),
        quote!(struct Cnn; input [1, 8, 8]; Conv2d(1, 4, (3, 3), stride = 1, padding = 1); ReLU; MaxPool2d(2, padding = 1); Conv2d(_, 6, 3); BatchNorm(eps = 1e-3); Dropout(0.25); Flatten; LayerNorm; Linear(_, 10); loss CrossEntropy; optim SGD(0.1)),
    ];
    let fillers: Vec<TokenTree> =
        quote!(_ 0 -1 1e400 ; , = ( ) Linear loss optim struct input dtype "s" true [1])
            .into_iter()
            .collect();

    // Flatten to a token list (groups recursed), mutate, rebuild.
    fn flatten(ts: TokenStream, out: &mut Vec<TokenTree>) {
        for tt in ts {
            match tt {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => {
                    let mut inner = Vec::new();
                    flatten(g.stream(), &mut inner);
                    out.push(TokenTree::Group(Group::new(
                        Delimiter::Parenthesis,
                        inner.into_iter().collect(),
                    )));
                }
                other => out.push(other),
            }
        }
    }

    let mut count = 0;
    for seed in &seeds {
        let mut tokens = Vec::new();
        flatten(seed.clone(), &mut tokens);
        let n = tokens.len();
        for i in 0..n {
            let mut variants: Vec<Vec<TokenTree>> = Vec::new();
            let mut deleted = tokens.clone();
            deleted.remove(i);
            variants.push(deleted);
            let mut doubled = tokens.clone();
            doubled.insert(i, tokens[i].clone());
            variants.push(doubled);
            if i + 1 < n {
                let mut swapped = tokens.clone();
                swapped.swap(i, i + 1);
                variants.push(swapped);
            }
            for filler in &fillers {
                let mut replaced = tokens.clone();
                replaced[i] = filler.clone();
                variants.push(replaced);
            }
            for v in variants {
                let body: TokenStream = v.into_iter().collect();
                let out = crate::expand_input(quote!(::macrograd; #body));
                assert!(!out.is_empty());
                count += 1;
            }
        }
    }
    assert!(count > 1000, "only {count} variants");
}

/// Prints how long expanding a 50-layer model takes (a measurement, not a
/// check: `cargo test -p macrograd-macros --release -- --ignored --nocapture expansion_time`).
#[test]
#[ignore = "a measurement; run by hand"]
fn expansion_time_of_a_50_layer_model() {
    let mut layers = quote!(input 64;);
    for _ in 0..25 {
        layers.extend(quote!(Linear(_, 64); ReLU;));
    }
    let body = quote!(pub struct Deep; #layers loss MSE; optim Adam(lr = 1e-3));
    let runs = 20;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let out = crate::expand_input(quote!(::macrograd; #body));
        assert!(!out.is_empty());
    }
    let per = start.elapsed() / runs;
    println!("expansion of a 50-layer model: {per:?} per expansion (mean of {runs})");
}

/// Every size in the generated code is a literal the checker computed and
/// bounded by 2^32 (`check::sizes`): the code does no arithmetic on sizes
/// of its own, so nothing in it can overflow at compile or run time. (The
/// one operator is the dropout seed's `^`, on `u64`.)
#[test]
fn generated_code_does_no_size_arithmetic() {
    let code = pretty(quote! {
        struct Cnn; input [1, 8, 8];
        Conv2d(1, 4, 3, padding = 1); ReLU; MaxPool2d(2); AvgPool2d(2, stride = 1);
        BatchNorm; Dropout(0.5); Flatten; LayerNorm; Linear(_, 10); Softmax;
        loss MSE; optim Adam(lr = 0.01)
    });
    for op in [" + ", " - ", " * ", " / ", " % ", " << ", "+=", "-=", "*="] {
        assert!(!code.contains(op), "`{op}` in {code}");
    }
    assert_eq!(code.matches(" ^ ").count(), 1, "{code}");
    // The largest model the limit allows expands to plain literals too.
    let code = pretty(quote! {
        input [1, 65536, 65536]; Flatten; Linear(_, 1, bias = false); loss MSE; optim SGD(0.01)
    });
    assert!(code.contains("4294967296usize"), "{code}");
}

/// The model of the committed snapshot: the three-layer MLP of workload W2
/// (`docs/workloads.md`).
const SNAPSHOT_MODEL: &str = "pub struct Net; Linear(10, 64); ReLU; Linear(64, 64); ReLU; \
                              Linear(64, 1); loss MSE; optim Adam(lr = 1e-3)";

/// The whole expansion of one representative model is committed
/// (`model-macros/tests/snapshots/mlp.rs`, named in the `model!` docs):
/// it is the best explanation of what the macro writes, and this test makes
/// any change to it visible in review. After an intended change, rewrite it
/// with `MACROGRAD_BLESS=1 cargo test -p macrograd-macros snapshot` and read
/// the diff.
#[test]
fn snapshot_of_a_three_layer_mlp() {
    let body: proc_macro2::TokenStream = SNAPSHOT_MODEL.parse().expect("the model tokenizes");
    let code = format!(
        "// The code `macrograd::model! {{ {SNAPSHOT_MODEL} }}` expands to,\n\
         // pretty-printed. Generated by `MACROGRAD_BLESS=1 cargo test -p macrograd-macros\n\
         // snapshot`; checked by that test. Not compiled on its own.\n\n{}",
        pretty(body)
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/mlp.rs");
    if std::env::var_os("MACROGRAD_BLESS").is_some() {
        std::fs::write(path, &code).expect("the snapshot is writable");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != code {
        let line = committed
            .lines()
            .zip(code.lines())
            .position(|(a, b)| a != b)
            .map_or(committed.lines().count().min(code.lines().count()), |i| i)
            + 1;
        panic!(
            "the expansion differs from {path} from line {line} on; if the change is \
             intended, rerun with MACROGRAD_BLESS=1 and review the diff\n\n{code}"
        );
    }
}
