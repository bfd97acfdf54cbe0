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

/// Whether the AVX2 + FMA versions can run here.
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the AVX-512F versions can run here.
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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
