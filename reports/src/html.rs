//! The self-contained HTML report (`mcubench report`).
//!
//! One page, no network: CSS and the page template are compiled in with `include_str!`,
//! charts are inline SVG from a [`Plotter`], and each run's flame graph is inferno's SVG
//! in a sandboxed `srcdoc` iframe so its script and ids stay separate from the page's and
//! from the other runs'. Every string that comes from a results file goes through
//! [`escape`]. With a baseline every figure shows its change, green when it shrank and
//! red when it grew (all figures are smaller-is-better), and charts draw both.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::compare::{check_same_suite, compare, Change, Limits, Metric};
use crate::json::read_results;
use crate::numbers::{figure, thousands};
use crate::output::write_atomic;
use crate::plot::{BarChart, Plotter, Series, SvgPlotter};
use crate::results::{Kind, Results, Run, Status};
use crate::Error;

const TEMPLATE: &str = include_str!("html/template.html");
const CSS: &str = include_str!("html/report.css");

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a report shows.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// The results to show.
    pub results: &'a Results,
    /// How to name them (usually the file path).
    pub label: &'a str,
    /// Results to compare against, with their label.
    pub baseline: Option<(&'a Results, &'a str)>,
    /// The baseline's successful runs by key, so finding one is not a search.
    base_index: HashMap<String, &'a Run>,
}

impl<'a> Report<'a> {
    /// A report of `results`, named `label`, against an optional labelled baseline.
    pub fn new(
        results: &'a Results,
        label: &'a str,
        baseline: Option<(&'a Results, &'a str)>,
    ) -> Report<'a> {
        let mut base_index = HashMap::new();
        for run in baseline.iter().flat_map(|(b, _)| &b.runs) {
            if run.status == Status::Ok {
                base_index.entry(run.key()).or_insert(run);
            }
        }
        Report {
            results,
            label,
            baseline,
            base_index,
        }
    }
}

/// Reads `results_path` (and `baseline_path`), renders the report and writes
/// `out_dir/index.html` atomically, creating `out_dir` if needed. Returns the page's path.
/// On failure nothing is left behind, not even a directory this call created.
pub fn write_report(
    results_path: &Path,
    baseline_path: Option<&Path>,
    out_dir: &Path,
) -> Result<PathBuf, Error> {
    let results = read_results(results_path)?;
    let baseline = match baseline_path {
        Some(path) => {
            let base = read_results(path)?;
            check_same_suite(path, &base, results_path, &results)?;
            Some((base, path.display().to_string()))
        }
        None => None,
    };
    let label = results_path.display().to_string();
    let report = Report::new(
        &results,
        &label,
        baseline.as_ref().map(|(r, l)| (r, l.as_str())),
    );
    let page = render(&report, &SvgPlotter::default())?;

    let created = !out_dir.exists();
    let write_error = |source| Error::Write {
        path: out_dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(out_dir).map_err(write_error)?;
    let index = out_dir.join("index.html");
    if let Err(e) = write_atomic(&index, page.as_bytes()) {
        if created {
            // Best effort: the directory is empty because the write did not happen.
            let _ = std::fs::remove_dir(out_dir);
        }
        return Err(e);
    }
    Ok(index)
}

/// The whole page as a string.
pub fn render(report: &Report<'_>, plotter: &dyn Plotter) -> Result<String, Error> {
    let r = report.results;
    let mut body = String::new();
    header(&mut body, report);
    summary_table(&mut body, report);
    body.push_str("<h2 id=\"charts\">Charts</h2>\n");
    let how = if report.baseline.is_some() {
        " Outlines are the baseline; the label above a bar is its change."
    } else {
        ""
    };
    for chart in charts(report) {
        match chart {
            Ok(chart) => {
                let _ = writeln!(
                    body,
                    "<figure>{}<figcaption>{}{how}</figcaption></figure>",
                    plotter.bar_chart(&chart)?,
                    caption(&chart.id)
                );
            }
            Err(note) => {
                let _ = writeln!(body, "<p class=\"empty\">{}</p>", escape(&note));
            }
        }
    }
    body.push_str("<h2 id=\"runs\">Runs</h2>\n");
    for (i, run) in r.runs.iter().enumerate() {
        run_details(&mut body, report, i, run)?;
    }
    let _ = writeln!(
        body,
        "<footer>Written by {} {} from {}. Emulated figures are deterministic; host wall time \
         and MIPS are informative only.</footer>",
        escape(&r.tool.name),
        escape(&r.tool.version),
        escape(report.label)
    );
    let title = format!("mcubench report: {}", r.provenance.suite);
    // Body last, so text from results can never be taken for a placeholder.
    Ok(TEMPLATE
        .replace("{{title}}", &escape(&title))
        .replace("{{css}}", CSS)
        .replace("{{body}}", &body))
}

fn header(out: &mut String, report: &Report<'_>) {
    let r = report.results;
    let p = &r.provenance;
    let _ = writeln!(out, "<h1>mcubench report: {}</h1>", escape(&p.suite));
    let _ = write!(
        out,
        "<ul class=\"meta\"><li>results <b>{}</b></li><li>manifest <b>{}</b> \
         <code>{}</code></li><li>{} {}</li><li>schema {}</li>",
        escape(report.label),
        escape(&p.manifest),
        escape(p.manifest_sha256.get(..12).unwrap_or(&p.manifest_sha256)),
        escape(&r.tool.name),
        escape(&r.tool.version),
        escape(&r.schema_version),
    );
    if let Some(s) = p.shard {
        let _ = write!(out, "<li>shard <b>{}/{}</b></li>", s.index, s.count);
    }
    // Against the baseline: cycles with no tolerance, so any change shows.
    let cmp = report.baseline.map(|(base, label)| {
        let _ = write!(out, "<li>baseline <b>{}</b></li>", escape(label));
        let limits = Limits {
            metrics: vec![Metric::Cycles],
            max_regression_pct: 0.0,
            metric_limits: Vec::new(),
            ceilings: Vec::new(),
        };
        compare(base, r, &limits)
    });
    out.push_str("</ul>\n");
    // Figures of another configuration are not a change: say so above them.
    if let Some(cmp) = &cmp {
        let notes: Vec<String> = cmp
            .differences
            .iter()
            .map(|d| d.to_string())
            .chain(
                cmp.config_changes()
                    .map(|(run, d)| format!("{}: {d}, another configuration", run.key())),
            )
            .collect();
        if !notes.is_empty() {
            out.push_str("<ul class=\"meta\">");
            for note in notes {
                let _ = write!(out, "<li>⚠️ baseline: {}</li>", escape(&note));
            }
            out.push_str("</ul>\n");
        }
    }
    out.push_str("<div class=\"counts\">");
    let count = |s: Status| r.runs.iter().filter(|run| run.status == s).count();
    let mut tiles = vec![
        ("runs", r.runs.len()),
        ("ok", count(Status::Ok)),
        ("failed", count(Status::Failed)),
        ("could not run", count(Status::Error)),
        ("skipped", count(Status::Skipped)),
    ];
    if let Some(cmp) = &cmp {
        let changes = |c: Change| {
            cmp.runs
                .iter()
                .flat_map(|r| &r.metrics)
                .filter(|m| m.change == c)
                .count()
        };
        tiles.push(("faster in cycles", changes(Change::Improved)));
        tiles.push(("slower in cycles", changes(Change::OverLimit)));
        tiles.push((
            "newly failing",
            cmp.runs.iter().filter(|r| r.status_regressed()).count(),
        ));
    }
    for (name, n) in tiles {
        let _ = write!(out, "<div class=\"count\"><b>{n}</b>{name}</div>");
    }
    out.push_str("</div>\n");
}

/// The baseline's run with the same key, if it ran ok.
fn base_run<'a>(report: &Report<'a>, run: &Run) -> Option<&'a Run> {
    report.base_index.get(&run.key()).copied()
}

/// A figure cell: the value, and with a baseline its change.
fn cell(value: Option<f64>, integer: bool, base: Option<Option<f64>>) -> String {
    cell_marked(value, integer, base, true)
}

/// [`cell`] that leaves unchanged figures unmarked (for the long per-run tables).
fn quiet_cell(value: Option<f64>, integer: bool, base: Option<Option<f64>>) -> String {
    cell_marked(value, integer, base, false)
}

fn cell_marked(
    value: Option<f64>,
    integer: bool,
    base: Option<Option<f64>>,
    mark_same: bool,
) -> String {
    let Some(v) = value else {
        return "<td class=\"num\">—</td>".to_owned();
    };
    let delta = match base {
        None => String::new(),
        Some(None) => "<span class=\"d new\">new</span>".to_owned(),
        Some(Some(b)) if b == v && mark_same => "<span class=\"d same\">=</span>".to_owned(),
        Some(Some(b)) if b == v => String::new(),
        Some(Some(b)) => {
            let class = if v < b { "better" } else { "worse" };
            let text = if b == 0.0 {
                "from 0".to_owned()
            } else {
                format!("{:+.2}%", (v - b) / b * 100.0)
            };
            format!("<span class=\"d {class}\">{text}</span>")
        }
    };
    format!("<td class=\"num\">{}{delta}</td>", figure(v, integer))
}

/// The run's status as a badge.
fn status_badge(run: &Run) -> String {
    let word = run.status.as_str();
    format!("<span class=\"status status-{word}\">{word}</span>")
}

fn summary_table(out: &mut String, report: &Report<'_>) {
    out.push_str(
        "<h2 id=\"summary\">Summary</h2>\n<div class=\"scroll\"><table class=\"summary\"><thead><tr><th>Workload</th>\
         <th>Target</th><th>Status</th>\
         <th class=\"num\">Time/call (µs)</th><th class=\"num\">Energy/call (µJ)</th>\
         <th class=\"num\">Cycles</th><th class=\"num\">Time (µs)</th><th class=\"num\">Energy (µJ)</th>\
         <th class=\"num\">Cycles/MAC</th><th class=\"num\">Stack peak (B)</th>\
         <th class=\"num\">Flash (B)</th><th class=\"num\">RAM (B)</th></tr></thead><tbody>\n",
    );
    let metrics = [
        Metric::TimeUsPerCall,
        Metric::EnergyUjPerCall,
        Metric::Cycles,
        Metric::TimeUs,
        Metric::EnergyUj,
        Metric::CyclesPerMac,
        Metric::StackPeakBytes,
        Metric::FlashBytes,
        Metric::RamBytes,
    ];
    for (i, run) in report.results.runs.iter().enumerate() {
        let _ = write!(
            out,
            "<tr><td><a href=\"#run-{i}\">{}</a><small>{}</small></td><td>{}<small>{} at {} \
             MHz{}</small></td><td>{}</td>",
            escape(&run.workload),
            kind_word(run.kind),
            escape(&run.target),
            escape(&run.core),
            figure(run.clock_mhz, true),
            // Files before schema 1.1 do not record the supply.
            if run.vdd_v > 0.0 {
                format!(", {:.2} V", run.vdd_v)
            } else {
                String::new()
            },
            status_badge(run)
        );
        let base = base_run(report, run);
        for m in metrics {
            let value = (run.status == Status::Ok).then(|| m.value(run)).flatten();
            let b = report.baseline.map(|_| base.and_then(|b| m.value(b)));
            out.push_str(&cell(value, m.is_integer(), b));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if let Some((base, label)) = report.baseline {
        let gone: Vec<String> = base
            .runs
            .iter()
            .filter(|b| !report.results.runs.iter().any(|r| r.key() == b.key()))
            .map(|b| escape(&b.key()))
            .collect();
        if !gone.is_empty() {
            let _ = writeln!(
                out,
                "<p>In the baseline {} but not here: {}</p>",
                escape(label),
                gone.join(", ")
            );
        }
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Inference => "inference",
        Kind::Training => "training",
    }
}

/// Per-call cycles of the `train_step` region.
fn train_cycles(run: &Run) -> Option<f64> {
    let r = run.region("train_step").filter(|r| r.calls > 0)?;
    Some(r.cycles as f64 / r.calls as f64)
}

/// Per-call energy of the `train_step` region, µJ.
fn train_energy(run: &Run) -> Option<f64> {
    let r = run.region("train_step").filter(|r| r.calls > 0)?;
    Some(r.energy_uj / r.calls as f64)
}

/// What a chart shows, under it.
fn caption(id: &str) -> &'static str {
    match id {
        "chart-latency" => {
            "Time of one call of each ok run's headline region (one inference, one training \
             step) at the target's clock."
        }
        "chart-energy" => {
            "Energy of one call of each ok run's headline region, from the target's run \
             current and supply."
        }
        "chart-cycles-per-mac" => {
            "Cycles of one call of the workload's headline region divided by its MACs."
        }
        "chart-memory" => {
            "Flash and static RAM of the image and the deepest stack seen, as a share of \
             the target's flash and RAM."
        }
        "chart-train-cycles" => "Cycles of the train_step region divided by its calls.",
        "chart-train-energy" => "Energy of the train_step region divided by its calls.",
        _ => "",
    }
}

/// Every chart, or the note that stands in for it when there is nothing to draw.
fn charts(report: &Report<'_>) -> Vec<Result<BarChart, String>> {
    let any = |_: &Run| true;
    let inference = |r: &Run| r.kind == Kind::Inference;
    let training = |r: &Run| r.kind == Kind::Training;
    vec![
        grouped(
            report,
            "chart-latency",
            "Latency per inference or training step",
            "time per call (µs)",
            any,
            |r| r.per_call.as_ref().map(|c| c.time_us),
        )
        .ok_or_else(|| "No successful runs with a headline region to chart.".to_owned()),
        grouped(
            report,
            "chart-energy",
            "Energy per inference or training step",
            "energy per call (µJ)",
            any,
            |r| r.per_call.as_ref().map(|c| c.energy_uj),
        )
        .ok_or_else(|| "No successful runs with a headline region to chart.".to_owned()),
        grouped(
            report,
            "chart-cycles-per-mac",
            "Cycles per MAC (inference region)",
            "cycles / MAC",
            inference,
            |r| r.cycles_per_mac,
        )
        .ok_or_else(|| "No inference runs with a MAC count.".to_owned()),
        memory(report).ok_or_else(|| "No successful runs to chart.".to_owned()),
        grouped(
            report,
            "chart-train-cycles",
            "Training cost: cycles per train_step call",
            "cycles / step",
            training,
            train_cycles,
        )
        .ok_or_else(|| "No training runs with a train_step region.".to_owned()),
        grouped(
            report,
            "chart-train-energy",
            "Training cost: energy per train_step call",
            "energy / step (µJ)",
            training,
            train_energy,
        )
        .ok_or_else(|| "No training runs with a train_step region.".to_owned()),
    ]
}

/// Workloads along x, one bar per target; `None` when nothing has a value.
fn grouped(
    report: &Report<'_>,
    id: &str,
    title: &str,
    y_label: &str,
    include: impl Fn(&Run) -> bool,
    value: impl Fn(&Run) -> Option<f64>,
) -> Option<BarChart> {
    let runs: Vec<&Run> = report
        .results
        .runs
        .iter()
        .filter(|r| r.status == Status::Ok && include(r) && value(r).is_some())
        .collect();
    if runs.is_empty() {
        return None;
    }
    // Workloads and targets in order of first appearance, runs by both.
    let (mut workloads, mut targets) = (Vec::new(), Vec::new());
    let (mut seen_workloads, mut seen_targets) = (HashSet::new(), HashSet::new());
    let mut by_key: HashMap<(&str, &str), &Run> = HashMap::new();
    for r in &runs {
        if seen_workloads.insert(r.workload.as_str()) {
            workloads.push(r.workload.as_str());
        }
        if seen_targets.insert(r.target.as_str()) {
            targets.push((r.target.as_str(), r.clock_mhz));
        }
        by_key.entry((&r.workload, &r.target)).or_insert(r);
    }
    let find = |w: &str, t: &str| by_key.get(&(w, t)).copied();
    let series = targets
        .iter()
        .map(|&(t, clock)| Series {
            name: format!("{t} @ {} MHz", figure(clock, true)),
            values: workloads
                .iter()
                .map(|w| find(w, t).and_then(&value))
                .collect(),
            baseline: report.baseline.map(|_| {
                workloads
                    .iter()
                    .map(|w| {
                        find(w, t)
                            .and_then(|r| base_run(report, r))
                            .and_then(&value)
                    })
                    .collect()
            }),
        })
        .collect();
    Some(BarChart {
        id: id.to_owned(),
        title: title.to_owned(),
        y_label: y_label.to_owned(),
        groups: workloads.iter().map(|w| (*w).to_owned()).collect(),
        series,
        reference: None,
    })
}

/// `used` as a percentage of `capacity`; `None` when the capacity is unknown (0).
fn pct(used: u64, capacity: u64) -> Option<f64> {
    (capacity > 0).then(|| used as f64 / capacity as f64 * 100.0)
}

/// Flash, static RAM and stack peak of each run as a share of its target's capacity.
fn memory(report: &Report<'_>) -> Option<BarChart> {
    let runs: Vec<&Run> = report
        .results
        .runs
        .iter()
        .filter(|r| r.status == Status::Ok)
        .collect();
    if runs.is_empty() {
        return None;
    }
    type Share = fn(&Run) -> Option<f64>;
    let parts: [(&str, Share); 3] = [
        ("flash, % of flash", |r| {
            pct(r.flash_bytes, r.flash_capacity_bytes)
        }),
        ("static RAM, % of RAM", |r| {
            pct(r.ram_bytes, r.ram_capacity_bytes)
        }),
        ("stack peak, % of RAM", |r| {
            pct(r.stack_peak_bytes, r.ram_capacity_bytes)
        }),
    ];
    let series = parts
        .iter()
        .map(|(name, f)| Series {
            name: (*name).to_owned(),
            values: runs.iter().map(|r| f(r)).collect(),
            baseline: report.baseline.map(|_| {
                runs.iter()
                    .map(|r| base_run(report, r).and_then(f))
                    .collect()
            }),
        })
        .collect();
    Some(BarChart {
        id: "chart-memory".to_owned(),
        title: "Memory use against each target's capacity".to_owned(),
        y_label: "% of capacity".to_owned(),
        groups: runs
            .iter()
            .map(|r| format!("{}\n{}", r.workload, r.target))
            .collect(),
        series,
        reference: Some((100.0, "capacity".to_owned())),
    })
}

fn run_details(out: &mut String, report: &Report<'_>, i: usize, run: &Run) -> Result<(), Error> {
    let base = base_run(report, run);
    let _ = writeln!(
        out,
        "<details class=\"run\" id=\"run-{i}\"><summary>{} @ {} <span>{} · {} · {} cycles · \
         {} µs</span></summary>",
        escape(&run.workload),
        escape(&run.target),
        status_badge(run),
        escape(&run.core),
        thousands(run.cycles),
        figure(run.time_us, false)
    );
    if let Some(e) = &run.error {
        let _ = writeln!(out, "<p class=\"error\">{}</p>", escape(e));
    }
    let exit = run
        .exit_code
        .map_or_else(|| "none".to_owned(), |c| c.to_string());
    let _ = writeln!(
        out,
        "<ul class=\"meta\"><li>image <b>{}</b></li><li>exit code <b>{exit}</b></li>\
         <li>instructions <b>{}</b></li><li>average power <b>{} mW</b></li>\
         <li>host: {} ms, {} MIPS (not compared)</li></ul>",
        escape(&run.image),
        thousands(run.instructions),
        figure(run.avg_power_mw, false),
        figure(run.host.wall_ms, false),
        figure(run.host.mips, false)
    );
    if !run.regions.is_empty() {
        out.push_str(
            "<h3>Regions</h3><table><thead><tr><th>Region</th><th class=\"num\">Calls</th>\
             <th class=\"num\">Cycles</th><th class=\"num\">Cycles/call</th>\
             <th class=\"num\">Time/call (µs)</th><th class=\"num\">Energy/call (µJ)</th>\
             </tr></thead><tbody>\n",
        );
        for region in &run.regions {
            let per_call = |r: &crate::results::Region| {
                let calls = r.calls.max(1) as f64;
                [
                    r.cycles as f64 / calls,
                    r.time_us / calls,
                    r.energy_uj / calls,
                ]
            };
            let now = per_call(region);
            let before = base.map(|b| b.region(&region.name).map(per_call));
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                escape(&region.name),
                thousands(region.calls),
                thousands(region.cycles)
            );
            for k in 0..3 {
                let b = before.map(|b| b.map(|b| b[k]));
                // Cycles per call is a count; time and energy are not.
                out.push_str(&quiet_cell(Some(now[k]), k == 0, b));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
    }
    if !run.profile.is_empty() {
        profile_table(out, run, base);
    }
    if run.stacks.iter().any(|s| s.cycles > 0) {
        let svg = flame_graph(run)?;
        let _ = writeln!(
            out,
            "<h3>Flame graph</h3><iframe class=\"flamegraph\" id=\"flame-{i}\" \
             sandbox=\"allow-scripts\" title=\"Flame graph of {}\" style=\"height: {}px\" \
             srcdoc=\"{}\"></iframe>",
            escape(&run.key()),
            svg_height(&svg),
            escape(&flame_document(&svg))
        );
    }
    if !run.stdout.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Output</h3><pre class=\"stdout\">{}</pre>",
            escape(&run.stdout)
        );
    }
    out.push_str("</details>\n");
    Ok(())
}

/// The functions with the most self cycles, largest first, with their share of the run.
fn profile_table(out: &mut String, run: &Run, base: Option<&Run>) {
    const SHOWN: usize = 40;
    let mut entries: Vec<_> = run.profile.iter().collect();
    entries.sort_by(|a, b| b.self_cycles.cmp(&a.self_cycles).then(a.name.cmp(&b.name)));
    let total = run.cycles.max(1) as f64;
    let _ = writeln!(
        out,
        "<h3>Profile</h3><table class=\"profile\"><thead><tr><th>Function</th>\
         <th class=\"num\">Self cycles</th><th>Share of run</th><th class=\"num\">Total cycles</th>\
         <th class=\"num\">Calls</th></tr></thead><tbody>"
    );
    for e in entries.iter().take(SHOWN) {
        let share = e.self_cycles as f64 / total * 100.0;
        let before = base.map(|b| {
            b.profile
                .iter()
                .find(|p| p.name == e.name)
                .map(|p| p.self_cycles as f64)
        });
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td>{}<td><span class=\"bar\" style=\"width:{:.0}px\">\
             </span>{:.1}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&e.name),
            quiet_cell(Some(e.self_cycles as f64), true, before),
            share * 2.0,
            share,
            thousands(e.total_cycles),
            thousands(e.calls)
        );
    }
    out.push_str("</tbody></table>\n");
    if entries.len() > SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"empty\">{} more functions not shown.</p>",
            entries.len() - SHOWN
        );
    }
}

/// inferno's flame graph of the run's folded stacks, weighted by cycles.
fn flame_graph(run: &Run) -> Result<String, Error> {
    let mut options = inferno::flamegraph::Options::default();
    options.title = format!("{} on {} ({})", run.workload, run.target, run.core);
    options.count_name = "cycles".to_owned();
    // Colour by function name, so the same function looks the same in every run.
    options.hash = true;
    options.deterministic = true;
    let lines: Vec<String> = run
        .stacks
        .iter()
        .filter(|s| s.cycles > 0)
        .map(|s| format!("{} {}", s.stack, s.cycles))
        .collect();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut svg)
        .map_err(|e| Error::Render {
            what: format!("flame graph of {}", run.key()),
            why: e.to_string(),
        })?;
    String::from_utf8(svg).map_err(|e| Error::Render {
        what: format!("flame graph of {}", run.key()),
        why: e.to_string(),
    })
}

/// The iframe's document. inferno's script makes the SVG as wide as the frame and keeps
/// its height, so the frame is given that height.
fn flame_document(svg: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>html,body{{margin:0;overflow:hidden}}\
         svg{{width:100%;display:block}}</style></head><body>{svg}</body></html>"
    )
}

/// The `height` of the SVG's root element in pixels (inferno always writes one).
fn svg_height(svg: &str) -> u32 {
    let height = || -> Option<u32> {
        let root = &svg[svg.find("<svg")?..];
        let root = &root[..root.find('>')?];
        let start = root.find(" height=\"")? + " height=\"".len();
        root[start..].split('"').next()?.parse().ok()
    };
    height().unwrap_or(400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(
            escape("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_frame_takes_the_svg_height() {
        let svg = "<?xml version=\"1.0\"?><svg version=\"1.1\" width=\"1200\" height=\"134\" \
                   onload=\"init(evt)\"><rect height=\"9\"/></svg>";
        assert_eq!(svg_height(svg), 134);
        assert_eq!(svg_height("<svg width=\"5\">"), 400, "fallback");
    }
}
