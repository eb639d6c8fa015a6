//! Charts for the HTML report, behind one small trait.
//!
//! The report describes what to draw as a [`BarChart`] (groups along x, one bar per
//! series in each group, optional baseline values drawn as outlines with the change
//! above); a [`Plotter`] turns it into inline SVG. [`SvgPlotter`] draws with plotters' SVG
//! backend, which needs no fonts or files: text is left to the browser.
//!
//! Readability rules the drawing keeps: figures are shown in the unit that suits their
//! size (µs or ms, µJ or mJ); when they span more than [`LOG_RATIO`] the axis is
//! logarithmic so small workloads stay visible next to large ones; no text is drawn under
//! [`MIN_FONT`] units and the page never shows the drawing below [`MIN_SCALE`] of its
//! size, so nothing reads smaller than 11 px; the drawing widens with the number of bars
//! and long group names wrap at their separators, so labels never overlap.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::units::{energy_scale, short_change, significant, time_scale, Scale};
use crate::Error;

/// What a chart's values measure, which decides the unit of its axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Microseconds, shown as µs, ms or s.
    Time,
    /// Microjoules, shown as µJ, mJ or J.
    Energy,
    /// A plain count or ratio, shown as `950`, `12.5k`, `3.2M`.
    Count,
}

/// Grouped bars: `groups[i]` holds one bar per series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Element id of the SVG in the page.
    pub id: String,
    /// Caption drawn above the chart.
    pub title: String,
    /// What the y axis measures, without unit (the plotter adds it).
    pub y_label: String,
    /// The values' quantity.
    pub quantity: Quantity,
    /// Group labels along x; long ones wrap at `-`, `_`, `.`, `@` and spaces.
    pub groups: Vec<String>,
    /// The bars of each group.
    pub series: Vec<Series>,
}

/// One bar per group, with optional baseline values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Index into [`PALETTE`] (wrapping), so a series keeps its colour across charts.
    pub color: usize,
    /// One value per group; `None` draws nothing.
    pub values: Vec<Option<f64>>,
    /// Baseline values per group, when comparing against a baseline.
    pub baseline: Option<Vec<Option<f64>>>,
}

/// Draws charts as SVG markup for inlining in HTML.
pub trait Plotter {
    /// The chart as one `<svg>` element carrying `chart.id` and class `chart`.
    fn bar_chart(&self, chart: &BarChart) -> Result<String, Error>;
}

/// [`Plotter`] with plotters' SVG backend.
#[derive(Debug, Clone, Copy)]
pub struct SvgPlotter {
    /// Smallest drawing width in SVG units; more bars make it wider.
    pub width: u32,
    /// Drawing height in SVG units before room for wrapped labels and legend rows.
    pub height: u32,
}

impl Default for SvgPlotter {
    fn default() -> Self {
        SvgPlotter {
            width: 960,
            height: 420,
        }
    }
}

/// Series colours (Tableau 10 without its red and green, which mean worse and better).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0xba, 0xb0, 0xac),
];

/// The palette colour `index` (wrapping) as CSS hex, for swatches in the page.
pub fn color_hex(index: usize) -> String {
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

const BETTER: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const WORSE: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const INK: RGBColor = RGBColor(0x24, 0x29, 0x2f);
const GRID: RGBColor = RGBColor(0xe4, 0xe7, 0xeb);

/// Values spanning more than this ratio get a logarithmic axis.
pub const LOG_RATIO: f64 = 30.0;
/// Smallest text size asked of plotters; its SVG backend writes `font-size` at
/// 1/1.24 of it, so this is 14.5 SVG units, 11.6 px at [`MIN_SCALE`].
pub const MIN_FONT: u32 = 18;
/// The page shows a chart at no less than this share of its drawing size.
pub const MIN_SCALE: f64 = 0.8;
/// Smallest width of a bar with its gap; a change label wider than the bar is turned
/// upright rather than let spill over its neighbours.
const BAR_PX: f64 = 40.0;
/// Estimated width of one character of a change label, SVG units.
const DELTA_CHAR_PX: f64 = 9.0;
/// Estimated width of one character of group-label text, SVG units.
const CHAR_PX: f64 = 9.0;
const LABEL_FONT: u32 = 19;
const LABEL_LINE: i32 = 19;
const LEFT: u32 = 112;
const RIGHT: u32 = 24;
const LEGEND_ROW: i32 = 26;
const LEGEND_TOP: i32 = 56;
const HEADER_LEFT: i32 = 20;

impl Plotter for SvgPlotter {
    fn bar_chart(&self, chart: &BarChart) -> Result<String, Error> {
        let layout = Layout::of(self, chart);
        let mut svg = String::new();
        let failed = |e: DrawingAreaErrorKind<std::io::Error>| Error::Render {
            what: chart.id.clone(),
            why: e.to_string(),
        };
        {
            let root = SVGBackend::with_string(&mut svg, (layout.width, layout.height))
                .into_drawing_area();
            draw(&root, chart, &layout).map_err(failed)?;
            root.present().map_err(failed)?;
        }
        // Let the page size the chart (keep the viewBox, drop the fixed size) but never
        // below MIN_SCALE of it; add the id.
        let fixed = format!(
            "<svg width=\"{}\" height=\"{}\" ",
            layout.width, layout.height
        );
        let tagged = format!(
            "<svg id=\"{}\" class=\"chart\" role=\"img\" aria-label=\"{}\" \
             style=\"min-width:{:.0}px\" ",
            attr(&chart.id),
            attr(&chart.title),
            f64::from(layout.width) * MIN_SCALE
        );
        Ok(svg.replacen(&fixed, &tagged, 1))
    }
}

/// `text` escaped for a double-quoted attribute.
fn attr(text: &str) -> String {
    maud::html!((text)).into_string()
}

/// Sizes worked out before drawing: the drawing grows to fit bars, labels and legend.
struct Layout {
    width: u32,
    height: u32,
    /// Each group's label, wrapped.
    labels: Vec<Vec<String>>,
    /// Legend entries per row.
    legend: Vec<Vec<(String, Mark)>>,
    header: u32,
    label_area: u32,
    /// Change labels stand upright because they are wider than a bar.
    upright: bool,
}

impl Layout {
    fn of(plotter: &SvgPlotter, chart: &BarChart) -> Layout {
        let groups = chart.groups.len().max(1) as f64;
        let bars = chart.series.len().max(1) as f64;
        // Each group's slot holds its bars in 80% of its width, and its longest
        // unbreakable piece of label.
        let longest_piece = chart
            .groups
            .iter()
            .flat_map(|g| pieces(g))
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(1) as f64;
        let slot = (bars * BAR_PX / 0.8).max(longest_piece * CHAR_PX + 12.0);
        let width = (f64::from(LEFT + RIGHT) + groups * slot)
            .max(f64::from(plotter.width))
            .min(f64::from(u16::MAX)) as u32;
        let slot = f64::from(width - LEFT - RIGHT) / groups;
        let fit = ((slot - 12.0) / CHAR_PX).floor().max(1.0) as usize;
        let labels: Vec<Vec<String>> = chart.groups.iter().map(|g| wrap(g, fit)).collect();
        let lines = labels.iter().map(Vec::len).max().unwrap_or(1).max(1) as u32;
        let widest_change = chart
            .series
            .iter()
            .filter_map(|s| Some(s.values.iter().zip(s.baseline.as_ref()?)))
            .flatten()
            .filter_map(|(v, b)| Some(short_change((*v)?, (*b)?).chars().count()))
            .max()
            .unwrap_or(0) as f64;
        let bar = slot * 0.8 / bars * 0.9;
        let upright = widest_change * DELTA_CHAR_PX > bar;

        let comparing = chart.series.iter().any(|s| s.baseline.is_some());
        let mut entries: Vec<(String, Mark)> = chart
            .series
            .iter()
            .map(|s| (s.name.clone(), Mark::Filled(s.color)))
            .collect();
        if comparing {
            entries.push(("baseline (outline)".to_owned(), Mark::Outline));
        }
        let mut legend: Vec<Vec<(String, Mark)>> = vec![Vec::new()];
        let mut used = 0;
        for entry in entries {
            let w = legend_width(&entry.0);
            if used + w > width as i32 - 40 && used > 0 {
                legend.push(Vec::new());
                used = 0;
            }
            used += w;
            if let Some(row) = legend.last_mut() {
                row.push(entry);
            }
        }
        let header = (LEGEND_TOP + LEGEND_ROW * legend.len() as i32) as u32;
        let label_area = 14 + LABEL_LINE as u32 * lines;
        Layout {
            width,
            height: plotter.height + header + label_area,
            labels,
            legend,
            header,
            label_area,
            upright,
        }
    }
}

/// Estimated width of a legend entry: swatch, gap, text, spacing.
fn legend_width(text: &str) -> i32 {
    22 + 9 * text.chars().count() as i32 + 26
}

/// A label cut after each separator, the places it may wrap.
fn pieces(label: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in label.lines() {
        let mut start = 0;
        for (i, c) in line.char_indices() {
            if matches!(c, '-' | '_' | '.' | '@' | ' ' | '/') {
                let end = i + c.len_utf8();
                out.push(&line[start..end]);
                start = end;
            }
        }
        if start < line.len() {
            out.push(&line[start..]);
        }
    }
    out
}

/// `label` in lines of at most `fit` characters, broken after separators where it can
/// and inside a piece only when the piece alone is too long. A `\n` always breaks.
pub fn wrap(label: &str, fit: usize) -> Vec<String> {
    let fit = fit.max(1);
    let mut lines = Vec::new();
    for part in label.lines() {
        let mut line = String::new();
        for piece in pieces(part) {
            let len = piece.chars().count();
            if !line.is_empty() && line.chars().count() + len > fit {
                lines.push(std::mem::take(&mut line));
            }
            if len > fit {
                let chars: Vec<char> = piece.chars().collect();
                for chunk in chars.chunks(fit) {
                    if !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                    }
                    line = chunk.iter().collect();
                }
            } else {
                line.push_str(piece);
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// The y axis: its range in plotting coordinates and where it is marked.
struct Axis {
    log: bool,
    /// Bottom and top in plotting coordinates (log10 of the value when `log`).
    range: (f64, f64),
    /// Tick values, in scaled units.
    ticks: Vec<f64>,
}

impl Axis {
    /// A value in scaled units to plotting coordinates.
    fn at(&self, value: f64) -> f64 {
        if self.log {
            value.log10()
        } else {
            value
        }
    }

    /// The axis for `values` (scaled units): logarithmic when they span more than
    /// [`LOG_RATIO`] and none is zero, else linear from zero. `room` of the range is
    /// left above the top for the change labels; every bound stays finite.
    fn fit(values: &[f64], room: f64) -> Axis {
        let max = values.iter().copied().fold(0.0_f64, f64::max);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        if min > 0.0 && max / min > LOG_RATIO {
            let lo = min.log10().floor();
            let span = max.log10() - lo;
            let hi = (max.log10() + (span * room).max(0.15)).min(f64::MAX.log10());
            return Axis {
                log: true,
                range: (lo, hi),
                ticks: log_ticks(lo, hi),
            };
        }
        let top = if max > 0.0 {
            (max * (1.0 + room)).min(f64::MAX)
        } else {
            1.0
        };
        Axis {
            log: false,
            range: (0.0, top),
            ticks: linear_ticks(top),
        }
    }
}

/// 0 and round steps (1, 2 or 5 times a power of ten) up to `top`, about five of them.
fn linear_ticks(top: f64) -> Vec<f64> {
    let raw = top / 5.0;
    let magnitude = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    (0..=10)
        .map(|i| f64::from(i) * step)
        .take_while(|t| *t <= top)
        .collect()
}

/// Powers of ten between the exponents `lo` and `hi` (at most about eight, skipping
/// decades over a wide span), with 2× and 5× marks when fewer than three decades show.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.ceil() as i32, hi.floor() as i32);
    let decades = (last - first + 1).max(0);
    let every = ((decades + 7) / 8).max(1);
    let mut ticks = Vec::new();
    for k in (first..=last).step_by(every as usize) {
        let base = 10_f64.powi(k);
        ticks.push(base);
        if decades < 3 {
            ticks.extend(
                [2.0 * base, 5.0 * base]
                    .into_iter()
                    .filter(|v| v.log10() <= hi),
            );
        }
    }
    ticks
}

/// An axis number: [`significant`] without trailing zeros, with k/M/G for counts.
fn tick_label(value: f64, quantity: Quantity) -> String {
    let a = value.abs();
    let (scaled, suffix) = match quantity {
        Quantity::Count if (1e4..1e12).contains(&a) => {
            let (d, s) = match a {
                _ if a >= 1e9 => (1e9, "G"),
                _ if a >= 1e6 => (1e6, "M"),
                _ => (1e3, "k"),
            };
            (value / d, s)
        }
        _ => (value, ""),
    };
    let mut text = significant(scaled);
    if text.contains('.') && !text.contains('e') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text}{suffix}")
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &BarChart,
    layout: &Layout,
) -> DrawResult<()> {
    root.fill(&WHITE)?;
    let n = chart.groups.len().max(1) as f64;
    let raw: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().chain(s.baseline.iter().flatten()).flatten())
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .collect();
    let max = raw.iter().copied().fold(0.0_f64, f64::max);
    let scale = match chart.quantity {
        Quantity::Time => time_scale(max),
        Quantity::Energy => energy_scale(max),
        Quantity::Count => Scale {
            unit: "",
            divisor: 1.0,
        },
    };
    let scaled: Vec<f64> = raw.iter().map(|v| v / scale.divisor).collect();
    // Upright labels need about a fifth of the plot's height above the tallest bar.
    let axis = Axis::fit(&scaled, if layout.upright { 0.3 } else { 0.15 });
    let desc = match (scale.unit, axis.log) {
        ("", false) => chart.y_label.clone(),
        ("", true) => format!("{} (log scale)", chart.y_label),
        (unit, false) => format!("{} ({unit})", chart.y_label),
        (unit, true) => format!("{} ({unit}, log scale)", chart.y_label),
    };

    let mut ctx = ChartBuilder::on(root)
        .margin(12)
        .margin_top(layout.header)
        .margin_right(RIGHT)
        .x_label_area_size(layout.label_area)
        .y_label_area_size(LEFT - 12)
        .build_cartesian_2d(0.0..n, axis.range.0..axis.range.1)?;
    ctx.configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .y_desc(desc.as_str())
        .axis_desc_style(("sans-serif", LABEL_FONT).into_font().color(&INK))
        .draw()?;

    // Grid lines and tick labels, drawn here so log and linear axes mark round values.
    let tick_style = ("sans-serif", MIN_FONT)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for &t in &axis.ticks {
        let y = axis.at(t);
        ctx.draw_series(std::iter::once(PathElement::new(
            [(0.0, y), (n, y)],
            GRID.stroke_width(1),
        )))?;
        let (px, py) = ctx.backend_coord(&(0.0, y));
        root.draw(&Text::new(
            tick_label(t, chart.quantity),
            (px - 8, py),
            tick_style.clone(),
        ))?;
    }

    let bottom = axis.range.0;
    let span = axis.range.1 - axis.range.0;
    let slots = chart.series.len().max(1) as f64;
    let width = 0.8 / slots;
    // A bar's height in plotting coordinates; off-scale values are clamped to the axis.
    let bar = |v: f64| axis.at(v / scale.divisor).clamp(axis.range.0, axis.range.1);
    for (k, series) in chart.series.iter().enumerate() {
        let color = PALETTE[series.color % PALETTE.len()];
        let x0 = |i: usize| i as f64 + 0.1 + k as f64 * width;
        let bars = series.values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| {
                Rectangle::new(
                    [(x0(i), bottom), (x0(i) + width * 0.9, bar(v))],
                    color.filled(),
                )
            })
        });
        ctx.draw_series(bars)?;
        let Some(baseline) = &series.baseline else {
            continue;
        };
        for (i, (b, v)) in baseline.iter().zip(&series.values).enumerate() {
            let x = (x0(i), x0(i) + width * 0.9);
            if let Some(b) = b {
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [(x.0, bottom), (x.1, bar(*b))],
                    INK.stroke_width(1),
                )))?;
            }
            // Unchanged bars stay unlabelled so changes stand out.
            let (Some(b), Some(v)) = (b, v) else {
                continue;
            };
            if v == b {
                continue;
            }
            let font = ("sans-serif", MIN_FONT).into_font();
            let style = if layout.upright {
                font.transform(FontTransform::Rotate270)
                    .color(&pick(*v - *b))
                    .pos(Pos::new(HPos::Left, VPos::Center))
            } else {
                font.color(&pick(*v - *b))
                    .pos(Pos::new(HPos::Center, VPos::Bottom))
            };
            let at = ((x.0 + x.1) / 2.0, bar(v.max(*b)) + span * 0.015);
            ctx.draw_series(std::iter::once(Text::new(short_change(*v, *b), at, style)))?;
        }
    }
    draw_header(root, &chart.title, &layout.legend)?;

    // Group labels under the axis, centred on each group, wrapped to its slot.
    let style = ("sans-serif", LABEL_FONT)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, lines) in layout.labels.iter().enumerate() {
        let (px, py) = ctx.backend_coord(&(i as f64 + 0.5, bottom));
        for (line_no, line) in lines.iter().enumerate() {
            let y = py + 10 + LABEL_LINE * line_no as i32;
            root.draw(&Text::new(line.as_str(), (px, y), style.clone()))?;
        }
    }
    Ok(())
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    Filled(usize),
    Outline,
}

/// Draws the title and, below it, the legend rows, from the left edge: a phone shows
/// the left of a wide chart first.
fn draw_header(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    rows: &[Vec<(String, Mark)>],
) -> DrawResult<()> {
    let style = ("sans-serif", 27)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(title, (HEADER_LEFT, 12), style))?;
    let text_style = ("sans-serif", LABEL_FONT)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in rows.iter().enumerate() {
        let mut x = HEADER_LEFT;
        let y = LEGEND_TOP + LEGEND_ROW * r as i32;
        for (text, mark) in row {
            let swatch = [(x, y - 7), (x + 14, y + 7)];
            match mark {
                Mark::Filled(c) => {
                    root.draw(&Rectangle::new(swatch, PALETTE[c % PALETTE.len()].filled()))?
                }
                Mark::Outline => root.draw(&Rectangle::new(swatch, INK.stroke_width(1)))?,
            }
            root.draw(&Text::new(text.as_str(), (x + 22, y), text_style.clone()))?;
            x += legend_width(text);
        }
    }
    Ok(())
}

fn pick(delta: f64) -> RGBColor {
    if delta < 0.0 {
        BETTER
    } else {
        WORSE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(baseline: bool) -> BarChart {
        BarChart {
            id: "chart-test".to_owned(),
            title: "Latency <at> clock".to_owned(),
            y_label: "time per call".to_owned(),
            quantity: Quantity::Time,
            groups: vec!["kws-dscnn".to_owned(), "ad-autoencoder".to_owned()],
            series: vec![Series {
                name: "stm32f407".to_owned(),
                color: 2,
                values: vec![Some(2000.0), None],
                baseline: baseline.then(|| vec![Some(1000.0), Some(5.0)]),
            }],
        }
    }

    #[test]
    fn svg_carries_id_class_and_escaped_title() {
        let svg = SvgPlotter::default().bar_chart(&chart(false)).unwrap();
        assert!(
            svg.starts_with("<svg id=\"chart-test\" class=\"chart\""),
            "{}",
            &svg[..80]
        );
        assert!(svg.contains("viewBox=\"0 0 960 "));
        assert!(svg.contains("min-width:768px"));
        assert!(svg.contains("Latency &lt;at&gt; clock"));
        assert!(!svg.contains("<at>"));
        assert!(svg.contains("time per call (ms)"), "unit picked by size");
        assert!(!svg.contains("baseline"), "no baseline legend without one");
        assert!(svg.contains(&color_hex(2).to_uppercase()) || svg.contains(&color_hex(2)));
    }

    #[test]
    fn baselines_add_outlines_and_coloured_deltas() {
        let svg = SvgPlotter::default().bar_chart(&chart(true)).unwrap();
        assert!(svg.contains("+100%"));
        assert!(
            svg.contains("#CF222E") || svg.contains("#cf222e"),
            "regression in red"
        );
        assert!(svg.contains("baseline (outline)"));
        assert!(svg.contains("log scale"), "5 µs and 2 ms span 400×");
    }

    #[test]
    fn no_text_below_the_minimum_size() {
        let mut many = chart(true);
        many.groups = (0..12)
            .map(|i| format!("a-very-long-workload-name-{i}"))
            .collect();
        many.series = (0..5)
            .map(|k| Series {
                name: format!("target-{k} @ 168 MHz"),
                color: k,
                values: vec![Some(10.0); 12],
                baseline: Some(vec![Some(11.0); 12]),
            })
            .collect();
        let svg = SvgPlotter::default().bar_chart(&many).unwrap();
        let sizes = font_sizes(&svg);
        assert!(!sizes.is_empty());
        assert!(sizes.iter().all(|s| s * MIN_SCALE >= 11.0), "{sizes:?}");
        // 60 bars widen the drawing rather than shrink them.
        assert!(!svg.contains("viewBox=\"0 0 960 "));
    }

    /// The `font-size` values of the SVG's text elements.
    fn font_sizes(svg: &str) -> Vec<f64> {
        svg.split("font-size=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse::<f64>().ok())
            .collect()
    }

    #[test]
    fn labels_wrap_at_separators() {
        assert_eq!(wrap("kws-dscnn", 20), ["kws-dscnn"]);
        assert_eq!(
            wrap("anomaly-detection-autoencoder", 12),
            ["anomaly-", "detection-", "autoencoder"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap("", 3), [""]);
    }

    #[test]
    fn axes_pick_log_or_linear() {
        let linear = Axis::fit(&[1.0, 20.0], 0.15);
        assert!(!linear.log);
        assert_eq!(linear.ticks, [0.0, 5.0, 10.0, 15.0, 20.0]);
        let log = Axis::fit(&[0.5, 2000.0], 0.15);
        assert!(log.log);
        assert_eq!(log.range.0, -1.0);
        assert_eq!(log.ticks, [0.1, 1.0, 10.0, 100.0, 1000.0]);
        let huge = Axis::fit(&[1.7e308, f64::MAX], 0.45);
        assert!(huge.range.1.is_finite() && huge.ticks.len() <= 11);
        let wide = log_ticks(-3.0, 300.0);
        assert!(wide.len() <= 9, "{}", wide.len());
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(950.0, Quantity::Count), "950");
        assert_eq!(tick_label(12500.0, Quantity::Count), "12.5k");
        assert_eq!(tick_label(3_200_000.0, Quantity::Count), "3.2M");
        assert_eq!(tick_label(0.01, Quantity::Time), "0.01");
        assert_eq!(tick_label(2.5, Quantity::Energy), "2.5");
        assert_eq!(tick_label(1.7e308, Quantity::Count), "1.70e308");
    }
}
