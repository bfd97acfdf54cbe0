//! Unit tests of `check`: each rule's messages, one error per mistake, and
//! the IR of valid models.

use super::*;

fn parse(src: &str) -> Input {
    match syn::parse_str::<Input>(src) {
        Ok(input) => input,
        Err(error) => panic!("{src:?} does not parse: {error}"),
    }
}

fn ok(src: &str) -> Model {
    match model(&parse(src)) {
        Ok(model) => model,
        Err(error) => panic!("{src:?}: unexpected errors {:#?}", messages(error)),
    }
}

fn messages(error: Error) -> Vec<String> {
    error.into_iter().map(|error| error.to_string()).collect()
}

fn errors(src: &str) -> Vec<String> {
    match model(&parse(src)) {
        Ok(_) => panic!("{src:?} was accepted"),
        Err(error) => messages(error),
    }
}

/// The model's only error.
fn error(src: &str) -> String {
    let errors = errors(src);
    assert_eq!(errors.len(), 1, "{src:?}: {errors:#?}");
    errors.into_iter().next().unwrap_or_default()
}

/// The only error of `body` placed in an otherwise valid model.
fn layer_error(layers: &str) -> String {
    error(&format!("input 10; {layers}; loss MSE; optim SGD(0.01)"))
}

fn loss_error(loss: &str) -> String {
    error(&format!("Linear(10, 3); loss {loss}; optim SGD(0.01)"))
}

fn optim_error(optim: &str) -> String {
    error(&format!("Linear(10, 1); loss MSE; optim {optim}"))
}

fn optim(optim: &str) -> OptimKind {
    ok(&format!("Linear(10, 1); loss MSE; optim {optim}"))
        .optim
        .kind
}

fn loss(layers: &str, loss: &str) -> LossKind {
    ok(&format!("{layers}; loss {loss}; optim SGD(0.01)"))
        .loss
        .kind
}

fn shapes(model: &Model) -> Vec<(usize, usize)> {
    model
        .layers
        .iter()
        .map(|layer| (layer.in_features(), layer.out_features()))
        .collect()
}

fn texts(model: &Model) -> Vec<&str> {
    model
        .graph
        .rows
        .iter()
        .map(|row| row.text.as_str())
        .collect()
}

// ---- valid models -> IR ----

#[test]
fn design_card_line_without_trailing_semicolon() {
    let model = ok("Linear(10,1); loss MSE; optim SGD(0.01)");
    assert!(model.name.is_none());
    assert!(matches!(model.vis, syn::Visibility::Inherited));
    assert!(model.attrs.is_empty());
    assert_eq!(model.dtype, Dtype::F32);
    assert_eq!(model.inputs(), 10);
    assert_eq!(shapes(&model), [(10, 1)]);
    assert_eq!(texts(&model), ["Linear(10, 1)"]);
    assert_eq!(model.layers[0].kind, LayerKind::Linear { bias: true });
    assert_eq!(model.loss.kind, LossKind::MSE);
    assert_eq!(
        model.optim.kind,
        OptimKind::SGD {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    );
}

#[test]
fn full_model_with_struct_docs_and_inference() {
    let model = ok("
        /// A regressor.
        #[derive(Debug)]
        pub struct Regressor;
        dtype f64;
        input 10;
        Linear(10, 64);
        ReLU;
        Linear(_, 32, bias = false);
        LeakyReLU(0.2);
        Linear(_, 1);
        loss MSE;
        optim Adam(lr = 1e-3);
    ");
    assert_eq!(
        model.name.as_ref().map(ToString::to_string).as_deref(),
        Some("Regressor")
    );
    assert!(matches!(model.vis, syn::Visibility::Public(_)));
    assert_eq!(model.attrs.len(), 2);
    assert!(model.attrs[0].path().is_ident("doc"));
    assert!(model.attrs[1].path().is_ident("derive"));
    assert_eq!(model.dtype, Dtype::F64);
    assert_eq!(model.inputs(), 10);
    assert_eq!(
        shapes(&model),
        [(10, 64), (64, 64), (64, 32), (32, 32), (32, 1)]
    );
    assert_eq!(
        texts(&model),
        [
            "Linear(10, 64)",
            "ReLU",
            "Linear(64, 32, bias = false)",
            "LeakyReLU(0.2)",
            "Linear(32, 1)"
        ]
    );
    let paths: Vec<&str> = model
        .layers
        .iter()
        .map(|layer| layer.path.as_str())
        .collect();
    assert_eq!(paths, ["0", "1", "2", "3", "4"]);
    assert_eq!(model.layers[2].kind, LayerKind::Linear { bias: false });
    assert_eq!(
        model.layers[3].kind,
        LayerKind::LeakyReLU {
            negative_slope: 0.2
        }
    );
}

#[test]
fn attrs_at_the_top_without_struct_are_kept() {
    let model = ok("/// Docs.\nLinear(3, 1); loss L1; optim SGD(0.1);");
    assert!(model.name.is_none());
    assert_eq!(model.attrs.len(), 1);
    let model = ok("pub(crate) struct Net; Linear(3, 1); loss L1; optim SGD(0.1)");
    assert!(matches!(model.vis, syn::Visibility::Restricted(_)));
}

#[test]
fn doc_comments_on_layers_are_comments() {
    let model = ok("Linear(3, 4);\n/// hidden\nTanh; Linear(4, 1); loss MSE; optim SGD(0.1)");
    assert_eq!(model.layers.len(), 3);
}

#[test]
fn inference_through_activations_and_input() {
    let model = ok(
        "input 4; ReLU; Linear(_, 8); Tanh; GELU; Linear(_, 3); Softmax; loss MSE; optim SGD(1)",
    );
    assert_eq!(model.inputs(), 4);
    assert_eq!(
        shapes(&model),
        [(4, 4), (4, 8), (8, 8), (8, 8), (8, 3), (3, 3)]
    );
    assert_eq!(model.layers[2].kind, LayerKind::Tanh);
    assert_eq!(model.layers[3].kind, LayerKind::GELU);
    assert_eq!(model.layers[5].kind, LayerKind::Softmax);
}

#[test]
fn parentheses_are_optional_and_stray_semicolons_skipped() {
    let model = ok("Linear(2, 2); ReLU(); Sigmoid; LeakyReLU;; loss MSE(); optim SGD;");
    assert_eq!(
        texts(&model),
        ["Linear(2, 2)", "ReLU", "Sigmoid", "LeakyReLU(0.01)"]
    );
    assert_eq!(
        model.layers[3].kind,
        LayerKind::LeakyReLU {
            negative_slope: 0.01
        }
    );
    assert!(matches!(model.optim.kind, OptimKind::SGD { lr, .. } if lr == 1e-3));
}

#[test]
fn optimizer_defaults_and_positional_arguments() {
    assert_eq!(
        optim("Adam"),
        OptimKind::Adam {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
        }
    );
    assert_eq!(
        optim("AdamW(lr = 0.01)"),
        OptimKind::Adam {
            lr: 0.01,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false,
            decoupled: true,
        }
    );
    assert_eq!(
        optim("Adam(3e-4, (0.8, 0.99), eps = 0, amsgrad = true, weight_decay = 1)"),
        OptimKind::Adam {
            lr: 3e-4,
            betas: (0.8, 0.99),
            eps: 0.0,
            weight_decay: 1.0,
            amsgrad: true,
            decoupled: false,
        }
    );
    assert_eq!(
        optim("SGD(1, 0.9, nesterov = true, weight_decay = 5e-4, dampening = 0)"),
        OptimKind::SGD {
            lr: 1.0,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 5e-4,
        }
    );
    assert!(
        matches!(optim("SGD(0.1, dampening = -0.5)"), OptimKind::SGD { dampening, .. } if dampening == -0.5)
    );
}

#[test]
fn rmsprop_and_adagrad_defaults_and_arguments() {
    assert_eq!(
        optim("RMSprop"),
        OptimKind::RMSprop {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    );
    assert_eq!(
        optim("RMSprop(0.001, 0.9, 1e-6, 0.1, 0.5, true)"),
        OptimKind::RMSprop {
            lr: 0.001,
            alpha: 0.9,
            eps: 1e-6,
            weight_decay: 0.1,
            momentum: 0.5,
            centered: true,
        }
    );
    assert_eq!(
        optim("RMSprop(0.01, centered = true, momentum = 0.9, alpha = 0)"),
        OptimKind::RMSprop {
            lr: 0.01,
            alpha: 0.0,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.9,
            centered: true,
        }
    );
    assert_eq!(
        optim("Adagrad"),
        OptimKind::Adagrad {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    );
    assert_eq!(
        optim("Adagrad(0.1, 0.5, 0.01, 0.1, 1e-8)"),
        OptimKind::Adagrad {
            lr: 0.1,
            lr_decay: 0.5,
            weight_decay: 0.01,
            initial_accumulator_value: 0.1,
            eps: 1e-8,
        }
    );
    assert_eq!(
        optim("Adagrad(lr = 0.1, initial_accumulator_value = 0.1, lr_decay = 0.5)"),
        OptimKind::Adagrad {
            lr: 0.1,
            lr_decay: 0.5,
            weight_decay: 0.0,
            initial_accumulator_value: 0.1,
            eps: 1e-10,
        }
    );
}

#[test]
fn rmsprop_and_adagrad_ranges_and_names() {
    assert_eq!(optim_error("RMSprop(0)"), "expected `lr` > 0, found 0");
    assert_eq!(
        optim_error("RMSprop(alpha = 1.0)"),
        "expected `alpha` in [0, 1), found 1.0"
    );
    assert_eq!(
        optim_error("RMSprop(alpha = -0.1)"),
        "expected `alpha` in [0, 1), found -0.1"
    );
    assert_eq!(
        optim_error("RMSprop(eps = -1e-8)"),
        "expected `eps` >= 0, found -1e-8"
    );
    assert_eq!(
        optim_error("RMSprop(momentum = -0.9)"),
        "expected `momentum` >= 0, found -0.9"
    );
    assert_eq!(
        optim_error("RMSprop(weight_decay = -1)"),
        "expected `weight_decay` >= 0, found -1"
    );
    assert_eq!(
        optim_error("RMSprop(centered = 1)"),
        "expected `true` or `false` for `centered`, found integer `1`"
    );
    assert_eq!(
        optim_error("RMSprop(0.01, rho = 0.9)"),
        "unknown argument `rho` for `RMSprop`; did you mean `alpha`?"
    );
    assert_eq!(
        optim_error("RMSprop(0.01, 0.9, 1e-8, 0, 0, false, 1)"),
        "`RMSprop` expects at most 6 arguments (lr, alpha, eps, weight_decay, momentum, \
         centered), found 7"
    );
    assert_eq!(
        optim_error("Adagrad(-0.1)"),
        "expected `lr` > 0, found -0.1"
    );
    assert_eq!(
        optim_error("Adagrad(lr_decay = -0.5)"),
        "expected `lr_decay` >= 0, found -0.5"
    );
    assert_eq!(
        optim_error("Adagrad(weight_decay = -1)"),
        "expected `weight_decay` >= 0, found -1"
    );
    assert_eq!(
        optim_error("Adagrad(initial_accumulator_value = -0.1)"),
        "expected `initial_accumulator_value` >= 0, found -0.1"
    );
    assert_eq!(
        optim_error("Adagrad(eps = -1e-10)"),
        "expected `eps` >= 0, found -1e-10"
    );
    assert_eq!(
        optim_error("Adagrad(0.1, momentum = 0.9)"),
        "unknown argument `momentum` for `Adagrad`; expected one of `lr`, `lr_decay`, \
         `weight_decay`, `initial_accumulator_value`, `eps`"
    );
    assert_eq!(
        optim_error("RMSProp(0.01)"),
        "unknown optimizer `RMSProp`; did you mean `RMSprop`?"
    );
    assert_eq!(
        optim_error("AdaGrad(0.01)"),
        "unknown optimizer `AdaGrad`; did you mean `Adagrad`?"
    );
}

#[test]
fn loss_arguments_and_defaults() {
    assert_eq!(
        loss("Linear(2, 1)", "Huber"),
        LossKind::Huber { delta: 1.0 }
    );
    assert_eq!(
        loss("Linear(2, 1)", "Huber(0.5)"),
        LossKind::Huber { delta: 0.5 }
    );
    assert_eq!(
        loss("Linear(2, 3)", "BCE"),
        LossKind::BCE { pos_weight: vec![] }
    );
    assert_eq!(
        loss("Linear(2, 3)", "BCE(pos_weight = 2)"),
        LossKind::BCE {
            pos_weight: vec![2.0]
        }
    );
    assert_eq!(
        loss("Linear(2, 3)", "BCE(pos_weight = [1, 2.5, 0])"),
        LossKind::BCE {
            pos_weight: vec![1.0, 2.5, 0.0]
        }
    );
    assert_eq!(
        loss("Linear(2, 3)", "CrossEntropy"),
        LossKind::CrossEntropy {
            label_smoothing: 0.0
        }
    );
    assert_eq!(
        loss("Linear(2, 3)", "CrossEntropy(label_smoothing = 0.1)"),
        LossKind::CrossEntropy {
            label_smoothing: 0.1
        }
    );
}

#[test]
fn syntax_errors_stop_at_the_first() {
    let error = match syn::parse_str::<Input>("Linear(10, 1) ReLU; loss MSE optim SGD") {
        Ok(_) => panic!("parsed"),
        Err(error) => error,
    };
    assert_eq!(messages(error), ["expected `;`"]);
    assert!(syn::parse_str::<Input>("pub Linear(1, 1); loss MSE; optim SGD").is_err());
    assert!(syn::parse_str::<Input>("10; loss MSE; optim SGD").is_err());
    assert!(syn::parse_str::<Input>("Linear(1, 1); loss; optim SGD").is_err());
}

// ---- 1. names ----

#[test]
fn unknown_names_suggest_the_closest() {
    assert_eq!(
        layer_error("Linaer(10, 1)"),
        "unknown layer `Linaer`; did you mean `Linear`?"
    );
    assert_eq!(
        layer_error("Linear(10, 1); relu"),
        "unknown layer `relu`; did you mean `ReLU`?"
    );
    assert_eq!(
        loss_error("MSELoss"),
        "unknown loss `MSELoss`; did you mean `MSE`?"
    );
    assert_eq!(
        loss_error("CrossEntropyLoss"),
        "unknown loss `CrossEntropyLoss`; did you mean `CrossEntropy`?"
    );
    assert_eq!(
        optim_error("Adma(lr = 0.1)"),
        "unknown optimizer `Adma`; did you mean `Adam`?"
    );
    assert_eq!(
        optim_error("Lion"),
        "unknown optimizer `Lion`; expected one of `SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad`"
    );
    assert_eq!(
        error("dtype f16; Linear(1, 1); loss MSE; optim SGD"),
        "unknown dtype `f16`; expected one of `f32`, `f64`"
    );
    assert_eq!(
        error("dtype F64; Linear(1, 1); loss MSE; optim SGD"),
        "unknown dtype `F64`; did you mean `f64`?"
    );
}

#[test]
fn names_of_another_category_or_planned() {
    assert_eq!(
        layer_error("Linear(10, 1); MSE"),
        "unknown layer `MSE`; `MSE` is a loss: write `loss MSE;` after the layers"
    );
    assert_eq!(
        loss_error("Adam"),
        "unknown loss `Adam`; `Adam` is an optimizer: write `optim Adam(...);` at the end"
    );
    // Every layer of the design is in the catalog: none is "planned".
    assert!(catalog::PLANNED_LAYERS.is_empty());
}

// ---- 2. argument count and names ----

#[test]
fn argument_count() {
    assert_eq!(
        layer_error("Linear(10)"),
        "`Linear` expects 2 arguments (in_features, out_features), found 1; missing `out_features`"
    );
    assert_eq!(
        layer_error("Linear"),
        "`Linear` expects 2 arguments (in_features, out_features), found 0; \
         missing `in_features`, `out_features`"
    );
    assert_eq!(
        layer_error("Linear(10, 1, true, 4, 5)"),
        "`Linear` expects at most 3 arguments (in_features, out_features, bias), found 5"
    );
    assert_eq!(
        layer_error("Linear(10, 1); ReLU(1)"),
        "`ReLU` expects no arguments, found 1"
    );
    assert_eq!(
        layer_error("Linear(10, 1); LeakyReLU(0.1, 0.2)"),
        "`LeakyReLU` expects at most 1 argument (negative_slope), found 2"
    );
}

#[test]
fn argument_names() {
    assert_eq!(
        optim_error("SGD(0.1, momentun = 0.9)"),
        "unknown argument `momentun` for `SGD`; did you mean `momentum`?"
    );
    assert_eq!(
        optim_error("Adam(learning_rate = 0.1)"),
        "unknown argument `learning_rate` for `Adam`; did you mean `lr`?"
    );
    assert_eq!(
        optim_error("SGD(0.1, foo = 1)"),
        "unknown argument `foo` for `SGD`; expected one of `lr`, `momentum`, `dampening`, \
         `nesterov`, `weight_decay`"
    );
    assert_eq!(
        optim_error("SGD(0.1, lr = 0.2)"),
        "expected `lr` of `SGD` once, found it twice"
    );
    assert_eq!(
        optim_error("SGD(momentum = 0.9, momentum = 0.8)"),
        "expected `momentum` of `SGD` once, found it twice"
    );
    assert_eq!(
        optim_error("SGD(momentum = 0.9, 0.1)"),
        "expected positional arguments before named ones, found one after `momentum`"
    );
    assert_eq!(
        layer_error("Linear(in_features = 10, 1)"),
        "expected positional arguments before named ones, found one after `in_features`"
    );
}

// ---- 3. argument kinds ----

#[test]
fn argument_kinds() {
    assert_eq!(
        layer_error("Linear(10.5, 1)"),
        "expected a positive integer or `_` for `in_features`, found float `10.5`"
    );
    assert_eq!(
        layer_error("Linear(10, 1, bias = 0)"),
        "expected `true` or `false` for `bias`, found integer `0`"
    );
    assert_eq!(
        layer_error("Linear(10, 1, bias = False)"),
        "expected `true` or `false` for `bias`, found `False`"
    );
    assert_eq!(
        optim_error("SGD(true)"),
        "expected a number for `lr`, found `true`"
    );
    assert_eq!(
        optim_error("SGD(\"0.1\")"),
        "expected a number for `lr`, found string literal `\"0.1\"`"
    );
    assert_eq!(
        optim_error("Adam(betas = (0.9, 0.99, 0.999))"),
        "expected a pair of numbers `(beta1, beta2)` for `betas`, found a tuple of 3 values"
    );
    assert_eq!(
        optim_error("Adam(betas = 0.9)"),
        "expected a pair of numbers `(beta1, beta2)` for `betas`, found float `0.9`"
    );
    assert_eq!(
        layer_error("Linear(10, _)"),
        "expected a positive integer for `out_features`, found `_`; \
         only a layer's input size (`in_features`, `in_channels`, `num_features`) can be inferred"
    );
    assert_eq!(
        optim_error("SGD(_)"),
        "expected a number for `lr`, found `_`"
    );
    assert_eq!(
        loss_error("BCE(pos_weight = (1, 2))"),
        "expected a number or an array of numbers for `pos_weight`, found a tuple of 2 values"
    );
    assert_eq!(
        error("input 10.0; Linear(_, 1); loss MSE; optim SGD"),
        "expected a positive integer for `input`, found float `10.0`"
    );
}

// ---- 4. ranges ----

#[test]
fn argument_ranges() {
    assert_eq!(
        layer_error("Linear(10, 0)"),
        "expected `out_features` >= 1, found 0"
    );
    assert_eq!(
        layer_error("Linear(10, -3)"),
        "expected `out_features` >= 1, found -3"
    );
    assert_eq!(
        error("input 0; Linear(_, 1); loss MSE; optim SGD"),
        "expected `input` >= 1, found 0"
    );
    assert_eq!(optim_error("SGD(0)"), "expected `lr` > 0, found 0");
    assert_eq!(
        optim_error("SGD(lr = -0.1)"),
        "expected `lr` > 0, found -0.1"
    );
    assert_eq!(
        optim_error("SGD(1e400)"),
        "expected a finite `lr`, found 1e400"
    );
    assert_eq!(
        optim_error("SGD(0.1, momentum = -0.5)"),
        "expected `momentum` >= 0, found -0.5"
    );
    assert_eq!(
        optim_error("SGD(0.1, weight_decay = -1)"),
        "expected `weight_decay` >= 0, found -1"
    );
    assert_eq!(
        optim_error("Adam(eps = -1e-8)"),
        "expected `eps` >= 0, found -1e-8"
    );
    assert_eq!(
        optim_error("Adam(betas = (0.9, 1.0))"),
        "expected `betas.1` in [0, 1), found 1.0"
    );
    assert_eq!(
        loss_error("Huber(delta = 0)"),
        "expected `delta` > 0, found 0"
    );
    assert_eq!(
        loss_error("CrossEntropy(label_smoothing = 1.5)"),
        "expected `label_smoothing` in [0, 1], found 1.5"
    );
    assert_eq!(
        loss_error("BCE(pos_weight = [1, -2, 1])"),
        "expected `pos_weight` >= 0, found -2"
    );
    assert_eq!(
        layer_error("Linear(10, 4); LeakyReLU(1e999)"),
        "expected a finite `negative_slope`, found 1e999"
    );
}

// ---- 5. nesterov ----

#[test]
fn nesterov_needs_momentum_and_no_dampening() {
    assert_eq!(
        optim_error("SGD(0.1, nesterov = true)"),
        "`nesterov = true` expects `momentum` > 0, found momentum 0"
    );
    assert_eq!(
        optim_error("SGD(0.1, momentum = 0.9, dampening = 0.1, nesterov = true)"),
        "`nesterov = true` expects `dampening` = 0, found dampening 0.1"
    );
    // A bad momentum is reported once, by its range.
    assert_eq!(
        optim_error("SGD(0.1, momentum = -1, nesterov = true)"),
        "expected `momentum` >= 0, found -1"
    );
}

// ---- 6. shapes ----

#[test]
fn shape_mismatch_names_both_numbers() {
    assert_eq!(
        error("Linear(10, 64); ReLU; Linear(32, 1); loss MSE; optim SGD(0.01)"),
        "`Linear` expects 32 inputs, but the layer before it (`ReLU`) produces 64"
    );
    assert_eq!(
        error("Linear(10, 64); Linear(32, 1); loss MSE; optim SGD(0.01)"),
        "`Linear` expects 32 inputs, but the layer before it (`Linear(10, 64)`) produces 64"
    );
    assert_eq!(
        error("input 10; Linear(12, 4); loss MSE; optim SGD(0.01)"),
        "`Linear` expects 12 inputs, but `input 10;` declares 10"
    );
}

#[test]
fn after_a_mismatch_checking_carries_on_from_the_declared_output() {
    // One mistake (32 for 64), one error: `Linear(_, 1)` and `Linear(8, 1)` follow 8.
    let model = "Linear(10, 64); Linear(32, 8); Linear(_, 8); Linear(8, 1); loss MSE; optim SGD";
    assert_eq!(errors(model).len(), 1);
}

#[test]
fn first_layer_size_must_be_known() {
    let message =
        "cannot infer the input size of the first layer: declare `input N;` or write the number";
    assert_eq!(error("Linear(_, 1); loss MSE; optim SGD"), message);
    assert_eq!(error("ReLU; Linear(_, 1); loss MSE; optim SGD"), message);
    // Fixed by the first explicit size, which is also the model's input.
    let model = ok("Linear(5, 2); loss MSE; optim SGD");
    assert_eq!(model.inputs(), 5);
}

// ---- 7. structure ----

#[test]
fn missing_parts() {
    assert_eq!(
        error("loss MSE; optim SGD"),
        "expected at least one layer, found none: add e.g. `Linear(10, 1);` before `loss`"
    );
    assert_eq!(
        error("Linear(1, 1); optim SGD"),
        "missing `loss`: add e.g. `loss MSE;` after the layers"
    );
    assert_eq!(
        error("Linear(1, 1); loss MSE"),
        "missing `optim`: add e.g. `optim Adam(lr = 1e-3);` after the loss"
    );
    assert_eq!(errors("").len(), 3);
}

#[test]
fn duplicates_and_order() {
    assert_eq!(
        error("Linear(1, 1); loss MSE; loss L1; optim SGD"),
        "expected exactly one `loss`, found a second one"
    );
    assert_eq!(
        error("Linear(1, 1); loss MSE; optim SGD; optim Adam"),
        "expected exactly one `optim`, found a second one"
    );
    // Reported once, on the first layer after `loss`.
    assert_eq!(
        error("Linear(1, 4); loss MSE; ReLU; Linear(4, 1); optim SGD"),
        "expected every layer before `loss` and `optim`, found `ReLU` after `loss`"
    );
    assert_eq!(
        error("Linear(1, 1); loss MSE; optim SGD; struct Net"),
        "expected `struct Net;` as the first statement, found it after other statements"
    );
    assert_eq!(
        error("struct A; struct B; Linear(1, 1); loss MSE; optim SGD"),
        "expected at most one `struct`, found a second one"
    );
    assert_eq!(
        error("input 1; input 1; Linear(1, 1); loss MSE; optim SGD"),
        "expected at most one `input`, found a second one"
    );
    assert_eq!(
        error("Linear(1, 1); input 1; loss MSE; optim SGD"),
        "expected `input` before the layers, found it after `Linear`"
    );
    assert_eq!(
        error("Linear(1, 1); loss MSE; optim SGD; dtype f64"),
        "expected `dtype` before the layers, found it after `Linear`"
    );
    assert_eq!(
        error("Linear(1, 1);\n#[inline]\nloss MSE; optim SGD"),
        "expected attributes only at the top of the model, found `#[inline]` on a statement"
    );
}

// ---- 8. output activations ----

#[test]
fn softmax_only_last() {
    assert_eq!(
        layer_error("Linear(10, 4); Softmax; Linear(4, 2)"),
        "expected `Softmax` only as the last layer, found it before `Linear`"
    );
}

#[test]
fn no_squashing_before_losses_on_logits() {
    assert_eq!(
        error("Linear(10, 3); Softmax; loss CrossEntropy; optim SGD"),
        "`CrossEntropy` expects logits, found the output of `Softmax`: \
         remove `Softmax`, `CrossEntropy` applies log-softmax itself"
    );
    assert_eq!(
        error("Linear(10, 1); Sigmoid; loss BCE; optim SGD"),
        "`BCE` expects logits, found the output of `Sigmoid`: \
         remove `Sigmoid`, `BCE` applies the sigmoid itself"
    );
    // Fine with other losses.
    ok("Linear(10, 3); Softmax; loss MSE; optim SGD");
    ok("Linear(10, 1); Sigmoid; loss MSE; optim SGD");
}

// ---- 9. outputs and the loss ----

#[test]
fn losses_fit_the_outputs() {
    assert_eq!(
        error("Linear(10, 1); loss CrossEntropy; optim SGD"),
        "`CrossEntropy` expects at least 2 outputs (one per class), found 1; \
         for a yes/no target use 1 output with `BCE`"
    );
    assert_eq!(
        loss_error("BCE(pos_weight = [1, 2])"),
        "expected `pos_weight` with 1 or 3 values (one per output), found 2"
    );
    assert_eq!(
        error("Linear(10, 1); loss BCE(pos_weight = [1, 2]); optim SGD"),
        "expected `pos_weight` with 1 value, found 2"
    );
    ok("Linear(10, 3); loss BCE(pos_weight = [3]); optim SGD");
}

// ---- all at once ----

/// A misspelled name is checked as the name it suggests, so the shape
/// mistake after it is reported in the same build.
#[test]
fn four_mistakes_four_errors() {
    let errors =
        errors("Linear(10, 64); Relu; Linear(32, 1); loss MSE; optim SGD(lr = 0, momentun = 0.9)");
    assert_eq!(
        errors,
        [
            "unknown layer `Relu`; did you mean `ReLU`?",
            "`Linear` expects 32 inputs, but the layer before it (`ReLU`) produces 64",
            "expected `lr` > 0, found 0",
            "unknown argument `momentun` for `SGD`; did you mean `momentum`?",
        ]
    );
}

#[test]
fn three_mistakes_across_statements() {
    let errors = errors("input 10; Linear(12, 4); Linaer(4, 1); loss MSE; optim Adma");
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn odd_inputs_do_not_panic() {
    let inputs = [
        "",
        ";;",
        "struct A",
        "pub struct A; pub struct B",
        "input 99999999999999999999999999999999999999999; Linear(_, 1); loss MSE; optim SGD",
        "Linear(-0, 99999999999999999999999999999999999999999999); loss MSE; optim SGD",
        "Linear(--1, 1); loss MSE; optim SGD",
        "Linear(1 + 1, x); loss MSE; optim SGD",
        "Linear('a', 1u8); loss MSE; optim SGD(1e-400)",
        "Linear(1, 1); loss BCE(pos_weight = []); optim Adam(betas = ())",
        "Linear(1, 1); loss BCE(pos_weight = [[1]]); optim Adam(betas = (_, -0.0))",
        "Softmax; Softmax; loss CrossEntropy; optim AdamW(amsgrad = 1, eps = 1e999)",
        "Linear(in_features = 1, out_features = 2, 3, 4); loss loss; optim optim",
        "input _; dtype dtype; Linear(_, _); loss MSE(1); optim SGD(1, 2, 3, 4, 5, 6, 7)",
        "input [0, 0, 0]; Conv2d(_, 0, 0, stride = 0); loss MSE; optim SGD",
        "input [1, 99999999999999999999999, 1]; Conv2d(1, 1, (1, 1, 1)); loss MSE; optim SGD",
        "input [1, 2, 2]; MaxPool2d(3, padding = 9); AvgPool2d((0, 2)); loss MSE; optim SGD",
        "input []; Flatten; BatchNorm2d(_); LayerNorm([]); Dropout(1); loss MSE; optim SGD",
        "Conv2d; MaxPool2d; BatchNorm; LayerNorm(_); Flatten; loss CrossEntropy; optim SGD",
        "input [1, 4, 4]; LayerNorm((1, 4, 4)); BatchNorm1d; Softmax; loss BCE; optim SGD",
    ];
    for src in inputs {
        if let Ok(input) = syn::parse_str::<Input>(src) {
            let _ = model(&input);
        }
    }
}

// ---- images: shapes through conv, pooling, flatten and the norms ----

/// The only error of `layers` after `input [1, 8, 8];`, in an otherwise
/// valid classifier.
fn image_error(layers: &str) -> String {
    error(&format!(
        "input [1, 8, 8]; {layers}; loss CrossEntropy; optim SGD(0.1)"
    ))
}

fn image_ok(layers: &str) -> Model {
    ok(&format!(
        "input [1, 8, 8]; {layers}; loss CrossEntropy; optim SGD(0.1)"
    ))
}

fn image(channels: usize, height: usize, width: usize) -> Dims {
    Dims::Image {
        channels,
        height,
        width,
    }
}

fn dims(model: &Model) -> Vec<Dims> {
    model.layers.iter().map(|layer| layer.output).collect()
}

#[test]
fn the_cnn_of_the_design_checks_and_infers_every_shape() {
    let model = image_ok(
        "Conv2d(1, 4, 3, padding = 1); ReLU; MaxPool2d(2); Conv2d(4, 6, 3); BatchNorm; ReLU; \
         Flatten; Linear(_, 10)",
    );
    assert_eq!(model.input, image(1, 8, 8));
    assert_eq!(model.inputs(), 64);
    assert_eq!(
        dims(&model),
        [
            image(4, 8, 8),
            image(4, 8, 8),
            image(4, 4, 4),
            image(6, 2, 2),
            image(6, 2, 2),
            image(6, 2, 2),
            Dims::Flat(24),
            Dims::Flat(10),
        ]
    );
    assert_eq!(
        texts(&model),
        [
            "Conv2d(1, 4, 3, padding = 1)",
            "ReLU",
            "MaxPool2d(2)",
            "Conv2d(4, 6, 3)",
            "BatchNorm2d(6)",
            "ReLU",
            "Flatten",
            "Linear(24, 10)",
        ]
    );
    assert_eq!(
        model.layers[0].kind,
        LayerKind::Conv2d {
            in_channels: 1,
            out_channels: 4,
            kernel_size: (3, 3),
            stride: (1, 1),
            padding: (1, 1),
            bias: true,
        }
    );
    assert_eq!(
        model.layers[2].kind,
        LayerKind::MaxPool2d {
            kernel_size: (2, 2),
            stride: (2, 2),
            padding: (0, 0),
        }
    );
    assert_eq!(
        model.layers[4].kind,
        LayerKind::BatchNorm {
            eps: 1e-5,
            momentum: 0.1
        }
    );
    assert_eq!(model.layers[6].kind, LayerKind::Flatten);
}

#[test]
fn window_arithmetic_with_pairs_strides_and_padding() {
    let model = ok(
        "input [3, 28, 20]; Conv2d(3, 8, (5, 3), stride = 2, padding = (2, 1)); \
         AvgPool2d(3, stride = 1, padding = 1); MaxPool2d((2, 1)); Flatten; Linear(_, 1); \
         loss MSE; optim SGD",
    );
    // (28 + 4 - 5) / 2 + 1 = 14, (20 + 2 - 3) / 2 + 1 = 10; the 3x3 average
    // with padding 1 keeps 14 x 10; the (2, 1) max pool halves the height.
    assert_eq!(
        dims(&model)[..3],
        [image(8, 14, 10), image(8, 14, 10), image(8, 7, 10)]
    );
    assert_eq!(
        texts(&model)[..3],
        [
            "Conv2d(3, 8, (5, 3), stride = 2, padding = (2, 1))",
            "AvgPool2d(3, stride = 1, padding = 1)",
            "MaxPool2d((2, 1))",
        ]
    );
    assert_eq!(model.layers[4].input, Dims::Flat(8 * 7 * 10));
}

#[test]
fn norms_dropout_and_inferred_channels() {
    let model = image_ok(
        "Dropout(0.2); Conv2d(_, 2, 3); LayerNorm; BatchNorm2d(2, eps = 1e-3, momentum = 0.01); \
         Flatten; Linear(72, 16); BatchNorm1d(16); LayerNorm(16, eps = 1e-6); Dropout; \
         Linear(16, 3)",
    );
    assert_eq!(
        texts(&model),
        [
            "Dropout(0.2)",
            "Conv2d(1, 2, 3)",
            "LayerNorm([2, 6, 6])",
            "BatchNorm2d(2, eps = 0.001, momentum = 0.01)",
            "Flatten",
            "Linear(72, 16)",
            "BatchNorm1d(16)",
            "LayerNorm(16, eps = 1e-6)",
            "Dropout(0.5)",
            "Linear(16, 3)",
        ]
    );
    assert_eq!(model.layers[0].kind, LayerKind::Dropout { p: 0.2 });
    assert_eq!(model.layers[7].kind, LayerKind::LayerNorm { eps: 1e-6 });
    // Flat models take batch norm (1d), layer norm and dropout too, and the
    // first of them can fix the input size.
    let model = ok("BatchNorm(10); Linear(_, 2); loss MSE; optim SGD");
    assert_eq!(model.input, Dims::Flat(10));
    let model = ok("LayerNorm([2, 3, 3]); Flatten; Linear(_, 1); loss MSE; optim SGD");
    assert_eq!(model.input, image(2, 3, 3));
}

#[test]
fn input_shapes() {
    assert_eq!(
        ok("input [5]; Linear(_, 1); loss MSE; optim SGD").input,
        Dims::Flat(5)
    );
    assert_eq!(
        ok("input [4, 3]; GRU(2); Last; Linear(_, 1); loss MSE; optim SGD").input,
        Dims::Sequence {
            steps: 4,
            features: 3
        }
    );
    assert_eq!(
        error("input [1, 8, 8, 8]; Linear(_, 1); loss MSE; optim SGD"),
        "expected `input [C, H, W]` (channels, height, width) or `input [T, F]` (steps, \
         features), found 4 sizes"
    );
    assert_eq!(
        error("input [1, 0, 8]; Flatten; Linear(_, 1); loss MSE; optim SGD"),
        "expected `input height` >= 1, found 0"
    );
    assert_eq!(
        error("input [1, 8, 8.0]; Flatten; Linear(_, 1); loss MSE; optim SGD"),
        "expected an integer for `input width`, found float `8.0`"
    );
}

#[test]
fn channel_mismatches_name_both_counts() {
    assert_eq!(
        image_error("Conv2d(3, 4, 3); Flatten; Linear(_, 10)"),
        "`Conv2d` expects 3 input channels, but `input [1, 8, 8];` declares 1"
    );
    assert_eq!(
        image_error("Conv2d(1, 4, 3); Conv2d(8, 4, 3); Flatten; Linear(_, 10)"),
        "`Conv2d` expects 8 input channels, but the layer before it (`Conv2d(1, 4, 3)`) produces 4"
    );
    assert_eq!(
        image_error("Conv2d(1, 4, 3); BatchNorm2d(1); Flatten; Linear(_, 10)"),
        "`BatchNorm2d` expects 1 channel, but the layer before it (`Conv2d(1, 4, 3)`) produces 4"
    );
    // One mistake, one error: the next layers follow the declared 4 channels.
    assert_eq!(
        errors(
            "input [1, 8, 8]; Conv2d(2, 4, 3); Conv2d(4, 2, 3); Flatten; Linear(32, 10); \
                loss CrossEntropy; optim SGD"
        )
        .len(),
        1
    );
}

#[test]
fn kernels_must_fit_the_padded_image() {
    assert_eq!(
        image_error("Conv2d(1, 4, 9); Flatten; Linear(_, 10)"),
        "`Conv2d` kernel 9 does not fit the 8 x 8 input (padding 0)"
    );
    assert_eq!(
        image_error("Conv2d(1, 4, (3, 11), padding = 1); Flatten; Linear(_, 10)"),
        "`Conv2d` kernel 3 x 11 does not fit the 8 x 8 input (padding 1: 10 x 10)"
    );
    assert_eq!(
        image_error(
            "MaxPool2d(2); MaxPool2d(2); MaxPool2d(2); MaxPool2d(2); Flatten; Linear(_, 2)"
        ),
        "`MaxPool2d` kernel 2 does not fit the 1 x 1 input (padding 0)"
    );
    // Nothing after an unknown shape is checked against it.
    assert_eq!(
        errors("input [1, 8, 8]; Conv2d(1, 4, 9); Linear(3, 10); loss MSE; optim SGD").len(),
        1
    );
}

#[test]
fn pool_padding_is_at_most_half_the_window() {
    assert_eq!(
        image_error("MaxPool2d(3, padding = 2); Flatten; Linear(_, 10)"),
        "expected `padding` at most half of `kernel_size` (3 / 2 = 1), found 2"
    );
    assert_eq!(
        image_error("AvgPool2d((2, 4), padding = (1, 3)); Flatten; Linear(_, 10)"),
        "expected `padding.1` at most half of `kernel_size.1` (4 / 2 = 2), found 3"
    );
}

#[test]
fn window_argument_kinds_and_ranges() {
    assert_eq!(
        image_error("Conv2d(1, 4, 3, stride = 0); Flatten; Linear(_, 10)"),
        "expected `stride` >= 1, found 0"
    );
    assert_eq!(
        image_error("MaxPool2d((2, 0)); Flatten; Linear(_, 10)"),
        "expected `kernel_size.1` >= 1, found 0"
    );
    assert_eq!(
        image_error("Conv2d(1, 4, 3, padding = -1); Flatten; Linear(_, 10)"),
        "expected `padding` >= 0, found -1"
    );
    assert_eq!(
        image_error("Conv2d(1, 4, 2.5); Flatten; Linear(_, 10)"),
        "expected an integer or a pair `(h, w)` for `kernel_size`, found float `2.5`"
    );
    assert_eq!(
        image_error("Conv2d(1, _, 3); Flatten; Linear(_, 10)"),
        "expected a positive integer for `out_channels`, found `_`; \
         only a layer's input size (`in_features`, `in_channels`, `num_features`) can be inferred"
    );
}

#[test]
fn dropout_probability_is_below_one() {
    assert_eq!(
        layer_error("Dropout(1.0); Linear(10, 1)"),
        "expected `p` in [0, 1), found 1.0"
    );
    assert_eq!(
        layer_error("Dropout(p = -0.1); Linear(10, 1)"),
        "expected `p` in [0, 1), found -0.1"
    );
    assert_eq!(
        ok("input 10; Dropout(0); Linear(10, 1); loss MSE; optim SGD").layers[0].kind,
        LayerKind::Dropout { p: 0.0 }
    );
}

#[test]
fn linear_after_an_image_needs_flatten() {
    assert_eq!(
        image_error("Conv2d(1, 8, 3); MaxPool2d(2); Linear(72, 10)"),
        "`Linear` expects flat features, but the layer before it (`MaxPool2d(2)`) produces \
         an image [8, 3, 3]: add `Flatten;` before it"
    );
    assert_eq!(
        image_error("Linear(64, 10)"),
        "`Linear` expects flat features, but `input [1, 8, 8];` declares an image [1, 8, 8]: \
         add `Flatten;` before it"
    );
    assert_eq!(
        error("input [1, 8, 8]; Conv2d(1, 2, 3); Softmax; loss MSE; optim SGD"),
        "`Softmax` expects flat features, but the layer before it (`Conv2d(1, 2, 3)`) produces \
         an image [2, 6, 6]: add `Flatten;` before it"
    );
}

#[test]
fn flatten_arithmetic_is_spelled_out() {
    assert_eq!(
        image_error("Conv2d(1, 8, 3); MaxPool2d(2); Flatten; Linear(64, 10)"),
        "`Linear` expects 64 inputs, but `Flatten` produces 8 x 3 x 3 = 72"
    );
    assert_eq!(
        image_error("Conv2d(1, 8, 3); MaxPool2d(2); Flatten; Dropout(0.5); Linear(64, 10)"),
        "`Linear` expects 64 inputs, but the layer before it (`Dropout(0.5)`) produces \
         72 (flattened from 8 x 3 x 3)"
    );
    assert_eq!(
        image_error("Conv2d(1, 8, 3); MaxPool2d(2); Flatten; LayerNorm(64); Linear(_, 10)"),
        "`LayerNorm` expects 64 features, but `Flatten` produces 8 x 3 x 3 = 72 features"
    );
    assert_eq!(
        image_error("Conv2d(1, 8, 3); LayerNorm([8, 3, 3]); Flatten; Linear(_, 10)"),
        "`LayerNorm` expects an image [8, 3, 3], but the layer before it (`Conv2d(1, 8, 3)`) \
         produces an image [8, 6, 6]"
    );
    assert_eq!(
        image_error("Flatten; BatchNorm(32); Linear(_, 10)"),
        "`BatchNorm` expects 32 features, but `Flatten` produces 1 x 8 x 8 = 64"
    );
}

#[test]
fn image_layers_after_flat_features() {
    assert_eq!(
        image_error("Flatten; Conv2d(1, 4, 3); Flatten; Linear(_, 10)"),
        "`Conv2d` expects an image [C, H, W], but `Flatten` produces 1 x 8 x 8 = 64 features: \
         image layers go before `Flatten`"
    );
    assert_eq!(
        layer_error("MaxPool2d(2); Linear(10, 1)"),
        "`MaxPool2d` expects an image [C, H, W], but `input 10;` declares 10 features: \
         declare `input [C, H, W];`"
    );
    assert_eq!(
        layer_error("Linear(10, 4); Conv2d(4, 4, 1); Linear(4, 1)"),
        "`Conv2d` expects an image [C, H, W], but the layer before it (`Linear(10, 4)`) \
         produces 4 features"
    );
    assert_eq!(
        error("Conv2d(1, 4, 3); Flatten; Linear(_, 1); loss MSE; optim SGD"),
        "cannot infer the image size of the first layer (`Conv2d`): declare `input [C, H, W];`"
    );
}

#[test]
fn batch_norm_forms_follow_the_position() {
    assert_eq!(
        image_error("Conv2d(1, 4, 3); BatchNorm1d; Flatten; Linear(_, 10)"),
        "`BatchNorm1d` expects flat features, but the layer before it (`Conv2d(1, 4, 3)`) \
         produces an image [4, 6, 6]: write `BatchNorm2d` (or `BatchNorm`)"
    );
    assert_eq!(
        layer_error("Linear(10, 4); BatchNorm2d; Linear(4, 1)"),
        "`BatchNorm2d` expects an image [C, H, W], but the layer before it (`Linear(10, 4)`) \
         produces 4 features: write `BatchNorm1d` (or `BatchNorm`)"
    );
    assert_eq!(
        layer_error("BatchNorm(eps = 0); Linear(10, 1)"),
        "expected `eps` > 0, found 0"
    );
    assert_eq!(
        layer_error("BatchNorm(momentum = 1.5); Linear(10, 1)"),
        "expected `momentum` in [0, 1], found 1.5"
    );
}

#[test]
fn cross_entropy_reads_flat_logits() {
    assert_eq!(
        image_error("Conv2d(1, 4, 3); MaxPool2d(2)"),
        "`CrossEntropy` expects one logit per class, but the last layer (`MaxPool2d(2)`) \
         produces an image [4, 3, 3]: add `Flatten;` and a `Linear` to the class count"
    );
    // Elementwise losses read an image as its values, as PyTorch does.
    ok("input [1, 4, 4]; Conv2d(1, 1, 3, padding = 1); loss MSE; optim SGD");
}

#[test]
fn every_image_mistake_is_reported_once() {
    let errors = errors(
        "input [1, 8, 8];
         Conv2d(3, 8, 3);
         MaxPool2d(2, padding = 2);
         Conv2d(8, 4, 9);
         Linear(64, 10);
         Dropout(1);
         loss CrossEntropy; optim SGD(0.1)",
    );
    assert_eq!(
        errors,
        [
            "`Conv2d` expects 3 input channels, but `input [1, 8, 8];` declares 1",
            "expected `padding` at most half of `kernel_size` (2 / 2 = 1), found 2",
            "expected `p` in [0, 1), found 1",
        ],
    );
}

// ---- sizes: every product checked, the 2^32 limit, no panic ----

/// The only error of a model made of `layers`, a loss and an optimizer.
fn model_error(layers: &str) -> String {
    error(&format!("{layers}; loss MSE; optim SGD(0.01)"))
}

#[test]
fn linear_weights_over_the_limit_are_named_not_wrapped() {
    assert_eq!(
        model_error("Linear(4294967296, 4294967296)"),
        "`Linear(4294967296, 4294967296)` has 4294967296 x 4294967296 = 18446744073709551616 \
         weights, more than the limit of 4294967296 (2^32) per tensor"
    );
    assert_eq!(
        model_error("Linear(100000000, 100000000)"),
        "`Linear(100000000, 100000000)` has 100000000 x 100000000 = 10000000000000000 \
         weights, more than the limit of 4294967296 (2^32) per tensor"
    );
    // After `_`: the numbers are the inferred ones.
    assert_eq!(
        model_error("input 65536; Linear(_, 65537, bias = false)"),
        "`Linear(65536, 65537, bias = false)` has 65537 x 65536 = 4295032832 weights, \
         more than the limit of 4294967296 (2^32) per tensor"
    );
}

#[test]
fn the_limit_itself_is_allowed() {
    let model = ok("Linear(65536, 65536, bias = false); loss MSE; optim SGD(0.01)");
    assert_eq!(model.layers[0].params, [1 << 32]);
    let model = ok(
        "input [1, 65536, 65536]; Flatten; Linear(_, 1, bias = false); \
                    loss MSE; optim SGD(0.01)",
    );
    assert_eq!(model.inputs(), 1 << 32);
    assert_eq!(model.layers[1].params, [1 << 32]);
    let model = ok("Linear(4294967296, 1, bias = false); loss MSE; optim SGD(0.01)");
    assert_eq!(model.inputs(), 1 << 32);
}

#[test]
fn parameter_tensors_are_in_the_ir() {
    let model = image_ok(
        "Conv2d(1, 4, 3, padding = 1); BatchNorm; MaxPool2d(2); Flatten; \
         LayerNorm; Linear(_, 10, bias = false)",
    );
    let params: Vec<&[usize]> = model.layers.iter().map(|l| &l.params[..]).collect();
    assert_eq!(params, [&[36, 4][..], &[4, 4], &[], &[], &[64, 64], &[640]]);
}

#[test]
fn sizes_over_the_limit_are_errors_on_the_number() {
    for (layers, name, found) in [
        ("Linear(99999999999999999999999, 1)", "in_features", "99999999999999999999999"),
        (
            "Linear(999999999999999999999999999999999999999999, 1)",
            "in_features",
            "999999999999999999999999999999999999999999",
        ),
        ("Linear(10, 4294967297)", "out_features", "4294967297"),
        ("Linear(10, 18446744073709551615)", "out_features", "18446744073709551615"),
        ("input 18446744073709551616; Linear(_, 1)", "input", "18446744073709551616"),
        ("input [1, 8, 18446744073709551615]; Flatten; Linear(_, 1)", "input width", "18446744073709551615"),
        ("input [1, 8, 8]; Conv2d(1, 1, 3, padding = 9223372036854775807); Flatten; Linear(_, 1)", "padding", "9223372036854775807"),
        ("input [1, 8, 8]; Conv2d(1, 1, 3, stride = (1, 9223372036854775808)); Flatten; Linear(_, 1)", "stride.1", "9223372036854775808"),
        ("input [1, 8, 8]; MaxPool2d(2, padding = 9223372036854775807); Flatten; Linear(_, 1)", "padding", "9223372036854775807"),
        ("input [1, 8, 8]; MaxPool2d(18446744073709551615); Flatten; Linear(_, 1)", "kernel_size", "18446744073709551615"),
        ("input [1, 8, 8]; AvgPool2d(2, stride = 18446744073709551615); Flatten; Linear(_, 1)", "stride", "18446744073709551615"),
        ("input [1, 8, 8]; BatchNorm(4294967297); Flatten; Linear(_, 1)", "num_features", "4294967297"),
    ] {
        assert_eq!(
            model_error(layers),
            format!(
                "expected `{name}` <= 4294967296 (2^32), the largest size a model may have, \
                 found {found}"
            ),
            "{layers}"
        );
    }
}

#[test]
fn images_over_the_limit_are_errors_without_follow_ons() {
    assert_eq!(
        model_error("input [4294967296, 4294967296, 2]; Flatten; Linear(_, 10)"),
        "`input [4294967296, 4294967296, 2]` has 4294967296 x 4294967296 x 2 = \
         36893488147419103232 values per sample, more than the limit of 4294967296 (2^32) \
         per tensor"
    );
    assert_eq!(
        model_error("input [2, 65536, 65536]; Flatten; Linear(_, 10)"),
        "`input [2, 65536, 65536]` has 2 x 65536 x 65536 = 8589934592 values per sample, \
         more than the limit of 4294967296 (2^32) per tensor"
    );
    assert_eq!(
        model_error("LayerNorm([4294967296, 4294967296, 2]); Flatten; Linear(_, 1)"),
        "`normalized_shape` [4294967296, 4294967296, 2] has 4294967296 x 4294967296 x 2 = \
         36893488147419103232 values per sample, more than the limit of 4294967296 (2^32) \
         per tensor"
    );
    // A padding within the limit that makes the output image too large.
    assert_eq!(
        model_error(
            "input [1, 1, 1]; Conv2d(1, 1, 1, padding = 2147483648); Flatten; Linear(_, 1)"
        ),
        "the output of `Conv2d` [1, 4294967297, 4294967297] has 1 x 4294967297 x 4294967297 = \
         18446744082299486209 values per sample, more than the limit of 4294967296 (2^32) \
         per tensor"
    );
    assert_eq!(
        model_error(
            "input [1, 1, 1]; Conv2d(1, 4294967296, 1, padding = 1); Flatten; Linear(_, 1)"
        ),
        "the output of `Conv2d` [4294967296, 3, 3] has 4294967296 x 3 x 3 = 38654705664 \
         values per sample, more than the limit of 4294967296 (2^32) per tensor"
    );
}

#[test]
fn conv_and_pool_tensors_over_the_limit() {
    assert_eq!(
        model_error("input [65536, 1, 1]; Conv2d(65536, 65537, 1); Flatten; Linear(_, 1)"),
        "`Conv2d(65536, 65537, 1)` has 65537 x 65536 x 1 x 1 = 4295032832 weights, \
         more than the limit of 4294967296 (2^32) per tensor"
    );
    assert_eq!(
        model_error("input [1, 65535, 65536]; Conv2d(1, 1, 3, padding = 1); Flatten; Linear(_, 1)"),
        "`Conv2d(1, 1, 3, padding = 1)` has 1 x 3 x 3 x 65535 x 65536 = 38654115840 values \
         in each sample's unfolded input (a patch per output position), more than the limit \
         of 4294967296 (2^32) per tensor"
    );
    assert_eq!(
        model_error("input [1, 8, 8]; AvgPool2d(100000, padding = 50000); Flatten; Linear(_, 1)"),
        "`AvgPool2d(100000, padding = 50000)` has 100000 x 100000 = 10000000000 values in \
         its window, more than the limit of 4294967296 (2^32) per window"
    );
    // The largest pool window and padding the limit allows: the arithmetic
    // (`H + 2 padding`, the padding rule) stays exact.
    let model = image_ok(
        "MaxPool2d((4294967296, 1), padding = (2147483648, 0), stride = 1); Flatten; Linear(_, 10)",
    );
    assert_eq!(model.layers[0].output, image(1, 9, 8));
    assert_eq!(
        image_error("MaxPool2d(4294967296, padding = 2147483649)"),
        "expected `padding` at most half of `kernel_size` (4294967296 / 2 = 2147483648), \
         found 2147483649"
    );
    assert_eq!(
        image_error("Conv2d(1, 1, 4294967296)"),
        "`Conv2d` kernel 4294967296 does not fit the 8 x 8 input (padding 0)"
    );
}

#[test]
fn the_model_has_at_most_2_32_parameters() {
    // Each tensor is within the limit; the two layers together are not.
    assert_eq!(
        model_error("Linear(65536, 65535); Linear(65535, 65536)"),
        "`Linear(65535, 65536)` brings the model to 8589934591 parameters, more than the \
         limit of 4294967296 (2^32) parameters per model"
    );
    // Reported once, on the layer that crosses the limit.
    assert_eq!(
        model_error(
            "Linear(65536, 65535); Linear(65535, 65536); ReLU; Linear(65536, 65536, bias = false)"
        ),
        "`Linear(65535, 65536)` brings the model to 8589934591 parameters, more than the \
         limit of 4294967296 (2^32) parameters per model"
    );
}

#[test]
fn several_size_errors_are_all_reported_once() {
    let errors = errors(
        "Linear(4294967296, 4294967296); ReLU; Linear(_, 99999999999999999999999); \
         Dropout(2); Linear(10, 1); loss MSE; optim SGD(0.01)",
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("4294967296 x 4294967296"), "{errors:#?}");
    assert!(
        errors[1].contains("`out_features` <= 4294967296"),
        "{errors:#?}"
    );
    assert!(errors[2].contains("`p` in [0, 1)"), "{errors:#?}");
}

#[test]
fn huge_numbers_anywhere_do_not_panic() {
    let huge = [
        "4294967296",
        "4294967297",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999999999999999999999",
    ];
    for n in huge {
        for src in [
            format!("Linear({n}, {n}); loss MSE; optim SGD"),
            format!("input {n}; Linear(_, {n}); BatchNorm; LayerNorm; loss CrossEntropy; optim SGD"),
            format!("input [{n}, {n}, {n}]; Flatten; Linear(_, 1); loss MSE; optim SGD"),
            format!("input [1, 8, 8]; Conv2d(1, {n}, {n}, stride = {n}, padding = {n}); loss MSE; optim SGD"),
            format!("input [1, 8, 8]; Conv2d(1, 1, ({n}, 1), padding = ({n}, 0)); Flatten; Linear(_, 1); loss MSE; optim SGD"),
            format!("input [1, 8, 8]; MaxPool2d({n}, padding = {n}); Flatten; loss MSE; optim SGD"),
            format!("input [1, 8, 8]; AvgPool2d(({n}, {n}), stride = ({n}, 1)); loss MSE; optim SGD"),
            format!("input [1, {n}, 1]; MaxPool2d((1, 1)); Flatten; Linear(_, 1); loss MSE; optim SGD"),
            format!("LayerNorm([{n}, {n}, {n}]); Flatten; Linear(_, 1); loss MSE; optim SGD"),
            format!("BatchNorm({n}); Linear(_, 2); loss CrossEntropy; optim SGD"),
        ] {
            let _ = model(&parse(&src));
        }
    }
}

#[test]
fn a_layer_over_the_limit_is_one_error() {
    // Both the weight (65537 x 65536 x 1 x 3) and the unfolded input
    // (65536 x 1 x 3 x 1 x 65535) are over the limit: one mistake.
    assert_eq!(
        model_error("input [65536, 1, 65535]; Conv2d(65536, 65537, (1, 3), padding = (0, 1)); Flatten; Linear(_, 1)"),
        "`Conv2d(65536, 65537, (1, 3), padding = (0, 1))` has 65537 x 65536 x 1 x 3 = \
         12885098496 weights, more than the limit of 4294967296 (2^32) per tensor"
    );
}
