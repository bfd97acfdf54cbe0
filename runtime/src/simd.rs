//! Run-time dispatch for the elementwise loops: the same generic body,
//! compiled for the baseline target, with AVX2 + FMA, and with AVX-512F
//! (16 lanes of f32), chosen by what the CPU reports (matrixmultiply's
//! pattern).
//!
//! Without the `fma` target feature, `mul_add` is a library call per
//! element and the loop cannot vectorize; with it, `mul_add` is one
//! instruction on eight (or sixteen) lanes. Every path gives the same
//! bits: `mul_add` is a fused multiply-add on each, and square roots and
//! divisions are correctly rounded at every width.
//!
//! The crate's own tests reach every path this CPU has by lowering the
//! level one thread may use (`with_level`, over `levels`).

/// Whether the AVX2 + FMA versions can run here (and, in the crate's
/// tests, are not turned off by `with_level`).
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        allowed(Level::Avx2)
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the AVX-512F versions can run here (and, in the crate's tests,
/// are not turned off by `with_level`).
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        allowed(Level::Avx512)
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The instruction sets the dispatched functions choose from, narrowest
/// first.
// Read only by the x86-64 detection and the tests.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The baseline target, as compiled.
    // Named only by the tests: the level with neither feature.
    #[cfg_attr(not(test), allow(dead_code))]
    Baseline,
    /// AVX2 + FMA.
    Avx2,
    /// AVX-512F (with AVX2 + FMA).
    Avx512,
}

#[cfg(test)]
thread_local! {
    /// The widest level this thread's dispatches may use (tests only).
    static CAP: std::cell::Cell<Level> = const { std::cell::Cell::new(Level::Avx512) };
}

/// Whether `level` is within this thread's cap: always outside the
/// crate's tests.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn allowed(level: Level) -> bool {
    #[cfg(test)]
    {
        CAP.with(|cap| level <= cap.get())
    }
    #[cfg(not(test))]
    {
        let _ = level;
        true
    }
}

/// Runs `f` with this thread's dispatches (and every other user of
/// [`has_avx2_fma`] and [`has_avx512`]) limited to `level`, so that a test
/// reaches each path the CPU has. Other threads are not affected.
#[cfg(test)]
pub(crate) fn with_level<R>(level: Level, f: impl FnOnce() -> R) -> R {
    let before = CAP.with(|cap| cap.replace(level));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CAP.with(|cap| cap.set(before));
    result.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

/// Every level this CPU runs, narrowest first: what a test of a dispatched
/// function loops over with [`with_level`].
#[cfg(test)]
pub(crate) fn levels() -> Vec<Level> {
    let mut levels = vec![Level::Baseline];
    if with_level(Level::Avx2, has_avx2_fma) {
        levels.push(Level::Avx2);
    }
    if has_avx512() {
        levels.push(Level::Avx512);
    }
    levels
}

/// Lane masks of `P` consecutive 16-lane pieces covering `n` values:
/// all lanes of the pieces inside `n`, the first `n - 16 q` of the piece
/// that crosses it, none after (AVX-512's `__mmask16`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn lane_masks<const P: usize>(n: usize) -> [u16; P] {
    std::array::from_fn(|q| {
        let valid = n.saturating_sub(16 * q).min(16);
        ((1u32 << valid) - 1) as u16
    })
}

/// Defines `$name` that runs the `#[inline(always)]` function `$body` with
/// AVX-512F (and AVX2 + FMA) enabled when the CPU has it, else with AVX2 +
/// FMA when it has those, else as compiled.
macro_rules! dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$($g:ident: $bound:path),*>($($arg:ident: $ty:ty),* $(,)?) => $body:ident) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name<$($g: $bound),*>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn fast512<$($g: $bound),*>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn fast<$($g: $bound),*>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if $crate::simd::has_avx512() {
                    // SAFETY: the CPU has AVX-512F, AVX2 and FMA.
                    return unsafe { fast512($($arg),*) };
                }
                if $crate::simd::has_avx2_fma() {
                    // SAFETY: the CPU has AVX2 and FMA.
                    return unsafe { fast($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
    ($(#[$meta:meta])* $vis:vis unsafe fn $name:ident<$($g:ident: $bound:path),*>($($arg:ident: $ty:ty),* $(,)?) => $body:ident) => {
        $(#[$meta])*
        /// # Safety
        ///
        /// As the body's.
        #[inline]
        $vis unsafe fn $name<$($g: $bound),*>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn fast512<$($g: $bound),*>($($arg: $ty),*) {
                    // SAFETY: as the caller's.
                    unsafe { $body($($arg),*) }
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn fast<$($g: $bound),*>($($arg: $ty),*) {
                    // SAFETY: as the caller's.
                    unsafe { $body($($arg),*) }
                }
                if $crate::simd::has_avx512() {
                    // SAFETY: the CPU has AVX-512F, AVX2 and FMA; the rest
                    // is the caller's contract.
                    return unsafe { fast512($($arg),*) };
                }
                if $crate::simd::has_avx2_fma() {
                    // SAFETY: the CPU has AVX2 and FMA; the rest is the
                    // caller's contract.
                    return unsafe { fast($($arg),*) };
                }
            }
            // SAFETY: the caller's contract.
            unsafe { $body($($arg),*) }
        }
    };
}

pub(crate) use dispatch;
