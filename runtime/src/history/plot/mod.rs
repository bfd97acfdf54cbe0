//! Plots: learning curves of one [`History`] or several ([`Plot`]), with
//! a panel per quantity ([`Panel`]: the loss, a metric, the learning
//! rate), and pictures of what a model predicts ([`Chart`], over a shaded
//! [`Field`]). Drawn with plotters into memory (an SVG string or an RGB
//! buffer encoded as PNG), then written atomically.
//!
//! Rules every plot follows (`figure.rs` makes them, for all):
//! - the legend sits outside the plotting areas, beside them or under
//!   them, so it never covers a curve;
//! - series differ in colour and in dash pattern or marker shape, so they
//!   stay apart in grayscale;
//! - nothing is drawn outside its plotting area: a line that leaves the
//!   axes is cut at the edge, where a triangle marks the points beyond.
//!
//! Drawing is total: any values and epoch numbers give a picture, in a
//! time bounded by the number of points, without a panic. Non-finite
//! values (NaN, infinities) are left out, the curve breaks there, and the
//! line under the title counts them (`; 2 losses are NaN or infinite, not
//! drawn`); with no finite value the pane says so ("no finite loss"). The
//! axes always have finite, distinct ends: clamped to `f64`'s range where
//! a margin would overflow (losses near `f64::MAX`), widened where it
//! would round away (subnormal losses, epochs near 2^64), and mapped in
//! halves where the span itself overflows (from `-f64::MAX` to
//! `f64::MAX`). The tick search tries each power of ten at most once, from
//! 10^-323 up, so a step cannot underflow to zero and loop. A best epoch
//! that is not on the epoch axis is named in the legend without a line.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::register_font;

use super::{History, Show};
use crate::error::{Error, Result};
use crate::fs::write_atomic;
use crate::metrics::Metric;

mod axis;
mod chart;
mod curves;
mod figure;
mod raster;

pub use chart::{Chart, Field};
use figure::{layout, Figure};

/// DejaVu Sans cut down to Latin, Greek and common signs (37 KB); see
/// `assets/README.md` for how and `assets/LICENSE-DejaVu.txt` for its terms.
const FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans-subset.ttf");

const INVALID_FONT: &str = "the embedded font is not a valid TrueType font";

/// The family every text of the plot uses, and the name `FONT` is
/// registered under.
const FAMILY: &str = "sans-serif";

#[derive(Clone, Copy)]
enum Format {
    Svg,
    Png,
}

/// Draws `history`'s losses to `path`; the documentation is on
/// [`History::plot`].
pub(super) fn plot(history: &History, path: &Path) -> Result<()> {
    Plot::of(history).write(path)
}

/// Draws the losses of several runs to `path`; the documentation is on
/// [`super::plot_runs`].
pub(super) fn plot_runs(
    title: &str,
    show: Show,
    runs: &[(&str, &History)],
    path: &Path,
) -> Result<()> {
    Plot::runs(runs).title(title).show(show).write(path)
}

/// Draws `figure` to `path` in the format of its extension.
fn render(figure: &Figure, path: &Path) -> Result<()> {
    let format = format_of(path)?;
    let bytes = image(figure, format).map_err(|message| plot_error(path, message))?;
    write_atomic(path, &bytes)
}

/// The bytes of the image file: SVG text or a PNG; `Err` with what the
/// plotting library or the encoder reported.
fn image(figure: &Figure, format: Format) -> std::result::Result<Vec<u8>, String> {
    register_embedded_font()?;
    let layout = layout(figure);
    let size = layout.size;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            figure::draw(SVGBackend::with_string(&mut svg, size), figure, &layout)
                .map_err(|e| e.to_string())?;
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut samples = raster::samples(size);
            let canvas = raster::Supersampled::new(&mut samples, size, FONT).ok_or(INVALID_FONT)?;
            figure::draw(canvas, figure, &layout).map_err(|e| e.to_string())?;
            encode_png(&raster::downsample(&samples, size), size).map_err(|e| e.to_string())
        }
    }
}

/// The image format named by the extension of `path`, in any case.
fn format_of(path: &Path) -> Result<Format> {
    let extension = path
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => Err(Error::InvalidSetting {
            name: "path",
            message: format!(
                "cannot plot to `{}`: the extension must be `.svg` or `.png`",
                path.display()
            ),
        }),
    }
}

fn plot_error(path: &Path, message: impl ToString) -> Error {
    Error::Plot {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Registers `FONT` as plotters' `sans-serif`, once per process: with no
/// registered font, plotters' `ab_glyph` text has nothing to draw with.
fn register_embedded_font() -> std::result::Result<(), &'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(INVALID_FONT)
    }
}

/// Encodes 8-bit RGB pixels, row by row from the top, as PNG.
fn encode_png(
    rgb: &[u8],
    (width, height): (u32, u32),
) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // A chart is mostly flat colour: the strongest level costs little time.
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// What one panel of a [`Plot`] shows, per epoch, of every run: the
/// panels are stacked, one under another, over the same epochs.
///
/// A history records, per epoch, the training and validation loss, the
/// training and validation value of each metric, and the learning rate
/// (see [`EpochLog`](super::EpochLog)): each has a panel, so everything
/// it records can be drawn. Losses and metrics are drawn as
/// [`Show`] says (training, validation or both); the learning rate, which
/// schedules multiply, on a logarithmic axis of its own (linear only if a
/// rate is 0 or negative); a loss, MAE or RMSE on a logarithmic axis when
/// the values span decades; accuracy and R² on a linear one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Panel {
    /// The loss.
    Loss,
    /// One metric (accuracy, MAE, ...), as recorded by `fit`.
    Metric(Metric),
    /// The learning rate of each epoch's first update.
    LearningRate,
}

impl Panel {
    /// A panel for everything `history` recorded: the loss, each metric
    /// with a value in some epoch (in [`Metric::ALL`]'s order), and the
    /// learning rate.
    ///
    /// # Examples
    ///
    /// ```
    /// # use macrograd_runtime as macrograd;
    /// use macrograd::history::{History, Panel, StopReason};
    /// use macrograd::metrics::Metric;
    ///
    /// let history = History {
    ///     epochs: vec![],
    ///     stop: StopReason::MaxEpochs { epochs: 0 },
    ///     best_epoch: None,
    /// };
    /// assert_eq!(Panel::recorded(&history), [Panel::Loss, Panel::LearningRate]);
    /// ```
    pub fn recorded(history: &History) -> Vec<Panel> {
        let has = |m: Metric| {
            history
                .epochs
                .iter()
                .any(|e| e.metric(m).is_some() || e.val_metric(m).is_some())
        };
        std::iter::once(Panel::Loss)
            .chain(
                Metric::ALL
                    .into_iter()
                    .filter(|&m| has(m))
                    .map(Panel::Metric),
            )
            .chain(std::iter::once(Panel::LearningRate))
            .collect()
    }
}

/// Learning curves of one run or several, one [`Panel`] under another:
/// the builder behind [`History::plot`] and [`plot_runs`](super::plot_runs),
/// for pictures with metrics and the learning rate as well as the loss.
///
/// One run ([`Plot::of`]): its training values in blue, solid, with
/// circles, its validation values in orange, dashed, with squares, its
/// learning rate in purple; the best epoch (as on [`History::plot`])
/// marked on every panel; the stop reason under the title.
///
/// Several runs ([`Plot::runs`]): each run in its own colour, dash
/// pattern and marker, named in the legend; by default their validation
/// values ([`Show::Validation`]). A run that diverged (stopped at a
/// non-finite loss, or whose training loss grew past 10 times its first
/// epoch's) is labelled `name: diverged at epoch N` (or `in epoch N` if
/// that epoch never completed), and the loss and metric axes are fitted to
/// the runs that did not diverge, so that its exploding values do not
/// flatten the others; its curve is cut where it leaves the axes, and
/// triangles on the top edge mark the epochs above.
///
/// The legend is always outside the plotting areas: beside them, or under
/// them if it is wider than a third of the picture. The picture is 960
/// wide; 600 high with one panel, 300 more per panel with several (more
/// if the legend goes under them).
///
/// # Examples
///
/// ```no_run
/// # use macrograd_runtime as macrograd;
/// # fn run(a: &macrograd::history::History, b: &macrograd::history::History)
/// # -> macrograd::Result<()> {
/// use macrograd::history::{Panel, Plot, Show};
/// use macrograd::metrics::Metric;
///
/// // One run: everything it recorded.
/// Plot::of(a).panels(Panel::recorded(a)).write("run.png")?;
/// // Two runs: validation accuracy, and each one's learning rate.
/// Plot::runs(&[("Adam, lr 0.001", a), ("SGD, lr 0.1", b)])
///     .title("Optimizers")
///     .show(Show::Validation)
///     .panels([Panel::Metric(Metric::Accuracy), Panel::LearningRate])
///     .write("runs.svg")?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Plot<'a> {
    runs: Vec<(String, &'a History)>,
    single: bool,
    title: String,
    show: Show,
    panels: Vec<Panel>,
}

impl<'a> Plot<'a> {
    /// The curves of one run, titled "Learning curves", with the loss
    /// panel only.
    pub fn of(history: &'a History) -> Self {
        Plot {
            runs: vec![(String::new(), history)],
            single: true,
            title: "Learning curves".into(),
            show: Show::Both,
            panels: vec![Panel::Loss],
        }
    }

    /// The curves of several runs, each named in the legend, titled
    /// "Learning curves", with their validation losses only.
    pub fn runs(runs: &[(&str, &'a History)]) -> Self {
        Plot {
            runs: runs
                .iter()
                .map(|(name, h)| (name.to_string(), *h))
                .collect(),
            single: false,
            title: "Learning curves".into(),
            show: Show::Validation,
            panels: vec![Panel::Loss],
        }
    }

    /// The title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Which values of each run the loss and metric panels show (for
    /// several runs; one run shows both).
    pub fn show(mut self, show: Show) -> Self {
        self.show = show;
        self
    }

    /// The panels, from the top; none means the loss panel alone.
    pub fn panels(mut self, panels: impl IntoIterator<Item = Panel>) -> Self {
        self.panels = panels.into_iter().collect();
        self
    }

    /// Draws the plot to `path`: the format follows the extension, in any
    /// case (`.svg` or `.png`), and the file is written atomically, as by
    /// [`History::write_csv`].
    ///
    /// Drawing never panics or hangs, whatever the histories hold.
    ///
    /// # Errors
    ///
    /// As [`History::plot`].
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        render(&self.figure(), path.as_ref())
    }

    fn figure(&self) -> Figure {
        curves::figure(&curves::Request {
            runs: &self.runs,
            single: self.single,
            title: &self.title,
            show: self.show,
            panels: &self.panels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::axis::*;
    use super::*;
    use crate::history::{EpochLog, Monitor, Show, StopReason};
    use crate::rng::Rng;
    use std::ops::Range;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::time::Duration;

    fn log(epoch: usize, loss: f64, val_loss: Option<f64>) -> EpochLog {
        EpochLog {
            epoch,
            loss,
            val_loss,
            metrics: vec![],
            val_metrics: vec![],
            lr: 0.1,
            iterations: 1,
            duration: Duration::ZERO,
        }
    }

    fn history(losses: &[f64], val: &[Option<f64>], first: usize, best: Option<usize>) -> History {
        let epochs = losses
            .iter()
            .enumerate()
            .map(|(i, &loss)| log(first.wrapping_add(i), loss, val.get(i).copied().flatten()))
            .collect();
        History {
            epochs,
            stop: StopReason::MaxEpochs {
                epochs: losses.len(),
            },
            best_epoch: best,
        }
    }

    /// Value lists that broke the axis code: a step that underflows, an
    /// axis end that overflows, spans wider than `f64`, subnormals.
    const ADVERSARIAL: &[&[f64]] = &[
        &[0.0, 5e-324],
        &[0.5, 1.6e308],
        &[f64::MAX, -f64::MAX],
        &[-f64::MAX, f64::MAX, 0.0],
        &[f64::MAX],
        &[f64::MAX, f64::MAX],
        &[-f64::MAX],
        &[5e-324],
        &[5e-324, 1e-323],
        &[-5e-324, 5e-324],
        &[f64::MIN_POSITIVE, f64::MAX],
        &[5e-324, f64::MAX],
        &[1e-300, 1e300],
        &[-1e308, 1e-308],
        &[0.0, -0.0],
        &[1.0, 1.0, 1.0],
        &[1.0, 1.0 + f64::EPSILON],
        &[1e300, 1e300 * (1.0 + f64::EPSILON)],
        &[f64::NAN],
        &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
        &[f64::INFINITY, 1.0],
        &[1.0, f64::NAN, 2.0],
        &[],
        &[0.3],
    ];

    /// A random loss: any bit pattern, a special value, or a plain number
    /// of a random magnitude.
    fn value(rng: &mut Rng) -> f64 {
        const SPECIAL: [f64; 10] = [
            0.0,
            -0.0,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0,
        ];
        match rng.below(4) {
            0 => f64::from_bits(rng.next_u64()),
            1 => SPECIAL[rng.below(SPECIAL.len())],
            _ => rng.normal() * 10f64.powi(rng.below(640) as i32 - 320),
        }
    }

    /// Draws `history` (alone, and compared with itself) to SVG, and to
    /// PNG if `png`; `Err` with the input if any of them panics.
    fn draw_all(history: &History, png: bool) -> std::result::Result<(), String> {
        let runs = [("a", history), ("b", history)];
        let every = [
            Panel::Loss,
            Panel::Metric(Metric::Accuracy),
            Panel::Metric(Metric::MAE),
            Panel::Metric(Metric::R2),
            Panel::LearningRate,
        ];
        let mut curves = vec![Plot::of(history).panels(every).figure()];
        for show in [Show::Both, Show::Validation, Show::Training] {
            curves.push(Plot::runs(&runs).show(show).panels(every).figure());
        }
        curves.push(Plot::of(history).figure());
        let formats: &[Format] = if png {
            &[Format::Svg, Format::Png]
        } else {
            &[Format::Svg]
        };
        for (i, curves) in curves.iter().enumerate() {
            // PNG for the single run only: the comparisons map the same way.
            for &format in if i == 0 { formats } else { &formats[..1] } {
                // A clean error is fine; a panic is not.
                match catch_unwind(AssertUnwindSafe(|| image(curves, format))) {
                    Ok(Ok(bytes)) if !bytes.is_empty() => {}
                    Ok(Err(message)) if !message.is_empty() => {}
                    Ok(_) => return Err(format!("an empty image or message: {history:?}")),
                    Err(_) => return Err(format!("a panic: {history:?}")),
                }
            }
        }
        Ok(())
    }

    #[test]
    fn plot_never_panics_or_hangs() {
        let mut rng = Rng::new(7);
        let mut cases = Vec::new();
        for values in ADVERSARIAL {
            let val: Vec<Option<f64>> = values.iter().rev().map(|&v| Some(v)).collect();
            cases.push((history(values, &[], 1, None), false));
            cases.push((history(values, &val, 1, Some(1)), true));
            cases.push((
                history(values, &val, usize::MAX - 1, Some(usize::MAX)),
                false,
            ));
        }
        for case in 0..300 {
            let n = match rng.below(10) {
                0 => 0,
                1 => 1,
                _ => 2 + rng.below(80),
            };
            let losses: Vec<f64> = (0..n).map(|_| value(&mut rng)).collect();
            let val: Vec<Option<f64>> = (0..n)
                .map(|_| (rng.below(3) > 0).then(|| value(&mut rng)))
                .collect();
            let first = match rng.below(4) {
                0 => rng.next_u64() as usize,
                1 => 0,
                _ => 1,
            };
            let best = match rng.below(3) {
                0 => None,
                1 => Some(first.wrapping_add(rng.below(n + 2))),
                _ => Some(rng.next_u64() as usize),
            };
            let mut h = history(&losses, &val, first, best);
            // Metrics and learning rates as wild as the losses, in some
            // epochs only.
            for e in &mut h.epochs {
                e.lr = value(&mut rng);
                for m in [Metric::Accuracy, Metric::MAE, Metric::R2] {
                    if rng.below(3) > 0 {
                        e.metrics.push((m, value(&mut rng)));
                    }
                    if rng.below(3) == 0 {
                        e.val_metrics.push((m, value(&mut rng)));
                    }
                }
            }
            if rng.below(4) == 0 {
                h.stop = StopReason::NonFinite {
                    epoch: first.wrapping_add(rng.below(n + 1)),
                    batch: 1,
                    loss: f64::NAN,
                };
            } else if rng.below(4) == 0 {
                h.stop = StopReason::EarlyStopping {
                    monitor: Monitor::ValLoss,
                    best_epoch: best.unwrap_or(0),
                    best: value(&mut rng),
                    epoch: first,
                    patience: 3,
                };
            }
            cases.push((h, case % 25 == 0));
        }
        // Many epochs, losses swinging across the whole range.
        let many: Vec<f64> = (0..20_000).map(|_| value(&mut rng)).collect();
        let mut h = history(&many, &[], 1, Some(7));
        for e in &mut h.epochs {
            e.lr = value(&mut rng);
        }
        cases.push((h, false));

        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|(h, png)| draw_all(h, *png).err())
            .collect();
        std::panic::set_hook(hook);
        assert!(
            failures.is_empty(),
            "{} of {} panicked:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }

    /// Charts of random points and fields: a picture or a clean error,
    /// never a panic.
    #[test]
    fn charts_never_panic() {
        let mut rng = Rng::new(11);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut failures = Vec::new();
        for case in 0..60 {
            let n = rng.below(40);
            let mut points = || -> Vec<(f64, f64)> {
                (0..n).map(|_| (value(&mut rng), value(&mut rng))).collect()
            };
            let (a, b) = (points(), points());
            let mut chart = Chart::new("chart").line("line", a).points("points", b);
            if case % 2 == 0 {
                let ends: Vec<f64> = (0..5).map(|_| value(&mut rng)).collect();
                let cells = (rng.below(6), rng.below(6));
                let values: Vec<f64> = (0..rng.below(40)).map(|_| value(&mut rng)).collect();
                let mut field =
                    Field::from_fn(ends[0]..ends[1], ends[2]..ends[3], cells, |_| values)
                        .level(ends[4]);
                if case % 4 == 0 {
                    field = field.scale(ends[1]..ends[0]);
                }
                chart = chart.field(field);
            }
            let figure = chart.figure();
            let format = if case % 10 == 0 {
                Format::Png
            } else {
                Format::Svg
            };
            match catch_unwind(AssertUnwindSafe(|| image(&figure, format))) {
                Ok(Ok(bytes)) if !bytes.is_empty() => {}
                Ok(Err(message)) if !message.is_empty() => {}
                _ => failures.push(format!("{chart:?}")),
            }
        }
        std::panic::set_hook(hook);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// A run that diverged and a sound one: the sound one's loss range.
    fn diverged_and_sound() -> (History, History) {
        let mut diverged = history(&[1.0, 50.0, 1e9], &[], 1, None);
        diverged.stop = StopReason::NonFinite {
            epoch: 4,
            batch: 2,
            loss: f64::INFINITY,
        };
        let sound = history(&[1.0, 0.5, 0.3, 0.2], &[], 1, None);
        (diverged, sound)
    }

    #[test]
    fn a_diverged_run_is_named_and_left_out_of_the_loss_axis() {
        let (diverged, sound) = diverged_and_sound();
        assert_eq!(curves::diverged(&diverged), Some(4));
        assert_eq!(curves::diverged(&sound), None);
        // Growing past 10 times the first loss is diverging too.
        assert_eq!(
            curves::diverged(&history(&[1.0, 2.0, 30.0], &[], 1, None)),
            Some(3)
        );

        let runs = [("wild", &diverged), ("calm", &sound)];
        let figure = Plot::runs(&runs)
            .panels([Panel::Loss, Panel::LearningRate])
            .figure();
        let loss = &figure.panes[0].y;
        // Fitted to 0.2..1: the diverged run's 50 and 1e9 are off the axis.
        assert!(
            loss.range.end < 2.0 && loss.range.start > 0.1,
            "{:?}",
            loss.range
        );
        assert!(figure.panes[0].y.fraction(50.0) > 1.0);
        assert_eq!(figure.legend[0].label, "wild: diverged in epoch 4");
        assert_eq!(figure.legend[1].label, "calm");
        assert!(
            figure.subtitle.contains("did not diverge"),
            "{}",
            figure.subtitle
        );
        // Its line is cut at the top edge: no piece goes above the axis.
        let pieces = figure::clip(&figure.panes[0].series[0].points, &figure.panes[0].x, loss);
        assert_eq!(pieces.len(), 1);
        let top = pieces[0].last().unwrap();
        assert!((loss.fraction(top.1) - 1.0).abs() < 1e-6, "{top:?}");
        // The learning rate does not diverge: its axis has every run.
        assert!(figure.panes[1].y.log);

        // Alone, a diverged run is all there is to see: nothing is left out.
        let alone = Plot::runs(&runs[..1]).figure();
        assert!(alone.panes[0].y.range.end >= 1e9);
        let single = Plot::of(&diverged).figure();
        assert!(single.panes[0].y.range.end >= 1e9);
    }

    #[test]
    fn clip_cuts_lines_at_the_edges_and_breaks_them_at_gaps() {
        let x = Axis::linear(0.0, 4.0, vec![]);
        let y = Axis::linear(0.0, 1.0, vec![]);
        let points = [
            (0.0, 0.5),
            (1.0, 1.5),
            (2.0, 0.5),
            (3.0, f64::NAN),
            (4.0, 0.25),
        ];
        let pieces = figure::clip(&points, &x, &y);
        // Up to the top edge at x = 0.5, back in at x = 1.5 down to
        // (2, 0.5); the NaN leaves (4, 0.25) alone: no line.
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
        assert!(
            close(pieces[0][0], (0.0, 0.5)) && close(pieces[0][1], (0.5, 1.0)),
            "{pieces:?}"
        );
        assert!(
            close(pieces[1][0], (1.5, 1.0)) && close(pieces[1][1], (2.0, 0.5)),
            "{pieces:?}"
        );
    }

    #[test]
    fn the_legend_is_outside_every_pane() {
        let (diverged, sound) = diverged_and_sound();
        let long = "a run with a name far too long to sit beside the chart, lr 0.001";
        let runs = [("a", &sound), ("b", &diverged), (long, &sound)];
        let mut figures = vec![
            Plot::of(&sound).figure(),
            Plot::of(&sound).panels(Panel::recorded(&sound)).figure(),
            Plot::runs(&runs[..2])
                .panels([Panel::Loss, Panel::LearningRate])
                .figure(),
            Plot::runs(&runs).show(Show::Both).figure(),
            Chart::new("c").points("p", [(0.0, 1.0)]).figure(),
        ];
        let many: Vec<(String, &History)> = (0..30).map(|i| (format!("run {i}"), &sound)).collect();
        let many: Vec<(&str, &History)> = many.iter().map(|(n, h)| (n.as_str(), *h)).collect();
        figures.push(Plot::runs(&many).figure());
        let mut below = 0;
        for figure in &figures {
            let layout = layout(figure);
            let legend = layout.legend.expect("a legend");
            let image = figure::Rect {
                x: 0,
                y: 0,
                w: layout.size.0 as i32,
                h: layout.size.1 as i32,
            };
            for pane in &layout.panes {
                assert!(!pane.overlaps(&legend), "{layout:?}");
            }
            assert!(
                legend.x >= 0 && legend.x + legend.w <= image.w,
                "{layout:?}"
            );
            assert!(
                legend.y >= 0 && legend.y + legend.h <= image.h,
                "{layout:?}"
            );
            below += usize::from(
                legend.y >= layout.panes.last().unwrap().y + layout.panes.last().unwrap().h,
            );
        }
        // The long name and the 30 runs do not fit beside: under.
        assert_eq!(below, 2);
        assert_eq!(layout(&figures[0]).size, (960, 600));
        assert_eq!(layout(&figures[2]).size, (960, 704));
    }

    #[test]
    fn styles_differ_in_colour_and_in_dash_or_marker() {
        for i in 0..10 {
            for j in 0..i {
                let (a, b) = (figure::nth_style(i), figure::nth_style(j));
                assert_ne!(a.color, b.color, "{i} {j}");
                assert!(a.dash != b.dash || a.marker != b.marker, "{i} {j}");
            }
        }
    }

    #[test]
    fn panels_cover_what_the_history_recorded() {
        let mut h = history(&[1.0, 0.5], &[Some(0.9), None], 1, None);
        h.epochs[1].metrics.push((Metric::MAE, 0.3));
        h.epochs[0].val_metrics.push((Metric::R2, 0.1));
        assert_eq!(
            Panel::recorded(&h),
            [
                Panel::Loss,
                Panel::Metric(Metric::MAE),
                Panel::Metric(Metric::R2),
                Panel::LearningRate
            ]
        );
        let figure = Plot::of(&h).panels(Panel::recorded(&h)).figure();
        assert_eq!(figure.panes.len(), 4);
        assert_eq!(figure.panes[3].y_desc, "learning rate (log scale)");
        // MAE has a training value in epoch 2 only; R2 a validation value.
        assert_eq!(figure.panes[1].series[0].points, [(2.0, 0.3)]);
        assert_eq!(figure.panes[2].series[1].points, [(1.0, 0.1)]);
        let labels: Vec<&str> = figure.legend.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "training",
                "validation",
                "learning rate",
                "best: epoch 1 (val_loss 0.9)"
            ]
        );
    }

    #[test]
    fn the_contour_runs_where_the_field_crosses_its_level() {
        // 0 left of x = 0, 1 right of it: the level 0.5 crosses between
        // the centres of columns 1 and 2 (x = -0.25 and 0.25).
        let field = Field::from_fn(-1.0..1.0, -1.0..1.0, (4, 3), |centres| {
            centres
                .iter()
                .map(|[x, _]| if *x < 0.0 { 0.0 } else { 1.0 })
                .collect()
        })
        .level(0.5);
        let shading = field.clone().scale(0.0..1.0);
        let figure = Chart::new("f").field(shading).figure();
        let shading = figure.panes[0].shading.as_ref().unwrap();
        let segments = figure::contour(shading, 0.5);
        assert_eq!(segments.len(), 2, "{segments:?}");
        for [a, b] in segments {
            assert_eq!((a.0, b.0), (1.5, 1.5), "in cells from the first centre");
        }
        // The axes are the field's rectangle, without a margin.
        assert_eq!(figure.panes[0].x.range, -1.0..1.0);
        assert_eq!(
            figure::shade(1.0, &(0.0..1.0), (RGBColor(0, 0, 255), RGBColor(255, 0, 0))),
            Some(RGBColor(255, 115, 115))
        );
    }

    #[test]
    fn linear_ticks_are_round_and_at_most_max() {
        assert_eq!(
            linear_ticks(1.0, 40.0, 10, 1.0),
            [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0]
        );
        assert_eq!(linear_ticks(1.0, 3.0, 10, 1.0), [1.0, 2.0, 3.0]);
        assert_eq!(linear_ticks(1.0, 1.0, 10, 1.0), [1.0]);
        let ticks = linear_ticks(0.0, 0.93, 8, 0.0);
        assert_eq!(
            ticks.iter().map(|&t| number(t)).collect::<Vec<_>>(),
            ["0", "0.2", "0.4", "0.6", "0.8"]
        );
        for (lo, hi) in [(0.0, 1e-7), (3.0, 1e9), (-2.0, 7.5)] {
            let ticks = linear_ticks(lo, hi, 8, 0.0);
            assert!((2..=8).contains(&ticks.len()), "{lo}..{hi}: {ticks:?}");
        }
    }

    #[test]
    fn ticks_and_axes_are_total() {
        // A tenth of the span underflows to 0: the step must still grow.
        assert_eq!(linear_ticks(0.0, 5e-324, 8, 0.0), [0.0]);
        // The span overflows.
        let ticks = linear_ticks(-f64::MAX, f64::MAX, 8, 0.0);
        assert!((2..=8).contains(&ticks.len()), "{ticks:?}");
        assert!(ticks.iter().all(|t| t.is_finite()), "{ticks:?}");
        assert_eq!(linear_ticks(0.0, f64::INFINITY, 8, 0.0), [] as [f64; 0]);
        assert_eq!(linear_ticks(f64::NAN, 1.0, 8, 0.0), [] as [f64; 0]);
        let huge = usize::MAX as f64;
        assert_eq!(linear_ticks(huge, huge, 10, 1.0), [huge]);
        assert!(log_ticks(1.0, f64::INFINITY).is_empty());
        assert!(log_ticks(0.0, 1.0).is_empty());

        for (lo, hi) in [
            (0.0, 5e-324),
            (0.5, 1.6e308),
            (-f64::MAX, f64::MAX),
            (f64::MAX, f64::MAX),
            (-f64::MAX, -f64::MAX),
            (5e-324, 5e-324),
            (-5e-324, -5e-324),
            (5e-324, f64::MAX),
            (0.0, 0.0),
        ] {
            let axis = loss_axis(lo, hi, lo);
            let Range { start, end } = axis.range;
            assert!(
                start.is_finite() && end.is_finite() && start < end,
                "{lo} {hi}: {start}..{end}"
            );
            assert!(start <= lo && hi <= end, "{lo} {hi}: {start}..{end}");
            for v in [lo, hi] {
                let t = axis.fraction(v);
                assert!((0.0..=1.0).contains(&t), "{lo} {hi}: {v} at {t}");
            }
            assert!(axis.ticks.len() <= 16, "{lo} {hi}: {:?}", axis.ticks);
            let pixel = axis.map(&f64::NAN, (0, 500));
            assert_eq!(pixel, 0);
            assert_eq!(axis.map(&f64::INFINITY, (0, 500)), FAR as i32);
        }

        // Epochs near 2^64 are on the epoch axis, not rounded off it.
        for first in [usize::MAX - 1, usize::MAX / 2] {
            let figure = Plot::of(&history(&[1.0, 2.0], &[], first, None)).figure();
            let range = figure.panes[0].x.range.clone();
            let epoch = first as f64;
            assert!(range.start < epoch && epoch < range.end, "{range:?}");
        }
    }

    #[test]
    fn log_ticks_stay_in_range() {
        assert_eq!(log_ticks(0.04, 5.1), [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]);
        assert_eq!(log_ticks(1e-3 / 1.25, 2.9), [0.001, 0.01, 0.1, 1.0]);
        let ticks = log_ticks(1e-30, 1.0);
        assert!((6..=8).contains(&ticks.len()), "{ticks:?}");
    }

    #[test]
    fn the_loss_axis_is_logarithmic_for_wide_or_skewed_losses() {
        assert!(loss_axis(1e-3, 2.3, 0.1).log);
        assert!(loss_axis(0.05, 4.0, 0.15).log);
        assert!(!loss_axis(0.08, 0.9, 0.2).log);
        assert!(!loss_axis(0.0, 4.0, 0.01).log);
        assert_eq!(loss_axis(0.5, 0.5, 0.5).range, 0.45..0.55);
    }

    #[test]
    fn numbers_have_four_significant_digits() {
        let cases = [
            (0.0, "0"),
            (0.1580, "0.158"),
            (1.0, "1"),
            (12.3456, "12.35"),
            (1e-4, "1e-4"),
            (2.5e7, "2.5e7"),
            (-0.25, "-0.25"),
        ];
        for (value, text) in cases {
            assert_eq!(number(value), text);
        }
    }
}
