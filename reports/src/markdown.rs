//! The comparison as a GitHub-flavoured markdown table, sized for a PR comment or
//! `$GITHUB_STEP_SUMMARY`: a verdict line, how the two sides were produced differently,
//! one row per run and metric (runs measured in another configuration marked ⚠️), then
//! the list of runs that fail the gate. Every string from a results file is escaped so a workload
//! name cannot break the table or inject HTML.

use std::fmt::Write;

use crate::compare::{Change, Comparison, MetricChange, RunComparison};
use crate::numbers::{delta_pct, figure};
use crate::results::Status;

/// Renders `comparison`; the labels (usually file paths) say which side is which.
pub fn render(comparison: &Comparison, base_label: &str, new_label: &str) -> String {
    let failures = comparison.failures();
    let mut out = String::new();
    let verdict = if failures.is_empty() {
        "✅ no regressions".to_owned()
    } else {
        format!(
            "❌ {} past the limits",
            plural(failures.len(), "regression")
        )
    };
    let _ = writeln!(
        out,
        "### mcubench: {} — {verdict}\n",
        escape(&comparison.suite)
    );
    let limits = &comparison.limits;
    let metrics: Vec<_> = limits.metrics.iter().map(|m| m.name()).collect();
    let _ = write!(
        out,
        "Base: {} · New: {} · Metrics: {} · Soft limit: +{}%",
        escape(base_label),
        escape(new_label),
        metrics.join(", "),
        limits.max_regression_pct
    );
    for (m, pct) in limits.own_limits() {
        let _ = write!(out, " ({m}: +{pct}%)");
    }
    for (m, bound) in limits.hard_limits(|m, v| figure(v, m.is_integer())) {
        let _ = write!(out, " · Hard limit: {m} ≤ {bound}");
    }
    out.push_str("\n\n");
    for d in &comparison.differences {
        let _ = writeln!(out, "⚠️ {}\n", escape(&d.to_string()));
    }
    for (run, d) in comparison.config_changes() {
        let _ = writeln!(
            out,
            "⚠️ {}: {} — another configuration, not a change\n",
            escape(&run.key()),
            escape(&d.to_string())
        );
    }
    out.push_str(&counts(comparison));
    out.push_str("\n\n| Run | Status | Metric | Base | New | Δ | Result |\n");
    out.push_str("| --- | --- | --- | ---: | ---: | ---: | --- |\n");
    for run in &comparison.runs {
        rows(&mut out, run);
    }
    if !failures.is_empty() {
        out.push_str("\n**Fails the gate:**\n\n");
        for f in &failures {
            let _ = writeln!(out, "- {}", escape(f));
        }
    }
    out
}

fn counts(comparison: &Comparison) -> String {
    let (mut improved, mut unchanged, mut regressed, mut over) = (0, 0, 0, 0);
    for m in comparison.runs.iter().flat_map(|r| &r.metrics) {
        match m.change {
            Change::Improved => improved += 1,
            Change::Unchanged => unchanged += 1,
            Change::Regressed => regressed += 1,
            Change::OverLimit => over += 1,
            Change::NotComparable => {}
        }
    }
    let one_side =
        |pick: fn(&RunComparison) -> bool| comparison.runs.iter().filter(|r| pick(r)).count();
    let added = one_side(|r| r.base_status.is_none());
    let removed = one_side(|r| r.new_status.is_none());
    let broke = one_side(RunComparison::status_regressed);
    format!(
        "{improved} improved · {unchanged} unchanged · {regressed} regressed within the limit · \
         {over} over the limit · {broke} newly failing · {added} added · {removed} removed"
    )
}

fn rows(out: &mut String, run: &RunComparison) {
    let mut name = format!("{} @ {}", escape(&run.workload), escape(&run.target));
    if !run.config_changes.is_empty() {
        name.push_str(" ⚠️");
    }
    let status = match (run.base_status, run.new_status) {
        (Some(b), Some(n)) if b == n => b.as_str().to_owned(),
        (b, n) => format!("{} → {}", status_word(b), status_word(n)),
    };
    if run.metrics.is_empty() {
        let result = if run.status_regressed() {
            "❌ now failing"
        } else if run.base_status.is_none() {
            "🆕 added"
        } else if run.new_status.is_none() {
            "➖ removed"
        } else if run.new_status == Some(Status::Ok) {
            "✅ fixed"
        } else {
            "➖ not compared"
        };
        let _ = writeln!(out, "| {name} | {status} | — | — | — | — | {result} |");
    }
    for m in &run.metrics {
        let _ = writeln!(
            out,
            "| {name} | {status} | {} | {} | {} | {} | {} |",
            m.metric,
            side(m, m.base),
            side(m, m.new),
            match m.change {
                Change::NotComparable => "—".to_owned(),
                _ => delta_pct(m.delta_pct),
            },
            change_word(m.change)
        );
    }
    // Ceilings that hold are stated once in the header; only breaches get a row.
    for c in run.ceilings.iter().filter(|c| c.exceeded()) {
        let _ = writeln!(
            out,
            "| {name} | {status} | {} ≤ {} | — | {} | — | 🔴 over the hard limit |",
            c.ceiling.metric,
            figure(c.limit, c.ceiling.metric.is_integer()),
            figure(c.value, c.ceiling.metric.is_integer()),
        );
    }
}

fn side(m: &MetricChange, value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| figure(v, m.metric.is_integer()))
}

fn status_word(status: Option<Status>) -> &'static str {
    status.map_or("—", Status::as_str)
}

fn change_word(change: Change) -> &'static str {
    match change {
        Change::Improved => "🟢 improved",
        Change::Unchanged => "⚪ unchanged",
        Change::Regressed => "🟡 regressed (within limit)",
        Change::OverLimit => "🔴 regressed",
        Change::NotComparable => "➖ not comparable",
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Escapes text for a markdown table cell: no pipes, no HTML, no emphasis, one line.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
