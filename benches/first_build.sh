#!/usr/bin/env bash
# What a user's first build costs: a new crate holding one `model!`, built
# from nothing (its own target folder; the registry already downloaded), in
# debug and release, with the default features and without `plot`.
# Usage: bash benches/first_build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/target/first-build"
mkdir -p "$dir/src"
cat > "$dir/src/main.rs" <<'RS'
use macrograd::prelude::*;
fn main() {
    let mut model = model! { Linear(10, 1); loss MSE; optim SGD(0.01) };
    let x = Array2::<f32>::zeros((4, 10));
    println!("{}", model.forward(&x));
}
RS
for features in default no-plot; do
  dep="macrograd = { path = \"$root\" }"
  [ "$features" = no-plot ] && dep="macrograd = { path = \"$root\", default-features = false }"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "first-build"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
$dep
[workspace]
TOML
  for profile in debug release; do
    flag=""
    [ "$profile" = release ] && flag="--release"
    rm -rf "$dir/target"
    start=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build -q $flag)
    end=$(date +%s.%N)
    echo "$features $profile: $(echo "$end - $start" | bc) s"
  done
done
