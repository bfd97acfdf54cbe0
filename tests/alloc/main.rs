//! Tests under a counting global allocator: a training step, a generated
//! CNN's step, the image layers' passes, gradient clipping and the
//! optimizers allocate nothing once their buffers exist. The allocator
//! counts per thread, so the tests of this binary still run in parallel.
//! Every test that counts allocations lives here (with the other tests of
//! its file), as a binary has one global allocator.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod clip;
mod cnn;
mod conv;
mod optimizers;
mod step;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;
