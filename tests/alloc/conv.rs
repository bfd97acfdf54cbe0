//! Once their buffers exist, the image layers' forward and backward passes
//! allocate nothing (f32): Conv2d's scratch (a chunk of the batch's im2col
//! matrices, a padded sample) grows on the largest batch; MaxPool2d keeps no state; BatchNorm2d's per-channel
//! statistics have a fixed size; Dropout's mask grows only with the batch.
//! A counting global allocator counts the allocations of this thread, as in
//! `tests/alloc/step.rs`.
use crate::common;

use common::counting::allocations;

use macrograd::layers::{
    Activation, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, LayerNorm,
    LayerNormConfig, MaxPool2d, Pool2dConfig, ReLU,
};
// The runtime's batch buffer, through the path generated code uses.
use macrograd::__private::Buffer;
use macrograd::prelude::*;

/// Conv2d(1 -> 8, 3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
/// -> Dropout -> LayerNorm over 12x12 images, with one buffer per
/// activation and gradient, as generated code keeps them.
struct Net {
    conv: Conv2d<f32>,
    bn: BatchNorm<f32>,
    pool: MaxPool2d,
    dropout: Dropout<f32>,
    norm: LayerNorm<f32>,
    acts: Vec<Buffer<f32>>,
    grads: Vec<Buffer<f32>>,
}

impl Net {
    fn new() -> Self {
        let config = Conv2dConfig {
            padding: (1, 1),
            ..Conv2dConfig::new(1, 8, (3, 3))
        };
        let conv = Conv2d::new(config, (12, 12), &mut Rng::new(0));
        let bn = BatchNorm::new_2d(conv.output_shape(), BatchNormConfig::default());
        let pool = MaxPool2d::new(Pool2dConfig::new((2, 2)), conv.output_shape());
        let features = pool.output_shape().len();
        let widths = [
            conv.in_features(),
            conv.out_features(),
            bn.features(),
            bn.features(),
            features,
            features,
            features,
        ];
        Net {
            conv,
            bn,
            pool,
            dropout: Dropout::new(0.25, 1),
            norm: LayerNorm::new(features, LayerNormConfig::default()),
            acts: widths.iter().map(|&w| Buffer::new(w)).collect(),
            grads: widths.iter().map(|&w| Buffer::new(w)).collect(),
        }
    }

    /// Forward and backward over the first `b` rows of `x`, with the
    /// gradient `dL/dy = 1`.
    fn step(&mut self, x: &Array2<f32>, b: usize) {
        for buffer in self.acts.iter_mut().chain(&mut self.grads) {
            buffer.reserve(b);
        }
        let (a, g) = (&mut self.acts, &mut self.grads);
        a[0].view_mut(b).assign(&x.slice(s![..b, ..]));
        let (done, rest) = a.split_at_mut(1);
        self.conv.forward(done[0].view(b), rest[0].view_mut(b));
        let (done, rest) = a.split_at_mut(2);
        self.bn.forward(done[1].view(b), rest[0].view_mut(b), true);
        let (done, rest) = a.split_at_mut(3);
        ReLU.forward(done[2].view(b), rest[0].view_mut(b));
        let (done, rest) = a.split_at_mut(4);
        self.pool.forward(done[3].view(b), rest[0].view_mut(b));
        let (done, rest) = a.split_at_mut(5);
        self.dropout
            .forward(done[4].view(b), rest[0].view_mut(b), true);
        let (done, rest) = a.split_at_mut(6);
        self.norm.forward(done[5].view(b), rest[0].view_mut(b));

        g[6].view_mut(b).fill(1.0);
        let (before, after) = g.split_at_mut(6);
        self.norm.backward(
            a[5].view(b),
            after[0].view(b),
            Some(before[5].view_mut(b)),
            false,
        );
        let (before, after) = g.split_at_mut(5);
        self.dropout
            .backward(after[0].view(b), before[4].view_mut(b));
        let (before, after) = g.split_at_mut(4);
        self.pool.backward(
            a[3].view(b),
            a[4].view(b),
            after[0].view(b),
            before[3].view_mut(b),
        );
        let (before, after) = g.split_at_mut(3);
        ReLU.backward(
            a[2].view(b),
            a[3].view(b),
            after[0].view(b),
            before[2].view_mut(b),
        );
        let (before, after) = g.split_at_mut(2);
        self.bn.backward(
            a[1].view(b),
            after[0].view(b),
            Some(before[1].view_mut(b)),
            false,
        );
        let (before, after) = g.split_at_mut(1);
        self.conv
            .backward(a[0].view(b), after[0].view(b), None, false);
        // The first layer's input gradient too, which a model skips.
        self.conv.backward(
            a[0].view(b),
            after[0].view(b),
            Some(before[0].view_mut(b)),
            true,
        );
    }
}

#[test]
fn image_layers_allocate_nothing_after_a_warm_up() {
    let mut net = Net::new();
    let x: Array2<f32> = Rng::new(2).randn((16, 144));
    // Warm-up on the largest batch: buffers, masks and packing buffers.
    net.step(&x, 16);
    let before = allocations();
    net.step(&x, 16);
    let full = allocations() - before;
    // A smaller batch reuses the storage of the larger one.
    let before = allocations();
    net.step(&x, 9);
    let partial = allocations() - before;
    assert_eq!((full, partial), (0, 0));
    assert!(net.conv.weight_grad.iter().all(|v| v.is_finite()));
}
