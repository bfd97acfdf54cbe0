#!/usr/bin/env bash
# Build-time cost of model size: a clean release build of the same program
# with a 1-layer and with a 12-layer model (dependencies prebuilt, so the
# difference is the user's crate: expansion plus compiling the generated
# code). Usage: bash benches/compile_time.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/compile-time"
mkdir -p "$work"

make_crate() { # name, layers
  local dir="$work/$1"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
macrograd = { path = "$root" }
[workspace]
TOML
  cat > "$dir/src/main.rs" <<RS
use macrograd::prelude::*;
model! { struct Net; input 32; $2 loss MSE; optim Adam(lr = 1e-3) }
fn main() {
    let mut net = Net::new();
    let x = Array2::<f32>::zeros((4, 32));
    let y = Array2::<f32>::zeros((4, 1));
    println!("{}", net.train_step(&x, &y));
}
RS
}

one="Linear(_, 1);"
twelve=""
for _ in $(seq 11); do twelve="$twelve Linear(_, 32); ReLU;"; done
twelve="$twelve Linear(_, 1);"
make_crate layers1 "$one"
make_crate layers12 "$twelve"

export CARGO_TARGET_DIR="$work/target"
for c in layers1 layers12; do
  (cd "$work/$c" && cargo build -q --release)   # dependencies, once
done
for c in layers1 layers12; do
  for i in 1 2 3; do
    touch "$work/$c/src/main.rs"
    start=$(date +%s.%N)
    (cd "$work/$c" && cargo build -q --release)
    end=$(date +%s.%N)
    echo "$c run $i: $(echo "$end - $start" | bc) s"
  done
done
