//! Histories as a figure: one pane per [`Panel`], over the epochs, for one
//! run (training and validation in two styles) or several (each run in
//! its own colour, dash pattern and marker).
//!
//! A diverged run (a non-finite loss, or a loss grown to more than
//! `DIVERGED_RATIO` times its first) is named so in the legend, and the
//! value axes of a comparison are fitted to the other runs: the diverged
//! run is drawn up to where it leaves them, so that its exploding values
//! do not flatten every other curve against the bottom.

use super::axis::{linear_axis, linear_ticks, loss_axis, number, rate_axis, Axis};
use super::figure::{nth_style, Dash, Entry, Figure, Marker, Pane, Sample, Series, Style, SUBTLE};
use super::{Panel, Show};
use crate::history::{History, StopReason};
use crate::metrics::Metric;

/// A run whose training loss grows past this multiple of its first
/// epoch's has diverged.
const DIVERGED_RATIO: f64 = 10.0;

/// What to draw: the runs with their legend names, whether it is a single
/// run's plot, the title, which losses (and metrics) of each run, and the
/// panes.
pub(super) struct Request<'a> {
    pub(super) runs: &'a [(String, &'a History)],
    pub(super) single: bool,
    pub(super) title: &'a str,
    pub(super) show: Show,
    pub(super) panels: &'a [Panel],
}

/// The epoch where `history` diverged, if it did: the epoch of a stop at
/// a non-finite loss, else the first with a non-finite loss, else the
/// first whose training loss is more than `DIVERGED_RATIO` times the
/// first epoch's (a positive one).
pub(super) fn diverged(history: &History) -> Option<usize> {
    if let StopReason::NonFinite { epoch, .. } = history.stop {
        return Some(epoch);
    }
    let first = history.epochs.first()?;
    let bad = |e: &&crate::history::EpochLog| {
        !e.loss.is_finite()
            || e.val_loss.is_some_and(|v| !v.is_finite())
            || (first.loss > 0.0 && e.loss > DIVERGED_RATIO * first.loss)
    };
    history.epochs.iter().find(bad).map(|e| e.epoch)
}

/// `(epoch, value)` of every epoch, `None` values left out.
fn points(
    history: &History,
    value: impl Fn(&crate::history::EpochLog) -> Option<f64>,
) -> Vec<(f64, f64)> {
    history
        .epochs
        .iter()
        .filter_map(|e| Some((e.epoch as f64, value(e)?)))
        .collect()
}

/// `(epoch, value)` pairs.
type Points = Vec<(f64, f64)>;

/// The training and the validation values `panel` shows of `history`;
/// the learning rate has no validation value.
fn values(history: &History, panel: Panel) -> (Points, Points) {
    match panel {
        Panel::Loss => (
            points(history, |e| Some(e.loss)),
            points(history, |e| e.val_loss),
        ),
        Panel::Metric(m) => (
            points(history, |e| e.metric(m)),
            points(history, |e| e.val_metric(m)),
        ),
        Panel::LearningRate => (points(history, |e| Some(e.lr)), vec![]),
    }
}

/// The name of the quantity, for axes and messages.
fn quantity(panel: Panel) -> &'static str {
    match panel {
        Panel::Loss => "loss",
        Panel::Metric(Metric::Accuracy) => "accuracy",
        Panel::Metric(Metric::MAE) => "MAE",
        Panel::Metric(Metric::RMSE) => "RMSE",
        Panel::Metric(Metric::R2) => "R²",
        Panel::LearningRate => "learning rate",
    }
}

/// The value axis of `panel` over the finite `values`: logarithmic for a
/// learning rate; for a loss, MAE and RMSE when they span decades;
/// linear for accuracy and R².
fn value_axis(panel: Panel, values: &mut [f64]) -> Axis {
    values.sort_by(f64::total_cmp);
    let (Some(&lo), Some(&hi)) = (values.first(), values.last()) else {
        return Axis::linear(0.0, 1.0, linear_ticks(0.0, 1.0, 8, 0.0));
    };
    match panel {
        Panel::LearningRate => rate_axis(lo, hi),
        Panel::Loss | Panel::Metric(Metric::MAE | Metric::RMSE) => {
            loss_axis(lo, hi, values[values.len() / 2])
        }
        Panel::Metric(Metric::Accuracy) if (0.0..=1.0).contains(&lo) && hi <= 1.0 => {
            // Up to 1 at most: an accuracy has nothing above.
            let axis = linear_axis(lo, hi);
            let end = axis.range.end.min(1.0).max(hi);
            let end = if end > axis.range.start {
                end
            } else {
                axis.range.end
            };
            Axis::linear(
                axis.range.start,
                end,
                linear_ticks(axis.range.start, end, 8, 0.0),
            )
        }
        Panel::Metric(_) => linear_axis(lo, hi),
    }
}

/// The epoch axis over every point of every pane, with half an epoch of
/// room at the ends (more if that rounds away: epochs near 2^64).
fn epoch_axis(series: &[&Series]) -> Axis {
    let epochs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let first = epochs().fold(f64::INFINITY, f64::min);
    let first = if first.is_finite() { first } else { 1.0 };
    let last = epochs().fold(first, f64::max);
    let margin = (0.02 * (last - first)).max(0.5).max(last.abs() * 1e-12);
    Axis::linear(
        first - margin,
        last + margin,
        linear_ticks(first, last, 10, 1.0),
    )
}

/// The best epoch: `history.best_epoch`, else the first epoch with the
/// lowest finite validation loss, else none; with its point on the loss
/// curve and what the legend says about it.
struct Best {
    epoch: usize,
    point: Option<(f64, f64)>,
    label: String,
}

impl Best {
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
        let label = match value {
            Some(value) => format!("best: epoch {epoch} ({value})"),
            None => format!("best: epoch {epoch}"),
        };
        Some(Best {
            epoch,
            point: point.map(|(_, loss)| (epoch as f64, loss)),
            label,
        })
    }
}

/// The figure `request` asks for.
pub(super) fn figure(request: &Request) -> Figure {
    let panels: &[Panel] = if request.panels.is_empty() {
        &[Panel::Loss]
    } else {
        request.panels
    };
    let (series, legend, subtitle) = if request.single {
        single(request, panels)
    } else {
        compare(request, panels)
    };
    let best = if request.single {
        request.runs.first().and_then(|(_, h)| Best::of(h))
    } else {
        None
    };
    let diverged: Vec<bool> = request
        .runs
        .iter()
        .map(|(_, h)| !request.single && diverged(h).is_some())
        .collect();

    let all: Vec<&Series> = series.iter().flat_map(|p| p.iter().map(|s| &s.0)).collect();
    let x = epoch_axis(&all);
    let skipped = all
        .iter()
        .flat_map(|s| &s.points)
        .filter(|p| !p.1.is_finite())
        .count();
    let what = if panels.iter().all(|p| *p == Panel::Loss) {
        ("loss", "losses")
    } else {
        ("value", "values")
    };
    let mut subtitle = match skipped {
        0 => subtitle,
        1 => format!("{subtitle}; 1 {} is NaN or infinite, not drawn", what.0),
        n => format!("{subtitle}; {n} {} are NaN or infinite, not drawn", what.1),
    };
    let leaves_out =
        |panel: Panel| panel != Panel::LearningRate && panel != Panel::Metric(Metric::Accuracy);
    if diverged.iter().any(|&d| d)
        && diverged.iter().any(|&d| !d)
        && panels.iter().any(|&p| leaves_out(p))
    {
        subtitle.push_str("; axes fitted to the runs that did not diverge");
    }

    let mut panes = Vec::new();
    for (&panel, series) in panels.iter().zip(series) {
        // The value range: every finite value, but in a comparison with
        // a run that kept its footing, only those of such runs (not for
        // the learning rate, which does not diverge, nor accuracy, which
        // cannot leave [0, 1]).
        let sensible = |run: usize| !(leaves_out(panel) && diverged[run]);
        let any_sensible = series
            .iter()
            .any(|(s, run)| sensible(*run) && s.points.iter().any(|p| p.1.is_finite()));
        let mut finite: Vec<f64> = series
            .iter()
            .filter(|(_, run)| !any_sensible || sensible(*run))
            .flat_map(|(s, _)| s.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .collect();
        let plotted = !finite.is_empty();
        let y = value_axis(panel, &mut finite);
        let name = quantity(panel);
        let message = if plotted {
            None
        } else if series.iter().all(|(s, _)| s.points.is_empty()) {
            Some(match panel {
                Panel::Loss | Panel::LearningRate => "no epoch ran".to_string(),
                Panel::Metric(_) => format!("no {name} recorded"),
            })
        } else {
            Some(format!("no finite {name}"))
        };
        let y_desc = if y.log {
            format!("{name} (log scale)")
        } else {
            name.to_string()
        };
        let best = best.as_ref().map(|b| {
            let ring = if panel == Panel::Loss { b.point } else { None };
            (b.epoch as f64, ring)
        });
        panes.push(Pane {
            x: x.clone(),
            y,
            x_desc: "epoch".into(),
            y_desc,
            shading: None,
            series: series.into_iter().map(|(s, _)| s).collect(),
            best,
            message,
        });
    }
    let mut legend = legend;
    if let Some(best) = best {
        legend.push(Entry {
            label: best.label,
            sample: Sample::Best,
        });
    }
    Figure {
        title: request.title.to_string(),
        subtitle,
        panes,
        legend,
    }
}

/// Each pane's series, with the index of the run each belongs to.
type PaneSeries = Vec<Vec<(Series, usize)>>;

/// One run: training in the first style, validation in the second, the
/// learning rate in a fifth; the stop reason under the title.
fn single(request: &Request, panels: &[Panel]) -> (PaneSeries, Vec<Entry>, String) {
    let Some((_, history)) = request.runs.first() else {
        return (
            panels.iter().map(|_| vec![]).collect(),
            vec![],
            String::new(),
        );
    };
    let (train, val, rate) = (nth_style(0), nth_style(1), nth_style(4));
    let mut has_val = false;
    let mut has_train = false;
    let series = panels
        .iter()
        .map(|&panel| {
            let (t, v) = values(history, panel);
            if panel == Panel::LearningRate {
                return vec![(series(t, rate, 0.0), 0)];
            }
            has_train |= !t.is_empty();
            has_val |= !v.is_empty();
            vec![(series(t, train, 0.0), 0), (series(v, val, 0.5), 0)]
        })
        .collect();
    let mut legend = Vec::new();
    if has_train || !has_val {
        legend.push(entry("training", train));
    }
    if has_val {
        legend.push(entry("validation", val));
    }
    if panels.contains(&Panel::LearningRate) {
        legend.push(entry("learning rate", rate));
    }
    (series, legend, history.stop.to_string())
}

/// Several runs, each in its style: the values `show` says, and the
/// learning rate; a diverged run named so in the legend.
fn compare(request: &Request, panels: &[Panel]) -> (PaneSeries, Vec<Entry>, String) {
    let runs = request.runs;
    let n = runs.len().max(1) as f64;
    let mut any_both = false;
    let mut any_val = false;
    let series = panels
        .iter()
        .map(|&panel| {
            let mut pane = Vec::new();
            for (i, (_, history)) in runs.iter().enumerate() {
                let style = nth_style(i);
                let phase = i as f64 / n;
                let (train, val) = values(history, panel);
                if panel == Panel::LearningRate {
                    pane.push((series(train, style, phase), i));
                    continue;
                }
                let has_val = !val.is_empty();
                let both = request.show == Show::Both && has_val;
                any_both |= both;
                if request.show != Show::Training && has_val {
                    any_val = true;
                    pane.push((series(val, style, phase), i));
                }
                if both || request.show == Show::Training || !has_val {
                    let style = if both { training_style(style) } else { style };
                    pane.push((series(train, style, phase), i));
                }
            }
            pane
        })
        .collect();

    let mut legend: Vec<Entry> = runs
        .iter()
        .enumerate()
        .map(|(i, (name, history))| {
            let label = match diverged(history) {
                Some(epoch) if history.epochs.iter().all(|e| e.epoch < epoch) => {
                    format!("{name}: diverged in epoch {epoch}")
                }
                Some(epoch) => format!("{name}: diverged at epoch {epoch}"),
                None => name.clone(),
            };
            entry(&label, nth_style(i))
        })
        .collect();
    let gray = Style {
        color: SUBTLE,
        dash: Dash::Solid,
        marker: Marker::Circle,
        width: 3,
        open: false,
    };
    if any_both {
        legend.push(entry("validation", gray));
        legend.push(entry("training", training_style(gray)));
    }
    // "validation loss and accuracy"
    let names: Vec<&str> = panels
        .iter()
        .filter(|&&p| p != Panel::LearningRate)
        .map(|&p| quantity(p))
        .collect();
    let names = match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    };
    let subtitle = match request.show {
        _ if names.is_empty() => "learning rate per epoch".to_string(),
        Show::Both if any_both => {
            "thick lines: validation, thin lines and open markers: training".to_string()
        }
        Show::Validation if any_val => format!("validation {names}"),
        _ => format!("training {names}"),
    };
    (series, legend, subtitle)
}

/// A run's training curve next to its validation curve: thin, with open
/// markers.
fn training_style(style: Style) -> Style {
    Style {
        width: 1,
        open: true,
        ..style
    }
}

fn series(points: Vec<(f64, f64)>, style: Style, phase: f64) -> Series {
    Series {
        points,
        style,
        phase,
    }
}

fn entry(label: &str, style: Style) -> Entry {
    Entry {
        label: label.to_string(),
        sample: Sample::Series(style),
    }
}
