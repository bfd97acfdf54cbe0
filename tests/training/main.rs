//! Generated models and their training: the four steps, `fit` and its
//! epoch loop, learning-rate schedules, PyTorch's golden losses and runs,
//! and the README's examples.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod distributed;
mod fit;
mod golden;
mod model;
mod readme;
mod schedule;
mod serving;
