//! Adam and AdamW (`torch.optim.Adam`, `torch.optim.AdamW`), with AMSGrad.

use super::state::*;
use super::Optimizer;
use crate::parallel::split_update;
use crate::{Float, StateError};

/// Hyperparameters of [`Adam`], with PyTorch's defaults for `Adam`
/// (`AdamConfig::adamw()` gives `AdamW`'s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate; default 1e-3.
    pub lr: f64,
    /// Decay rates of the first and second moments; default (0.9, 0.999).
    pub betas: (f64, f64),
    /// Added to the bias-corrected `sqrt(v)`; default 1e-8.
    pub eps: f64,
    /// Weight decay; default 0 for Adam, 0.01 for AdamW.
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad); default false.
    pub amsgrad: bool,
    /// `false`: L2 added to the gradient (Adam); `true`: decoupled decay of
    /// the weights scaled by lr (AdamW). Default false (true in
    /// [`AdamConfig::adamw`]).
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// Every hyperparameter by name (flags as 0 or 1), as a checkpoint
    /// records the declaration.
    fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("lr", self.lr),
            ("beta1", self.betas.0),
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("amsgrad", flag(self.amsgrad)),
            ("decoupled", flag(self.decoupled)),
        ]
    }

    /// `AdamW`'s defaults: Adam's, with decoupled weight decay 0.01.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            decoupled: true,
            ..AdamConfig::default()
        }
    }
}

/// AdamW (`torch.optim.AdamW`): an [`Adam`] built with decoupled weight
/// decay ([`AdamConfig::adamw`]: `decoupled: true`, weight decay 0.01), as
/// PyTorch's `AdamW` is its `Adam` with `decoupled_weight_decay=True`. The
/// language's `AdamW(..)` builds one.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::optim::{AdamConfig, AdamW, Optimizer};
/// let mut adamw = AdamW::<f64>::new(AdamConfig { lr: 0.1, ..AdamConfig::adamw() }, &[1]);
/// let mut p = [1.0];
/// adamw.update(0, &mut p, &[0.0]);
/// assert_eq!(p, [1.0 - 0.1 * 0.01]); // only the decay: p (1 - lr wd)
/// ```
pub type AdamW<T> = Adam<T>;

/// Per-parameter state of [`Adam`].
#[derive(Clone, Debug)]
struct AdamState<T> {
    step: u64,
    m: Vec<T>,
    v: Vec<T>,
    v_max: Vec<T>,
}

/// Adam and AdamW (PyTorch semantics: eps after bias-correcting `sqrt(v)`;
/// the step counter is per parameter).
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// Hyperparameters.
    pub config: AdamConfig,
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: AdamConfig,
    state: Vec<AdamState<T>>,
}

impl<T: Float> Adam<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: AdamConfig, param_lens: &[usize]) -> Self {
        let state = param_lens
            .iter()
            .map(|&len| AdamState {
                step: 0,
                m: vec![T::zero(); len],
                v: vec![T::zero(); len],
                v_max: if config.amsgrad {
                    vec![T::zero(); len]
                } else {
                    Vec::new()
                },
            })
            .collect();
        Adam {
            config,
            declared: config,
            state,
        }
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.config.betas.0)
    }

    fn set_momentum(&mut self, beta1: f64) {
        self.config.betas.0 = beta1;
    }

    fn state(&self) -> Vec<(String, Vec<f64>)> {
        let mut state = vec![
            ("lr".to_string(), vec![self.config.lr]),
            ("beta1".to_string(), vec![self.config.betas.0]),
        ];
        for (i, s) in self.state.iter().enumerate() {
            state.push((format!("{i}.step"), vec![s.step as f64]));
            state.push((format!("{i}.exp_avg"), widen(&s.m)));
            state.push((format!("{i}.exp_avg_sq"), widen(&s.v)));
            if self.config.amsgrad {
                state.push((format!("{i}.max_exp_avg_sq"), widen(&s.v_max)));
            }
        }
        push_declared(&mut state, &self.declared.named());
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError> {
        let mut r = StateReader::new(state);
        let lr = r.hyperparameter("lr", Range::NonNegative);
        let beta1 = r.hyperparameter("beta1", Range::UnitOpen);
        let amsgrad = self.config.amsgrad;
        let loaded: Vec<_> = (self.state.iter().enumerate())
            .map(|(i, s)| {
                let len = s.m.len();
                (
                    r.step(&format!("{i}.step")),
                    r.buffer::<T>(&format!("{i}.exp_avg"), len, true),
                    r.squares::<T>(&format!("{i}.exp_avg_sq"), len, true),
                    // Without AMSGrad, an entry of that name is unexpected.
                    amsgrad
                        .then(|| r.squares::<T>(&format!("{i}.max_exp_avg_sq"), len, true))
                        .flatten(),
                )
            })
            .collect();
        let name = match (self.config.decoupled, amsgrad) {
            (false, false) => "Adam",
            (false, true) => "Adam (amsgrad)",
            (true, false) => "AdamW",
            (true, true) => "AdamW (amsgrad)",
        };
        r.declared(&self.declared.named());
        r.finish(name)?;
        self.config.lr = lr;
        self.config.betas.0 = beta1;
        for (s, (step, m, v, v_max)) in self.state.iter_mut().zip(loaded) {
            s.step = step;
            fill(&mut s.m, m);
            fill(&mut s.v, v);
            if amsgrad {
                fill(&mut s.v_max, v_max);
            }
        }
        Ok(())
    }

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        let state = &mut self.state[index];
        assert!(
            state.m.len() == param.len() && param.len() == grad.len(),
            "optimizer: parameter {index} has {} values and {} gradients, expected {}",
            param.len(),
            grad.len(),
            state.m.len()
        );
        let c = self.config;
        state.step += 1;
        let (b1, b2) = c.betas;
        // Scalars in f64, as PyTorch computes them in Python floats.
        let bias1 = 1.0 - b1.powf(state.step as f64);
        let bias2_sqrt = (1.0 - b2.powf(state.step as f64)).sqrt();
        let s = AdamScalars {
            step_size: T::of(c.lr / bias1),
            one_minus_b1: T::of(1.0 - b1),
            b2: T::of(b2),
            one_minus_b2: T::of(1.0 - b2),
            bias2_sqrt: T::of(bias2_sqrt),
            eps: T::of(c.eps),
            weight_decay: T::of(c.weight_decay),
            shrink: T::of(1.0 - c.lr * c.weight_decay),
            l2: !c.decoupled && c.weight_decay != 0.0,
            decay: c.decoupled && c.weight_decay != 0.0,
            amsgrad: c.amsgrad,
        };
        let AdamState { m, v, v_max, .. } = state;
        split_update(grad, [param, m, v, v_max], |grad, [param, m, v, v_max]| {
            adam_piece(param, grad, m, v, v_max, s)
        });
    }
}

/// One Adam step over a piece of a parameter: [`avx512::adam_f32`] for
/// `f32` without AMSGrad on a CPU with AVX-512F, else the dispatched
/// [`adam_step`]. Both give the bits of [`adam_body`].
fn adam_piece<T: Float>(
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    s: AdamScalars<T>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && !s.amsgrad
        && crate::simd::has_avx512()
    {
        // T is f32: the widening and narrowing are exact.
        let s = s.map(|x| x.to_f64() as f32);
        let cast = |x: &mut [T]| {
            // SAFETY: T is f32 (the same type, so the cast is the
            // identity); the slice is borrowed mutably for as long.
            unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f32>(), x.len()) }
        };
        // SAFETY: as above, for a shared slice.
        let grad = unsafe { std::slice::from_raw_parts(grad.as_ptr().cast::<f32>(), grad.len()) };
        // SAFETY: the CPU has AVX-512F, AVX2 and FMA.
        unsafe { avx512::adam_f32(cast(param), grad, cast(m), cast(v), s) };
        return;
    }
    adam_step(param, grad, m, v, v_max, s)
}

/// The scalars of one Adam step, in the element type.
#[derive(Clone, Copy)]
struct AdamScalars<T> {
    step_size: T,
    one_minus_b1: T,
    b2: T,
    one_minus_b2: T,
    bias2_sqrt: T,
    eps: T,
    weight_decay: T,
    shrink: T,
    l2: bool,
    decay: bool,
    amsgrad: bool,
}

impl<T: Copy> AdamScalars<T> {
    /// The same step with each scalar converted by `f`.
    #[cfg(target_arch = "x86_64")]
    fn map<U>(self, f: impl Fn(T) -> U) -> AdamScalars<U> {
        AdamScalars {
            step_size: f(self.step_size),
            one_minus_b1: f(self.one_minus_b1),
            b2: f(self.b2),
            one_minus_b2: f(self.one_minus_b2),
            bias2_sqrt: f(self.bias2_sqrt),
            eps: f(self.eps),
            weight_decay: f(self.weight_decay),
            shrink: f(self.shrink),
            l2: self.l2,
            decay: self.decay,
            amsgrad: self.amsgrad,
        }
    }
}

crate::simd::dispatch! {
    fn adam_step<T: Float>(
        param: &mut [T],
        grad: &[T],
        m: &mut [T],
        v: &mut [T],
        v_max: &mut [T],
        s: AdamScalars<T>,
    ) => adam_body
}

#[inline(always)]
fn adam_body<T: Float>(
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    s: AdamScalars<T>,
) {
    let n = param.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let mut p = param[i];
        if s.decay {
            p = p * s.shrink;
        }
        let g = if s.l2 {
            grad[i] + s.weight_decay * p
        } else {
            grad[i]
        };
        // m <- lerp(m, g, 1 - b1), as fma((g - m), 1 - b1, m).
        let mi = (g - m[i]).mul_add(s.one_minus_b1, m[i]);
        m[i] = mi;
        let vi = v[i] * s.b2 + s.one_minus_b2 * g * g;
        v[i] = vi;
        let v_used = if s.amsgrad {
            let vm = v_max[i].max(vi);
            v_max[i] = vm;
            vm
        } else {
            vi
        };
        let denom = v_used.sqrt() / s.bias2_sqrt + s.eps;
        param[i] = p - s.step_size * (mi / denom);
    }
}

/// Adam's step on AVX-512F for `f32`, with the bits of [`adam_body`] and
/// without its subnormal slowdown.
///
/// A gradient that stays zero (a ReLU unit inactive for a whole batch, and
/// the weights into and out of it) decays the first moment by `1 - b1` a
/// step until it is subnormal, where it stays (`0.9 k` rounds back to `k`
/// for small `k`). Arithmetic on a vector with a subnormal lane takes
/// microcode assists: with hundreds of such lanes (W2's 64 x 64 weights),
/// [`adam_body`] ran at half its speed. Such lanes ("dead": gradient zero,
/// `|m| < 2^-90`, and a parameter large enough that the step cannot move
/// it) are done without a subnormal operand:
/// - the new first moment, `fma(0 - m, 1 - b1, m)`, is `m (1 - b1)` rounded
///   to the subnormal grid: with `m = k 2^-149`, `k (1 - b1)` is exact in
///   `f64` (`k < 2^23`, `1 - b1` a multiple of `2^-30`) and is rounded to a
///   whole number once (ties to even), with `m`'s sign;
/// - the parameter keeps its value: the step `step_size (m / denom)` is
///   below a quarter of its last place (see `Dead::new`), so subtracting it
///   rounds back to `p`; the quotient is taken of zero instead.
///
/// Every other lane does the operations of [`adam_body`] in its order.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::AdamScalars;
    use std::arch::x86_64::*;

    /// A first moment below this (with a zero gradient) is decayed without
    /// dividing by it: `2^-90`.
    const TINY_M: f32 = f32::from_bits((127 - 90) << 23);

    /// A parameter below this is updated by the full formula: `2^-90`.
    const MIN_P: f32 = f32::from_bits((127 - 90) << 23);

    /// What the dead-lane path needs, when the step's scalars allow it.
    #[derive(Clone, Copy)]
    struct Dead {
        /// `|step_size| 2^-63`: a dead lane needs `|p| denom` above it.
        bound: f32,
        /// `1 - b1` in `f64`.
        one_minus_b1: f64,
    }

    impl Dead {
        /// The path's constants, or `None` if the scalars are outside what
        /// its exactness argument covers: `1 - b1` in `(0, 1)` and a
        /// multiple of `2^-30` (so that `k (1 - b1)` is exact in `f64`),
        /// and `2^-40 <= |step_size| <= 2^20` (so that the bound is normal
        /// and the step's rounding errors stay below its margin).
        ///
        /// Why a dead lane's parameter does not move: with `|m| < 2^-90`,
        /// the new `|m|` is at most the old; `q = m / denom` and
        /// `u = step_size q` are rounded with a relative error of at most
        /// `2^-24` or an absolute one of at most `2^-150` (subnormal
        /// results); `|p| denom > |step_size| 2^-63` (the computed product
        /// is normal, so within `2^-24` of the exact one) then gives
        /// `|u| < |p| 2^-27 (1 + 2^-22) + 2^-129 < |p| 2^-26` for
        /// `|p| >= 2^-90`, under a quarter of `p`'s last place: `p - u`
        /// rounds to `p`.
        fn new(s: &AdamScalars<f32>) -> Option<Dead> {
            let c = f64::from(s.one_minus_b1);
            let step = s.step_size.abs();
            let exact = c > 0.0 && c < 1.0 && (c * (1u64 << 30) as f64).fract() == 0.0;
            let bounded = (2f32.powi(-40)..=2f32.powi(20)).contains(&step);
            (exact && bounded).then(|| Dead {
                bound: step * 2f32.powi(-63),
                one_minus_b1: c,
            })
        }
    }

    /// [`adam_body`](super::adam_body) for `f32` without AMSGrad, 16
    /// lanes at a time (the last vector masked).
    ///
    /// # Safety
    ///
    /// The CPU must have AVX-512F, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn adam_f32(
        param: &mut [f32],
        grad: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        s: AdamScalars<f32>,
    ) {
        let n = param.len();
        assert!(grad.len() == n && m.len() == n && v.len() == n && !s.amsgrad);
        let dead = Dead::new(&s);
        let zero = _mm512_setzero_ps();
        let step_size = _mm512_set1_ps(s.step_size);
        let one_minus_b1 = _mm512_set1_ps(s.one_minus_b1);
        let b2 = _mm512_set1_ps(s.b2);
        let one_minus_b2 = _mm512_set1_ps(s.one_minus_b2);
        let bias2_sqrt = _mm512_set1_ps(s.bias2_sqrt);
        let eps = _mm512_set1_ps(s.eps);
        let weight_decay = _mm512_set1_ps(s.weight_decay);
        let shrink = _mm512_set1_ps(s.shrink);
        let bound = _mm512_set1_ps(dead.map_or(f32::INFINITY, |d| d.bound));
        let c64 = _mm512_set1_pd(dead.map_or(0.0, |d| d.one_minus_b1));
        let (tiny_m, min_p) = (_mm512_set1_ps(TINY_M), _mm512_set1_ps(MIN_P));
        let min_normal = _mm512_set1_ps(f32::MIN_POSITIVE);
        for i in (0..n).step_by(16) {
            let [k]: [__mmask16; 1] = crate::simd::lane_masks(n - i);
            // SAFETY: lanes `i..i + 16` under `k` are inside all four
            // slices (of length `n`); the masked-off lanes are neither
            // read nor written.
            unsafe {
                let (pp, gp) = (param.as_mut_ptr().add(i), grad.as_ptr().add(i));
                let (mp, vp) = (m.as_mut_ptr().add(i), v.as_mut_ptr().add(i));
                let mut p = _mm512_maskz_loadu_ps(k, pp);
                if s.decay {
                    p = _mm512_mul_ps(p, shrink);
                }
                let mut g = _mm512_maskz_loadu_ps(k, gp);
                if s.l2 {
                    g = _mm512_add_ps(g, _mm512_mul_ps(weight_decay, p));
                }
                let m0 = _mm512_maskz_loadu_ps(k, mp);
                let v0 = _mm512_maskz_loadu_ps(k, vp);
                // v <- v b2 + (1 - b2) g g, as adam_body.
                let vi = _mm512_add_ps(
                    _mm512_mul_ps(v0, b2),
                    _mm512_mul_ps(_mm512_mul_ps(one_minus_b2, g), g),
                );
                _mm512_mask_storeu_ps(vp, k, vi);
                let denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bias2_sqrt), eps);
                // The dead lanes (none when `dead` is `None`: the bound is
                // infinite). The product is taken only where the rest
                // holds, so that no other lane's tiny parameter makes it
                // subnormal.
                let candidates = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(g, zero)
                    & _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(m0), tiny_m)
                    & _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(p), min_p);
                let moved = _mm512_maskz_mul_ps(candidates, _mm512_abs_ps(p), denom);
                let dead = _mm512_mask_cmp_ps_mask::<_CMP_GT_OQ>(candidates, moved, bound);
                // Their subnormal first moments, replaced by zero in the
                // vector formula.
                let subnormal =
                    _mm512_mask_cmp_ps_mask::<_CMP_LT_OQ>(dead, _mm512_abs_ps(m0), min_normal)
                        & _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(m0, zero);
                let m_in = _mm512_mask_mov_ps(m0, subnormal, zero);
                // m <- lerp(m, g, 1 - b1), as fma((g - m), 1 - b1, m).
                let mi = _mm512_fmadd_ps(_mm512_sub_ps(g, m_in), one_minus_b1, m_in);
                let m_new = if subnormal == 0 {
                    mi
                } else {
                    _mm512_mask_mov_ps(mi, subnormal, decay_subnormal(m0, c64))
                };
                _mm512_mask_storeu_ps(mp, k, m_new);
                // param <- p - step_size (m / denom), the quotient of zero
                // in the dead lanes.
                let q = _mm512_div_ps(_mm512_mask_mov_ps(mi, dead, zero), denom);
                let p_new = _mm512_sub_ps(p, _mm512_mul_ps(step_size, q));
                _mm512_mask_storeu_ps(pp, k, p_new);
            }
        }
    }

    /// `fma(0 - m, c, m)` for subnormal `m = ±k 2^-149`, without a
    /// subnormal operand: `k - k c` in `f64` (exact: `c` is a multiple of
    /// `2^-30` in `(0, 1)`, `k < 2^23`), rounded to a whole number (ties to
    /// even) under `m`'s sign: the result on the subnormal grid, a zero of
    /// `m`'s sign included. Other lanes give garbage.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn decay_subnormal(m: __m512, c: __m512d) -> __m512 {
        let bits = _mm512_castps_si512(m);
        let magnitude = _mm512_and_si512(bits, _mm512_set1_epi32(i32::MAX));
        let sign = _mm512_andnot_si512(_mm512_set1_epi32(i32::MAX), bits);
        let decay = |k: __m256i| {
            let k = _mm512_cvtepi32_pd(k);
            let exact = _mm512_fnmadd_pd(k, c, k);
            _mm512_cvt_roundpd_epi32::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(exact)
        };
        let lo = decay(_mm512_castsi512_si256(magnitude));
        let hi = decay(_mm512_extracti64x4_epi64::<1>(magnitude));
        let k = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi);
        _mm512_castsi512_ps(_mm512_or_si512(k, sign))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{with_level, Level};

    /// Bits, with every NaN the same (payloads may differ by the order of
    /// an operation's operands).
    fn bits(values: &[f32]) -> Vec<u32> {
        let one_nan = |v: &f32| if v.is_nan() { u32::MAX } else { v.to_bits() };
        values.iter().map(one_nan).collect()
    }

    /// Parameter, gradient and moments of one step.
    #[derive(Clone, Debug)]
    struct Lanes {
        p: Vec<f32>,
        g: Vec<f32>,
        m: Vec<f32>,
        v: Vec<f32>,
    }

    /// Runs `steps` steps of `adam_piece` (the path the optimizer takes on
    /// this CPU) and of `adam_step` on the baseline target, from the same
    /// lanes with the same gradients, and asserts the same bits after each.
    fn agree(config: AdamConfig, lanes: &Lanes, steps: u64, what: &str) {
        let (b1, b2) = config.betas;
        let (mut fast, mut slow) = (lanes.clone(), lanes.clone());
        for step in 1..=steps {
            let bias1 = 1.0 - b1.powf(step as f64);
            let s = AdamScalars {
                step_size: (config.lr / bias1) as f32,
                one_minus_b1: (1.0 - b1) as f32,
                b2: b2 as f32,
                one_minus_b2: (1.0 - b2) as f32,
                bias2_sqrt: (1.0 - b2.powf(step as f64)).sqrt() as f32,
                eps: config.eps as f32,
                weight_decay: config.weight_decay as f32,
                shrink: (1.0 - config.lr * config.weight_decay) as f32,
                l2: !config.decoupled && config.weight_decay != 0.0,
                decay: config.decoupled && config.weight_decay != 0.0,
                amsgrad: false,
            };
            let Lanes { p, g, m, v } = &mut fast;
            adam_piece(p, g, m, v, &mut [], s);
            let Lanes { p, g, m, v } = &mut slow;
            with_level(Level::Baseline, || adam_step(p, g, m, v, &mut [], s));
            for (name, got, want) in [
                ("param", &fast.p, &slow.p),
                ("m", &fast.m, &slow.m),
                ("v", &fast.v, &slow.v),
            ] {
                let (got, want) = (bits(got), bits(want));
                if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
                    panic!(
                        "{what}, step {step}, {name}[{i}]: {:e} instead of {:e} (from {:?})",
                        f32::from_bits(got[i]),
                        f32::from_bits(want[i]),
                        (lanes.p[i], lanes.g[i], lanes.m[i], lanes.v[i])
                    );
                }
            }
        }
    }

    /// A deterministic spread of values: `n` of them from `seed`.
    fn values(n: usize, seed: u64, pick: impl Fn(u64) -> f32) -> Vec<f32> {
        let mut rng = crate::Rng::new(seed);
        (0..n).map(|_| pick(rng.next_u64())).collect()
    }

    /// Lanes that mix every case of the AVX-512 path: zero gradients
    /// (either sign) with subnormal, tiny normal and ordinary first
    /// moments; parameters that the step cannot move and ones it can
    /// (from `2^-103` to `2^-39`, zero); zero, tiny and huge second moments; NaN and the
    /// infinities anywhere; and a length that leaves a masked tail.
    fn mixed(n: usize, seed: u64) -> Lanes {
        let pick = |r: u64, choices: &[f32]| choices[(r % choices.len() as u64) as usize];
        let unit = |r: u64| ((r >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
        let subnormal = |r: u64| {
            let k = (r >> 8) as u32 % (1 << 23);
            let k = if r.is_multiple_of(3) { k % 64 } else { k };
            f32::from_bits(k | ((r as u32 & 1) << 31))
        };
        let specials = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
        Lanes {
            p: values(n, seed, |r| match r % 16 {
                0 => pick(r >> 4, &specials),
                1 => 2f32.powi(-(((r >> 4) % 64) as i32) - 40) * (1.0 + unit(r >> 10)),
                2 => subnormal(r >> 4),
                _ => unit(r >> 4),
            }),
            g: values(n, seed + 1, |r| match r % 8 {
                0..=3 => pick(r >> 3, &[0.0, -0.0]),
                4 => pick(r >> 3, &specials),
                5 => subnormal(r >> 3),
                _ => unit(r >> 3) * 1e-3,
            }),
            m: values(n, seed + 2, |r| match r % 8 {
                0..=2 => subnormal(r >> 3),
                3 => f32::MIN_POSITIVE * (1.0 + unit(r >> 3)),
                4 => 2f32.powi(-90) * (1.0 + unit(r >> 3)),
                5 => pick(r >> 3, &specials),
                _ => unit(r >> 3) * 1e-4,
            }),
            v: values(n, seed + 3, |r| match r % 8 {
                0 => pick(r >> 3, &specials),
                1 => subnormal(r >> 3).abs(),
                2 => 1e30,
                _ => (unit(r >> 3) * 1e-6).abs(),
            }),
        }
    }

    /// The AVX-512 step gives `adam_body`'s bits, for Adam, AdamW and L2
    /// decay, and for scalars outside the dead-lane path's range (`1 - b1`
    /// not a multiple of `2^-30`, a tiny learning rate, `b1 = 0`).
    #[test]
    fn adam_paths_agree() {
        let adam = AdamConfig::default();
        let configs = [
            ("Adam", adam),
            ("AdamW", AdamConfig::adamw()),
            (
                "L2",
                AdamConfig {
                    weight_decay: 0.1,
                    ..adam
                },
            ),
            (
                "b1 0.99",
                AdamConfig {
                    betas: (0.99, 0.9),
                    ..adam
                },
            ),
            (
                "b1 close to 1",
                AdamConfig {
                    betas: (0.9999999, 0.999),
                    ..adam
                },
            ),
            (
                "b1 0",
                AdamConfig {
                    betas: (0.0, 0.999),
                    ..adam
                },
            ),
            ("lr 1e-20", AdamConfig { lr: 1e-20, ..adam }),
            ("lr 1e9", AdamConfig { lr: 1e9, ..adam }),
        ];
        for (what, config) in configs {
            for n in [1, 15, 16, 17, 1000] {
                agree(config, &mixed(n, n as u64), 3, what);
            }
            for lanes in dead_vectors() {
                agree(config, &lanes, 3, what);
            }
        }
    }

    /// Vectors of dead lanes (zero gradients, tiny first moments), then
    /// the same with one lane that must take the full formula: a second
    /// moment NaN or negative infinity (the step is NaN), a nonzero
    /// gradient, a tiny parameter, a larger first moment.
    fn dead_vectors() -> Vec<Lanes> {
        let n = 40;
        let dead = Lanes {
            p: (0..n).map(|i| 0.5 + i as f32 / 64.0).collect(),
            g: (0..n)
                .map(|i| if i % 3 == 0 { -0.0 } else { 0.0 })
                .collect(),
            m: (0..n)
                .map(|i| match i % 4 {
                    0 => f32::from_bits(i as u32 + 1),
                    1 => -f32::from_bits(7 * i as u32),
                    2 => f32::MIN_POSITIVE * (i as f32 + 1.0),
                    _ => 0.0,
                })
                .collect(),
            v: (0..n).map(|i| 1e-6 * (i as f32 + 1.0)).collect(),
        };
        let mut all = vec![dead.clone()];
        for j in [0, 9, 15, 20, 39] {
            let edits: [&dyn Fn(&mut Lanes); 5] = [
                &|l| l.v[j] = f32::NAN,
                &|l| l.v[j] = f32::NEG_INFINITY,
                &|l| l.g[j] = 1e-3,
                &|l| l.p[j] = 2f32.powi(-100),
                &|l| l.m[j] = 1e-3,
            ];
            for edit in edits {
                let mut lanes = dead.clone();
                edit(&mut lanes);
                all.push(lanes);
            }
        }
        all
    }

    /// Every subnormal first moment of a dead lane (zero gradient),
    /// positive and negative, decays as `fma(0 - m, 1 - b1, m)` does, with
    /// `1 - b1` 0.1 (PyTorch's default), 0.5 (every odd `k` a tie) and
    /// 0.01.
    #[test]
    fn dead_lanes_decay_every_subnormal() {
        let n = 1 << 24;
        let m: Vec<f32> = (0..n as u32)
            // k = i / 2, negative for odd i.
            .map(|i| f32::from_bits(i.rotate_right(1)))
            .collect();
        let lanes = Lanes {
            p: vec![1.0; n],
            g: vec![0.0; n],
            m,
            v: vec![1e-6; n],
        };
        for b1 in [0.9, 0.5, 0.99] {
            let config = AdamConfig {
                betas: (b1, 0.999),
                ..AdamConfig::default()
            };
            agree(config, &lanes, 1, &format!("b1 {b1}"));
        }
    }
}
