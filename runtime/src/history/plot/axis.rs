//! The axes of every chart: their ranges, whether they are logarithmic,
//! and their ticks, all total (finite, distinct ends for any finite
//! values; a bounded tick search), and the numbers of their labels.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Values spanning more than this ratio get a logarithmic axis; so do
/// those spanning more than `LOG_RATIO_SKEWED` with most of them in the
/// bottom tenth of a linear axis (a fast initial drop, then a long tail).
const LOG_RATIO: f64 = 100.0;
const LOG_RATIO_SKEWED: f64 = 10.0;

/// An axis with the ticks (and grid lines) we choose: plotters' own `f64`
/// axis would put them at epoch 0 or 2.5, and its logarithmic one only at
/// powers of ten.
#[derive(Clone)]
pub(super) struct Axis {
    pub(super) range: Range<f64>,
    /// Logarithmic (all values > 0) or linear.
    pub(super) log: bool,
    pub(super) ticks: Vec<f64>,
}

/// How far off the chart, in pixels, a point may be mapped: a value far
/// outside the axis lands here, so pixel arithmetic stays within `i32`.
pub(super) const FAR: f64 = 100_000.0;

impl Axis {
    /// A linear axis over `start..end`; the unit interval if that is not a
    /// finite, non-empty range (which the callers never ask for).
    pub(super) fn linear(start: f64, end: f64, ticks: Vec<f64>) -> Axis {
        if start.is_finite() && end.is_finite() && start < end {
            Axis {
                range: start..end,
                log: false,
                ticks,
            }
        } else {
            Axis {
                range: 0.0..1.0,
                log: false,
                ticks: vec![0.0, 1.0],
            }
        }
    }

    /// Where `value` is along the axis: 0 at the start, 1 at the end. Finite
    /// for every finite value in the range, even where `end - start`
    /// overflows (from -1e308 to 1e308).
    pub(super) fn fraction(&self, value: f64) -> f64 {
        let Range { start, end } = self.range;
        if self.log {
            return (value.ln() - start.ln()) / (end.ln() - start.ln());
        }
        let span = end - start;
        if span.is_finite() {
            (value - start) / span
        } else {
            (0.5 * value - 0.5 * start) / (0.5 * end - 0.5 * start)
        }
    }
}

impl Axis {
    /// The value at `t` along the axis (0 at the start, 1 at the end): the
    /// inverse of [`fraction`](Self::fraction).
    pub(super) fn value(&self, t: f64) -> f64 {
        let Range { start, end } = self.range;
        if self.log {
            return (start.ln() + t * (end.ln() - start.ln())).exp();
        }
        let span = end - start;
        if span.is_finite() {
            start + t * span
        } else {
            2.0 * (0.5 * start + t * (0.5 * end - 0.5 * start))
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.fraction(*value);
        if t.is_nan() {
            return limit.0;
        }
        let (from, to) = (f64::from(limit.0), f64::from(limit.1));
        (from + t * (to - from)).clamp(-FAR, FAR).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// The loss axis for finite losses from `lo` to `hi` with median `median`:
/// logarithmic if they span more than `LOG_RATIO`, or more than
/// `LOG_RATIO_SKEWED` with the median in the bottom tenth; else linear,
/// from 0 if no loss is negative and the range is wide.
///
/// Total for finite `lo <= hi`: the ends are finite (clamped to `f64`'s
/// range) and apart, also for losses near `f64::MAX` or among the
/// subnormals, where a margin overflows or rounds away.
pub(super) fn loss_axis(lo: f64, hi: f64, median: f64) -> Axis {
    let skewed = median - lo < 0.1 * (hi - lo);
    let log = lo > 0.0 && (hi / lo > LOG_RATIO || (hi / lo > LOG_RATIO_SKEWED && skewed));
    if log {
        return log_axis(lo, hi, 1.25);
    }
    linear_axis(lo, hi)
}

/// A logarithmic axis from `lo / pad` to `hi * pad` (`0 < lo <= hi`,
/// `pad > 1`), clamped to `f64`'s range; ticks at 1, 2, 5 times the powers
/// of ten, or at round linear steps where the range holds fewer than two
/// of those (a learning rate that stays near 0.03).
fn log_axis(lo: f64, hi: f64, pad: f64) -> Axis {
    let start = lo / pad;
    let start = if start > 0.0 { start } else { lo };
    let end = (hi * pad).min(f64::MAX);
    let end = if end > start { end } else { 2.0 * start };
    if !(start > 0.0 && end.is_finite() && start < end) {
        return linear_axis(lo, hi);
    }
    let mut ticks = log_ticks(start, end);
    if ticks.len() < 2 {
        ticks = linear_ticks(start, end, 5, 0.0);
    }
    Axis {
        range: start..end,
        log: true,
        ticks,
    }
}

/// The axis of a learning rate: logarithmic, since schedules multiply it
/// (a cosine ends decades below where it starts), with room for the
/// constant rate of a run without a schedule; linear if a rate is 0 or
/// negative, which a log axis cannot show.
pub(super) fn rate_axis(lo: f64, hi: f64) -> Axis {
    if lo > 0.0 {
        log_axis(lo, hi, 1.5)
    } else {
        linear_axis(lo, hi)
    }
}

/// A linear axis over `lo..=hi` with a 6 % margin, from no lower than 0 if
/// no value is negative (a loss, an error, an accuracy).
///
/// Total for finite `lo <= hi`: the ends are finite (clamped to `f64`'s
/// range) and apart, also for values near `f64::MAX` or among the
/// subnormals, where a margin overflows or rounds away.
pub(super) fn linear_axis(lo: f64, hi: f64) -> Axis {
    let span = hi - lo;
    let pad = if hi > lo && span.is_finite() {
        0.06 * span
    } else if hi > lo {
        0.06 * hi - 0.06 * lo // the span overflows; its 6% does not
    } else if lo != 0.0 {
        0.1 * lo.abs()
    } else {
        1.0
    };
    // A loss is usually >= 0: do not show negative values it cannot have.
    let bottom = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        (lo - pad).max(-f64::MAX)
    };
    let top = (hi + pad).min(f64::MAX);
    // A margin that rounded away (one subnormal loss): as far again.
    let top = if bottom < top { top } else { hi + hi.abs() };
    Axis::linear(bottom, top, linear_ticks(bottom, top, 8, 0.0))
}

/// At most `max` ticks in `lo..=hi`: the multiples of the smallest step
/// among 1, 2, 5 times a power of ten (and at least `min_step`) that needs
/// no more.
///
/// Total: for any `lo`, `hi` it returns after at most one step per power of
/// ten that `f64` has: the first power tried is at least 10^-323 (a
/// subnormal span's tenth would be 0, a step that never grows), and the
/// span is taken in halves where `hi - lo` overflows. Empty for a
/// non-finite end; `[lo]` for `hi <= lo`.
pub(super) fn linear_ticks(lo: f64, hi: f64, max: usize, min_step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    if hi <= lo || max == 0 {
        return vec![lo];
    }
    let max = max as f64;
    // `span / step`, for a span that may overflow.
    let span = hi - lo;
    let steps = |step: f64| {
        if span.is_finite() {
            span / step
        } else {
            2.0 * ((0.5 * hi - 0.5 * lo) / step)
        }
    };
    let exponent = if span.is_finite() && (span / max).is_normal() {
        (span / max).log10().floor()
    } else {
        ((0.5 * hi - 0.5 * lo).log10() + 2f64.log10() - max.log10()).floor()
    };
    let exponent = if exponent.is_nan() {
        MIN_DECADE
    } else {
        exponent
    };
    let exponent = exponent.clamp(MIN_DECADE, MAX_DECADE);
    let mut decade = 10f64.powf(exponent);
    // LOOP: at most one pass per power of ten from 10^-323 to 10^308.
    for _ in 0..=(MAX_DECADE - exponent) as usize + 1 {
        for m in [1.0, 2.0, 5.0] {
            let step = (m * decade).max(min_step);
            if !(step > 0.0 && step.is_finite()) || steps(step) >= max {
                continue;
            }
            let (first, last) = ((lo / step).ceil(), (hi / step).floor());
            if !(first.is_finite() && last.is_finite()) || last - first > max {
                continue;
            }
            // Multiplied, not accumulated: no 0.30000000000000004 from
            // adding. `last - first <= max`: a handful of ticks.
            let count = if last >= first {
                (last - first) as usize + 1
            } else {
                0
            };
            return (0..count).map(|i| (first + i as f64) * step).collect();
        }
        decade *= 10.0;
    }
    // Only a span near 2 * f64::MAX with `max` = 1 gets here.
    vec![lo, hi]
}

/// The powers of ten a tick step may take: 10^-323 is the smallest `f64`
/// has (subnormal), 10^308 the largest.
const MIN_DECADE: f64 = -323.0;
const MAX_DECADE: f64 = 308.0;

/// Ticks of a logarithmic axis over `lo..=hi` (`lo` > 0): 1, 2 and 5 times
/// each power of ten when it spans up to two decades, else the powers of
/// ten (every second, third ... one past eight decades).
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && lo < hi && hi.is_finite()) {
        return Vec::new();
    }
    // From -324 to 309: at most 634 decades.
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let decades = (last - first) as usize;
    let (multiples, every): (&[f64], usize) = if decades <= 3 {
        (&[1.0, 2.0, 5.0], 1)
    } else {
        (&[1.0], decades.div_ceil(8))
    };
    (first..=last)
        .step_by(every)
        .flat_map(|d| multiples.iter().map(move |m| m * 10f64.powi(d)))
        .filter(|t| (lo..=hi).contains(t))
        .collect()
}

/// A loss for a label: 4 significant digits, no trailing zeros, an
/// exponent outside [0.001, 100000).
pub(super) fn number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    if !(1e-3..1e5).contains(&magnitude) {
        let s = format!("{value:.3e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}")).to_owned()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}
