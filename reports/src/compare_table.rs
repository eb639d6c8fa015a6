//! The comparison as a terminal table: the same rows as the markdown summary, with
//! figures in their units and grouped digits, improvements in green and what fails
//! the gate in red (on a terminal that takes colour; see [`crate::table`]).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::compare::{Change, Comparison, Metric, MetricChange, RunComparison};
use crate::numbers::{self, delta_pct};
use crate::table::{Cell, Column, Table};

const RED: Style = AnsiColor::Red.on_default();
const GREEN: Style = AnsiColor::Green.on_default();

/// Renders `comparison`; the labels (usually file paths) say which side is which.
pub fn render(comparison: &Comparison, base_label: &str, new_label: &str) -> String {
    let failures = comparison.failures();
    let mut out = String::new();
    let verdict = match failures.len() {
        0 => "no regressions".to_owned(),
        1 => "1 regression past the limits".to_owned(),
        n => format!("{n} regressions past the limits"),
    };
    let _ = writeln!(out, "mcubench: {} — {verdict}", comparison.suite);
    let limits = &comparison.limits;
    let metrics: Vec<_> = limits.metrics.iter().map(|m| m.name()).collect();
    let _ = write!(
        out,
        "base: {base_label}  new: {new_label}  metrics: {}  soft limit: +{}%",
        metrics.join(", "),
        limits.max_regression_pct
    );
    for (m, pct) in limits.own_limits() {
        let _ = write!(out, " ({m}: +{pct}%)");
    }
    for (m, bound) in limits.hard_limits(value) {
        let _ = write!(out, "  hard limit: {m} ≤ {bound}");
    }
    out.push('\n');
    for (run, d) in comparison.config_changes() {
        let _ = writeln!(
            out,
            "{}: {d} (another configuration, not a change)",
            run.key()
        );
    }
    let mut table = Table::new(vec![
        Column::left("run").wrap_at(40),
        Column::left("status"),
        Column::left("metric"),
        Column::right("base"),
        Column::right("new"),
        Column::right("Δ"),
        Column::left("result"),
    ]);
    for run in &comparison.runs {
        rows(&mut table, run);
    }
    out.push('\n');
    out.push_str(&table.terminal());
    out
}

fn rows(table: &mut Table, run: &RunComparison) {
    let mut name = run.key();
    if !run.config_changes.is_empty() {
        name.push_str(" (reconfigured)");
    }
    let status = match (run.base_status, run.new_status) {
        (Some(b), Some(n)) if b == n => b.as_str().to_owned(),
        (b, n) => format!(
            "{} → {}",
            b.map_or("—", |s| s.as_str()),
            n.map_or("—", |s| s.as_str())
        ),
    };
    if run.metrics.is_empty() {
        let result = if run.status_regressed() {
            Cell::styled("now failing", RED)
        } else if run.base_status.is_none() {
            Cell::from("added")
        } else if run.new_status.is_none() {
            Cell::from("removed")
        } else if run.new_status == Some(crate::Status::Ok) {
            Cell::styled("fixed", GREEN)
        } else {
            Cell::from("not compared")
        };
        let dash = || Cell::from("—");
        table.row([
            Cell::from(name.clone()),
            Cell::from(status.clone()),
            dash(),
            dash(),
            dash(),
            dash(),
            result,
        ]);
    }
    for m in &run.metrics {
        table.row([
            Cell::from(name.clone()),
            Cell::from(status.clone()),
            Cell::from(m.metric.name()),
            side(m, m.base),
            side(m, m.new),
            Cell::from(match m.change {
                Change::NotComparable => "—".to_owned(),
                _ => delta_pct(m.delta_pct),
            }),
            change(m.change),
        ]);
    }
    for c in run.ceilings.iter().filter(|c| c.exceeded()) {
        table.row([
            Cell::from(name.clone()),
            Cell::from(status.clone()),
            Cell::from(format!(
                "{} ≤ {}",
                c.ceiling.metric,
                value(c.ceiling.metric, c.limit)
            )),
            Cell::from("—"),
            Cell::from(value(c.ceiling.metric, c.value)),
            Cell::from("—"),
            Cell::styled("over the hard limit", RED),
        ]);
    }
}

fn side(m: &MetricChange, figure: Option<f64>) -> Cell {
    Cell::from(figure.map_or_else(|| "—".to_owned(), |v| value(m.metric, v)))
}

/// A figure of `metric` in its unit.
fn value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::TimeUsPerCall | Metric::TimeUs => numbers::time_us(v),
        Metric::EnergyUjPerCall | Metric::EnergyUj => numbers::energy_uj(v),
        Metric::AvgPowerMw => numbers::power_mw(v),
        Metric::CyclesPerMac => numbers::figure(v, false),
        Metric::StackPeakBytes
        | Metric::FlashBytes
        | Metric::RamBytes
        | Metric::FlashCapacityBytes
        | Metric::RamCapacityBytes => numbers::bytes(v as u64),
        Metric::Cycles | Metric::Instructions => numbers::count(v),
    }
}

fn change(change: Change) -> Cell {
    match change {
        Change::Improved => Cell::styled("improved", GREEN),
        Change::Unchanged => Cell::from("unchanged"),
        Change::Regressed => Cell::from("regressed (within limit)"),
        Change::OverLimit => Cell::styled("regressed", RED),
        Change::NotComparable => Cell::from("not comparable"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{compare, json, Limits};

    #[test]
    fn figures_carry_units_and_verdicts_their_colour() {
        let text = include_str!("../schema/example-results.json");
        let base = json::parse_results(text, Path::new("base.json")).unwrap();
        let mut new = base.clone();
        new.runs[0].cycles += new.runs[0].cycles / 50;
        new.runs[1].cycles -= 1000;
        let limits = Limits {
            metrics: vec![Metric::Cycles, Metric::TimeUs],
            ..Limits::default()
        };
        let out = render(&compare::compare(&base, &new, &limits), "a", "b");
        assert!(out.starts_with("mcubench: "), "{out}");
        assert!(out.contains("1 regression past the limits"), "{out}");
        assert!(out.contains("\u{1b}[31mregressed\u{1b}[0m"), "{out}");
        assert!(out.contains("\u{1b}[32mimproved\u{1b}[0m"), "{out}");
        let run = &base.runs[0];
        assert!(out.contains(&numbers::thousands(run.cycles)), "{out}");
        assert!(out.contains(&numbers::time_us(run.time_us)), "{out}");
    }
}
