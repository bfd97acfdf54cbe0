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
