//! The element types a model can be built in: `f32` (the default) and `f64`.
//!
//! [`Float`] gathers what the kernels need from an element type: arithmetic,
//! ndarray's traits, a matrix multiply ([`Element`], which `gemm/` implements
//! for `f32` and `f64` only, so `Float` is sealed), conversions from the
//! `f64` hyperparameters (rounded to nearest) and exact widening to `f64`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::Float;
//! assert_eq!(<f32 as Float>::NAME, "f32");
//! assert_eq!(f64::of(0.5), 0.5);
//! ```

use std::fmt::{Debug, Display};

use crate::gemm::Element;

/// An element type for tensors, parameters and gradients.
///
/// Sealed: implemented for `f32` and `f64` only, the types [`gemm`](crate::gemm)
/// has a kernel for.
pub trait Float:
    Element + ndarray::ScalarOperand + Debug + Display + Default + Send + Sync + 'static
{
    /// `"f32"` or `"f64"`, as it appears in messages and files.
    const NAME: &'static str;

    /// Converts an `f64` (a hyperparameter, a literal) to this type, rounding
    /// to nearest.
    fn of(value: f64) -> Self;

    /// Widens to `f64` exactly.
    fn to_f64(self) -> f64;

    /// The error function, for the exact GELU.
    fn erf(self) -> Self;

    /// `2^k` for a whole `k` from -126 to 127, built from its bits: `k`
    /// plus `1.5 2^23` (`1.5 2^52` in `f64`) holds `k` in the low bits of
    /// its mantissa, so that no conversion to an integer is needed (Rust's
    /// saturating `as` keeps a loop of it off the vector units).
    #[doc(hidden)]
    fn exp2_int(k: Self) -> Self;

    /// The hyperbolic tangent as inline arithmetic (no library call), so
    /// that loops over slices of it vectorize: its odd Taylor polynomial
    /// for `|x| < 1/8`, else `1 - 2 / (e^(2|x|) + 1)` with the sign of `x`;
    /// within 6 ulp of the correctly rounded value (tested); NaN gives
    /// NaN. What the recurrent layers' gates use.
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        tanh(self)
    }

    /// The logistic sigmoid `1 / (1 + e^-x)` as inline arithmetic, as
    /// [`Float::fast_tanh`]; within 4 ulp (tested); NaN gives NaN.
    #[inline(always)]
    fn fast_sigmoid(self) -> Self {
        sigmoid(self)
    }
}

/// `1 / (1 + e^-x)` without a library call (`e^-x` by [`exp_small`],
/// `|x|` capped at 80, where the result is 0 or 1 to within 2e-35), within
/// a few ulp; NaN gives NaN.
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    sigmoid_with::<T, false>(x)
}

/// [`sigmoid`] with its multiply-adds fused (`mul_add`), for loops compiled
/// with FMA (on the vector units, half the instructions; without FMA, a
/// library call each, with the same bits): within a few ulp (tested); NaN
/// gives NaN.
#[inline(always)]
pub(crate) fn sigmoid_fused<T: Float>(x: T) -> T {
    sigmoid_with::<T, true>(x)
}

/// `a b + c`: one rounding if `FUSED`, else two.
#[inline(always)]
fn madd<T: Float, const FUSED: bool>(a: T, b: T, c: T) -> T {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn sigmoid_with<T: Float, const FUSED: bool>(x: T) -> T {
    let cap = T::of(80.0);
    let m = -x;
    let m = if m > cap {
        cap
    } else if m < -cap {
        -cap
    } else {
        m
    };
    T::one() / (T::one() + exp_small::<T, FUSED>(m))
}

/// `e^x` for `|x| <= 80`: `x = k ln 2 + r` with `|r| <= ln 2 / 2` (ln 2
/// split in two, so that `k ln 2` is exact), `e^r` by its Taylor
/// polynomial to `r^13` (`r^7` in `f32`: the next terms are below the
/// type's rounding), times `2^k`; multiply-adds fused if `FUSED`.
#[inline(always)]
fn exp_small<T: Float, const FUSED: bool>(x: T) -> T {
    // Round to nearest by adding and taking away 1.5 2^(mantissa bits):
    // no library call without SSE4.1.
    let wide = std::mem::size_of::<T>() == 8;
    let magic = T::of(if wide {
        6_755_399_441_055_744.0
    } else {
        12_582_912.0
    });
    let k = madd::<T, FUSED>(x, T::of(std::f64::consts::LOG2_E), magic) - magic;
    // ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits.
    let r = madd::<T, FUSED>(-k, T::of(0.693_359_375), x);
    let r = madd::<T, FUSED>(-k, T::of(-2.121_944_400_546_905_8e-4), r);
    let p = if wide {
        let mut p = T::of(1.0 / 6_227_020_800.0);
        for d in [
            479_001_600.0,
            39_916_800.0,
            3_628_800.0,
            362_880.0,
            40_320.0,
            5_040.0,
            720.0,
            120.0,
            24.0,
            6.0,
            2.0,
            1.0,
            1.0,
        ] {
            p = madd::<T, FUSED>(p, r, T::of(1.0 / d));
        }
        p
    } else {
        let mut p = T::of(1.0 / 5_040.0);
        for d in [720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0] {
            p = madd::<T, FUSED>(p, r, T::of(1.0 / d));
        }
        p
    };
    p * T::exp2_int(k)
}

/// `tanh(x)` without a library call: for `|x| < 1/8` its odd Taylor
/// polynomial to `x^15` (the next term is below `2^-60` of the value);
/// beyond, `1 - 2 / (e^(2|x|) + 1)` with the sign of `x` (`|x|` capped at
/// 20, where `tanh` is 1 in both types). Within a few ulp of the correctly
/// rounded value (measured by the tests: at most 8 in `f64` and `f32`);
/// NaN gives NaN.
#[inline(always)]
pub fn tanh<T: Float>(x: T) -> T {
    tanh_with::<T, false>(x)
}

/// [`tanh`] with its multiply-adds fused, as [`sigmoid_fused`]: within a
/// few ulp (tested); NaN gives NaN.
#[inline(always)]
pub(crate) fn tanh_fused<T: Float>(x: T) -> T {
    tanh_with::<T, true>(x)
}

#[inline(always)]
fn tanh_with<T: Float, const FUSED: bool>(x: T) -> T {
    let a = x.abs();
    let x2 = x * x;
    let mut p = T::of(-929_569.0 / 638_512_875.0);
    for c in [
        21_844.0 / 6_081_075.0,
        -1_382.0 / 155_925.0,
        62.0 / 2_835.0,
        -17.0 / 315.0,
        2.0 / 15.0,
        -1.0 / 3.0,
    ] {
        p = madd::<T, FUSED>(p, x2, T::of(c));
    }
    // Plain multiplies and adds unless `FUSED`: `mul_add` is a library
    // call on targets without FMA.
    let small = madd::<T, FUSED>(x, x2 * p, x).copysign(x);
    let capped = if a > T::of(20.0) { T::of(20.0) } else { a };
    let e = exp_small::<T, FUSED>(capped + capped);
    let large = (T::one() - T::of(2.0) / (e + T::one())).copysign(x);
    if a < T::of(0.125) {
        small
    } else {
        large
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";

    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }

    #[inline(always)]
    fn exp2_int(k: Self) -> Self {
        // The bits of `k + 1.5 2^23` are those of `1.5 2^23` plus `k`.
        let bits = (k + 12_582_912.0).to_bits();
        f32::from_bits(bits.wrapping_sub(0x4b40_0000 - 127) << 23)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";

    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }

    #[inline(always)]
    fn exp2_int(k: Self) -> Self {
        // The bits of `k + 1.5 2^52` are those of `1.5 2^52` plus `k`.
        let bits = (k + 6_755_399_441_055_744.0).to_bits();
        f64::from_bits(bits.wrapping_sub(0x4338_0000_0000_0000 - 1023) << 52)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between `a` and the exact `b` (given in
    /// `f64`, or a higher precision's rounding).
    fn ulps_f32(a: f32, b: f64) -> f64 {
        let ulp = (b.abs() as f32).max(f32::MIN_POSITIVE);
        let ulp = f32::from_bits(ulp.to_bits() + 1) - ulp;
        (a as f64 - b).abs() / ulp as f64
    }

    /// Both forms, plain and fused: `(name, f32 function, f64 function)`.
    type Forms = [(&'static str, fn(f32) -> f32, fn(f64) -> f64); 2];

    #[test]
    fn fast_sigmoid_is_within_a_few_ulp() {
        let forms: Forms = [
            ("plain", sigmoid::<f32>, sigmoid::<f64>),
            ("fused", sigmoid_fused::<f32>, sigmoid_fused::<f64>),
        ];
        for (name, sigmoid32, sigmoid64) in forms {
            let (mut worst32, mut worst64) = (0.0f64, 0.0f64);
            let mut x = -60.0f64;
            while x <= 60.0 {
                let exact = 1.0 / (1.0 + (-x).exp());
                let ulp = f64::from_bits(exact.to_bits() + 1) - exact;
                worst64 = worst64.max((sigmoid64(x) - exact).abs() / ulp);
                let x32 = x as f32;
                let exact32 = 1.0 / (1.0 + (-(x32 as f64)).exp());
                worst32 = worst32.max(ulps_f32(sigmoid32(x32), exact32));
                x += 0.000_913;
            }
            eprintln!("fast sigmoid, {name}: at most {worst32} ulp in f32, {worst64} in f64");
            assert!(
                worst32 <= 4.0 && worst64 <= 4.0,
                "{name}: {worst32} {worst64}"
            );
            assert_eq!((sigmoid32(1e4f32), sigmoid64(-1e4f64) < 1e-34), (1.0, true));
            assert!(sigmoid32(f32::NAN).is_nan() && sigmoid64(f64::NAN).is_nan());
        }
    }

    #[test]
    fn fast_tanh_is_within_a_few_ulp_everywhere() {
        let forms: Forms = [
            ("plain", tanh::<f32>, tanh::<f64>),
            ("fused", tanh_fused::<f32>, tanh_fused::<f64>),
        ];
        for (name, tanh32, tanh64) in forms {
            let mut worst32 = 0.0f64;
            let mut worst64 = 0.0f64;
            let mut x = -25.0f64;
            while x <= 25.0 {
                for v in [x, x * 1e-3, x * 1e-6] {
                    // f32 against the f64 library tanh (exact enough for
                    // f32).
                    let v32 = v as f32;
                    worst32 = worst32.max(ulps_f32(tanh32(v32), (v32 as f64).tanh()));
                    // f64 against the library tanh (itself within 1 ulp).
                    let exact = v.tanh();
                    let ulp = if exact == 0.0 {
                        f64::MIN_POSITIVE
                    } else {
                        f64::from_bits(exact.abs().to_bits() + 1) - exact.abs()
                    };
                    worst64 = worst64.max((tanh64(v) - exact).abs() / ulp);
                }
                x += 0.000_731;
            }
            eprintln!("fast tanh, {name}: at most {worst32} ulp in f32, {worst64} in f64");
            assert!(worst32 <= 8.0, "{name} f32: {worst32} ulp");
            assert!(worst64 <= 8.0, "{name} f64: {worst64} ulp");
            assert!(tanh32(f32::NAN).is_nan() && tanh64(f64::NAN).is_nan());
            assert_eq!(
                (tanh64(1e3f64), tanh32(-1e3f32), tanh64(0.0f64)),
                (1.0, -1.0, 0.0)
            );
            assert_eq!(tanh64(f64::INFINITY), 1.0);
            assert_eq!(tanh64(-0.0f64).to_bits(), (-0.0f64).to_bits());
        }
    }

    /// `exp2_int` builds every power of two it is used for exactly.
    #[test]
    fn exp2_int_is_exact_for_every_whole_exponent() {
        for k in -126..=127 {
            assert_eq!(f32::exp2_int(k as f32), 2f32.powi(k), "f32 2^{k}");
            assert_eq!(f64::exp2_int(k as f64), 2f64.powi(k), "f64 2^{k}");
        }
        for k in -1022..=1023 {
            assert_eq!(f64::exp2_int(k as f64), 2f64.powi(k), "f64 2^{k}");
        }
    }
}
