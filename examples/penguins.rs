//! Penguins: measurements and text categories, with missing values.
//!
//! Run: `cargo run --release --example penguins`
//!
//! Real tables mix numbers with words and have holes. Here 344 penguins of
//! three species (Adelie, Chinstrap, Gentoo) from three islands have four
//! measurements and a sex, and `NA` where nobody measured:
//!
//! 1. **Read** `data/penguins.csv`: the species (text) is the target; the
//!    measurements are numbers; island and sex are text categories, each
//!    mapped to class indices in sorted order. A missing sex becomes a
//!    category of its own (`NA`); the two penguins that miss every
//!    measurement are left out (`Missing::Category`).
//! 2. **Declare** three named inputs: the measurements as they are, island
//!    and sex through an `Embedding` each (a learned vector per category),
//!    joined side by side.
//! 3. **Train** with the scaler, the species names and the category names
//!    inside the model: it takes the rows as read, and the file it is saved
//!    to serves text rows.
//! 4. **Test** once: accuracy and the confusion matrix, by species name.
//!
//! `MACROGRAD_QUICK=1` trains 15 epochs instead of 150.

use macrograd::data::{Csv, Missing, Preprocessing};
use macrograd::prelude::*;
use macrograd::train::EarlyStopping;

model! {
    /// 4 measurements, the island (3) and the sex (female, male, NA).
    struct Penguins;
    input measurements: 4;
    input island: category(3);
    input sex: category(3);
    concat {
        measurements;
        island => Embedding(3, 2);
        sex => Embedding(3, 2);
    }
    Linear(_, 16);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 1e-2)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    // 1. Read: the columns in the order the model declares its inputs.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/penguins.csv");
    let (data, species) = Csv::from_path(path)
        .target("species")
        .features([
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
            "island",
            "sex",
        ])
        .categories(["island", "sex"])
        .missing(Missing::Category)
        .classification::<f32>()?;
    println!(
        "{} penguins read (of 344: those missing a measurement are left out)",
        data.len()
    );
    for (column, names) in data.categories() {
        let names: Vec<String> = (0..names.len())
            .filter_map(|i| names.name(i))
            .map(|n| n.into_owned())
            .collect();
        println!("  input column {column}: categories {names:?}");
    }
    let (train, validation, test) = data.stratified_split3(0.6, 0.2, 0.2, 7)?;

    // 2-3. The model keeps the scaler (of the training part; category
    // columns are left alone), the species and the category names.
    let mut model = Penguins::new();
    model.set_preprocessing(
        Preprocessing::new()
            .with_scaler(Standardize::fit(&train))
            .with_labels(species.clone())
            .with_categories(data.categories().to_vec()),
    )?;
    println!("\n{}\n", model.summary());
    let epochs = if quick { 15 } else { 150 };
    let history = model.fit(
        &train,
        Fit::epochs(epochs)
            .batch_size(16)
            .validation_data(&validation)
            .early_stopping(EarlyStopping::patience(20).restore_best())
            .quiet(),
    )?;
    println!("{}", history.stop);

    // 4. Test once.
    let result = model.evaluate(&test)?;
    println!("test {result} ({} penguins)\n", test.len());
    let logits = model.predict(test.inputs());
    let matrix = ConfusionMatrix::from_logits(logits.view(), test.targets())
        .with_names((0..species.len()).map(|i| species.name(i).unwrap_or_default().into_owned()));
    print!("{matrix}");

    // The saved file serves rows of text, encoded as in training.
    let file = std::path::PathBuf::from("target/models/penguins.safetensors");
    std::fs::create_dir_all(file.parent().expect("a folder"))?;
    save_weights(&model, &file)?;
    let served = Penguins::load(&file)?;
    let rows = vec![
        vec!["39.1", "18.7", "181", "3750", "Torgersen", "male"],
        vec!["46.5", "17.9", "192", "3500", "Dream", "female"],
        vec!["50.0", "15.2", "218", "5700", "Biscoe", "NA"],
    ];
    let inputs = served.preprocessing().encode::<f32, _>(&rows)?;
    println!("\nfrom {}:", macrograd::history::shown_path(&file));
    for (row, name) in rows.iter().zip(served.predict_names(&inputs)) {
        println!("  {row:?} -> {name}");
    }
    match served
        .preprocessing()
        .encode::<f32, _>(&[vec!["40", "18", "190", "3700", "Atlantis", "male"]])
    {
        Err(e) => println!("  an island the model never saw: {e}"),
        Ok(_) => println!("  an island the model never saw was accepted"),
    }

    let counts = matrix.counts();
    let right: usize = (0..counts.len()).map(|i| counts[i][i]).sum();
    let wrong = test.len() - right;
    println!();
    println!("Look at: the categories each column read (a missing sex is `NA`, a category of");
    println!(
        "its own), then the confusion matrix: {wrong} of {} test penguins misnamed. The",
        test.len()
    );
    println!("served rows were text, encoded with the names saved in the file; an island it");
    println!("never saw is an error, not a guess.");
    Ok(())
}
