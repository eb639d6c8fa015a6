//! The comparison as one JSON document, for scripts and dashboards that act on a gate:
//! the outcome, how the two sides differ, and per run and metric the base and new figure,
//! the change in percent, the limit applied and the verdict. Keys appear in the order of
//! the structs below.

use serde::Serialize;

use crate::compare::{Change, Comparison, Difference, Outcome};

#[derive(Serialize)]
struct Document<'a> {
    base: &'a str,
    new: &'a str,
    suite: &'a str,
    /// `passed`, `regressed` or `runs_broken`.
    outcome: &'static str,
    differences: Vec<DifferenceJson<'a>>,
    runs: Vec<RunJson<'a>>,
    failures: Vec<String>,
}

#[derive(Serialize)]
struct DifferenceJson<'a> {
    field: &'static str,
    base: &'a str,
    new: &'a str,
}

#[derive(Serialize)]
struct RunJson<'a> {
    run: String,
    workload: &'a str,
    target: &'a str,
    /// `null` when the run is on one side only.
    base_status: Option<&'static str>,
    new_status: Option<&'static str>,
    config_changes: Vec<DifferenceJson<'a>>,
    metrics: Vec<MetricJson>,
    ceilings: Vec<CeilingJson>,
}

#[derive(Serialize)]
struct MetricJson {
    metric: &'static str,
    base: Option<f64>,
    new: Option<f64>,
    /// `null` when not comparable or grown from 0.
    change_pct: Option<f64>,
    limit_pct: f64,
    verdict: &'static str,
}

#[derive(Serialize)]
struct CeilingJson {
    metric: &'static str,
    value: f64,
    limit: f64,
    exceeded: bool,
}

fn difference(d: &Difference) -> DifferenceJson<'_> {
    DifferenceJson {
        field: d.field,
        base: &d.base,
        new: &d.new,
    }
}

fn verdict(change: Change) -> &'static str {
    match change {
        Change::Improved => "improved",
        Change::Unchanged => "unchanged",
        Change::Regressed => "regressed_within_limit",
        Change::OverLimit => "regressed",
        Change::NotComparable => "not_comparable",
    }
}

/// Renders `comparison` as pretty-printed JSON with a final newline; the labels (usually
/// file paths) say which side is which.
pub fn render(comparison: &Comparison, base_label: &str, new_label: &str) -> String {
    let runs = comparison
        .runs
        .iter()
        .map(|r| RunJson {
            run: r.key(),
            workload: &r.workload,
            target: &r.target,
            base_status: r.base_status.map(|s| s.as_str()),
            new_status: r.new_status.map(|s| s.as_str()),
            config_changes: r.config_changes.iter().map(difference).collect(),
            metrics: r
                .metrics
                .iter()
                .map(|m| MetricJson {
                    metric: m.metric.name(),
                    base: m.base,
                    new: m.new,
                    change_pct: m.delta_pct,
                    limit_pct: m.limit_pct,
                    verdict: verdict(m.change),
                })
                .collect(),
            ceilings: r
                .ceilings
                .iter()
                .map(|c| CeilingJson {
                    metric: c.ceiling.metric.name(),
                    value: c.value,
                    limit: c.limit,
                    exceeded: c.exceeded(),
                })
                .collect(),
        })
        .collect();
    let document = Document {
        base: base_label,
        new: new_label,
        suite: &comparison.suite,
        outcome: match comparison.outcome() {
            Outcome::Passed => "passed",
            Outcome::Regressed => "regressed",
            Outcome::RunsBroken => "runs_broken",
        },
        differences: comparison.differences.iter().map(difference).collect(),
        runs,
        failures: comparison.failures(),
    };
    // Figures read from JSON are finite, and so are changes from a base above 0.
    let mut text = serde_json::to_string_pretty(&document).expect("figures are finite");
    text.push('\n');
    text
}
