//! Data in and out: weights and checkpoints (PyTorch's files both ways,
//! atomic saves), CSV files, and seeded fuzzing of every loader. The global
//! allocator of `io_fuzz` (which records the largest allocation of each
//! thread and refuses absurd ones) serves the whole binary.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod cnn_io;
mod csv;
mod csv_fuzz;
mod io;
mod io_fuzz;
mod onnx;
mod ship;
