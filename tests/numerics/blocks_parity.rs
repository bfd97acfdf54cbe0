//! Blocks against PyTorch, in f64: a residual CNN (a shortcut of two
//! layers, batch norm inside and outside the blocks), a model of parallel
//! branches (concatenation, an identity branch, an addition of three
//! branches, one of them residual) and a model of three named inputs, two
//! of them categories embedded, load PyTorch's initial
//! `state_dict` under the names `model!` gives, compute its outputs, and
//! after one epoch of training (3 batches of 4, in order; SGD with
//! momentum, Adam, AdamW) hold PyTorch's parameters and running statistics, to
//! 1e-9. The fixture is written by `tests/fixtures/make_blocks_fixture.py`,
//! which also checks the other way round (PyTorch loads our trained file):
//!
//! ```text
//! python3 tests/fixtures/make_blocks_fixture.py --check resnet $CARGO_TARGET_TMPDIR/blocks-.../resnet.safetensors
//! ```

use crate::common;

use common::files::{fixture, temp_dir};
use common::Tol;
use macrograd::io::{load_weights, save_weights};
use macrograd::layers::BufferValue;
use macrograd::prelude::*;

mod torch {
    include!("../fixtures/blocks.rs");
}

model! {
    /// `resnet()` of the fixture script.
    struct TorchResNet;
    dtype f64;
    input [2, 6, 6];
    Conv2d(2, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    residual {
        Conv2d(4, 4, 3, padding = 1);
        BatchNorm;
        ReLU;
        Conv2d(4, 4, 3, padding = 1);
    }
    ReLU;
    residual(shortcut = [Conv2d(4, 6, 1, stride = 2), BatchNorm]) {
        Conv2d(4, 6, 3, stride = 2, padding = 1);
        Tanh;
    }
    Flatten;
    Linear(54, 3);
    loss CrossEntropy;
    optim SGD(0.1, momentum = 0.9)
}

model! {
    /// `branchy()` of the fixture script.
    struct TorchBranchy;
    dtype f64;
    input 5;
    Linear(5, 6);
    Tanh;
    concat {
        Linear(6, 3) => Tanh;
        Identity;
        add {
            Linear(6, 2);
            Linear(6, 2) => GELU;
            residual(shortcut = Linear(6, 2)) { Linear(6, 2); Tanh };
        }
    }
    Linear(11, 2);
    loss MSE;
    optim Adam(lr = 0.01)
}

model! {
    /// `penguins()` of the fixture script: measurements and two embedded
    /// categories, side by side.
    struct TorchPenguins;
    dtype f64;
    input measurements: 4;
    input island: category(3);
    input sex: category(2);
    concat {
        measurements;
        island => Embedding(3, 2);
        sex => Embedding(2, 1);
    }
    Linear(7, 8);
    Tanh;
    Linear(8, 3);
    loss CrossEntropy;
    optim AdamW(lr = 0.02)
}

/// Every parameter and buffer of `model`, by name, as f64.
fn state<M: Model<Elem = f64>>(model: &M) -> Vec<(String, Vec<f64>)> {
    let mut all = Vec::new();
    for p in model.parameters() {
        all.push((p.name.to_string(), p.value.iter().copied().collect()));
    }
    model.visit_buffers(&mut |b| {
        let values = match b.value {
            BufferValue::Float(v) => v.iter().copied().collect(),
            BufferValue::Count(n) => vec![n as f64],
        };
        all.push((b.name.to_string(), values));
    });
    all
}

/// Loads PyTorch's initial weights, checks the training-mode outputs, trains
/// one epoch and checks every tensor and the evaluation outputs; writes the
/// trained weights for the script's `--check`.
fn matches_pytorch<M: Model<Elem = f64> + Default>(
    name: &str,
    data: &Dataset<f64, M::Target>,
    train_output: &[f64],
    eval_output: &[f64],
    after: &[(&str, &[f64])],
) {
    let file = fixture(&format!("torch_{name}.safetensors"));
    let mut model = M::default();
    load_weights(&mut model, &file).unwrap();
    let outputs = model.forward(data.inputs()).to_owned();
    assert_close!(outputs, train_output, Tol::Abs(1e-9));
    // That forward moved the running statistics: from the file again.
    load_weights(&mut model, &file).unwrap();
    model
        .fit(data, Fit::epochs(1).batch_size(4).shuffle(false).quiet())
        .unwrap();
    let ours = state(&model);
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    let mut theirs: Vec<&str> = after.iter().map(|(n, _)| *n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(sorted, theirs, "{name}: the state_dict's names");
    for (tensor, expected) in after {
        let (_, got) = ours.iter().find(|(n, _)| n == tensor).unwrap();
        assert_close!(got, expected, Tol::Abs(1e-9));
    }
    let eval = model.predict(data.inputs());
    assert_close!(eval, eval_output, Tol::Abs(1e-9));
    let dir = temp_dir("blocks");
    let path = dir.join(format!("{name}.safetensors"));
    save_weights(&model, &path).unwrap();
    let values: Vec<String> = eval.iter().map(|v| format!("{v:?}")).collect();
    let json = format!("{{\"eval_output\": [{}]}}\n", values.join(", "));
    std::fs::write(path.with_extension("json"), json).unwrap();
    println!(
        "python3 tests/fixtures/make_blocks_fixture.py --check {name} {}",
        path.display()
    );
}

#[test]
fn a_residual_cnn_matches_pytorch() {
    let x = Array2::from_shape_vec((12, 72), torch::RESNET_INPUT.to_vec()).unwrap();
    let labels = torch::RESNET_TARGET.iter().map(|&l| l as usize).collect();
    let data = Dataset::classification(x, labels).unwrap();
    matches_pytorch::<TorchResNet>(
        "resnet",
        &data,
        torch::RESNET_TRAIN_OUTPUT,
        torch::RESNET_EVAL_OUTPUT,
        torch::RESNET_AFTER_EPOCH,
    );
}

#[test]
fn parallel_branches_match_pytorch() {
    let x = Array2::from_shape_vec((12, 5), torch::BRANCHY_INPUT.to_vec()).unwrap();
    let y = Array2::from_shape_vec((12, 2), torch::BRANCHY_TARGET.to_vec()).unwrap();
    let data = Dataset::regression(x, y).unwrap();
    matches_pytorch::<TorchBranchy>(
        "branchy",
        &data,
        torch::BRANCHY_TRAIN_OUTPUT,
        torch::BRANCHY_EVAL_OUTPUT,
        torch::BRANCHY_AFTER_EPOCH,
    );
}

#[test]
fn embeddings_of_named_inputs_match_pytorch() {
    let x = Array2::from_shape_vec((12, 6), torch::PENGUINS_INPUT.to_vec()).unwrap();
    let labels = torch::PENGUINS_TARGET.iter().map(|&l| l as usize).collect();
    let data = Dataset::classification(x, labels).unwrap();
    matches_pytorch::<TorchPenguins>(
        "penguins",
        &data,
        torch::PENGUINS_TRAIN_OUTPUT,
        torch::PENGUINS_EVAL_OUTPUT,
        torch::PENGUINS_AFTER_EPOCH,
    );
}
