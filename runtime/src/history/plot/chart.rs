//! Pictures of what a model predicts: lines (a function over x) and
//! points (samples) in one chart, over a shaded field of values on the
//! plane (a classifier's probability) if there is one.

use std::ops::Range;
use std::path::Path;

use plotters::style::RGBColor;

use super::axis::{linear_ticks, number, Axis};
use super::figure::{nth_style, Entry, Figure, Marker, Pane, Sample, Series, Shading, PALETTE};
use super::render;
use crate::error::Result;

/// A chart of lines and points in the plane, over a shaded [`Field`] if
/// one is given: a model's predictions against its data.
///
/// Each line and each set of points gets the next style: its own colour,
/// and a dash pattern (lines) or a marker shape (points), so that they
/// differ in grayscale too; the legend, beside the chart, names them. The
/// axes span every finite point, or exactly the field if there is one
/// (lines are cut at its edges, and a point outside it is drawn as a
/// triangle on the edge).
///
/// # Examples
///
/// A fitted curve over the samples it was fitted to:
///
/// ```no_run
/// # use macrograd_runtime as macrograd;
/// use macrograd::history::Chart;
///
/// let samples = [(0.0, 0.1), (0.5, 0.9), (1.0, 2.1)];
/// let fitted = (0..=100).map(|i| {
///     let x = i as f64 / 100.0;
///     (x, 2.0 * x)
/// });
/// Chart::new("A straight line through three points")
///     .axes("x", "y")
///     .points("samples", samples)
///     .line("y = 2x", fitted)
///     .write("fit.png")?;
/// # Ok::<(), macrograd::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Chart {
    title: String,
    subtitle: String,
    axes: (String, String),
    /// Lines and point sets in the order added: `true` for a line.
    series: Vec<Added>,
    field: Option<Field>,
}

impl Chart {
    /// An empty chart titled `title`, with axes named `x` and `y`.
    pub fn new(title: impl Into<String>) -> Self {
        Chart {
            title: title.into(),
            subtitle: String::new(),
            axes: ("x".into(), "y".into()),
            series: Vec::new(),
            field: None,
        }
    }

    /// A line of text under the title.
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = subtitle.into();
        self
    }

    /// The axes' names.
    pub fn axes(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.axes = (x.into(), y.into());
        self
    }

    /// A line through `points`, in their order, named `name` in the
    /// legend; a non-finite coordinate breaks it.
    pub fn line(
        mut self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series
            .push((name.into(), points.into_iter().collect(), true));
        self
    }

    /// `points` as markers, named `name` in the legend; points with a
    /// non-finite coordinate are left out.
    pub fn points(
        mut self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series
            .push((name.into(), points.into_iter().collect(), false));
        self
    }

    /// Shades the plotting area with `field`, under the lines and points.
    pub fn field(mut self, field: Field) -> Self {
        self.field = Some(field);
        self
    }

    /// Draws the chart to `path`: the format follows the extension, in
    /// any case (`.svg` or `.png`, 960 pixels wide), and the file is
    /// written atomically, as by
    /// [`History::write_csv`](crate::history::History::write_csv).
    ///
    /// Drawing never panics, whatever the values: non-finite ones are left
    /// out, and an empty chart says "nothing to draw".
    ///
    /// # Errors
    ///
    /// As [`History::plot`](crate::history::History::plot): an extension
    /// other than `svg` or `png`, a drawing failure, a file that cannot be
    /// written.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        render(&self.figure(), path.as_ref())
    }

    /// The figure: one pane, the legend in the order added.
    pub(super) fn figure(&self) -> Figure {
        let mut series = Vec::new();
        let mut legend = Vec::new();
        for (i, (name, points, line)) in self.series.iter().enumerate() {
            let mut style = nth_style(i);
            if *line {
                style.marker = Marker::None;
            } else {
                style.width = 0;
                // Many points overlap: open markers let each show.
                style.open = points.len() > CROWDED;
            }
            series.push(Series {
                points: points.clone(),
                style,
                phase: 0.0,
            });
            legend.push(Entry {
                label: name.clone(),
                sample: Sample::Series(style),
            });
        }
        // The field's ends take the colours of the first two point sets
        // (a classifier's classes), else the palette's first two.
        let mut point_colors = series
            .iter()
            .filter(|s| s.style.width == 0)
            .map(|s| s.style.color);
        let colors = (
            point_colors.next().unwrap_or(PALETTE[0]),
            point_colors.next().unwrap_or(PALETTE[1]),
        );
        let shading = self.field.as_ref().and_then(|f| f.shading(colors));
        if let (Some(shading), Some(field)) = (&shading, &self.field) {
            let (lo, hi) = (shading.scale.start, shading.scale.end);
            legend.push(Entry {
                label: format!("{}: {} to {}", field.name, number(lo), number(hi)),
                sample: Sample::Scale(colors.0, colors.1),
            });
            if let Some(level) = shading.level {
                legend.push(Entry {
                    label: format!("{} = {}", field.name, number(level)),
                    sample: Sample::Contour,
                });
            }
        }

        let (x, y) = match &shading {
            Some(s) => (
                Axis::linear(s.x.start, s.x.end, ticks(&s.x)),
                Axis::linear(s.y.start, s.y.end, ticks(&s.y)),
            ),
            None => (
                span(series.iter().flat_map(|s| s.points.iter().map(|p| p.0))),
                span(series.iter().flat_map(|s| s.points.iter().map(|p| p.1))),
            ),
        };
        let finite = series
            .iter()
            .flat_map(|s| &s.points)
            .any(|p| p.0.is_finite() && p.1.is_finite());
        let message = (!finite && shading.is_none()).then(|| "nothing to draw".to_string());
        Figure {
            title: self.title.clone(),
            subtitle: self.subtitle.clone(),
            panes: vec![Pane {
                x,
                y,
                x_desc: self.axes.0.clone(),
                y_desc: self.axes.1.clone(),
                shading,
                series,
                best: None,
                message,
            }],
            legend,
        }
    }
}

/// A line (`true`) or a set of points, with its legend name.
type Added = (String, Vec<(f64, f64)>, bool);

/// Point sets of more points than this are drawn with open, smaller
/// markers.
pub(super) const CROWDED: usize = 50;

/// A linear axis over the finite `values`, with a 6 % margin on both
/// sides (a chart's values may be negative, or start anywhere).
fn span(values: impl Iterator<Item = f64>) -> Axis {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let pad = if hi > lo {
        0.06 * hi - 0.06 * lo
    } else if lo.is_finite() && lo != 0.0 {
        0.1 * lo.abs()
    } else {
        1.0
    };
    let (start, end) = ((lo - pad).max(-f64::MAX), (hi + pad).min(f64::MAX));
    if start < end {
        Axis::linear(start, end, ticks(&(start..end)))
    } else if lo <= hi {
        // A margin that rounds away (subnormal values).
        super::axis::linear_axis(lo, hi)
    } else {
        // No finite value, or a margin that rounds away.
        Axis::linear(0.0, 1.0, ticks(&(0.0..1.0)))
    }
}

fn ticks(range: &Range<f64>) -> Vec<f64> {
    linear_ticks(range.start, range.end, 8, 0.0)
}

/// Values on a grid over a rectangle of the plane, shown as shading
/// under a [`Chart`]'s lines and points: a classifier's probability
/// (its decision boundary is where the shade turns), a regressor's
/// output, a loss surface.
///
/// The shade goes from the colour of the chart's first set of points at
/// the low end of the scale, through white in the middle, to the colour
/// of the second set at the high end (pale, so that points stay
/// visible); with a [`level`](Field::level), a dark contour line is drawn
/// where the values cross it.
///
/// # Examples
///
/// ```no_run
/// # use macrograd_runtime as macrograd;
/// use macrograd::history::{Chart, Field};
///
/// // P(class 1) of a made-up classifier: above the diagonal.
/// let field = Field::from_fn(-1.0..1.0, -1.0..1.0, (80, 80), |points| {
///     points.iter().map(|[x, y]| 1.0 / (1.0 + (-4.0 * (y - x)).exp())).collect()
/// })
/// .name("P(class 1)")
/// .scale(0.0..1.0)
/// .level(0.5);
/// Chart::new("Decision boundary")
///     .field(field)
///     .points("class 0", [(0.5, -0.5)])
///     .points("class 1", [(-0.5, 0.5)])
///     .write("boundary.png")?;
/// # Ok::<(), macrograd::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Field {
    x: Range<f64>,
    y: Range<f64>,
    columns: usize,
    rows: usize,
    values: Vec<f64>,
    name: String,
    scale: Option<Range<f64>>,
    level: Option<f64>,
}

impl Field {
    /// The values of `f` at the centres of a grid of `columns` x `rows`
    /// cells over `x` by `y`.
    ///
    /// `f` is called once, with every centre `[x, y]`, row by row from
    /// the lowest `y`, each row from the lowest `x` (so that a model can
    /// predict them in one batch), and returns one value per centre, in
    /// that order. Missing values (a shorter vector) and NaN are left
    /// white; extra ones are ignored. A grid of 0 cells, or a range that
    /// is empty or not finite, gives a field that draws nothing.
    pub fn from_fn(
        x: Range<f64>,
        y: Range<f64>,
        (columns, rows): (usize, usize),
        f: impl FnOnce(&[[f64; 2]]) -> Vec<f64>,
    ) -> Field {
        let (dx, dy) = (
            (x.end - x.start) / columns as f64,
            (y.end - y.start) / rows as f64,
        );
        let centres: Vec<[f64; 2]> = (0..rows)
            .flat_map(|r| {
                (0..columns).map(move |c| {
                    [
                        x.start + (c as f64 + 0.5) * dx,
                        y.start + (r as f64 + 0.5) * dy,
                    ]
                })
            })
            .collect();
        let values = f(&centres);
        Field {
            x,
            y,
            columns,
            rows,
            values,
            name: "value".into(),
            scale: None,
            level: None,
        }
    }

    /// What the values are, for the legend (`"value"` unless set).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The values at the two ends of the colour scale (`0.0..1.0` for a
    /// probability); by default the smallest and largest finite value.
    /// Values beyond it take the colour of its end.
    pub fn scale(mut self, scale: Range<f64>) -> Self {
        self.scale = Some(scale);
        self
    }

    /// Draws a contour line where the values cross `level` (0.5 for a
    /// binary classifier's decision boundary).
    pub fn level(mut self, level: f64) -> Self {
        self.level = Some(level);
        self
    }

    /// The shading, if the field has cells over a finite, non-empty
    /// rectangle.
    fn shading(&self, colors: (RGBColor, RGBColor)) -> Option<Shading> {
        let proper = |r: &Range<f64>| r.start.is_finite() && r.end.is_finite() && r.start < r.end;
        // At most 4 million cells: more than any image has pixels.
        let cells = self.columns.checked_mul(self.rows)?;
        if !(proper(&self.x) && proper(&self.y)) || cells == 0 || cells > 1 << 22 {
            return None;
        }
        let scale = match &self.scale {
            Some(s) if s.start.is_finite() && s.end.is_finite() && s.start != s.end => s.clone(),
            _ => {
                let finite = self.values.iter().take(cells).filter(|v| v.is_finite());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
                if lo < hi {
                    lo..hi
                } else if lo == hi {
                    lo - 0.5..hi + 0.5
                } else {
                    0.0..1.0
                }
            }
        };
        Some(Shading {
            x: self.x.clone(),
            y: self.y.clone(),
            columns: self.columns,
            rows: self.rows,
            values: self.values.iter().copied().take(cells).collect(),
            scale,
            colors,
            level: self.level.filter(|l| l.is_finite()),
        })
    }
}
