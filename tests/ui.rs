//! Compile-fail cases, one per diagnostic of `model!`, and pass cases.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui`
//! and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
