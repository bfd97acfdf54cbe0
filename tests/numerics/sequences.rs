//! Sequences: recurrent layers (`RNN`, `LSTM`, `GRU`, stacked and
//! bidirectional) and `Last` in generated models. Every parameter's
//! gradient against finite differences in f64, and three models against
//! PyTorch: they load its initial `state_dict` under the names `model!`
//! gives, compute its outputs, and after one epoch of training (3 batches
//! of 4, in order) hold its parameters and compute its outputs, to 1e-9.
//! The fixture is written by `tests/fixtures/make_sequence_fixture.py`,
//! which also checks the other way round: PyTorch loads the files these
//! tests write (`--check NAME PATH`, the command printed by each test).

use crate::common;

use common::files::{fixture, temp_dir};
use common::finite_diff::check_model;
use common::Tol;
use macrograd::io::{load_weights, save_weights};
use macrograd::prelude::*;

mod torch {
    include!("../fixtures/sequences.rs");
}

model! {
    /// `build("lstm")` of the fixture script.
    struct TorchLstm;
    dtype f64;
    input [5, 3];                       // 5 steps of 3 features
    LSTM(4, num_layers = 2, bidirectional = true);
    Last;                               // [b, 8]
    Linear(8, 2);
    loss MSE;
    optim Adam(lr = 0.01)
}

model! {
    /// `build("gru")` of the fixture script.
    struct TorchGru;
    dtype f64;
    input [5, 3];
    GRU(4);
    Tanh;
    Last;
    Linear(4, 3);
    loss CrossEntropy;
    optim SGD(0.1, momentum = 0.9)
}

model! {
    /// `build("rnn")` of the fixture script.
    struct TorchRnn;
    dtype f64;
    input [5, 3];
    RNN(5, num_layers = 2);
    Last;
    Linear(5, 2);
    loss MSE;
    optim Adam(lr = 0.01)
}

model! {
    /// Every step's outputs read (with `Last`, the reverse direction of the
    /// top layer sees one step, and its `weight_hh` has no gradient).
    struct EveryStep;
    dtype f64;
    input [5, 3];
    LSTM(4, num_layers = 2, bidirectional = true);
    GELU;
    Flatten;                            // 5 x 8 = 40
    Linear(40, 2);
    loss MSE;
    optim SGD(0.1)
}

model! {
    /// `build("conv")` of the fixture script: convolutions and pools over
    /// time.
    struct TorchConv;
    dtype f64;
    input [5, 3];
    Conv1d(3, 4, 3, padding = 1);       // [5, 4]
    ReLU;
    MaxPool1d(2, stride = 1);           // [4, 4]
    Conv1d(_, 5, 2);                    // [3, 5]
    Tanh;
    AvgPool1d(2, stride = 1, padding = 1); // [4, 5]
    GlobalMaxPool1d;                    // 5
    Linear(5, 2);
    loss MSE;
    optim Adam(lr = 0.01)
}

model! {
    /// Every layer over time, for the gradient check.
    struct OverTime;
    dtype f64;
    input [5, 3];
    Conv1d(3, 4, 2, stride = 2, padding = 1); // [3, 4]
    GELU;
    AvgPool1d(2, stride = 1);           // [2, 4]
    Conv1d(4, 3, 1);                    // [2, 3]
    GlobalAvgPool1d;                    // 3
    Linear(3, 2);
    loss MSE;
    optim SGD(0.1)
}

fn weights<M: Model<Elem = f64>>(model: &M) -> Vec<(String, Vec<f64>)> {
    model
        .parameters()
        .iter()
        .map(|p| (p.name.to_string(), p.value.iter().copied().collect()))
        .collect()
}

fn matches_pytorch<M: Model<Elem = f64> + Default>(
    name: &str,
    data: &Dataset<f64, M::Target>,
    output: &[f64],
    after: &[(&str, &[f64])],
    output_after: &[f64],
) {
    let mut model = M::default();
    load_weights(&mut model, fixture(&format!("torch_{name}.safetensors"))).unwrap();
    assert_close!(model.predict(data.inputs()), output, Tol::Abs(1e-9));
    model
        .fit(data, Fit::epochs(1).batch_size(4).shuffle(false).quiet())
        .unwrap();
    let ours = weights(&model);
    assert_eq!(ours.len(), after.len(), "{name}: the state_dict's names");
    for (tensor, expected) in after {
        let (_, got) = ours
            .iter()
            .find(|(n, _)| n == tensor)
            .unwrap_or_else(|| panic!("{name}: no parameter {tensor}"));
        assert_close!(got, expected, Tol::Abs(1e-9));
    }
    let after_epoch = model.predict(data.inputs());
    assert_close!(after_epoch, output_after, Tol::Abs(1e-9));
    // For the script's `--check`: PyTorch loads our file.
    let path = temp_dir("sequences").join(format!("{name}.safetensors"));
    save_weights(&model, &path).unwrap();
    let values: Vec<String> = after_epoch.iter().map(|v| format!("{v:?}")).collect();
    let json = format!("{{\"output\": [{}]}}\n", values.join(", "));
    std::fs::write(path.with_extension("json"), json).unwrap();
    println!(
        "python3 tests/fixtures/make_sequence_fixture.py --check {name} {}",
        path.display()
    );
}

fn inputs(values: &[f64]) -> Array2<f64> {
    Array2::from_shape_vec((12, 15), values.to_vec()).unwrap()
}

#[test]
fn a_stacked_bidirectional_lstm_matches_pytorch() {
    let y = Array2::from_shape_vec((12, 2), torch::LSTM_TARGET.to_vec()).unwrap();
    let data = Dataset::regression(inputs(torch::LSTM_INPUT), y).unwrap();
    matches_pytorch::<TorchLstm>(
        "lstm",
        &data,
        torch::LSTM_OUTPUT,
        torch::LSTM_AFTER_EPOCH,
        torch::LSTM_OUTPUT_AFTER_EPOCH,
    );
}

#[test]
fn a_gru_matches_pytorch() {
    let labels = torch::GRU_TARGET.iter().map(|&l| l as usize).collect();
    let data = Dataset::classification(inputs(torch::GRU_INPUT), labels).unwrap();
    matches_pytorch::<TorchGru>(
        "gru",
        &data,
        torch::GRU_OUTPUT,
        torch::GRU_AFTER_EPOCH,
        torch::GRU_OUTPUT_AFTER_EPOCH,
    );
}

#[test]
fn a_stacked_rnn_matches_pytorch() {
    let y = Array2::from_shape_vec((12, 2), torch::RNN_TARGET.to_vec()).unwrap();
    let data = Dataset::regression(inputs(torch::RNN_INPUT), y).unwrap();
    matches_pytorch::<TorchRnn>(
        "rnn",
        &data,
        torch::RNN_OUTPUT,
        torch::RNN_AFTER_EPOCH,
        torch::RNN_OUTPUT_AFTER_EPOCH,
    );
}

#[test]
fn recurrent_models_pass_the_gradient_check() {
    let x = inputs(torch::LSTM_INPUT).slice(s![..5, ..]).to_owned();
    let y: Array2<f64> = Rng::new(1).randn((5, 2));
    assert_eq!(check_model("LSTM", &mut EveryStep::new(), &x, &y), 16 + 2);
    assert_eq!(check_model("RNN", &mut TorchRnn::new(), &x, &y), 8 + 2);
    let labels = vec![0, 2, 1, 1, 0];
    assert_eq!(check_model("GRU", &mut TorchGru::new(), &x, &labels), 4 + 2);
    assert_eq!(check_model("over time", &mut OverTime::new(), &x, &y), 6);
}

#[test]
fn convolutions_and_pools_over_time_match_pytorch() {
    let y = Array2::from_shape_vec((12, 2), torch::CONV_TARGET.to_vec()).unwrap();
    let data = Dataset::regression(inputs(torch::CONV_INPUT), y).unwrap();
    matches_pytorch::<TorchConv>(
        "conv",
        &data,
        torch::CONV_OUTPUT,
        torch::CONV_AFTER_EPOCH,
        torch::CONV_OUTPUT_AFTER_EPOCH,
    );
}

model! {
    /// Token sequences: each step a class index, embedded, read by a GRU.
    struct Tokens;
    dtype f64;
    input words: category(7, steps = 4);
    Embedding(7, 3);                    // [4, 3]
    GRU(5);
    Last;
    Linear(_, 2);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

#[test]
fn token_sequences_go_through_an_embedding() {
    assert_eq!(
        <Tokens as Model>::CATEGORIES,
        &[(0, 7), (1, 7), (2, 7), (3, 7)]
    );
    let x = Array2::from_shape_fn((6, 4), |(i, t)| ((i * 3 + t * 5) % 7) as f64);
    let labels: Vec<usize> = (0..6).map(|i| i % 2).collect();
    assert_eq!(
        check_model("tokens", &mut Tokens::new(), &x, &labels),
        1 + 4 + 2
    );
    // The embedding of each step is the row of its token.
    let net = Tokens::new();
    let table = &net.parameters()[0];
    assert_eq!(table.name, "0.weight");
    assert_eq!(table.value.shape(), &[7, 3]);
    let mut bad = x.clone();
    bad[[2, 3]] = 7.0;
    let e = net.try_predict(&bad).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotACategory {
                row: 2,
                column: 3,
                ..
            }
        ),
        "{e}"
    );
}
