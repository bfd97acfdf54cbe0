//! A small, fully specified random number generator: SplitMix64.
//!
//! Every random choice in macrograd (initial weights, shuffling, dropout
//! masks, dataset splits) comes from this generator, so one seed gives the
//! same stream on every machine and in every language that implements
//! SplitMix64 and the conversions below (the normal draws also go through
//! the platform's `ln` and `cos`). `unit()` is a multiple of 2^-24 in
//! `[0, 1)` and `sym()` = `2 unit() - 1`, both exactly representable in
//! `f32`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::Rng;
//! let mut rng = Rng::new(0);
//! assert_eq!(rng.next_u64(), 0xE220A8397B1DCDAF);
//! let x = rng.sym();
//! assert!((-1.0..1.0).contains(&x));
//! ```

use ndarray::Array2;

use crate::Float;

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64: `state += GAMMA`, then a fixed mix of the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose first output is `mix(seed + GAMMA)`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The current state; [`Rng::from_state`] continues the same stream
    /// from it (a checkpoint saves it to resume a run).
    pub fn state(&self) -> u64 {
        self.state
    }

    /// The generator whose [`state`](Rng::state) is `state`: the inverse of
    /// `state()`, so `Rng::from_state(rng.state())` draws what `rng` would
    /// draw next. (SplitMix64's state is its seed, so this equals
    /// `Rng::new(state)`; the name says which is meant.)
    ///
    /// ```
    /// # use macrograd_runtime as macrograd;
    /// use macrograd::Rng;
    /// let mut rng = Rng::new(7);
    /// rng.next_u64();
    /// let mut resumed = Rng::from_state(rng.state());
    /// assert_eq!(resumed.next_u64(), rng.next_u64());
    /// ```
    pub fn from_state(state: u64) -> Self {
        Rng { state }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, a multiple of 2^-24.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 40) as f64 * (1.0 / (1u64 << 24) as f64)
    }

    /// Uniform in `[-1, 1)`, a multiple of 2^-23.
    #[inline]
    pub fn sym(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }

    /// A standard normal sample (Box-Muller on two `unit()` draws; the first
    /// is mapped into `(0, 1]` so the logarithm is finite).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A `rows x cols` matrix of standard normal samples, row by row, like
    /// `torch.randn(rows, cols)` (same distribution, not the same stream).
    pub fn randn<T: Float>(&mut self, (rows, cols): (usize, usize)) -> Array2<T> {
        Array2::from_shape_simple_fn((rows, cols), || T::of(self.normal()))
    }

    /// Uniform integer in `0..bound` by `next_u64() % bound` (the benchmark's
    /// definition; the modulo bias, at most `bound / 2^64` relative, is
    /// below 2^-40 for any bound up to 2^24).
    ///
    /// # Panics
    ///
    /// If `bound` is zero.
    #[inline]
    pub fn below(&mut self, bound: usize) -> usize {
        assert!(bound > 0, "Rng::below: the bound must be at least 1");
        (self.next_u64() % bound as u64) as usize
    }

    /// Fills `perm` with the identity and shuffles it (Fisher-Yates, from the
    /// last index down, `j = below(i + 1)`), so a permutation depends only
    /// on the generator's state, not on the previous contents of `perm`.
    pub fn permutation(&mut self, perm: &mut [usize]) {
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i;
        }
        for i in (1..perm.len()).rev() {
            let j = self.below(i + 1);
            perm.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_stream() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220A8397B1DCDAF);
        assert_eq!(rng.next_u64(), 0x6E789E6AA1B965F4);
        assert_eq!(rng.next_u64(), 0x06C45D188009454F);
    }

    #[test]
    fn from_state_inverts_state() {
        let mut rng = Rng::new(3);
        for _ in 0..5 {
            rng.next_u64();
        }
        rng.normal();
        let mut resumed = Rng::from_state(rng.state());
        assert_eq!(resumed, rng);
        assert_eq!(Rng::from_state(rng.state()).state(), rng.state());
        let mut perm = vec![0; 20];
        let mut resumed_perm = vec![0; 20];
        rng.permutation(&mut perm);
        resumed.permutation(&mut resumed_perm);
        assert_eq!(perm, resumed_perm);
        assert_eq!(resumed.next_u64(), rng.next_u64());
        // The extremes are states like any other.
        for state in [0, u64::MAX] {
            assert_eq!(Rng::from_state(state).state(), state);
        }
    }

    #[test]
    fn permutation_is_a_permutation_and_reproducible() {
        let mut a = vec![0; 50];
        let mut b = vec![7; 50];
        Rng::new(9).permutation(&mut a);
        Rng::new(9).permutation(&mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, sorted);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = Rng::new(1);
        let xs: Vec<f64> = (0..200_000).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }
}
