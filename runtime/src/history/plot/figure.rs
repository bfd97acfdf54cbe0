//! A figure, whatever it shows: a title and a line under it, panes stacked
//! one under another, and one legend, beside the panes or under them.
//!
//! Two rules hold for every plot, because they are made here:
//! - the legend is outside every pane ([`layout`] gives it a rectangle of
//!   its own), so it never covers a curve, a point or a shaded cell;
//! - nothing is drawn outside its pane's plotting area: lines are clipped
//!   to the axes' ranges (a point beyond them breaks off the line at the
//!   edge, and a small triangle on the edge says where it went), so an
//!   axis may leave values out (a diverged run) without them being drawn
//!   over the labels.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{number, Axis};
use super::font;

/// The width of every figure, in pixels (PNG) or user units (SVG).
pub(super) const WIDTH: u32 = 960;
/// The height of a figure of one pane with its legend beside it.
const ONE_PANE_HEIGHT: u32 = 600;
/// The height of each pane of a figure of several.
const PANE_HEIGHT: u32 = 300;

/// The figure's margins: top, bottom, left, right.
const MARGIN: (i32, i32, i32, i32) = (14, 10, 14, 24);
/// The title and the line under it.
const HEADER: i32 = 62;
/// Room under a pane for its tick labels, and for the axis name too
/// under the bottom pane.
const TICKS_AREA: u32 = 34;
const X_DESC_AREA: u32 = 52;
/// Room left of each pane for the tick labels and the axis name.
const Y_LABEL_AREA: u32 = 78;

/// The legend: text size, row height, the room for a sample line, the
/// gap between sample and text, the padding inside the border, and the
/// gap to the panes.
const LEGEND_FONT: f64 = 17.0;
const LEGEND_ROW: i32 = 26;
const SAMPLE: i32 = 46;
const SAMPLE_GAP: i32 = 8;
const LEGEND_PAD: i32 = 10;
const LEGEND_GAP: i32 = 14;
/// The largest share of the width a legend beside the panes may take;
/// a wider one goes under them.
const LEGEND_BESIDE_MAX: f64 = 0.36;

/// Points up to which every point of a line gets a marker; a longer line
/// gets about `MARKERS_PER_LINE` of them, evenly spaced.
const MARKERS_UP_TO: usize = 30;
const MARKERS_PER_LINE: usize = 15;

pub(super) const TEXT: RGBColor = RGBColor(34, 34, 34);
pub(super) const SUBTLE: RGBColor = RGBColor(96, 96, 96);
const GRID: RGBColor = RGBColor(221, 221, 221);
/// The best epoch's line and ring.
pub(super) const BEST: RGBColor = RGBColor(44, 160, 44);
/// A contour line over a shaded field.
const CONTOUR: RGBColor = RGBColor(40, 40, 40);

/// What a figure shows, in data coordinates: built from histories
/// (`curves.rs`) or from points and fields (`chart.rs`), drawn the same
/// way.
pub(super) struct Figure {
    pub(super) title: String,
    /// The line under the title.
    pub(super) subtitle: String,
    /// Stacked from the top.
    pub(super) panes: Vec<Pane>,
    pub(super) legend: Vec<Entry>,
}

/// One chart: axes, an optional shaded field, lines and points.
pub(super) struct Pane {
    pub(super) x: Axis,
    pub(super) y: Axis,
    /// The axes' names; the x axis is named under the bottom pane only.
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    /// Drawn first, under the grid.
    pub(super) shading: Option<Shading>,
    /// Drawn in this order.
    pub(super) series: Vec<Series>,
    /// A dashed vertical line, and a ring on a point.
    pub(super) best: Option<(f64, Option<(f64, f64)>)>,
    /// Said in the middle of a pane with nothing to draw.
    pub(super) message: Option<String>,
}

/// Values on a grid of cells over `x` by `y`, shaded from `colors.0` at
/// `scale.start` to `colors.1` at `scale.end` through white, with a
/// contour line at `level`.
pub(super) struct Shading {
    pub(super) x: Range<f64>,
    pub(super) y: Range<f64>,
    pub(super) columns: usize,
    pub(super) rows: usize,
    /// Row by row from the bottom (lowest y), `columns` per row; NaN is
    /// left white.
    pub(super) values: Vec<f64>,
    pub(super) scale: Range<f64>,
    pub(super) colors: (RGBColor, RGBColor),
    pub(super) level: Option<f64>,
}

/// A line or a set of points.
pub(super) struct Series {
    /// Non-finite coordinates are left out and break the line.
    pub(super) points: Vec<(f64, f64)>,
    pub(super) style: Style,
    /// Where among its points a long line's markers start, as a fraction
    /// of their spacing: lines on top of each other get their markers at
    /// different epochs, so that each stays visible.
    pub(super) phase: f64,
}

/// How a series looks: colour, and, so that series differ in grayscale
/// too, a dash pattern, a marker shape and a line width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Style {
    pub(super) color: RGBColor,
    pub(super) dash: Dash,
    pub(super) marker: Marker,
    /// The line's width; 0 for points without a line.
    pub(super) width: u32,
    /// Open (white inside) markers rather than filled ones.
    pub(super) open: bool,
}

/// A line's dash pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dash {
    Solid,
    /// Dashes of this length and gaps, in pixels.
    Dashed(u32, u32),
}

/// A marker's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    None,
    Circle,
    Square,
    Triangle,
    Diamond,
    InvertedTriangle,
    Cross,
}

/// matplotlib's "tab10" colours: distinct, also for the common forms of
/// colour blindness.
pub(super) const PALETTE: [RGBColor; 10] = [
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

const DASHES: [Dash; 4] = [
    Dash::Solid,
    Dash::Dashed(14, 6),
    Dash::Dashed(3, 4),
    Dash::Dashed(8, 4),
];

const MARKERS: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::InvertedTriangle,
    Marker::Cross,
];

/// The `i`-th style of a set of series (runs, point sets): its own
/// colour, dash pattern and marker, so that the first ten differ in
/// colour and any two differ in dash or marker (in grayscale too).
pub(super) fn nth_style(i: usize) -> Style {
    Style {
        color: PALETTE[i % PALETTE.len()],
        dash: DASHES[i % DASHES.len()],
        marker: MARKERS[i % MARKERS.len()],
        width: 3,
        open: false,
    }
}

/// One line of the legend.
pub(super) struct Entry {
    pub(super) label: String,
    pub(super) sample: Sample,
}

/// What a legend line shows before its text.
pub(super) enum Sample {
    /// A short piece of the series' line with a marker.
    Series(Style),
    /// The best epoch's dashed line and ring.
    Best,
    /// The shading's colours from low to high.
    Scale(RGBColor, RGBColor),
    /// The contour line.
    Contour,
}

/// A rectangle of the image, in pixels from its top left corner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rect {
    pub(super) x: i32,
    pub(super) y: i32,
    pub(super) w: i32,
    pub(super) h: i32,
}

impl Rect {
    /// Whether the two rectangles share a pixel.
    #[cfg(test)]
    pub(super) fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// Where everything of a figure goes.
#[derive(Debug)]
pub(super) struct Layout {
    /// The image size.
    pub(super) size: (u32, u32),
    /// Each pane, axis labels included.
    pub(super) panes: Vec<Rect>,
    /// The legend, its border included; `None` without entries.
    pub(super) legend: Option<Rect>,
    /// The legend's columns (more than one only under the panes).
    pub(super) columns: usize,
}

/// The width of `text` in the legend's font: as plotters measures it, or
/// an estimate if the font cannot.
fn text_width(text: &str) -> i32 {
    let style = font(LEGEND_FONT);
    match style.font.box_size(text) {
        Ok((w, _)) => w as i32,
        Err(_) => (text.chars().count() as f64 * 0.6 * LEGEND_FONT) as i32,
    }
}

/// Where the panes and the legend go: the legend beside the panes, on the
/// right, if it is at most `LEGEND_BESIDE_MAX` of the width and as high
/// as the panes; else under them, in as many columns as fit. Either way
/// it shares no pixel with a pane.
pub(super) fn layout(figure: &Figure) -> Layout {
    let (top, bottom, left, right) = MARGIN;
    let n = figure.panes.len().max(1) as i32;
    let inner_w = WIDTH as i32 - left - right;
    let panes_h = if n == 1 {
        ONE_PANE_HEIGHT as i32 - top - bottom - HEADER
    } else {
        n * PANE_HEIGHT as i32 + (X_DESC_AREA - TICKS_AREA) as i32
    };
    let widths: Vec<i32> = figure.legend.iter().map(|e| text_width(&e.label)).collect();
    let entry_w = SAMPLE + SAMPLE_GAP + widths.iter().copied().max().unwrap_or(0);
    let legend_w = entry_w + 2 * LEGEND_PAD;
    let rows = figure.legend.len() as i32;
    let legend_h = rows * LEGEND_ROW + 2 * LEGEND_PAD;
    let beside = f64::from(legend_w) <= LEGEND_BESIDE_MAX * f64::from(WIDTH) && legend_h <= panes_h;

    let pane_rects = |panes_w: i32| -> Vec<Rect> {
        let mut y = top + HEADER;
        (0..n)
            .map(|i| {
                let h = if n == 1 {
                    panes_h
                } else if i == n - 1 {
                    PANE_HEIGHT as i32 + (X_DESC_AREA - TICKS_AREA) as i32
                } else {
                    PANE_HEIGHT as i32
                };
                let rect = Rect {
                    x: left,
                    y,
                    w: panes_w,
                    h,
                };
                y += h;
                rect
            })
            .collect()
    };
    if figure.legend.is_empty() {
        return Layout {
            size: (WIDTH, (top + HEADER + panes_h + bottom) as u32),
            panes: pane_rects(inner_w),
            legend: None,
            columns: 1,
        };
    }
    if beside {
        let panes_w = inner_w - legend_w - LEGEND_GAP;
        let legend = Rect {
            x: left + panes_w + LEGEND_GAP,
            y: top + HEADER + 6,
            w: legend_w,
            h: legend_h,
        };
        return Layout {
            size: (WIDTH, (top + HEADER + panes_h + bottom) as u32),
            panes: pane_rects(panes_w),
            legend: Some(legend),
            columns: 1,
        };
    }
    // Under the panes: columns as wide as the widest entry, as many as fit.
    let column_w = entry_w + 2 * LEGEND_PAD;
    let columns = ((inner_w - 2 * LEGEND_PAD) / column_w.max(1)).clamp(1, rows.max(1));
    let rows = (rows + columns - 1) / columns;
    let legend = Rect {
        x: left,
        y: top + HEADER + panes_h + LEGEND_GAP,
        w: inner_w,
        h: rows * LEGEND_ROW + 2 * LEGEND_PAD,
    };
    Layout {
        size: (WIDTH, (legend.y + legend.h + bottom).max(0) as u32),
        panes: pane_rects(inner_w),
        legend: Some(legend),
        columns: columns as usize,
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws `figure` on `backend` (of `layout.size`): title and subtitle on
/// top, the panes, the legend.
pub(super) fn draw<DB: DrawingBackend>(
    backend: DB,
    figure: &Figure,
    layout: &Layout,
) -> DrawResult<DB> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let center = layout.size.0 as i32 / 2;
    let centered = Pos::new(HPos::Center, VPos::Top);
    root.draw(&Text::new(
        figure.title.as_str(),
        (center, MARGIN.0),
        font(26.0).color(&TEXT).pos(centered),
    ))?;
    root.draw(&Text::new(
        figure.subtitle.as_str(),
        (center, MARGIN.0 + 34),
        font(15.0).color(&SUBTLE).pos(centered),
    ))?;
    let last = figure.panes.len().saturating_sub(1);
    for (i, (pane, rect)) in figure.panes.iter().zip(&layout.panes).enumerate() {
        let area = root.clone().shrink(
            (rect.x, rect.y),
            (rect.w.max(1) as u32, rect.h.max(1) as u32),
        );
        draw_pane(&root, &area, pane, i == last)?;
    }
    if let Some(rect) = layout.legend {
        draw_legend(&root, &figure.legend, rect, layout.columns)?;
    }
    root.present()
}

/// Draws one pane on `area`; lines and markers go on `root` in image
/// pixels, after clipping.
fn draw_pane<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    pane: &Pane,
    bottom: bool,
) -> DrawResult<DB> {
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(if bottom { X_DESC_AREA } else { TICKS_AREA })
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(pane.x.clone(), pane.y.clone())?;
    if let Some(shading) = &pane.shading {
        let pixel = |p: (f64, f64)| chart.backend_coord(&p);
        draw_shading(root, &pane.x, &pane.y, shading, &pixel)?;
    }

    let x_label = |x: &f64| number(*x);
    let y_label = |y: &f64| number(*y);
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(pane.y_desc.as_str())
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(font(15.0).color(&TEXT))
        .axis_desc_style(font(18.0).color(&TEXT))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(SUBTLE.stroke_width(1));
    if bottom {
        mesh.x_desc(pane.x_desc.as_str());
    }
    if pane.shading.is_some() {
        // A grid over the shading would read as cell borders.
        mesh.bold_line_style(TRANSPARENT);
    }
    mesh.draw()?;
    let pixel = |p: (f64, f64)| chart.backend_coord(&p);

    // The best epoch's line under the curves, if it is on the axis.
    if let Some((epoch, _)) = pane.best.filter(|b| pane.x.range.contains(&b.0)) {
        let (lo, hi) = (pane.y.range.start, pane.y.range.end);
        root.draw(&DashedPathElement::new(
            vec![pixel((epoch, lo)), pixel((epoch, hi))],
            7,
            5,
            BEST.stroke_width(2),
        ))?;
    }

    let longest = pane
        .series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(0);
    for series in &pane.series {
        let style = &series.style;
        if style.width > 0 {
            for piece in clip(&series.points, &pane.x, &pane.y) {
                let piece: Vec<(i32, i32)> = piece.into_iter().map(&pixel).collect();
                draw_line(root, piece, style)?;
            }
        }
        // Markers: every point of short lines, evenly spaced ones on long
        // lines; points off the axes as a triangle on the edge they left by.
        let every = if style.width == 0 || longest <= MARKERS_UP_TO {
            1
        } else {
            longest.div_ceil(MARKERS_PER_LINE)
        };
        let offset = ((series.phase.clamp(0.0, 1.0) * every as f64) as usize).min(every - 1);
        for (i, &(x, y)) in series.points.iter().enumerate() {
            let (tx, ty) = (pane.x.fraction(x), pane.y.fraction(y));
            if !(tx.is_finite() && ty.is_finite() && (-EDGE..=1.0 + EDGE).contains(&tx)) {
                continue;
            }
            if !(-EDGE..=1.0 + EDGE).contains(&ty) {
                let edge = if ty > 1.0 { 1.0 } else { 0.0 };
                let (px, py) = pixel((x, pane.y.value(edge)));
                let off = if ty > 1.0 {
                    Marker::Triangle
                } else {
                    Marker::InvertedTriangle
                };
                let dy = if ty > 1.0 { 7 } else { -7 };
                let style = Style {
                    marker: off,
                    open: true,
                    ..*style
                };
                draw_marker(root, (px, py + dy), &style, 6)?;
            } else if i % every == offset {
                let radius = match style.width {
                    0 if series.points.len() > super::chart::CROWDED => 3,
                    0 => 5,
                    _ => 4,
                };
                draw_marker(root, pixel((x, y)), style, radius)?;
            }
        }
    }

    if let Some((_, Some(point))) = pane.best {
        let (tx, ty) = (pane.x.fraction(point.0), pane.y.fraction(point.1));
        if (0.0..=1.0).contains(&tx) && (0.0..=1.0).contains(&ty) {
            root.draw(&Circle::new(pixel(point), 8, BEST.stroke_width(3)))?;
        }
    }

    if let Some(message) = &pane.message {
        let plot = chart.plotting_area().strip_coord_spec();
        let (w, h) = plot.dim_in_pixel();
        let centered = Pos::new(HPos::Center, VPos::Center);
        plot.draw(&Text::new(
            message.as_str(),
            (w as i32 / 2, h as i32 / 2),
            font(18.0).color(&SUBTLE).pos(centered),
        ))?;
    }
    Ok(())
}

/// How far past an axis end (as a fraction of the axis) a point still
/// counts as on it: rounding must not drop a point on the edge.
const EDGE: f64 = 1e-9;

/// The parts of the line through `points` inside the axes' ranges, in
/// data coordinates: a non-finite point (or one a log axis cannot show)
/// breaks the line, and a segment that leaves the ranges is cut at the
/// edge (Liang-Barsky, in fractions of the axes).
pub(super) fn clip(points: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
    // Far-off points are pulled in to a million axis lengths: that moves
    // the visible part of their segments by less than a pixel, and keeps
    // the arithmetic finite.
    let fraction = |&(px, py): &(f64, f64)| {
        let (tx, ty) = (x.fraction(px), y.fraction(py));
        (tx.is_finite() && ty.is_finite()).then(|| (tx.clamp(-1e6, 1e6), ty.clamp(-1e6, 1e6)))
    };
    let back = |(tx, ty): (f64, f64)| (x.value(tx), y.value(ty));
    let mut pieces = Vec::new();
    let mut piece: Vec<(f64, f64)> = Vec::new();
    // A piece of one point is no line: its marker shows it.
    let end = |pieces: &mut Vec<Vec<(f64, f64)>>, piece: &mut Vec<(f64, f64)>| {
        let piece = std::mem::take(piece);
        if piece.len() > 1 {
            pieces.push(piece);
        }
    };
    // LOOP: segments; a piece ends where a segment leaves the ranges or
    // a point is missing.
    for pair in points.windows(2) {
        let clipped = match (fraction(&pair[0]), fraction(&pair[1])) {
            (Some(a), Some(b)) => clip_segment(a, b).map(|(t0, t1)| (a, b, t0, t1)),
            _ => None,
        };
        let Some((a, b, t0, t1)) = clipped else {
            end(&mut pieces, &mut piece);
            continue;
        };
        let at = |t: f64| back((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        if t0 > 0.0 || piece.is_empty() {
            end(&mut pieces, &mut piece);
            // The segment's own start where it is inside: exactly the
            // point, so that markers and line meet.
            piece.push(if t0 > 0.0 { at(t0) } else { pair[0] });
        }
        if t1 < 1.0 {
            piece.push(at(t1));
            end(&mut pieces, &mut piece);
        } else {
            piece.push(pair[1]);
        }
    }
    end(&mut pieces, &mut piece);
    pieces
}

/// The part `t0..t1` (0 <= t0 <= t1 <= 1) of the segment from `a` to `b`
/// inside the unit square, if any.
fn clip_segment(a: (f64, f64), b: (f64, f64)) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (lo, hi) = (0.0, 1.0);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    // Each edge: p * t <= q keeps the point inside.
    for (p, q) in [
        (-dx, a.0 - lo),
        (dx, hi - a.0),
        (-dy, a.1 - lo),
        (dy, hi - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then_some((t0, t1))
}

/// A line through image pixels in `style`'s colour, width and dashes.
fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: Vec<(i32, i32)>,
    style: &Style,
) -> DrawResult<DB> {
    let stroke = style.color.stroke_width(style.width);
    match style.dash {
        Dash::Solid => root.draw(&PathElement::new(points, stroke)),
        Dash::Dashed(dash, gap) => root.draw(&DashedPathElement::new(points, dash, gap, stroke)),
    }
}

/// A marker of `style` with radius `r` around the image pixel `c`.
fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    style: &Style,
    r: i32,
) -> DrawResult<DB> {
    let fill = if style.open { WHITE } else { style.color };
    let outline = style.color.stroke_width(2);
    let polygon = |corners: &[(f64, f64)]| -> Vec<(i32, i32)> {
        let r = f64::from(r);
        corners
            .iter()
            .map(|(cx, cy)| (x + (cx * r).round() as i32, y + (cy * r).round() as i32))
            .collect()
    };
    let corners: &[(f64, f64)] = match style.marker {
        Marker::None => return Ok(()),
        Marker::Circle => {
            root.draw(&Circle::new((x, y), r as u32, fill.filled()))?;
            return root.draw(&Circle::new((x, y), r as u32, outline));
        }
        Marker::Cross => {
            let s = r;
            let stroke = style.color.stroke_width(3);
            root.draw(&PathElement::new(
                vec![(x - s, y - s), (x + s, y + s)],
                stroke,
            ))?;
            return root.draw(&PathElement::new(
                vec![(x - s, y + s), (x + s, y - s)],
                stroke,
            ));
        }
        Marker::Square => &[(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)],
        Marker::Triangle => &[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)],
        Marker::InvertedTriangle => &[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)],
        Marker::Diamond => &[(0.0, -1.25), (1.05, 0.0), (0.0, 1.25), (-1.05, 0.0)],
    };
    let mut points = polygon(corners);
    root.draw(&Polygon::new(points.clone(), fill.filled()))?;
    points.push(points[0]);
    root.draw(&PathElement::new(points, outline))
}

/// The shaded cells, then the contour line at the level.
fn draw_shading<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    shading: &Shading,
    pixel: &impl Fn((f64, f64)) -> (i32, i32),
) -> DrawResult<DB> {
    let Shading { columns, rows, .. } = *shading;
    let cell_w = (shading.x.end - shading.x.start) / columns as f64;
    let cell_h = (shading.y.end - shading.y.start) / rows as f64;
    let corner = |c: usize, r: usize| {
        let cx = shading.x.start + c as f64 * cell_w;
        let cy = shading.y.start + r as f64 * cell_h;
        pixel((
            cx.clamp(x.range.start, x.range.end),
            cy.clamp(y.range.start, y.range.end),
        ))
    };
    // LOOP 1: rows from the bottom; LOOP 2: cells.
    for r in 0..rows {
        for c in 0..columns {
            let Some(&value) = shading.values.get(r * columns + c) else {
                continue;
            };
            let Some(color) = shade(value, &shading.scale, shading.colors) else {
                continue;
            };
            let (x0, y0) = corner(c, r + 1);
            let (x1, y1) = corner(c + 1, r);
            // Each cell up to its neighbours' first pixel: no seams.
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))?;
        }
    }
    if let Some(level) = shading.level {
        // Contour points are in cells from the first cell's centre.
        let (x0, y0) = (
            shading.x.start + 0.5 * cell_w,
            shading.y.start + 0.5 * cell_h,
        );
        for segment in contour(shading, level) {
            let ends = segment.map(|(c, r)| pixel((x0 + c * cell_w, y0 + r * cell_h)));
            root.draw(&PathElement::new(ends.to_vec(), CONTOUR.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// The colour of `value` on `scale`: white in the middle, `colors.0` at
/// the start and `colors.1` at the end, pale enough for points on top;
/// `None` for NaN.
pub(super) fn shade(
    value: f64,
    scale: &Range<f64>,
    colors: (RGBColor, RGBColor),
) -> Option<RGBColor> {
    let t = (value - scale.start) / (scale.end - scale.start);
    let t = if t.is_nan() {
        if value.is_nan() {
            return None;
        }
        0.5
    } else {
        t.clamp(0.0, 1.0)
    };
    let (color, strength) = if t < 0.5 {
        (colors.0, (0.5 - t) * 2.0)
    } else {
        (colors.1, (t - 0.5) * 2.0)
    };
    // At most 55 % of the colour: the points on top stay visible.
    let k = 0.55 * strength;
    let mix = |c: u8| (255.0 + k * (f64::from(c) - 255.0)).round() as u8;
    Some(RGBColor(mix(color.0), mix(color.1), mix(color.2)))
}

/// The contour of `level` over the cell centres (marching squares), as
/// segments in cell units from the first centre: each square of four
/// neighbouring centres contributes a segment between the points where
/// its edges cross the level (two, for a saddle).
pub(super) fn contour(shading: &Shading, level: f64) -> Vec<[(f64, f64); 2]> {
    let Shading { columns, rows, .. } = *shading;
    let at = |c: usize, r: usize| {
        shading
            .values
            .get(r * columns + c)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mut segments = Vec::new();
    // LOOP 1: rows of squares; LOOP 2: squares.
    for r in 0..rows.saturating_sub(1) {
        for c in 0..columns.saturating_sub(1) {
            let corners = [
                ((0.0, 0.0), at(c, r)),
                ((1.0, 0.0), at(c + 1, r)),
                ((1.0, 1.0), at(c + 1, r + 1)),
                ((0.0, 1.0), at(c, r + 1)),
            ];
            if corners.iter().any(|p| !p.1.is_finite()) {
                continue;
            }
            let mut crossings = Vec::with_capacity(4);
            for i in 0..4 {
                let ((p, a), (q, b)) = (corners[i], corners[(i + 1) % 4]);
                if (a >= level) != (b >= level) {
                    let t = (level - a) / (b - a);
                    let t = if t.is_finite() {
                        t.clamp(0.0, 1.0)
                    } else {
                        0.5
                    };
                    crossings.push((
                        c as f64 + p.0 + t * (q.0 - p.0),
                        r as f64 + p.1 + t * (q.1 - p.1),
                    ));
                }
            }
            for pair in crossings.chunks_exact(2) {
                segments.push([pair[0], pair[1]]);
            }
        }
    }
    segments
}

/// The legend in `rect`: a light border, and each entry's sample and
/// text, down the columns.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    rect: Rect,
    columns: usize,
) -> DrawResult<DB> {
    root.draw(&Rectangle::new(
        [(rect.x, rect.y), (rect.x + rect.w, rect.y + rect.h)],
        GRID.stroke_width(1),
    ))?;
    let rows = entries.len().div_ceil(columns.max(1));
    let column_w = (rect.w - 2 * LEGEND_PAD) / columns.max(1) as i32;
    let left = Pos::new(HPos::Left, VPos::Center);
    for (i, entry) in entries.iter().enumerate() {
        let (column, row) = (i / rows.max(1), i % rows.max(1));
        let x = rect.x + LEGEND_PAD + column as i32 * column_w;
        let y = rect.y + LEGEND_PAD + row as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        draw_sample(root, &entry.sample, (x, y))?;
        root.draw(&Text::new(
            entry.label.as_str(),
            (x + SAMPLE + SAMPLE_GAP, y),
            font(LEGEND_FONT).color(&TEXT).pos(left),
        ))?;
    }
    Ok(())
}

/// A legend entry's sample, `SAMPLE` pixels wide, from `(x, y)` on.
fn draw_sample<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sample: &Sample,
    (x, y): (i32, i32),
) -> DrawResult<DB> {
    let middle = (x + SAMPLE / 2, y);
    match sample {
        Sample::Series(style) => {
            if style.width > 0 {
                draw_line(root, vec![(x, y), (x + SAMPLE, y)], style)?;
            }
            draw_marker(root, middle, style, 5)
        }
        Sample::Best => {
            root.draw(&DashedPathElement::new(
                vec![(x, y), (x + SAMPLE, y)],
                7,
                5,
                BEST.stroke_width(2),
            ))?;
            root.draw(&Circle::new(middle, 6, WHITE.filled()))?;
            root.draw(&Circle::new(middle, 6, BEST.stroke_width(3)))
        }
        Sample::Scale(lo, hi) => {
            let range = 0.0..1.0;
            for i in 0..SAMPLE {
                let t = (f64::from(i) + 0.5) / f64::from(SAMPLE);
                let color = shade(t, &range, (*lo, *hi)).unwrap_or(WHITE);
                root.draw(&Rectangle::new(
                    [(x + i, y - 7), (x + i + 1, y + 7)],
                    color.filled(),
                ))?;
            }
            root.draw(&Rectangle::new(
                [(x, y - 7), (x + SAMPLE, y + 7)],
                SUBTLE.stroke_width(1),
            ))
        }
        Sample::Contour => root.draw(&PathElement::new(
            vec![(x, y), (x + SAMPLE, y)],
            CONTOUR.stroke_width(2),
        )),
    }
}
