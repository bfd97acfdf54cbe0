//! [`History`] as CSV: one row per epoch, numbers in their shortest exact
//! form.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::history::{History, StopReason};
//! let empty = History { epochs: vec![], stop: StopReason::MaxEpochs { epochs: 0 }, best_epoch: None };
//! assert_eq!(empty.to_csv(), "epoch,loss,val_loss,lr,iterations,seconds\n");
//! ```

use std::path::Path;

use super::History;
use crate::error::Result;
use crate::fs::write_atomic;
use crate::metrics::Metric;

impl History {
    /// The history as CSV, one row per epoch after a header.
    ///
    /// The header is `epoch,loss,val_loss`, then one column per training
    /// metric (`acc`, `mae`, `rmse`, `r2`), one per validation metric
    /// (`val_acc`, ...), then `lr,iterations,seconds`. Metric columns are
    /// the union over all epochs, in the order they first appear; a value an
    /// epoch does not have (no validation data, a metric not computed) is an
    /// empty field. `val_loss` is always there, empty without validation
    /// data.
    ///
    /// Numbers are printed with Rust's shortest round-trip format (`{}` of
    /// `f64`: `0.1`, `0.30000000000000004`, never an exponent), so parsing a
    /// field with `str::parse::<f64>` gives back the exact value; a
    /// non-finite value is `NaN`, `inf` or `-inf`, which `parse` reads too.
    /// Rows end with `\n`.
    ///
    /// # Examples
    ///
    /// See the [module documentation](crate::history).
    pub fn to_csv(&self) -> String {
        let metrics = metric_columns(self.epochs.iter().map(|e| e.metrics.as_slice()));
        let val_metrics = metric_columns(self.epochs.iter().map(|e| e.val_metrics.as_slice()));

        let mut header = vec!["epoch".to_owned(), "loss".to_owned(), "val_loss".to_owned()];
        header.extend(metrics.iter().map(|m| m.name().to_owned()));
        header.extend(val_metrics.iter().map(|m| format!("val_{}", m.name())));
        header.extend(["lr", "iterations", "seconds"].map(str::to_owned));

        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut write = |record: &[String]| {
            writer
                .write_record(record)
                .expect("writing CSV to memory cannot fail");
        };
        write(&header);
        for e in &self.epochs {
            let mut row = vec![e.epoch.to_string(), e.loss.to_string(), field(e.val_loss)];
            row.extend(metrics.iter().map(|&m| field(e.metric(m))));
            row.extend(val_metrics.iter().map(|&m| field(e.val_metric(m))));
            row.push(e.lr.to_string());
            row.push(e.iterations.to_string());
            row.push(e.duration.as_secs_f64().to_string());
            write(&row);
        }
        let bytes = writer
            .into_inner()
            .expect("flushing CSV to memory cannot fail");
        String::from_utf8(bytes).expect("CSV of numbers and ASCII names is UTF-8")
    }

    /// Writes [`to_csv`](Self::to_csv) to `path`, atomically (a temporary
    /// file in the same directory renamed over `path`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be written (missing
    /// directory, no permission, disk full); `path` is then left as it was.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }
}

/// The metrics of `logs`, each once, in the order they first appear.
fn metric_columns<'a>(logs: impl Iterator<Item = &'a [(Metric, f64)]>) -> Vec<Metric> {
    let mut columns = Vec::new();
    for &(metric, _) in logs.flatten() {
        if !columns.contains(&metric) {
            columns.push(metric);
        }
    }
    columns
}

/// A CSV field: the shortest round-trip form of `value`, or empty.
fn field(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}
