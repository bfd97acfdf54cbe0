//! Learning curves of a [`History`]: drawn with plotters into memory (an SVG
//! string or an RGB buffer encoded as PNG), then written atomically.
//!
//! Drawing is total: any losses and epoch numbers give a picture, in a time
//! bounded by the number of epochs, without a panic. Non-finite losses
//! (NaN, infinities) are left out, the curve breaks there, and the line
//! under the title counts them (`; 2 losses are NaN or infinite, not
//! drawn`); with no finite loss the chart says "no finite loss". The axes
//! always have finite, distinct ends: clamped to `f64`'s range where a
//! margin would overflow (losses near `f64::MAX`), widened where it would
//! round away (subnormal losses, epochs near 2^64), and mapped in halves
//! where the span itself overflows (from `-f64::MAX` to `f64::MAX`). The
//! tick search tries each power of ten at most once, from 10^-323 up, so a
//! step cannot underflow to zero and loop. A best epoch that is not on the
//! epoch axis is named in the legend without a line.

use std::ffi::OsStr;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{History, StopReason};
use crate::error::{Error, Result};
use crate::fs::write_atomic;

/// DejaVu Sans cut down to Latin, Greek and common signs (37 KB); see
/// `assets/README.md` for how and `assets/LICENSE-DejaVu.txt` for its terms.
const FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans-subset.ttf");

const INVALID_FONT: &str = "the embedded font is not a valid TrueType font";

/// The family every text of the plot uses, and the name `FONT` is
/// registered under.
const FAMILY: &str = "sans-serif";

/// Image size in pixels (PNG) or user units (SVG).
const SIZE: (u32, u32) = (960, 600);

// matplotlib's first colours ("tab10"): distinct, also for the common
// forms of colour blindness.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(255, 127, 14);
const BEST: RGBColor = RGBColor(44, 160, 44);
const TEXT: RGBColor = RGBColor(34, 34, 34);
const SUBTLE: RGBColor = RGBColor(96, 96, 96);
const GRID: RGBColor = RGBColor(221, 221, 221);

/// Losses spanning more than this ratio get a logarithmic axis; so do
/// those spanning more than `LOG_RATIO_SKEWED` with most of them in the
/// bottom tenth of a linear axis (a fast initial drop, then a long tail).
const LOG_RATIO: f64 = 100.0;
const LOG_RATIO_SKEWED: f64 = 10.0;

/// Epochs up to which every point gets a marker as well as the line.
const MARKERS_UP_TO: usize = 60;

/// The legend's text size, and the room plotters gives its line samples.
const LEGEND_FONT: f64 = 17.0;
const LEGEND_SAMPLE: u32 = 34;

#[derive(Clone, Copy)]
enum Format {
    Svg,
    Png,
}

/// Draws `history` to `path`; the documentation is on [`History::plot`].
pub(super) fn plot(history: &History, path: &Path) -> Result<()> {
    let format = format_of(path)?;
    render(&Curves::of(history), format, path)
}

/// Draws the curves of several runs to `path`; the documentation is on
/// [`super::plot_runs`].
pub(super) fn plot_runs(
    title: &str,
    show: super::Show,
    runs: &[(&str, &History)],
    path: &Path,
) -> Result<()> {
    let format = format_of(path)?;
    render(&Curves::compare(title, show, runs), format, path)
}

fn render(curves: &Curves, format: Format, path: &Path) -> Result<()> {
    let bytes = image(curves, format).map_err(|message| plot_error(path, message))?;
    write_atomic(path, &bytes)
}

/// The bytes of the image file: SVG text or a PNG; `Err` with what the
/// plotting library or the encoder reported.
fn image(curves: &Curves, format: Format) -> std::result::Result<Vec<u8>, String> {
    register_embedded_font()?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            draw(SVGBackend::with_string(&mut svg, SIZE), curves).map_err(|e| e.to_string())?;
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut samples = raster::samples(SIZE);
            let canvas = raster::Supersampled::new(&mut samples, SIZE, FONT).ok_or(INVALID_FONT)?;
            draw(canvas, curves).map_err(|e| e.to_string())?;
            encode_png(&raster::downsample(&samples, SIZE), SIZE).map_err(|e| e.to_string())
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

/// One curve: `(epoch, loss)` points, non-finite losses included.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
}

/// What the plot shows, in data coordinates, computed once for both
/// formats.
struct Curves {
    /// The curves, drawn in this order.
    series: Vec<Series>,
    /// The epoch axis, with a margin.
    x: Axis,
    /// The loss axis, with a margin.
    y: Axis,
    /// The best epoch, if any.
    best: Option<Best>,
    /// The title.
    title: String,
    /// The line under the title (the stop reason of a single run).
    subtitle: String,
}

/// matplotlib's "tab10" colours, for the runs of a comparison.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

struct Best {
    epoch: f64,
    /// The point marked on a curve: the validation loss at `epoch`, or the
    /// training loss without validation data.
    point: Option<(f64, f64)>,
    /// What the label says about the epoch: `val_loss 0.0312`.
    value: Option<String>,
}

impl Best {
    /// The legend's text: `best: epoch 27 (val_loss 0.158)`.
    fn label(&self) -> String {
        match &self.value {
            Some(value) => format!("best: epoch {} ({value})", self.epoch),
            None => format!("best: epoch {}", self.epoch),
        }
    }
}

fn train_points(history: &History) -> Vec<(f64, f64)> {
    history
        .epochs
        .iter()
        .map(|e| (e.epoch as f64, e.loss))
        .collect()
}

fn val_points(history: &History) -> Vec<(f64, f64)> {
    history
        .epochs
        .iter()
        .filter_map(|e| Some((e.epoch as f64, e.val_loss?)))
        .collect()
}

impl Curves {
    fn of(history: &History) -> Self {
        let series = vec![
            Series {
                name: "train loss".into(),
                points: train_points(history),
                color: TRAIN,
                dashed: false,
            },
            Series {
                name: "validation loss".into(),
                points: val_points(history),
                color: VAL,
                dashed: false,
            },
        ];
        Curves::new(
            series,
            Best::of(history),
            "Learning curves".into(),
            history.stop.to_string(),
        )
    }

    /// Each run in its colour: the validation loss solid and the training
    /// loss dashed, or the training loss solid for a run without
    /// validation.
    fn compare(title: &str, show: super::Show, runs: &[(&str, &History)]) -> Self {
        use super::Show;
        let mut series = Vec::new();
        for (i, (name, history)) in runs.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let val = val_points(history);
            let both = show == Show::Both && !val.is_empty();
            if show != Show::Training && !val.is_empty() {
                series.push(Series {
                    name: if both {
                        format!("{name}: validation")
                    } else {
                        name.to_string()
                    },
                    points: val,
                    color,
                    dashed: false,
                });
            }
            if both || show == Show::Training || val_points(history).is_empty() {
                series.push(Series {
                    name: if both {
                        format!("{name}: training")
                    } else {
                        name.to_string()
                    },
                    points: train_points(history),
                    color,
                    dashed: both,
                });
            }
        }
        let subtitle = match show {
            Show::Both if series.iter().any(|s| s.dashed) => {
                "solid: validation loss, dashed: training loss"
            }
            Show::Validation if series.iter().any(|s| !s.points.is_empty()) => "validation loss",
            _ => "training loss",
        };
        Curves::new(series, None, title.to_string(), subtitle.to_string())
    }

    fn new(series: Vec<Series>, best: Option<Best>, title: String, subtitle: String) -> Self {
        // The epoch range, with room for the first and last markers.
        let epochs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let first = epochs().fold(f64::INFINITY, f64::min);
        let first = if first.is_finite() { first } else { 1.0 };
        let last = epochs().fold(first, f64::max);
        // Half an epoch, unless that rounds away (epochs near 2^64).
        let margin = (0.02 * (last - first)).max(0.5).max(last.abs() * 1e-12);
        let x = Axis::linear(
            first - margin,
            last + margin,
            linear_ticks(first, last, 10, 1.0),
        );

        // Left out of the curves, and said so under the title.
        let skipped = series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| !p.1.is_finite())
            .count();
        let subtitle = match skipped {
            0 => subtitle,
            1 => format!("{subtitle}; 1 loss is NaN or infinite, not drawn"),
            n => format!("{subtitle}; {n} losses are NaN or infinite, not drawn"),
        };

        // The loss range over the finite values of every curve.
        let mut finite: Vec<f64> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .collect();
        finite.sort_by(f64::total_cmp);
        let y = match (finite.first(), finite.last()) {
            (Some(&lo), Some(&hi)) => loss_axis(lo, hi, finite[finite.len() / 2]),
            _ => Axis::linear(0.0, 1.0, linear_ticks(0.0, 1.0, 8, 0.0)),
        };
        Curves {
            series,
            x,
            y,
            best,
            title,
            subtitle,
        }
    }
}

impl Best {
    /// `history.best_epoch`, else the first epoch with the lowest finite
    /// validation loss, else none.
    fn of(history: &History) -> Option<Best> {
        let lowest_val = || {
            history
                .epochs
                .iter()
                .filter_map(|e| Some((e.epoch, e.val_loss?)))
                .filter(|p| p.1.is_finite())
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|p| p.0)
        };
        let epoch = history.best_epoch.or_else(lowest_val)?;
        let log = history.epochs.iter().find(|e| e.epoch == epoch);
        let point = log.and_then(|e| {
            let (name, loss) = match e.val_loss {
                Some(v) => ("val_loss", v),
                None => ("loss", e.loss),
            };
            loss.is_finite().then_some((name, loss))
        });
        // Early stopping names what it watched (maybe `val_acc`): say that.
        let value = match &history.stop {
            StopReason::EarlyStopping {
                monitor,
                best_epoch,
                best,
                ..
            } if *best_epoch == epoch => Some(format!("{monitor} {}", number(*best))),
            _ => point.map(|(name, loss)| format!("{name} {}", number(loss))),
        };
        Some(Best {
            epoch: epoch as f64,
            point: point.map(|(_, loss)| (epoch as f64, loss)),
            value,
        })
    }
}

/// Draws the whole figure on `backend`: title and stop reason on top, the
/// chart under them.
fn draw<DB: DrawingBackend>(
    backend: DB,
    curves: &Curves,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.margin(14, 10, 14, 24);
    let (header, body) = root.split_vertically(62);

    let center = header.dim_in_pixel().0 as i32 / 2;
    let centered = Pos::new(HPos::Center, VPos::Top);
    header.draw(&Text::new(
        curves.title.as_str(),
        (center, 0),
        font(26.0).color(&TEXT).pos(centered),
    ))?;
    header.draw(&Text::new(
        curves.subtitle.as_str(),
        (center, 34),
        font(15.0).color(&SUBTLE).pos(centered),
    ))?;

    chart(&body, curves)?;
    root.present()
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// The chart: axes, grid, curves, best epoch, legend.
fn chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &Curves,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(52)
        .y_label_area_size(78)
        .build_cartesian_2d(curves.x.clone(), curves.y.clone())?;

    let epoch_label = |x: &f64| format!("{x}");
    let loss_label = |y: &f64| number(*y);
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(if curves.y.log {
            "loss (log scale)"
        } else {
            "loss"
        })
        .x_label_formatter(&epoch_label)
        .y_label_formatter(&loss_label)
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(18.0).color(&TEXT))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(SUBTLE.stroke_width(1))
        .draw()?;

    // The best epoch's line first, so that the curves are drawn over it
    // (if that epoch is on the axis: `best_epoch` may name any number).
    if let Some(best) = curves
        .best
        .as_ref()
        .filter(|b| curves.x.range.contains(&b.epoch))
    {
        let (lo, hi) = (curves.y.range.start, curves.y.range.end);
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(best.epoch, lo), (best.epoch, hi)],
            7,
            5,
            BEST.stroke_width(2),
        )))?;
    }

    let longest = curves.series.iter().map(|s| s.points.len()).max();
    let markers = longest.unwrap_or(0) <= MARKERS_UP_TO;
    for series in &curves.series {
        if series.points.is_empty() {
            continue;
        }
        let line = series.color.stroke_width(if markers { 3 } else { 2 });
        let sample = LEGEND_SAMPLE as i32 - 6;
        if series.dashed {
            chart
                .draw_series(
                    runs(&series.points).map(|run| DashedPathElement::new(run, 6, 4, line)),
                )?
                .label(series.name.as_str())
                .legend(move |(x, y)| {
                    DashedPathElement::new(vec![(x, y), (x + sample, y)], 6, 4, line)
                });
        } else {
            chart
                .draw_series(runs(&series.points).map(|run| PathElement::new(run, line)))?
                .label(series.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + sample, y)], line));
        }
        if markers {
            let finite = series.points.iter().filter(|p| p.1.is_finite());
            chart.draw_series(finite.map(|&p| Circle::new(p, 3, series.color.filled())))?;
        }
    }

    if let Some(best) = &curves.best {
        // The ring on the curve; labelled in the legend, which is placed
        // away from the curves, where a label by the point would cross them.
        chart.draw_series(
            (best.point.into_iter()).map(|p| Circle::new(p, 7, BEST.stroke_width(3))),
        )?;
        let sample = LEGEND_SAMPLE as i32 - 6;
        chart
            .draw_series(std::iter::empty::<EmptyElement<(f64, f64), DB>>())?
            .label(best.label())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + DashedPathElement::new(vec![(0, 0), (sample, 0)], 7, 5, BEST.stroke_width(2))
                    + Circle::new((sample / 2, 0), 5, WHITE.filled())
                    + Circle::new((sample / 2, 0), 5, BEST.stroke_width(3))
            });
    }

    let plotted = curves
        .series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| p.1.is_finite());
    if !plotted {
        let area = chart.plotting_area().strip_coord_spec();
        let (w, h) = area.dim_in_pixel();
        let message = if curves.series.iter().all(|s| s.points.is_empty()) {
            "no epoch ran"
        } else {
            "no finite loss"
        };
        let centered = Pos::new(HPos::Center, VPos::Center);
        area.draw(&Text::new(
            message,
            (w as i32 / 2, h as i32 / 2),
            font(18.0).color(&SUBTLE).pos(centered),
        ))?;
        return Ok(());
    }

    let position = legend_position(&chart, curves);
    chart
        .configure_series_labels()
        .position(position)
        .margin(12)
        .legend_area_size(LEGEND_SAMPLE)
        .label_font(font(LEGEND_FONT).color(&TEXT))
        .background_style(WHITE.mix(0.9))
        .border_style(GRID.stroke_width(1))
        .draw()
}

/// An axis with the ticks (and grid lines) we choose: plotters' own `f64`
/// axis would put them at epoch 0 or 2.5, and its logarithmic one only at
/// powers of ten.
#[derive(Clone)]
struct Axis {
    range: Range<f64>,
    /// Logarithmic (all values > 0) or linear.
    log: bool,
    ticks: Vec<f64>,
}

/// How far off the chart, in pixels, a point may be mapped: a value far
/// outside the axis lands here, so pixel arithmetic stays within `i32`.
const FAR: f64 = 100_000.0;

impl Axis {
    /// A linear axis over `start..end`; the unit interval if that is not a
    /// finite, non-empty range (which the callers never ask for).
    fn linear(start: f64, end: f64, ticks: Vec<f64>) -> Axis {
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
    fn fraction(&self, value: f64) -> f64 {
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
fn loss_axis(lo: f64, hi: f64, median: f64) -> Axis {
    let skewed = median - lo < 0.1 * (hi - lo);
    let log = lo > 0.0 && (hi / lo > LOG_RATIO || (hi / lo > LOG_RATIO_SKEWED && skewed));
    if log {
        let start = lo / 1.25;
        let start = if start > 0.0 { start } else { lo };
        let range = start..(hi * 1.25).min(f64::MAX);
        let ticks = log_ticks(range.start, range.end);
        return Axis { range, log, ticks };
    }
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
fn linear_ticks(lo: f64, hi: f64, max: usize, min_step: f64) -> Vec<f64> {
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
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
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

/// The runs of consecutive finite points: a non-finite loss breaks the
/// line instead of dragging it off the chart.
fn runs(points: &[(f64, f64)]) -> impl Iterator<Item = Vec<(f64, f64)>> + '_ {
    points
        .split(|p| !p.1.is_finite())
        .filter(|run| !run.is_empty())
        .map(<[_]>::to_vec)
}

/// The corner of the plotting area where the legend covers the fewest
/// curve pixels: the curves are sampled every few pixels along their
/// lines and counted inside each corner's legend box.
fn legend_position<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cartesian2d<Axis, Axis>>,
    curves: &Curves,
) -> SeriesLabelPosition {
    use SeriesLabelPosition::{LowerLeft, LowerRight, UpperLeft, UpperRight};
    const CORNERS: [SeriesLabelPosition; 4] = [UpperRight, UpperLeft, LowerRight, LowerLeft];

    // The legend's size, as plotters computes it (labels, samples, margins).
    let mut labels = vec![];
    if let Some(best) = &curves.best {
        labels.push(best.label());
    }
    labels.extend(
        curves
            .series
            .iter()
            .filter(|s| !s.points.is_empty())
            .map(|s| s.name.clone()),
    );
    let style = font(LEGEND_FONT);
    let mut text = MultiLineText::<(i32, i32), String>::new((0, 0), &style);
    for label in labels {
        text.push_line(label);
    }
    let Ok((w, h)) = text.estimate_dimension() else {
        return UpperRight;
    };
    let (w, h) = (w + LEGEND_SAMPLE as i32 + 24, h + 24);

    // LOOP 1: curve pixels, relative to the plotting area.
    let area = chart.plotting_area();
    let (ox, oy) = area.get_base_pixel();
    let (aw, ah) = area.dim_in_pixel();
    let mut pixels = vec![];
    for series in &curves.series {
        for run in runs(&series.points) {
            let run: Vec<(i32, i32)> = run.iter().map(|p| chart.backend_coord(p)).collect();
            pixels.extend(run.first().copied());
            for pair in run.windows(2) {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / 3).max(1);
                for i in 1..=steps {
                    pixels.push((x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps));
                }
            }
        }
    }

    // The best epoch's line matters less: it only breaks ties.
    let line: Vec<(i32, i32)> = match &curves.best {
        Some(best) => {
            let (x, top) = chart.backend_coord(&(best.epoch, curves.y.range.end));
            (0..ah as i32).step_by(3).map(|dy| (x, top + dy)).collect()
        }
        None => vec![],
    };

    // LOOP 2: the first corner with the fewest pixels under its box (plus
    // a few pixels of clearance).
    let covered = |corner: &SeriesLabelPosition| {
        let left = matches!(corner, UpperLeft | LowerLeft);
        let upper = matches!(corner, UpperLeft | UpperRight);
        let x0 = if left { 5 } else { aw as i32 - w - 5 };
        let y0 = if upper { 5 } else { ah as i32 - h - 5 };
        let (x0, y0, x1, y1) = (x0 - 6, y0 - 6, x0 + w + 6, y0 + h + 6);
        let inside =
            |&&(x, y): &&(i32, i32)| (x0..=x1).contains(&(x - ox)) && (y0..=y1).contains(&(y - oy));
        (
            pixels.iter().filter(inside).count(),
            line.iter().filter(inside).count(),
        )
    };
    CORNERS
        .into_iter()
        .min_by_key(covered)
        .unwrap_or(UpperRight)
}

/// A loss for a label: 4 significant digits, no trailing zeros, an
/// exponent outside [0.001, 100000).
fn number(value: f64) -> String {
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

mod raster;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EpochLog, Monitor, Show};
    use crate::rng::Rng;
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
        let mut curves = vec![Curves::of(history)];
        for show in [Show::Both, Show::Validation, Show::Training] {
            curves.push(Curves::compare("runs", show, &runs));
        }
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
            if rng.below(4) == 0 {
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
        cases.push((history(&many, &[], 1, Some(7)), false));

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
            let curves = Curves::of(&history(&[1.0, 2.0], &[], first, None));
            let range = curves.x.range.clone();
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
