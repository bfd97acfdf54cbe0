//! The README's list of examples is the list of files in `examples/`.

use std::collections::BTreeSet;

#[test]
fn the_readme_lists_every_example_and_only_those() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = readme
        .split("\n## Examples\n")
        .nth(1)
        .expect("README has an Examples section");
    let section = section.split("\n## ").next().unwrap();
    let listed: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(format!("{root}/examples"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    assert!(!files.is_empty());
    assert_eq!(listed, files, "README examples vs examples/");
}

#[test]
fn the_readme_data_example_runs() {
    use macrograd::data::{Csv, Standardize};
    use macrograd::io::{load_weights, save_weights};
    use macrograd::prelude::*;

    let dir = std::env::temp_dir().join(format!("macrograd-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("flowers.csv");
    std::fs::write(&csv, macrograd::datasets::IRIS_CSV).unwrap();
    let (from_file, _) = Csv::from_path(&csv)
        .target("species")
        .classification::<f32>()
        .unwrap();
    let (data, labels) = macrograd::datasets::iris();
    assert_eq!(from_file.inputs(), data.inputs());
    assert_eq!(labels.len(), 3);
    let (mut train, mut test) = data.stratified_train_test_split(0.2, 7).unwrap();
    let scale = Standardize::fit(&train);
    scale.transform(&mut train).unwrap();
    scale.transform(&mut test).unwrap();

    model! { struct Iris; input 4; Linear(4, 16); ReLU; Linear(_, 3); loss CrossEntropy; optim Adam(lr = 0.01) }
    let run = dir.join("run.safetensors");
    let mut model = Iris::new();
    model
        .fit(&train, Fit::epochs(10).checkpoint_every(10, &run).quiet())
        .unwrap();
    let history = model
        .fit(&train, Fit::epochs(20).resume_from(&run).quiet())
        .unwrap();
    assert_eq!(history.epochs.len(), 20);
    let weights = dir.join("iris.safetensors");
    save_weights(&model, &weights).unwrap();
    let mut again = Iris::with_seed(1);
    load_weights(&mut again, &weights).unwrap();
    assert_eq!(again.predict(test.inputs()), model.predict(test.inputs()));
    std::fs::remove_dir_all(&dir).unwrap();
}
