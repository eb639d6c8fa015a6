//! Charts for the HTML report, behind one small trait.
//!
//! The report describes what to draw as a [`BarChart`] (groups along x, one bar per
//! series in each group, optional baseline values drawn as outlines with the change
//! above); a [`Plotter`] turns it into inline SVG. [`SvgPlotter`] draws with plotters'
//! SVG backend, which needs no fonts or files: text is left to the browser.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::Error;

/// Grouped bars: `groups[i]` holds one bar per series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Element id of the SVG in the page.
    pub id: String,
    /// Caption drawn above the chart.
    pub title: String,
    /// Y axis description, with unit.
    pub y_label: String,
    /// Group labels along x; a `\n` splits a label over two lines.
    pub groups: Vec<String>,
    /// The bars of each group.
    pub series: Vec<Series>,
    /// A horizontal line at this value with this label (e.g. 100% of capacity).
    pub reference: Option<(f64, String)>,
}

/// One bar per group, with optional baseline values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
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
    /// Drawing width in SVG units; the page scales it to fit.
    pub width: u32,
    /// Drawing height in SVG units.
    pub height: u32,
}

impl Default for SvgPlotter {
    fn default() -> Self {
        SvgPlotter {
            width: 1000,
            height: 400,
        }
    }
}

/// Bar colours (Tableau 10 without its red and green, which mean worse and better).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xed, 0xc9, 0x48),
];
const BETTER: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const WORSE: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const INK: RGBColor = RGBColor(0x24, 0x29, 0x2f);

impl Plotter for SvgPlotter {
    fn bar_chart(&self, chart: &BarChart) -> Result<String, Error> {
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            draw(&root, chart).map_err(|e| Error::Render {
                what: chart.id.clone(),
                why: e.to_string(),
            })?;
            root.present().map_err(|e| Error::Render {
                what: chart.id.clone(),
                why: e.to_string(),
            })?;
        }
        // Let the page size the chart: keep the viewBox, drop the fixed size, add the id.
        let fixed = format!("<svg width=\"{}\" height=\"{}\" ", self.width, self.height);
        let tagged = format!(
            "<svg id=\"{}\" class=\"chart\" role=\"img\" aria-label=\"{}\" ",
            attr(&chart.id),
            attr(&chart.title)
        );
        Ok(svg.replacen(&fixed, &tagged, 1))
    }
}

fn attr(text: &str) -> String {
    crate::html::escape(text)
}

type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

fn draw(root: &DrawingArea<SVGBackend<'_>, Shift>, chart: &BarChart) -> DrawResult<()> {
    root.fill(&WHITE)?;
    let n = chart.groups.len().max(1) as f64;
    let all = chart.series.iter().flat_map(|s| {
        s.values
            .iter()
            .chain(s.baseline.iter().flatten())
            .flatten()
            .copied()
    });
    let top = all
        .chain(chart.reference.as_ref().map(|r| r.0))
        .fold(0.0_f64, f64::max);
    // Head room for the delta labels above the bars, short of infinity: an
    // infinite axis would leave no key points to find.
    let top = if top > 0.0 {
        (top * 1.18).min(f64::MAX)
    } else {
        1.0
    };
    let mut ctx = ChartBuilder::on(root)
        .margin(14)
        .margin_top(HEADER_HEIGHT)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(78)
        .build_cartesian_2d(0.0..n, 0.0..top)?;
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .y_desc(chart.y_label.as_str())
        .y_label_formatter(&|v| compact(*v))
        .label_style(("sans-serif", 15).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 16).into_font().color(&INK))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()?;

    let slots = chart.series.len().max(1) as f64;
    let width = 0.8 / slots;
    let comparing = chart.series.iter().any(|s| s.baseline.is_some());
    let mut legend = Vec::new();
    for (k, series) in chart.series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let x0 = |i: usize| i as f64 + 0.1 + k as f64 * width;
        let bars = series.values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| Rectangle::new([(x0(i), 0.0), (x0(i) + width * 0.9, v)], color.filled()))
        });
        ctx.draw_series(bars)?;
        legend.push((series.name.as_str(), Mark::Filled(color)));
        let Some(baseline) = &series.baseline else {
            continue;
        };
        for (i, (b, v)) in baseline.iter().zip(&series.values).enumerate() {
            let x = (x0(i), x0(i) + width * 0.9);
            if let Some(b) = b {
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [(x.0, 0.0), (x.1, *b)],
                    INK.stroke_width(1),
                )))?;
            }
            if let (Some(b), Some(v)) = (b, v) {
                // Unchanged bars stay unlabelled so changes stand out.
                let (text, color) = match (*v - *b, *b) {
                    (0.0, _) => continue,
                    (d, b) if b != 0.0 => (format!("{:+.1}%", d / b * 100.0), pick(d)),
                    (d, _) => ("from 0".to_owned(), pick(d)),
                };
                let style = ("sans-serif", 14)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                let at = ((x.0 + x.1) / 2.0, v.max(*b) + top * 0.01);
                ctx.draw_series(std::iter::once(Text::new(text, at, style)))?;
            }
        }
    }
    if comparing {
        legend.push(("baseline (outline)", Mark::Outline));
    }
    if let Some((value, label)) = &chart.reference {
        ctx.draw_series(LineSeries::new(
            [(0.0, *value), (n, *value)],
            WORSE.stroke_width(1),
        ))?;
        legend.push((label.as_str(), Mark::Line(WORSE)));
    }
    draw_header(root, &chart.title, &legend)?;

    // Group labels under the axis, centred on each group, one or two lines, shrunk when
    // the groups are too narrow for them (about half the font size per character).
    let slot = (ctx.backend_coord(&(1.0, 0.0)).0 - ctx.backend_coord(&(0.0, 0.0)).0) as f64;
    let longest = chart
        .groups
        .iter()
        .flat_map(|g| g.lines())
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let fit = (slot * 0.95 / (longest * 0.5)).floor();
    for (i, label) in chart.groups.iter().enumerate() {
        let (px, py) = ctx.backend_coord(&(i as f64 + 0.5, 0.0));
        for (line_no, line) in label.lines().take(2).enumerate() {
            let size: f64 = if line_no == 0 { 15.0 } else { 13.0 };
            let size = size.min(fit).max(8.0);
            let style = ("sans-serif", size)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(line, (px, py + 8 + 18 * line_no as i32), style))?;
        }
    }
    Ok(())
}

/// How a legend entry is drawn.
enum Mark {
    Filled(RGBColor),
    Outline,
    Line(RGBColor),
}

/// Room above the plot for the title and a one-row legend, so the legend never covers
/// a bar.
const HEADER_HEIGHT: u32 = 76;

/// Draws the title and, below it, the legend entries in one centred row.
fn draw_header(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    entries: &[(&str, Mark)],
) -> DrawResult<()> {
    let (width, _) = root.dim_in_pixel();
    let centre = (width / 2) as i32;
    let style = ("sans-serif", 24)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(title, (centre, 12), style))?;
    // Width estimate per entry: swatch, gap, ~7 px per character at this size.
    let widths: Vec<i32> = entries
        .iter()
        .map(|(t, _)| 22 + 7 * t.chars().count() as i32 + 24)
        .collect();
    let mut x = centre - widths.iter().sum::<i32>() / 2;
    let y = 56;
    for ((text, mark), w) in entries.iter().zip(widths) {
        match mark {
            Mark::Filled(c) => {
                root.draw(&Rectangle::new([(x, y - 7), (x + 14, y + 7)], c.filled()))?
            }
            Mark::Outline => root.draw(&Rectangle::new(
                [(x, y - 7), (x + 14, y + 7)],
                INK.stroke_width(1),
            ))?,
            Mark::Line(c) => {
                root.draw(&PathElement::new([(x, y), (x + 14, y)], c.stroke_width(2)))?
            }
        }
        let style = ("sans-serif", 15)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(*text, (x + 22, y), style))?;
        x += w;
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

/// Axis numbers: `950`, `12.5k`, `3.2M`, `1.5G`.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = match a {
        _ if a >= 1e9 => (v / 1e9, "G"),
        _ if a >= 1e6 => (v / 1e6, "M"),
        _ if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let text = if scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() < 10.0 {
        format!("{scaled:.2}")
    } else {
        format!("{scaled:.1}")
    };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(baseline: bool) -> BarChart {
        BarChart {
            id: "chart-test".to_owned(),
            title: "Latency <at> clock".to_owned(),
            y_label: "time (µs)".to_owned(),
            groups: vec!["kws-dscnn".to_owned(), "ad\nautoencoder".to_owned()],
            series: vec![Series {
                name: "stm32f407".to_owned(),
                values: vec![Some(200.0), None],
                baseline: baseline.then(|| vec![Some(100.0), Some(5.0)]),
            }],
            reference: Some((150.0, "limit".to_owned())),
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
        assert!(svg.contains("viewBox=\"0 0 1000 400\""));
        assert!(svg.contains("Latency &lt;at&gt; clock"));
        assert!(!svg.contains("<at>"));
        assert!(svg.contains("\nautoencoder\n"), "second label line drawn");
        assert!(!svg.contains("baseline"), "no baseline legend without one");
    }

    #[test]
    fn baselines_add_outlines_and_coloured_deltas() {
        let svg = SvgPlotter::default().bar_chart(&chart(true)).unwrap();
        assert!(svg.contains("+100.0%"));
        assert!(!svg.contains(">\n=\n<"), "unchanged bars carry no label");
        assert!(
            svg.contains("#CF222E") || svg.contains("#cf222e"),
            "regression in red"
        );
        assert!(svg.contains("baseline (outline)"));
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(12500.0), "12.5k");
        assert_eq!(compact(3_200_000.0), "3.20M");
        assert_eq!(compact(0.75), "0.75");
    }
}
