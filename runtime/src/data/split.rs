//! Seeded ways to cut a dataset: shuffled, train/test, train/validation/test,
//! and the stratified variants that cut every class in the same proportion.
//!
//! Every part keeps the stored order of its samples (as
//! [`Dataset::split`] does); which samples go where depends only on the
//! sample count (the class counts when stratified), the fractions and the
//! seed.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::data::Dataset;
//! use ndarray::Array2;
//! let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 80)).collect(); // 80 / 20
//! let data = Dataset::classification(Array2::<f32>::zeros((100, 2)), labels)?;
//! let (train, test) = data.stratified_train_test_split(0.25, 7)?;
//! assert_eq!(test.class_counts()[&0], 20); // a quarter of each class
//! assert_eq!(test.class_counts()[&1], 5);
//! assert_eq!(train.len(), 75);
//! # Ok::<(), macrograd::Error>(())
//! ```

use std::collections::BTreeMap;

use super::Dataset;
use crate::target::{Classes, Target};
use crate::{Error, Float, Result, Rng};

/// Mixed into `seed` for the second cut of a three-way split, so that it does
/// not replay the permutation of the first.
const SECOND_CUT: u64 = 0x5EC0_4D5E_ED5E_C04D;

/// How many of `n` samples a `fraction` holds out: `round(fraction * n)`,
/// which must leave both sides with at least one sample.
fn held_count(n: usize, fraction: f64, name: &'static str) -> Result<usize> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::InvalidSetting {
            name,
            message: format!("expected a fraction inside (0, 1), found {fraction}"),
        });
    }
    let held = (fraction * n as f64).round() as usize;
    if held == 0 || held == n {
        return Err(Error::InvalidSetting {
            name,
            message: format!(
                "a fraction of {fraction} of {n} samples holds out {held}, leaving \
                 {} for training",
                n - held
            ),
        });
    }
    Ok(held)
}

/// `(rest, held_out)`, both sorted: the held-out samples are the first
/// `round(fraction * n)` entries of a permutation of `0..n` drawn from
/// `Rng::new(seed)` ([`Dataset::split`]'s definition).
pub(super) fn random(
    n: usize,
    fraction: f64,
    seed: u64,
    name: &'static str,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let held = held_count(n, fraction, name)?;
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).permutation(&mut order);
    let mut rest = order.split_off(held);
    order.sort_unstable();
    rest.sort_unstable();
    Ok((rest, order))
}

/// `(rest, held_out)`, both sorted, holding out `round(fraction * n)`
/// samples in total and, from each class of `n_c` samples, `fraction * n_c`
/// rounded down or up: the classes with the largest remainders (the smaller
/// label first on a tie) take the samples that make up the total. Within a
/// class, the held-out samples are the first of a permutation of that
/// class's samples; one generator, `Rng::new(seed)`, draws the classes'
/// permutations in label order.
fn stratified(
    labels: &[usize],
    fraction: f64,
    seed: u64,
    name: &'static str,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let held = held_count(labels.len(), fraction, name)?;
    // A map, not a vector indexed by label: a label can be any usize.
    let mut classes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        classes.entry(label).or_default().push(i);
    }
    // Quotas: the floors, then one more for the largest remainders.
    let mut quotas: Vec<(usize, f64)> = classes
        .values()
        .map(|members| {
            let exact = fraction * members.len() as f64;
            (exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let floors: usize = quotas.iter().map(|q| q.0).sum();
    let mut by_remainder: Vec<usize> = (0..quotas.len()).collect();
    by_remainder.sort_by(|&a, &b| quotas[b].1.total_cmp(&quotas[a].1).then(a.cmp(&b)));
    let sizes: Vec<usize> = classes.values().map(Vec::len).collect();
    let mut missing = held.saturating_sub(floors);
    for &c in by_remainder.iter().cycle().take(4 * by_remainder.len()) {
        if missing == 0 {
            break;
        }
        if quotas[c].0 < sizes[c] {
            quotas[c].0 += 1;
            missing -= 1;
        }
    }
    let mut rng = Rng::new(seed);
    let (mut rest, mut held_out) = (Vec::new(), Vec::new());
    for (members, &(take, _)) in classes.values().zip(&quotas) {
        let mut order = vec![0; members.len()];
        rng.permutation(&mut order);
        held_out.extend(order[..take].iter().map(|&k| members[k]));
        rest.extend(order[take..].iter().map(|&k| members[k]));
    }
    if held_out.is_empty() || rest.is_empty() {
        return Err(Error::InvalidSetting {
            name,
            message: format!(
                "a fraction of {fraction} of {} samples holds out {}, leaving {}",
                labels.len(),
                held_out.len(),
                rest.len()
            ),
        });
    }
    held_out.sort_unstable();
    rest.sort_unstable();
    Ok((rest, held_out))
}

/// Checks three fractions (each inside (0, 1), summing to 1) and returns
/// the fraction of the non-test samples that go to validation.
fn validation_share(train: f64, validation: f64, test: f64, name: &'static str) -> Result<f64> {
    for (part, f) in [("train", train), ("validation", validation), ("test", test)] {
        if !(f > 0.0 && f < 1.0) {
            return Err(Error::InvalidSetting {
                name,
                message: format!("expected the {part} fraction inside (0, 1), found {f}"),
            });
        }
    }
    let sum = train + validation + test;
    if (sum - 1.0).abs() > 1e-9 {
        return Err(Error::InvalidSetting {
            name,
            message: format!(
                "expected the fractions to sum to 1, found {train} + {validation} + {test} = {}",
                (sum * 1e9).round() / 1e9
            ),
        });
    }
    Ok(validation / (train + validation))
}

impl<T: Float, K: Target<T>> Dataset<T, K> {
    /// The samples in the order of a permutation drawn from `Rng::new(seed)`
    /// (the same one as [`Dataset::split`] draws).
    pub fn shuffled(&self, seed: u64) -> Self {
        let mut order = vec![0; self.len()];
        Rng::new(seed).permutation(&mut order);
        self.subset(&order)
    }

    /// `(train, test)`: [`Dataset::split`] with the test set as the held-out
    /// part, `round(test_fraction * len)` samples.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`test_fraction`) if the fraction is not
    /// inside (0, 1) or leaves one side without samples.
    pub fn train_test_split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (train, test) = random(self.len(), test_fraction, seed, "test_fraction")?;
        Ok((self.subset(&train), self.subset(&test)))
    }

    /// `(train, validation, test)` in the given fractions, which must sum
    /// to one. Two cuts: the test set first, `round(test * len)` samples as
    /// [`Dataset::train_test_split`] draws them; then, from the rest, the
    /// validation set, a share `validation / (train + validation)` of it
    /// rounded, drawn from a seed derived from `seed`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`split3`) if a fraction is not inside
    /// (0, 1), the three do not sum to 1, or a part would be empty.
    pub fn split3(
        &self,
        train: f64,
        validation: f64,
        test: f64,
        seed: u64,
    ) -> Result<(Self, Self, Self)> {
        let share = validation_share(train, validation, test, "split3")?;
        let (rest, test) = random(self.len(), test, seed, "split3")?;
        let (train, validation) = random(rest.len(), share, seed ^ SECOND_CUT, "split3")?;
        let pick =
            |part: Vec<usize>| self.subset(&part.iter().map(|&k| rest[k]).collect::<Vec<_>>());
        Ok((pick(train), pick(validation), self.subset(&test)))
    }
}

impl<T: Float> Dataset<T, Classes> {
    /// How many samples each class label has, in label order.
    pub fn class_counts(&self) -> BTreeMap<usize, usize> {
        let mut counts = BTreeMap::new();
        for &label in self.targets() {
            *counts.entry(label).or_insert(0) += 1;
        }
        counts
    }

    /// Like [`Dataset::split`], but each class is split in the same
    /// proportion: returns `(rest, held_out)` with `round(fraction * len)`
    /// held-out samples, of which each class contributes `fraction` of its
    /// samples, rounded down or up (the classes with the largest remainders
    /// round up, until the total is reached). Within each class the samples
    /// are drawn by a permutation from `Rng::new(seed)`. A class too small
    /// for the fraction may end up on one side only.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if `fraction` is not inside (0, 1) or
    /// leaves one side without samples.
    pub fn stratified_split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (rest, held) = stratified(self.targets(), fraction, seed, "stratified_split")?;
        Ok((self.subset(&rest), self.subset(&held)))
    }

    /// `(train, test)`: [`Dataset::stratified_split`] with the test set as
    /// the held-out part.
    ///
    /// # Errors
    ///
    /// As [`Dataset::stratified_split`] (`test_fraction`).
    pub fn stratified_train_test_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(Self, Self)> {
        let (train, test) = stratified(self.targets(), test_fraction, seed, "test_fraction")?;
        Ok((self.subset(&train), self.subset(&test)))
    }

    /// `(train, validation, test)` in the given fractions, each class split
    /// in the same proportions: the two cuts of [`Dataset::split3`], each
    /// made by [`Dataset::stratified_split`].
    ///
    /// # Errors
    ///
    /// As [`Dataset::split3`].
    pub fn stratified_split3(
        &self,
        train: f64,
        validation: f64,
        test: f64,
        seed: u64,
    ) -> Result<(Self, Self, Self)> {
        let share = validation_share(train, validation, test, "split3")?;
        let (rest, test) = stratified(self.targets(), test, seed, "split3")?;
        let rest_labels: Vec<usize> = rest.iter().map(|&k| self.targets()[k]).collect();
        let (train, validation) = stratified(&rest_labels, share, seed ^ SECOND_CUT, "split3")?;
        let pick =
            |part: Vec<usize>| self.subset(&part.iter().map(|&k| rest[k]).collect::<Vec<_>>());
        Ok((pick(train), pick(validation), self.subset(&test)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Rows;
    use ndarray::Array2;

    /// `n` samples whose single feature is their index, with labels `label(i)`.
    fn indexed(n: usize, label: impl Fn(usize) -> usize) -> Dataset<f64, Classes> {
        let inputs = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        Dataset::classification(inputs, (0..n).map(label).collect()).unwrap()
    }

    fn ids<K: Target<f64>>(d: &Dataset<f64, K>) -> Vec<usize> {
        d.inputs().column(0).iter().map(|&x| x as usize).collect()
    }

    #[test]
    fn data_split_keeps_its_definition() {
        // The held-out rows are the first round(f n) of Rng::new(seed)'s permutation.
        let d = indexed(10, |_| 0);
        let (rest, held) = d.split(0.3, 5).unwrap();
        let mut order = vec![0; 10];
        Rng::new(5).permutation(&mut order);
        let mut expected = order[..3].to_vec();
        expected.sort_unstable();
        assert_eq!(ids(&held), expected);
        assert_eq!(rest.len(), 7);
        let (train, test) = d.train_test_split(0.3, 5).unwrap();
        assert_eq!(ids(&test), ids(&held));
        assert_eq!(ids(&train), ids(&rest));
    }

    #[test]
    fn data_shuffled_is_a_seeded_permutation() {
        let d = indexed(20, |i| i % 3);
        let a = d.shuffled(1);
        assert_eq!(ids(&a), ids(&d.shuffled(1)));
        assert_ne!(ids(&a), ids(&d.shuffled(2)));
        let mut sorted = ids(&a);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        // Targets travel with their inputs.
        for (x, &y) in ids(&a).iter().zip(a.targets()) {
            assert_eq!(x % 3, y);
        }
    }

    #[test]
    fn data_split3_partitions_every_sample_once() {
        let d = indexed(100, |i| i % 2);
        let (train, val, test) = d.split3(0.6, 0.2, 0.2, 9).unwrap();
        assert_eq!((train.len(), val.len(), test.len()), (60, 20, 20));
        let mut all = [ids(&train), ids(&val), ids(&test)].concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert!(ids(&val).windows(2).all(|w| w[0] < w[1]), "stored order");
        let (a, b, c) = d.split3(0.6, 0.2, 0.2, 9).unwrap();
        assert_eq!(
            [ids(&a), ids(&b), ids(&c)],
            [ids(&train), ids(&val), ids(&test)]
        );
    }

    #[test]
    fn data_split3_rejects_bad_fractions() {
        let d = indexed(10, |_| 0);
        let sum = d.split3(0.5, 0.2, 0.2, 0).unwrap_err().to_string();
        assert!(sum.contains("sum to 1") && sum.contains("0.9"), "{sum}");
        let zero = d.split3(1.0, 0.0, 0.0, 0).unwrap_err().to_string();
        assert!(zero.contains("train fraction"), "{zero}");
        let tiny = indexed(3, |_| 0).split3(0.8, 0.1, 0.1, 0).unwrap_err();
        assert!(tiny.to_string().contains("holds out 0"), "{tiny}");
    }

    #[test]
    fn data_stratified_split_cuts_each_class_in_proportion() {
        // 60 / 30 / 10 samples, interleaved.
        let d = indexed(100, |i| match i % 10 {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        });
        let (rest, held) = d.stratified_split(0.3, 3).unwrap();
        assert_eq!(held.len(), 30);
        let counts = held.class_counts();
        assert_eq!((counts[&0], counts[&1], counts[&2]), (18, 9, 3));
        assert_eq!(rest.class_counts()[&2], 7);
        let mut all = [ids(&rest), ids(&held)].concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        // Seeded: the same seed draws the same samples, another seed others.
        assert_eq!(ids(&d.stratified_split(0.3, 3).unwrap().1), ids(&held));
        assert_ne!(ids(&d.stratified_split(0.3, 4).unwrap().1), ids(&held));
    }

    #[test]
    fn data_stratified_rounding_reaches_the_total() {
        // Three classes of 5: 0.5 of each is 2.5; the total round(7.5) = 8.
        let d = indexed(15, |i| i % 3);
        let (_, held) = d.stratified_split(0.5, 0).unwrap();
        assert_eq!(held.len(), 8);
        let counts: Vec<usize> = held.class_counts().into_values().collect();
        assert_eq!(counts, [3, 3, 2], "ties go to the smaller label");
    }

    #[test]
    fn data_stratified_split3_keeps_proportions() {
        let d = indexed(150, |i| i / 50);
        let (train, val, test) = d.stratified_split3(0.6, 0.2, 0.2, 11).unwrap();
        for part in [&train, &val, &test] {
            let counts: Vec<usize> = part.class_counts().into_values().collect();
            assert!(counts.iter().all(|&c| c * 3 == part.len()), "{counts:?}");
        }
        assert_eq!((train.len(), val.len(), test.len()), (90, 30, 30));
    }

    #[test]
    fn data_class_counts_does_not_allocate_per_label_value() {
        let d = Dataset::<f32, Classes>::classification(Array2::zeros((2, 1)), vec![usize::MAX, 3])
            .unwrap();
        assert_eq!(d.class_counts().len(), 2);
        let (a, b) = d.stratified_split(0.5, 0).unwrap();
        assert_eq!(a.len() + b.len(), 2);
    }

    #[test]
    fn data_rows_split3_works_too() {
        let d = Dataset::<f32, Rows>::regression(Array2::zeros((10, 2)), Array2::zeros((10, 1)))
            .unwrap();
        let (a, b, c) = d.split3(0.8, 0.1, 0.1, 0).unwrap();
        assert_eq!((a.len(), b.len(), c.len()), (8, 1, 1));
    }
}
