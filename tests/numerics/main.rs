//! Numerics: every layer's, loss's and generated model's gradients against
//! finite differences in f64, and the image layers' outputs against
//! PyTorch's.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod blocks;
mod blocks_parity;
mod cnn;
mod conv_parity;
mod gradcheck;
mod gradcheck_conv;
mod inputs;
mod sequences;
