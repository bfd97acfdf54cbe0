//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod counting;
pub mod files;
pub mod finite_diff;
pub mod images;
pub mod onnx;
pub mod threads;

/// Asserts `|a - b| <= tol` elementwise, naming the index, for anything
/// whose `.iter()` gives `&f64`: arrays (`[x]` for a scalar), slices,
/// `Vec`s and ndarray arrays (compared in logical order). Tolerances are
/// per precision: `F64` (1e-9 absolute, the golden tables' precision) and
/// `F32` (1e-5 relative); a test that needs another bound names it with
/// `Tol::Abs` or `Tol::Rel`.
#[macro_export]
macro_rules! assert_close {
    ($a:expr, $b:expr, $tol:expr) => {{
        let a: Vec<f64> = $a.iter().copied().collect();
        let b: Vec<f64> = $b.iter().copied().collect();
        assert_eq!(a.len(), b.len(), "lengths differ: {:?} vs {:?}", a, b);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let ok = $tol.accepts(*x, *y);
            assert!(
                ok,
                "index {}: {} vs {} (tolerance {:?})\n left: {:?}\nright: {:?}",
                i, x, y, $tol, a, b
            );
        }
    }};
}

/// A tolerance for one precision.
#[derive(Clone, Copy, Debug)]
pub enum Tol {
    /// `|a - b| <= eps`.
    Abs(f64),
    /// `|a - b| <= eps * max(|b|, 1e-3)`.
    Rel(f64),
}

impl Tol {
    pub fn accepts(self, a: f64, b: f64) -> bool {
        match self {
            Tol::Abs(eps) => (a - b).abs() <= eps,
            Tol::Rel(eps) => (a - b).abs() <= eps * b.abs().max(1e-3),
        }
    }
}

pub const F64: Tol = Tol::Abs(1e-9);
pub const F32: Tol = Tol::Rel(1e-5);
