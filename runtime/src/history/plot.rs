//! Learning curves of a [`History`]: drawn with plotters into memory (an SVG
//! string or an RGB buffer encoded as PNG), then written atomically.

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

use super::{write_atomic, History, StopReason};
use crate::error::{Error, Result};

/// DejaVu Sans cut down to Latin, Greek and common signs (37 KB); see
/// `assets/README.md` for how and `assets/LICENSE-DejaVu.txt` for its terms.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");

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
    register_embedded_font().map_err(|message| plot_error(path, message))?;
    let bytes = match format {
        Format::Svg => {
            let mut svg = String::new();
            draw(SVGBackend::with_string(&mut svg, SIZE), curves)
                .map_err(|e| plot_error(path, e))?;
            svg.into_bytes()
        }
        Format::Png => {
            let mut samples = raster::samples(SIZE);
            let canvas = raster::Supersampled::new(&mut samples, SIZE, FONT)
                .ok_or_else(|| plot_error(path, INVALID_FONT))?;
            draw(canvas, curves).map_err(|e| plot_error(path, e))?;
            encode_png(&raster::downsample(&samples, SIZE), SIZE)
                .map_err(|e| plot_error(path, e))?
        }
    };
    write_atomic(path, &bytes)
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
        let margin = (0.02 * (last - first)).max(0.5);
        let x = Axis {
            range: first - margin..last + margin,
            log: false,
            ticks: linear_ticks(first, last, 10, 1.0),
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
            _ => Axis {
                range: 0.0..1.0,
                log: false,
                ticks: linear_ticks(0.0, 1.0, 8, 0.0),
            },
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

    // The best epoch's line first, so that the curves are drawn over it.
    if let Some(best) = &curves.best {
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

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let scale = |v: f64| if self.log { v.ln() } else { v };
        let (start, end) = (scale(self.range.start), scale(self.range.end));
        let t = (scale(*value) - start) / (end - start);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
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
fn loss_axis(lo: f64, hi: f64, median: f64) -> Axis {
    let skewed = median - lo < 0.1 * (hi - lo);
    let log = lo > 0.0 && (hi / lo > LOG_RATIO || (hi / lo > LOG_RATIO_SKEWED && skewed));
    if log {
        let range = lo / 1.25..hi * 1.25;
        let ticks = log_ticks(range.start, range.end);
        return Axis { range, log, ticks };
    }
    let pad = if hi > lo {
        0.06 * (hi - lo)
    } else if lo != 0.0 {
        0.1 * lo.abs()
    } else {
        1.0
    };
    // A loss is usually >= 0: do not show negative values it cannot have.
    let bottom = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    Axis {
        range: bottom..hi + pad,
        log,
        ticks: linear_ticks(bottom, hi + pad, 8, 0.0),
    }
}

/// At most `max` ticks in `lo..=hi`: the multiples of the smallest step
/// among 1, 2, 5 times a power of ten (and at least `min_step`) that needs
/// no more.
fn linear_ticks(lo: f64, hi: f64, max: usize, min_step: f64) -> Vec<f64> {
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let mut decade = 10f64.powf((span / max as f64).log10().floor());
    let step = 'search: loop {
        for m in [1.0, 2.0, 5.0] {
            let step = (m * decade).max(min_step);
            if span / step < max as f64 {
                break 'search step;
            }
        }
        decade *= 10.0;
    };
    let (first, last) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
    // Multiplied, not accumulated: no 0.30000000000000004 from adding.
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Ticks of a logarithmic axis over `lo..=hi` (`lo` > 0): 1, 2 and 5 times
/// each power of ten when it spans up to two decades, else the powers of
/// ten (every second, third ... one past eight decades).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
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
