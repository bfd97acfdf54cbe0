//! Generated convolutional networks: every parameter's gradient against
//! finite differences in f64 (batch norm in training and in evaluation
//! mode), the summary's image shapes, PyTorch's parameter and buffer names
//! and shapes, training vs evaluation mode, `predict_proba`, seeding, and a
//! small image task that training learns.

use crate::common;

use common::finite_diff::check_model;
use common::images::bars;
use common::Tol;
use macrograd::layers::{BufferValue, BufferValueMut};
use macrograd::prelude::*;

model! {
    /// The design's small CNN, in f64 for the gradient checks.
    struct Cnn;
    dtype f64;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    ReLU;
    MaxPool2d(2);
    Conv2d(4, 6, 3);
    BatchNorm;
    ReLU;
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// Every other image layer and argument form: strides, pairs, average
    /// pooling with padding, layer norm over an image, dropout, batch norm
    /// after flat features, a convolution without bias.
    struct Wide;
    dtype f64;
    input [2, 7, 6];
    Dropout(0.25);
    Conv2d(2, 3, (3, 2), stride = (2, 1), padding = (1, 0), bias = false);
    LayerNorm;
    Tanh;
    AvgPool2d(3, stride = 1, padding = 1);
    Conv2d(_, 2, 1);
    Flatten;
    Linear(_, 5);
    BatchNorm;
    GELU;
    Dropout(0.5);
    Linear(_, 3);
    loss MSE;
    optim Adam(lr = 1e-3)
}

fn images(batch: usize, shape: [usize; 3], seed: u64) -> Array2<f64> {
    Rng::new(seed).randn((batch, shape.iter().product()))
}

#[test]
fn every_parameter_passes_a_gradient_check_with_batch_norm_training() {
    let mut cnn = Cnn::with_seed(3);
    let labels = vec![0, 3, 9, 1, 1, 7, 5, 2];
    let x = images(8, [1, 8, 8], 4);
    let checked = check_model("Cnn", &mut cnn, &x, &labels);
    assert_eq!(checked, 8); // two convolutions, batch norm, linear: weight and bias each
}

#[test]
fn every_parameter_passes_a_gradient_check_in_both_modes() {
    // Training mode would draw new dropout masks for every evaluation of
    // the loss; evaluation mode (no dropout, running statistics) is
    // deterministic and checks the evaluation backward of batch norm.
    let mut wide = Wide::with_seed(5);
    let x = images(6, [2, 7, 6], 6);
    let y = images(6, [3, 1, 1], 7);
    // A few training batches move the running statistics away from 0 and 1.
    for seed in 0..3 {
        wide.forward(&images(6, [2, 7, 6], 10 + seed));
    }
    wide.set_training(false);
    let checked = check_model("Wide eval", &mut wide, &x, &y);
    assert_eq!(checked, 1 + 2 + 2 + 2 + 2 + 2);
}

#[test]
fn the_summary_shows_image_shapes() {
    let summary = Cnn::new().summary();
    assert_eq!(summary.input_shape, [1, 8, 8]);
    assert_eq!(summary.inputs, 64);
    let shapes: Vec<&[usize]> = summary.layers.iter().map(|l| l.shape).collect();
    assert_eq!(
        shapes,
        [
            &[4, 8, 8][..],
            &[4, 8, 8],
            &[4, 4, 4],
            &[6, 2, 2],
            &[6, 2, 2],
            &[6, 2, 2],
            &[24],
            &[10],
        ]
    );
    assert_eq!(summary.layers[4].layer, "BatchNorm2d(6)");
    assert_eq!(summary.layers[7].layer, "Linear(24, 10)");
    assert_eq!(summary.layers[6].output, 24);
    // 4 x 9 + 4, 6 x 4 x 9 + 6, 6 + 6, 24 x 10 + 10.
    assert_eq!(summary.params(), 40 + 222 + 12 + 250);
    // The printed table, with its columns aligned to the widest shape.
    let text = summary.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[2].trim(),
        "input                         [b, 1, 8, 8]"
    );
    assert_eq!(
        lines[3],
        "  0  Conv2d(1, 4, 3, padding = 1)  [b, 4, 8, 8]          40"
    );
    assert_eq!(
        lines[9],
        "  6  Flatten                            [b, 24]           0"
    );
    let end = lines[1].len();
    assert!(lines[2..11].iter().all(|l| l.len() == end), "{text}");
}

#[test]
fn parameters_and_buffers_have_pytorchs_names_and_shapes() {
    let cnn = Cnn::new();
    let params: Vec<(&str, Vec<usize>)> = cnn
        .parameters()
        .iter()
        .map(|p| (p.name, p.value.shape().to_vec()))
        .collect();
    assert_eq!(
        params,
        [
            ("0.weight", vec![4, 1, 3, 3]),
            ("0.bias", vec![4]),
            ("3.weight", vec![6, 4, 3, 3]),
            ("3.bias", vec![6]),
            ("4.weight", vec![6]),
            ("4.bias", vec![6]),
            ("7.weight", vec![10, 24]),
            ("7.bias", vec![10]),
        ]
    );
    let wide = Wide::new();
    let names: Vec<(&str, Vec<usize>)> = wide
        .parameters()
        .iter()
        .map(|p| (p.name, p.value.shape().to_vec()))
        .collect();
    assert_eq!(
        names,
        [
            ("1.weight", vec![3, 2, 3, 2]),
            ("2.weight", vec![3, 4, 5]),
            ("2.bias", vec![3, 4, 5]),
            ("5.weight", vec![2, 3, 1, 1]),
            ("5.bias", vec![2]),
            ("7.weight", vec![5, 40]),
            ("7.bias", vec![5]),
            ("8.weight", vec![5]),
            ("8.bias", vec![5]),
            ("11.weight", vec![3, 5]),
            ("11.bias", vec![3]),
        ]
    );
    let mut buffers = Vec::new();
    cnn.visit_buffers(&mut |b| {
        let value = match b.value {
            BufferValue::Float(v) => v.iter().copied().collect(),
            BufferValue::Count(n) => vec![n as f64],
        };
        buffers.push((b.name, value));
    });
    assert_eq!(
        buffers,
        [
            ("4.running_mean", vec![0.0; 6]),
            ("4.running_var", vec![1.0; 6]),
            ("4.num_batches_tracked", vec![0.0]),
        ]
    );
}

/// The running statistics as one vector, the count last.
fn statistics<M: Model<Elem = f64>>(model: &M) -> Vec<f64> {
    let mut all = Vec::new();
    model.visit_buffers(&mut |b| match b.value {
        BufferValue::Float(v) => all.extend(v.iter().copied()),
        BufferValue::Count(n) => all.push(n as f64),
    });
    all
}

#[test]
fn batch_norm_tracks_statistics_in_training_and_uses_them_in_evaluation() {
    let mut cnn = Cnn::new();
    let x = images(5, [1, 8, 8], 8);
    let before = statistics(&cnn);
    cnn.forward(&x);
    let after = statistics(&cnn);
    assert_ne!(before, after);
    assert_eq!(after.last(), Some(&1.0));
    // Evaluation forwards leave the statistics alone, and a sample's output
    // no longer depends on the rest of the batch.
    cnn.set_training(false);
    let batch = cnn.forward(&x).to_owned();
    let first = cnn.forward(x.slice(s![..1, ..])).to_owned();
    assert_eq!(statistics(&cnn), after);
    assert_close!(batch.slice(s![..1, ..]), first, Tol::Abs(1e-12));
    // Loading statistics (as from a checkpoint) changes the outputs.
    cnn.visit_buffers_mut(&mut |b| match b.value {
        BufferValueMut::Float(mut v) => v.fill(2.0),
        BufferValueMut::Count(n) => *n = 7,
    });
    assert_eq!(statistics(&cnn).last(), Some(&7.0));
    assert_ne!(cnn.forward(&x).to_owned(), batch);
}

#[test]
fn set_training_switches_dropout_and_batch_norm() {
    let mut wide = Wide::new();
    let x = images(4, [2, 7, 6], 9);
    // Training: new dropout masks every forward.
    let a = wide.forward(&x).to_owned();
    let b = wide.forward(&x).to_owned();
    assert_ne!(a, b);
    // Evaluation: deterministic.
    wide.set_training(false);
    let c = wide.forward(&x).to_owned();
    let d = wide.forward(&x).to_owned();
    assert_eq!(c, d);
    // `predict` is evaluation mode and leaves the model in training mode.
    wide.set_training(true);
    let e = wide.predict(&x);
    assert_eq!(e, c);
    assert_ne!(wide.forward(&x).to_owned(), c);
}

#[test]
fn dropout_draws_from_its_own_generator() {
    // The same layers with and without dropout start from the same weights.
    model! { struct Plain; input [1, 4, 4]; Conv2d(1, 2, 3); Flatten; Linear(_, 2); loss MSE; optim SGD(0.1) }
    model! { struct Dropped; input [1, 4, 4]; Dropout(0.5); Conv2d(1, 2, 3); Flatten; Dropout(0.2); Linear(_, 2); loss MSE; optim SGD(0.1) }
    fn values<M: Model<Elem = f32>>(model: &M) -> Vec<f32> {
        let mut all = Vec::new();
        model.visit_parameters(&mut |p| all.extend(p.value.iter().copied()));
        all
    }
    for seed in [0, 1, 42] {
        assert_eq!(
            values(&Plain::with_seed(seed)),
            values(&Dropped::with_seed(seed))
        );
    }
    // One seed, one sequence of masks; another seed, others.
    let x = Array2::<f32>::ones((3, 16));
    let mut a = Dropped::with_seed(1);
    let mut b = Dropped::with_seed(1);
    let mut c = Dropped::with_seed(2);
    let (ya, yb, yc) = (
        a.forward(&x).to_owned(),
        b.forward(&x).to_owned(),
        c.forward(&x).to_owned(),
    );
    assert_eq!(ya, yb);
    assert_ne!(ya, yc);
}

/// `predict_classes` reads the logits as the accuracy metric does: the
/// first largest for CrossEntropy, `logit > 0` for each BCE output.
#[test]
fn predict_classes_are_what_the_accuracy_counts() {
    let cnn = Cnn::new();
    let x = images(5, [1, 8, 8], 12);
    let logits = cnn.predict(&x);
    let classes: Vec<usize> = cnn.predict_classes(&x);
    for (row, &c) in logits.rows().into_iter().zip(&classes) {
        let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        assert_eq!(row[c], max);
        assert!(row.iter().take(c).all(|&v| v < max), "the first largest");
    }
    let truth = classes.clone();
    let matrix = macrograd::metrics::ConfusionMatrix::from_logits(logits.view(), &truth);
    assert_eq!(matrix.accuracy(), 1.0);

    // One BCE output: one 0/1 answer per sample.
    let binary = model! { Linear(4, 1); loss BCE; optim SGD(0.1) };
    let x = Array2::from_shape_fn((6, 4), |(i, j)| i as f32 - 2.5 + j as f32 * 0.1);
    let answers: Vec<usize> = binary.predict_classes(&x);
    let logits = binary.predict(&x);
    let expected: Vec<usize> = logits.iter().map(|&l| usize::from(l > 0.0)).collect();
    assert_eq!(answers, expected);
    assert!(answers.contains(&0) && answers.contains(&1), "{logits}");

    // Several BCE outputs: `[batch, outputs]`.
    let multi = model! { Linear(4, 3); loss BCE; optim SGD(0.1) };
    let answers: Array2<usize> = multi.predict_classes(&x);
    assert_eq!(answers, multi.predict(&x).mapv(|l| usize::from(l > 0.0)));
}

#[test]
fn predict_proba_is_the_softmax_of_the_logits() {
    let cnn = Cnn::new();
    let x = images(3, [1, 8, 8], 11);
    let logits = cnn.predict(&x);
    let probs = cnn.predict_proba(&x);
    for (l, p) in logits.rows().into_iter().zip(probs.rows()) {
        assert_close!([p.sum()], [1.0], Tol::Abs(1e-12));
        let max = l.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let z: f64 = l.iter().map(|v| (v - max).exp()).sum();
        let softmax = l.mapv(|v| (v - max).exp() / z);
        assert_close!(p, softmax, Tol::Abs(1e-12));
    }
    // BCE: the sigmoid of each logit.
    let binary = model! { input [1, 2, 2]; Flatten; Linear(_, 2); loss BCE; optim SGD(0.1) };
    let x = Array2::<f32>::from_elem((1, 4), 0.5);
    let logits = binary.predict(&x);
    let probs = binary.predict_proba(&x);
    let sigmoid = logits.mapv(|l| 1.0 / (1.0 + (-l).exp()));
    assert_close!(
        probs.mapv(f64::from),
        sigmoid.mapv(f64::from),
        Tol::Abs(1e-6)
    );
}

#[test]
fn typed_rows_take_the_flattened_image() {
    let mut cnn = Cnn::new();
    let rows = [[0.25_f64; 64]; 2];
    let out = cnn.forward_rows(&rows).to_owned();
    assert_eq!(out.dim(), (2, 10));
    assert_eq!(cnn.predict_rows(&rows).len(), 2);
    assert!(cnn.train_step_rows(&rows, &[1, 2]).is_finite());
}

#[test]
fn training_learns_a_small_image_task() {
    model! {
        struct Bars;
        input [1, 8, 8];
        Conv2d(1, 4, 3, padding = 1);
        BatchNorm;
        ReLU;
        MaxPool2d(2);
        Dropout(0.1);
        Flatten;
        Linear(_, 3);
        loss CrossEntropy;
        optim Adam(lr = 0.01)
    }
    let (train, test) = (bars(300, 1), bars(150, 2));
    let mut model = Bars::with_seed(0);
    let before = model.evaluate_batched(&test, 50).unwrap().loss;
    let history = model
        .fit(&train, Fit::epochs(15).batch_size(20).seed(3).quiet())
        .unwrap();
    let after = model.evaluate_batched(&test, 50).unwrap().loss;
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
    assert!(
        losses[losses.len() - 1] < 0.5 * losses[0],
        "training loss {losses:?}"
    );
    assert!(after < 0.5 * before, "test loss {before} -> {after}");
    let predicted = model.predict_proba(test.inputs());
    let correct = predicted
        .rows()
        .into_iter()
        .zip(test.targets())
        .filter(|(p, &label)| {
            let best = (0..3).fold(0, |b, j| if p[j] > p[b] { j } else { b });
            best == label
        })
        .count();
    assert!(
        correct * 10 >= test.len() * 9,
        "{correct} of {} right",
        test.len()
    );
}

#[test]
fn restore_best_puts_back_the_running_statistics_too() {
    use macrograd::train::EarlyStopping;
    model! {
        struct Normed;
        input [1, 8, 8];
        Conv2d(1, 4, 3);
        BatchNorm(momentum = 0.5);
        ReLU;
        Flatten;
        Linear(_, 3);
        loss CrossEntropy;
        optim Adam(lr = 0.05)
    }
    let (train, validation) = (bars(120, 5), bars(60, 6));
    let mut model = Normed::with_seed(1);
    let history = model
        .fit(
            &train,
            Fit::epochs(12)
                .batch_size(10)
                .validation_data(&validation)
                .early_stopping(EarlyStopping::patience(12).restore_best())
                .quiet(),
        )
        .unwrap();
    let best = history.best_epoch.expect("a best epoch");
    assert!(best < history.epochs.len(), "the last epoch was the best");
    let best_loss = history.epochs[best - 1].val_loss.unwrap();
    // Validation ran in evaluation mode, with the running statistics of
    // that epoch: only with those back does the loss come out the same.
    let loss = model.evaluate_batched(&validation, 10).unwrap().loss;
    assert_close!([loss], [best_loss], Tol::Abs(1e-6));
}
