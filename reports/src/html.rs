//! The self-contained HTML report (`mcubench report`, and `index.html` of `mcubench suite`).
//!
//! The page is built with maud: its `html!` templates are checked at compile time, need
//! no template files to ship or find at run time, and escape every interpolated string
//! unless it is explicitly wrapped in `PreEscaped`. Only two things are: the compiled-in
//! CSS and the charts' SVG (drawn by plotters, which escapes its own text); everything
//! from a results or ELF file (names, errors, output) is plain text to maud. askama was
//! the other candidate; it would add template files for no gain on a single page.
//!
//! One page, no network: charts are inline SVG from a [`Plotter`], and each run's flame
//! graph is inferno's SVG in a sandboxed `srcdoc` iframe so its script and ids stay
//! separate from the page's and from the other runs'.
//!
//! Reading order: a workload × target matrix of the per-call figures first, then charts
//! (one colour per target throughout the page), memory against capacity, the hottest
//! functions across runs, every figure in one table, and each run in detail. With a
//! baseline every figure shows its signed change, green when it shrank and red when it
//! grew (all figures are smaller-is-better), and charts draw both.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::bands::{self, Band};
use crate::compare::{check_same_suite, compare, Change, Comparison, Limits, Metric};
use crate::json::read_results;
use crate::numbers::{self, figure, thousands};
use crate::output::write_atomic;
use crate::plot::{color_hex, BarChart, Plotter, Quantity, Series, SvgPlotter};
use crate::results::{Kind, MarkedRegion, ProfileEntry, Results, Run, Status};
use crate::units;
use crate::Error;

const CSS: &str = include_str!("html/report.css");

/// How many functions the cross-run table of hot functions lists.
const HOT_FUNCTIONS: usize = 15;
/// How many functions a run's own profile table lists.
const PROFILE_ROWS: usize = 40;
/// Longest error text shown in a matrix cell; the whole text is in its tooltip and in
/// the run's details.
const CELL_ERROR_CHARS: usize = 80;

/// A target as the page shows it: its name, core and clock, and its colour.
#[derive(Debug, Clone)]
struct Target<'a> {
    name: &'a str,
    core: &'a str,
    clock_mhz: f64,
    color: String,
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
    /// Targets in order of first appearance; a target's index is its colour.
    targets: Vec<Target<'a>>,
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
        let mut seen = HashSet::new();
        let targets = results
            .runs
            .iter()
            .filter(|r| seen.insert(r.target.as_str()))
            .enumerate()
            .map(|(i, r)| Target {
                name: &r.target,
                core: &r.core,
                clock_mhz: r.clock_mhz,
                color: color_hex(i),
            })
            .collect();
        Report {
            results,
            label,
            baseline,
            base_index,
            targets,
        }
    }

    /// The baseline's run with the same key, if it ran ok.
    fn base_run(&self, run: &Run) -> Option<&'a Run> {
        self.base_index.get(&run.key()).copied()
    }

    /// The index of `target` in [`Report::targets`] (its colour).
    fn target_index(&self, target: &str) -> usize {
        self.targets
            .iter()
            .position(|t| t.name == target)
            .unwrap_or(0)
    }

    /// The colour of `target`.
    fn color(&self, target: &str) -> &str {
        self.targets
            .get(self.target_index(target))
            .map_or("#57606a", |t| t.color.as_str())
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
    // Against the baseline: cycles with no tolerance, so any change shows.
    let comparison = report.baseline.map(|(base, _)| {
        let limits = Limits {
            metrics: vec![Metric::Cycles],
            max_regression_pct: 0.0,
            metric_limits: Vec::new(),
            ceilings: Vec::new(),
        };
        compare(base, r, &limits)
    });
    let mut drawn = Vec::new();
    for chart in charts(report) {
        drawn.push(match chart {
            Ok(chart) => Ok((plotter.bar_chart(&chart)?, caption(&chart.id))),
            Err(note) => Err(note),
        });
    }
    let mut flames = Vec::with_capacity(r.runs.len());
    for run in &r.runs {
        flames.push(if run.stacks.iter().any(|s| s.cycles > 0) {
            Some(flame_graph(run)?)
        } else {
            None
        });
    }
    let how = if report.baseline.is_some() {
        " Outlines are the baseline; the label above a bar is its change."
    } else {
        ""
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content="mcubench";
                title { "mcubench report: " (r.provenance.suite) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    (header(report, comparison.as_ref()))
                    nav {
                        a href="#matrix" { "At a glance" }
                        a href="#charts" { "Charts" }
                        a href="#per-mac" { "Cycles per MAC" }
                        a href="#memory" { "Memory" }
                        a href="#hot" { "Hot functions" }
                        a href="#summary" { "All figures" }
                        a href="#runs" { "Runs" }
                    }
                    (matrix(report))
                    h2 #charts { "Charts" }
                    @for chart in &drawn {
                        @match chart {
                            Ok((svg, caption)) => figure {
                                div.chart-box { (PreEscaped(svg)) }
                                figcaption { (caption) (how) }
                            },
                            Err(note) => p.empty { (note) },
                        }
                    }
                    (per_mac(report))
                    (memory(report))
                    (hot_functions(report))
                    (summary_table(report))
                    h2 #runs { "Runs" }
                    @for (i, run) in r.runs.iter().enumerate() {
                        (run_details(report, i, run, flames[i].as_deref()))
                    }
                    footer {
                        "Written by " (r.tool.name) " " (r.tool.version) " from " (report.label)
                        ". Emulated figures are deterministic; host wall time and MIPS are \
                         informative only."
                    }
                }
            }
        }
    };
    Ok(page.into_string())
}

fn header(report: &Report<'_>, comparison: Option<&Comparison>) -> Markup {
    let r = report.results;
    let p = &r.provenance;
    // Figures of another configuration are not a change: say so above them.
    let notes: Vec<String> = comparison
        .map(|cmp| {
            cmp.differences
                .iter()
                .map(|d| d.to_string())
                .chain(
                    cmp.config_changes()
                        .map(|(run, d)| format!("{}: {d}, another configuration", run.key())),
                )
                .collect()
        })
        .unwrap_or_default();
    let count = |s: Status| r.runs.iter().filter(|run| run.status == s).count();
    let mut tiles = vec![
        ("runs", r.runs.len()),
        ("ok", count(Status::Ok)),
        ("failed", count(Status::Failed)),
        ("could not run", count(Status::Error)),
        ("skipped", count(Status::Skipped)),
    ];
    if let Some(cmp) = comparison {
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
    html! {
        h1 { "mcubench report: " (p.suite) }
        ul.meta {
            li { "results " b { (report.label) } }
            li {
                "manifest " b { (p.manifest) } " "
                code { (p.manifest_sha256.get(..12).unwrap_or(&p.manifest_sha256)) }
            }
            li { (r.tool.name) " " (r.tool.version) }
            li { "schema " (r.schema_version) }
            @if let Some(s) = p.shard {
                li { "shard " b { (s.index) "/" (s.count) } }
            }
            @if let Some((_, label)) = report.baseline {
                li { "baseline " b { (label) } }
            }
        }
        @if !notes.is_empty() {
            ul.meta {
                @for note in &notes {
                    li { "⚠️ baseline: " (note) }
                }
            }
        }
        div.counts {
            @for (name, n) in &tiles {
                div.count { b { (n) } (name) }
            }
        }
    }
}

/// The change of `value` from the baseline's `base`, as a coloured signed percentage;
/// nothing without a baseline, `new` when the baseline has no such figure.
/// `mark_same` shows an unchanged figure as `=` rather than leaving it unmarked.
fn delta(value: f64, base: Option<Option<f64>>, mark_same: bool) -> Markup {
    match base {
        None => html! {},
        Some(None) => html! { span.d.new { "new" } },
        Some(Some(b)) if b == value && mark_same => html! { span.d.same { "=" } },
        Some(Some(b)) if b == value => html! {},
        Some(Some(b)) => {
            let class = if value < b { "d better" } else { "d worse" };
            html! { span class=(class) { (units::change(value, b)) } }
        }
    }
}

/// A figure cell: the value, and with a baseline its change.
fn cell(value: Option<f64>, integer: bool, base: Option<Option<f64>>, mark_same: bool) -> Markup {
    match value {
        None => html! { td.num { "—" } },
        Some(v) => html! { td.num { (figure(v, integer)) (delta(v, base, mark_same)) } },
    }
}

/// The run's status as a badge.
fn status_badge(run: &Run) -> Markup {
    let word = run.status.as_str();
    html! { span class={ "status status-" (word) } { (word) } }
}

/// A small square of the target's colour, the key to every chart.
fn swatch(color: &str) -> Markup {
    html! { span.swatch style={ "background:" (color) } {} }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Inference => "inference",
        Kind::Training => "training",
    }
}

/// Workloads in order of first appearance, with their kind.
fn workloads(runs: &[Run]) -> Vec<(&str, Kind)> {
    let mut seen = HashSet::new();
    runs.iter()
        .filter(|r| seen.insert(r.workload.as_str()))
        .map(|r| (r.workload.as_str(), r.kind))
        .collect()
}

/// Workloads down, targets across: one call of each run's headline region.
fn matrix(report: &Report<'_>) -> Markup {
    let runs = &report.results.runs;
    let mut by_key: HashMap<(&str, &str), (usize, &Run)> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        by_key
            .entry((run.workload.as_str(), run.target.as_str()))
            .or_insert((i, run));
    }
    html! {
        section #matrix {
            h2 { "At a glance" }
            p.lead {
                "Time and energy of one call of each workload's headline region (one \
                 inference, one training step) at each target's clock."
                @if report.baseline.is_some() {
                    " Percentages are changes from the baseline, green for less and red for \
                     more; unmarked figures are unchanged."
                }
            }
            div.scroll {
                table.matrix {
                    thead {
                        tr {
                            th { "Workload" }
                            @for t in &report.targets {
                                th {
                                    (swatch(&t.color)) (t.name)
                                    small { (t.core) " · " (figure(t.clock_mhz, true)) " MHz" }
                                }
                            }
                        }
                    }
                    tbody {
                        @for (workload, kind) in workloads(runs) {
                            tr {
                                th scope="row" { (workload) small { (kind_word(kind)) } }
                                @for t in &report.targets {
                                    (matrix_cell(report, by_key.get(&(workload, t.name)).copied()))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn matrix_cell(report: &Report<'_>, run: Option<(usize, &Run)>) -> Markup {
    let Some((i, run)) = run else {
        return html! { td.cell { span.absent { "not run" } } };
    };
    let link = format!("#run-{i}");
    if run.status != Status::Ok {
        let why = run.error.as_deref().unwrap_or("");
        let short: String = why.chars().take(CELL_ERROR_CHARS).collect();
        let cut = short.len() < why.len();
        return html! {
            td.cell.broken {
                a href=(link) { (status_badge(run)) }
                @if !why.is_empty() {
                    small.why title=(why) { (short) @if cut { "…" } }
                }
            }
        };
    }
    let Some(call) = &run.per_call else {
        return html! { td.cell { a href=(link) { "ok" } small.why { "no headline region" } } };
    };
    let base = report
        .baseline
        .map(|_| report.base_run(run).and_then(|b| b.per_call.as_ref()));
    html! {
        td.cell {
            div {
                a.time href=(link) { (numbers::time_us(call.time_us)) }
                (delta(call.time_us, base.map(|b| b.map(|c| c.time_us)), false))
            }
            div {
                span.energy { (numbers::energy_uj(call.energy_uj)) }
                (delta(call.energy_uj, base.map(|b| b.map(|c| c.energy_uj)), false))
            }
        }
    }
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
        "chart-train-cycles" => "Cycles of the train_step region divided by its calls.",
        "chart-train-energy" => "Energy of the train_step region divided by its calls.",
        _ => "",
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

/// Every chart, or the note that stands in for it when there is nothing to draw.
fn charts(report: &Report<'_>) -> Vec<Result<BarChart, String>> {
    let any = |_: &Run| true;
    let inference = |r: &Run| r.kind == Kind::Inference;
    let training = |r: &Run| r.kind == Kind::Training;
    let no_headline = || "No successful runs with a headline region to chart.".to_owned();
    vec![
        grouped(
            report,
            ("chart-latency", "Latency per inference or training step"),
            ("time per call", Quantity::Time),
            any,
            |r| r.per_call.as_ref().map(|c| c.time_us),
        )
        .ok_or_else(no_headline),
        grouped(
            report,
            ("chart-energy", "Energy per inference or training step"),
            ("energy per call", Quantity::Energy),
            any,
            |r| r.per_call.as_ref().map(|c| c.energy_uj),
        )
        .ok_or_else(no_headline),
        grouped(
            report,
            ("chart-cycles-per-mac", "Cycles per MAC (inference region)"),
            ("cycles / MAC", Quantity::Count),
            inference,
            |r| r.cycles_per_mac,
        )
        .ok_or_else(|| "No inference runs with a MAC count.".to_owned()),
        grouped(
            report,
            (
                "chart-train-cycles",
                "Training cost: cycles per train_step call",
            ),
            ("cycles / step", Quantity::Count),
            training,
            train_cycles,
        )
        .ok_or_else(|| "No training runs with a train_step region.".to_owned()),
        grouped(
            report,
            (
                "chart-train-energy",
                "Training cost: energy per train_step call",
            ),
            ("energy / step", Quantity::Energy),
            training,
            train_energy,
        )
        .ok_or_else(|| "No training runs with a train_step region.".to_owned()),
    ]
}

/// Workloads along x, one bar per target in the target's colour; `None` when nothing
/// has a value. `what` is the chart's id and title, `axis` its y label and quantity.
fn grouped(
    report: &Report<'_>,
    what: (&str, &str),
    axis: (&str, Quantity),
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
            color: report.target_index(t),
            values: workloads
                .iter()
                .map(|w| find(w, t).and_then(&value))
                .collect(),
            baseline: report.baseline.map(|_| {
                workloads
                    .iter()
                    .map(|w| find(w, t).and_then(|r| report.base_run(r)).and_then(&value))
                    .collect()
            }),
        })
        .collect();
    Some(BarChart {
        id: what.0.to_owned(),
        title: what.1.to_owned(),
        y_label: axis.0.to_owned(),
        quantity: axis.1,
        groups: workloads.iter().map(|w| (*w).to_owned()).collect(),
        series,
    })
}

/// Flash, static RAM and stack peak of each ok run against its target's capacity.
fn memory(report: &Report<'_>) -> Markup {
    let runs: Vec<(usize, &Run)> = report
        .results
        .runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == Status::Ok)
        .collect();
    type Used = fn(&Run) -> (u64, u64);
    let parts: [(&str, Used); 3] = [
        ("Flash", |r| (r.flash_bytes, r.flash_capacity_bytes)),
        ("Static RAM", |r| (r.ram_bytes, r.ram_capacity_bytes)),
        ("Stack peak", |r| (r.stack_peak_bytes, r.ram_capacity_bytes)),
    ];
    html! {
        section #memory {
            h2 { "Memory" }
            @if runs.is_empty() {
                p.empty { "No successful runs to show." }
            } @else {
                p.lead {
                    "Image bytes in flash, static RAM (data and bss) and the deepest stack \
                     seen, each against the target's flash or RAM; a red bar does not fit."
                }
                div.memory {
                    @for (i, run) in &runs {
                        div.mem-card {
                            h3 {
                                (swatch(report.color(&run.target)))
                                a href={ "#run-" (i) } { (run.workload) " @ " (run.target) }
                            }
                            @for (name, f) in &parts {
                                @let (used, capacity) = f(run);
                                @let base = report.baseline.map(|_| {
                                    report.base_run(run).map(|b| f(b).0 as f64)
                                });
                                (usage(name, used, capacity, report.color(&run.target), base))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One used/capacity bar with its figures.
fn usage(name: &str, used: u64, capacity: u64, color: &str, base: Option<Option<f64>>) -> Markup {
    let share = (capacity > 0).then(|| used as f64 / capacity as f64 * 100.0);
    let over = share.is_some_and(|s| s > 100.0);
    let width = share.unwrap_or(0.0).clamp(0.0, 100.0);
    let fill = if over { "var(--worse)" } else { color };
    html! {
        div.mem-row {
            span.mem-name { (name) }
            div.track title={ (name) ": " (used) " of " (capacity) " bytes" } {
                div.fill style={ "width:" (format!("{width:.1}")) "%;background:" (fill) } {}
            }
            span.mem-figures {
                (numbers::bytes(used))
                @match share {
                    Some(s) => { " / " (numbers::bytes(capacity)) " · " (format!("{s:.0}")) "%" },
                    None => " (capacity unknown)",
                }
                (delta(used as f64, base, false))
            }
        }
    }
}

/// The functions with the most self cycles over every ok run, with the run each
/// belongs to. Only the first [`HOT_FUNCTIONS`] are sorted, so many runs with long
/// profiles cost a linear pass.
fn hot_functions(report: &Report<'_>) -> Markup {
    let mut entries: Vec<(usize, &Run, &ProfileEntry)> = report
        .results
        .runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == Status::Ok)
        .flat_map(|(i, r)| r.profile.iter().map(move |e| (i, r, e)))
        .collect();
    let order = |a: &(usize, &Run, &ProfileEntry), b: &(usize, &Run, &ProfileEntry)| {
        b.2.self_cycles
            .cmp(&a.2.self_cycles)
            .then_with(|| a.2.name.cmp(&b.2.name))
            .then(a.0.cmp(&b.0))
    };
    if entries.len() > HOT_FUNCTIONS {
        entries.select_nth_unstable_by(HOT_FUNCTIONS, order);
        entries.truncate(HOT_FUNCTIONS);
    }
    entries.sort_by(order);
    html! {
        section #hot {
            h2 { "Hot functions" }
            @if entries.is_empty() {
                p.empty { "No profiles in these results." }
            } @else {
                p.lead {
                    "The " (entries.len()) " functions with the most self cycles (cycles in \
                     the function itself, not its callees) across all runs."
                }
                div.scroll {
                    table.hot {
                        thead {
                            tr {
                                th { "Function" }
                                th { "Run" }
                                th.num { "Self cycles" }
                                th { "Share of run" }
                                th.num { "Calls" }
                            }
                        }
                        tbody {
                            @for (i, run, e) in &entries {
                                @let share = e.self_cycles as f64 / run.cycles.max(1) as f64 * 100.0;
                                @let before = report.baseline.map(|_| {
                                    report
                                        .base_run(run)
                                        .and_then(|b| b.profile.iter().find(|p| p.name == e.name))
                                        .map(|p| p.self_cycles as f64)
                                });
                                tr {
                                    td { code { (e.name) } }
                                    td {
                                        (swatch(report.color(&run.target)))
                                        a href={ "#run-" (i) } { (run.workload) " @ " (run.target) }
                                    }
                                    (cell(Some(e.self_cycles as f64), true, before, false))
                                    td { (share_bar(share)) }
                                    td.num { (thousands(e.calls)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A percentage with a small bar drawn to scale (100% is 200 px).
fn share_bar(share: f64) -> Markup {
    let width = (share.clamp(0.0, 100.0) * 2.0).round();
    html! {
        span.bar style={ "width:" (width) "px" } {}
        (format!("{share:.1}%"))
    }
}

/// Every run's figures in one table.
fn summary_table(report: &Report<'_>) -> Markup {
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
    let headings = [
        "Time/call (µs)",
        "Energy/call (µJ)",
        "Cycles",
        "Time (µs)",
        "Energy (µJ)",
        "Cycles/MAC",
        "Stack peak (B)",
        "Flash (B)",
        "RAM (B)",
    ];
    let gone: Vec<String> = report
        .baseline
        .map(|(base, _)| {
            let here: HashSet<String> = report.results.runs.iter().map(Run::key).collect();
            base.runs
                .iter()
                .map(Run::key)
                .filter(|k| !here.contains(k))
                .collect()
        })
        .unwrap_or_default();
    html! {
        h2 #summary { "All figures" }
        div.scroll {
            table.summary {
                thead {
                    tr {
                        th { "Workload" }
                        th { "Target" }
                        th { "Status" }
                        @for h in headings { th.num { (h) } }
                    }
                }
                tbody {
                    @for (i, run) in report.results.runs.iter().enumerate() {
                        @let base = report.base_run(run);
                        tr {
                            td { a href={ "#run-" (i) } { (run.workload) } small { (kind_word(run.kind)) } }
                            td {
                                (swatch(report.color(&run.target))) (run.target)
                                small {
                                    (run.core) " at " (figure(run.clock_mhz, true)) " MHz"
                                    // Files before schema 1.1 do not record the supply.
                                    @if run.vdd_v > 0.0 { ", " (format!("{:.2}", run.vdd_v)) " V" }
                                }
                            }
                            td { (status_badge(run)) }
                            @for m in metrics {
                                @let value = (run.status == Status::Ok).then(|| m.value(run)).flatten();
                                @let b = report.baseline.map(|_| base.and_then(|b| m.value(b)));
                                (cell(value, m.is_integer(), b, true))
                            }
                        }
                    }
                }
            }
        }
        @if let (Some((_, label)), false) = (report.baseline, gone.is_empty()) {
            p { "In the baseline " (label) " but not here: " (gone.join(", ")) }
        }
    }
}

fn run_details(report: &Report<'_>, i: usize, run: &Run, flame: Option<&str>) -> Markup {
    let base = report.base_run(run);
    let exit = run
        .exit_code
        .map_or_else(|| "none".to_owned(), |c| c.to_string());
    html! {
        details.run id={ "run-" (i) } {
            summary {
                (swatch(report.color(&run.target)))
                (run.workload) " @ " (run.target) " "
                span {
                    (status_badge(run)) " · " (run.core) " · " (thousands(run.cycles))
                    " cycles · " (numbers::time_us(run.time_us))
                }
            }
            @if let Some(e) = &run.error {
                p.error { (e) }
            }
            ul.meta {
                li { "image " b { (run.image) } }
                li { "exit code " b { (exit) } }
                li { "instructions " b { (thousands(run.instructions)) } }
                li { "average power " b { (figure(run.avg_power_mw, false)) " mW" } }
                li {
                    "host: " (figure(run.host.wall_ms, false)) " ms, "
                    (figure(run.host.mips, false)) " MIPS (not compared)"
                }
            }
            @if !run.regions.is_empty() {
                h3 { "Regions" }
                div.scroll {
                    table {
                        thead {
                            tr {
                                th { "Region" }
                                th.num { "Calls" }
                                th.num { "Cycles" }
                                th.num { "Cycles/call" }
                                th.num { "Time/call (µs)" }
                                th.num { "Energy/call (µJ)" }
                            }
                        }
                        tbody {
                            @for region in &run.regions {
                                @let per_call = |r: &crate::results::Region| {
                                    let calls = r.calls.max(1) as f64;
                                    [r.cycles as f64 / calls, r.time_us / calls, r.energy_uj / calls]
                                };
                                @let now = per_call(region);
                                @let before = base.map(|b| b.region(&region.name).map(per_call));
                                tr {
                                    td { (region.name) }
                                    td.num { (thousands(region.calls)) }
                                    td.num { (thousands(region.cycles)) }
                                    @for k in 0..3 {
                                        // Cycles per call is a count; time and energy are not.
                                        (cell(Some(now[k]), k == 0, before.map(|b| b.map(|b| b[k])), false))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !run.marked_regions.is_empty() {
                (layers_table(run, base))
            }
            @if !run.profile.is_empty() {
                (profile_table(run, base))
            }
            @if let Some(svg) = flame {
                h3 { "Flame graph" }
                div.scroll {
                    iframe.flamegraph id={ "flame-" (i) } sandbox="allow-scripts"
                        title={ "Flame graph of " (run.key()) }
                        style={ "height: " (svg_height(svg)) "px" }
                        srcdoc=(flame_document(svg)) {}
                }
            }
            @if !run.stdout.is_empty() {
                h3 { "Output" }
                pre.stdout { (run.stdout) }
            }
        }
    }
}

/// Each inference run's cycles per MAC beside the published ranges for its
/// core, with their sources.
fn per_mac(report: &Report<'_>) -> Markup {
    let runs: Vec<(usize, &Run, f64)> = report
        .results
        .runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == Status::Ok)
        .filter_map(|(i, r)| Some((i, r, r.cycles_per_mac?)))
        .collect();
    let cited: Vec<&Band> = bands::BANDS
        .iter()
        .filter(|b| runs.iter().any(|(_, r, _)| r.core.starts_with(b.core)))
        .collect();
    html! {
        section #per-mac {
            h2 { "Cycles per MAC" }
            @if runs.is_empty() {
                p.empty { "No inference runs with a MAC count." }
            } @else {
                p.lead {
                    "Cycles of one inference divided by the model's multiply-accumulates,                      beside the ranges published for the same MLPerf Tiny models on the same                      core (sources below). Fewer is faster."
                }
                div.scroll {
                    table.per-mac {
                        thead {
                            tr {
                                th { "Run" }
                                th { "Core" }
                                th.num { "Cycles/MAC" }
                                th { "Against published ranges" }
                            }
                        }
                        tbody {
                            @for (i, run, cpm) in &runs {
                                tr {
                                    td {
                                        (swatch(report.color(&run.target)))
                                        a href={ "#run-" (i) } { (run.workload) " @ " (run.target) }
                                    }
                                    td { (run.core) }
                                    td.num { (figure(*cpm, false)) }
                                    td {
                                        @for band in bands::for_core(&run.core) {
                                            div {
                                                (bands::position(*cpm, band)) " " (band.label) " ("
                                                (band.range()) ")"
                                            }
                                        }
                                        @if bands::for_core(&run.core).next().is_none() {
                                            "no published range for this core"
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !cited.is_empty() {
                    ul.sources {
                        @for band in &cited {
                            li {
                                b { (band.core) ", " (band.label) ", " (band.range()) ": " }
                                (band.source)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The regions the firmware marked (a model's layers), per call, with their
/// share and cycles per MAC; changes against the baseline run's same layer.
fn layers_table(run: &Run, base: Option<&Run>) -> Markup {
    let per_call = |r: &MarkedRegion| r.cycles as f64 / r.calls.max(1) as f64;
    html! {
        h3 { "Layers" }
        div.scroll {
            table.layers {
                thead {
                    tr {
                        th { "Layer" }
                        th.num { "Cycles/call" }
                        th { "Share" }
                        th.num { "MACs" }
                        th.num { "Cycles/MAC" }
                        th.num { "Energy/call (µJ)" }
                    }
                }
                tbody {
                    @for layer in &run.marked_regions {
                        @let before = base.map(|b| {
                            b.marked_regions.iter().find(|m| m.name == layer.name)
                        });
                        tr {
                            td { ("· ".repeat(layer.depth.min(8) as usize)) (layer.name) }
                            (cell(Some(per_call(layer)), true, before.map(|m| m.map(per_call)), false))
                            td { (share_bar(100.0 * layer.share)) }
                            td.num {
                                @if layer.macs > 0 { (thousands(layer.macs)) }
                            }
                            (cell(layer.cycles_per_mac, false,
                                  before.map(|m| m.and_then(|m| m.cycles_per_mac)), false))
                            td.num { (figure(layer.energy_uj / layer.calls.max(1) as f64, false)) }
                        }
                    }
                }
            }
        }
    }
}

/// The functions with the most self cycles, largest first, with their share of the run.
fn profile_table(run: &Run, base: Option<&Run>) -> Markup {
    let mut entries: Vec<_> = run.profile.iter().collect();
    entries.sort_by(|a, b| b.self_cycles.cmp(&a.self_cycles).then(a.name.cmp(&b.name)));
    let total = run.cycles.max(1) as f64;
    html! {
        h3 { "Profile" }
        div.scroll {
            table.profile {
                thead {
                    tr {
                        th { "Function" }
                        th.num { "Self cycles" }
                        th { "Share of run" }
                        th.num { "Total cycles" }
                        th.num { "Calls" }
                    }
                }
                tbody {
                    @for e in entries.iter().take(PROFILE_ROWS) {
                        @let before = base.map(|b| {
                            b.profile.iter().find(|p| p.name == e.name).map(|p| p.self_cycles as f64)
                        });
                        tr {
                            td { code { (e.name) } }
                            (cell(Some(e.self_cycles as f64), true, before, false))
                            td { (share_bar(e.self_cycles as f64 / total * 100.0)) }
                            td.num { (thousands(e.total_cycles)) }
                            td.num { (thousands(e.calls)) }
                        }
                    }
                }
            }
        }
        @if entries.len() > PROFILE_ROWS {
            p.empty { (entries.len() - PROFILE_ROWS) " more functions not shown." }
        }
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
/// its height, so the frame is given that height; the frame itself is kept wide enough
/// (see the CSS) that inferno's 12 px text is not scaled down.
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
    fn deltas_are_coloured_and_signed() {
        let render = |m: Markup| m.into_string();
        assert_eq!(render(delta(1.0, None, true)), "");
        assert_eq!(
            render(delta(1.0, Some(None), true)),
            "<span class=\"d new\">new</span>"
        );
        assert_eq!(
            render(delta(2.0, Some(Some(2.0)), true)),
            "<span class=\"d same\">=</span>"
        );
        assert_eq!(render(delta(2.0, Some(Some(2.0)), false)), "");
        assert_eq!(
            render(delta(90.0, Some(Some(100.0)), false)),
            "<span class=\"d better\">-10.00%</span>"
        );
        assert_eq!(
            render(delta(110.0, Some(Some(100.0)), false)),
            "<span class=\"d worse\">+10.00%</span>"
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
