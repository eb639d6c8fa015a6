//! Results in other tools' formats.
//!
//! - [`Format::Gab`]: github-action-benchmark's `customSmallerIsBetter` input, an array of
//!   `{name, unit, value, extra}`; one entry per ok run and figure.
//! - [`Format::Bmf`]: Bencher Metric Format, `{benchmark: {measure: {value}}}`; emulated
//!   figures are exact, so no `lower_value`/`upper_value` bounds are given.
//! - [`Format::Folded`]: one run's stacks as `frame;frame;leaf cycles` lines (inferno,
//!   FlameGraph).
//! - [`Format::Speedscope`]: one run's stacks as a speedscope "sampled" profile whose
//!   weights are cycles.
//!
//! All figures exported are smaller-is-better.

use std::path::Path;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::results::{Results, Run, Status};
use crate::Error;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// github-action-benchmark `customSmallerIsBetter` JSON.
    Gab,
    /// Bencher Metric Format JSON.
    Bmf,
    /// Folded stacks text of one run.
    Folded,
    /// speedscope JSON of one run.
    Speedscope,
}

/// The exported figures: (name suffix, unit, Bencher measure slug, value). Counts stay
/// integers in the JSON.
fn figures(run: &Run) -> Vec<(&'static str, &'static str, &'static str, Value)> {
    // One inference or training step leads; the whole run follows.
    let mut out = Vec::new();
    if let Some(call) = &run.per_call {
        out.push((
            "time per call",
            "us",
            "latency-per-call",
            json!(call.time_us),
        ));
        out.push((
            "energy per call",
            "uJ",
            "energy-uj-per-call",
            json!(call.energy_uj),
        ));
    }
    out.extend([
        ("cycles", "cycles", "cycles", json!(run.cycles)),
        (
            "instructions",
            "instructions",
            "instructions",
            json!(run.instructions),
        ),
        ("time", "us", "latency", json!(run.time_us)),
        ("energy", "uJ", "energy-uj", json!(run.energy_uj)),
    ]);
    if let Some(cpm) = run.cycles_per_mac {
        out.push(("cycles per MAC", "cycles/MAC", "cycles-per-mac", json!(cpm)));
    }
    out.push((
        "stack peak",
        "bytes",
        "stack-peak-bytes",
        json!(run.stack_peak_bytes),
    ));
    out.push(("flash", "bytes", "flash-bytes", json!(run.flash_bytes)));
    out.push(("RAM", "bytes", "ram-bytes", json!(run.ram_bytes)));
    out
}

fn ok_runs(results: &Results) -> impl Iterator<Item = &Run> {
    results.runs.iter().filter(|r| r.status == Status::Ok)
}

#[derive(Serialize)]
struct GabEntry {
    name: String,
    unit: &'static str,
    value: Value,
    extra: String,
}

/// github-action-benchmark `customSmallerIsBetter` JSON of every ok run.
pub fn github_action_benchmark(results: &Results) -> String {
    let entries: Vec<GabEntry> = ok_runs(results)
        .flat_map(|run| {
            figures(run)
                .into_iter()
                .map(move |(name, unit, _, value)| GabEntry {
                    name: format!("{} {name}", run.key()),
                    unit,
                    value,
                    extra: format!(
                        "{} at {} MHz, suite {}",
                        run.core, run.clock_mhz, results.provenance.suite
                    ),
                })
        })
        .collect();
    pretty(&entries)
}

/// Bencher Metric Format JSON of every ok run; benchmarks are named `workload@target`.
pub fn bencher_metric_format(results: &Results) -> String {
    let mut benchmarks = Map::new();
    for run in ok_runs(results) {
        let mut measures = Map::new();
        for (_, _, slug, value) in figures(run) {
            // Bencher's built-in latency measure is in nanoseconds.
            let value = if slug == "latency" {
                json!(run.time_us * 1000.0)
            } else {
                value
            };
            measures.insert(slug.to_owned(), json!({ "value": value }));
        }
        benchmarks.insert(run.key(), Value::Object(measures));
    }
    pretty(&benchmarks)
}

/// Folded stacks of one run, one `stack cycles` line each, zero-cycle stacks left out.
pub fn folded(run: &Run) -> String {
    run.stacks
        .iter()
        .filter(|s| s.cycles > 0)
        .map(|s| format!("{} {}\n", s.stack, s.cycles))
        .collect()
}

/// A speedscope file with one sampled profile of `run`'s stacks, weighted by cycles.
pub fn speedscope(run: &Run, exporter: &str) -> String {
    let mut frames: Vec<&str> = Vec::new();
    let mut samples = Vec::new();
    let mut weights = Vec::new();
    for s in run.stacks.iter().filter(|s| s.cycles > 0) {
        let stack: Vec<usize> = s
            .stack
            .split(';')
            .map(|name| match frames.iter().position(|f| *f == name) {
                Some(i) => i,
                None => {
                    frames.push(name);
                    frames.len() - 1
                }
            })
            .collect();
        samples.push(stack);
        weights.push(s.cycles);
    }
    let name = format!(
        "{} ({} at {} MHz, cycles)",
        run.key(),
        run.core,
        run.clock_mhz
    );
    let file = json!({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": { "frames": frames.iter().map(|f| json!({ "name": f })).collect::<Vec<_>>() },
        "profiles": [{
            "type": "sampled",
            "name": name,
            // Cycles have no time unit of their own; speedscope shows them as plain counts.
            "unit": "none",
            "startValue": 0,
            "endValue": weights.iter().sum::<u64>(),
            "samples": samples,
            "weights": weights,
        }],
        "name": name,
        "activeProfileIndex": 0,
        "exporter": exporter,
    });
    pretty(&file)
}

fn pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("plain data serializes");
    text.push('\n');
    text
}

/// Picks the run named `workload@target`, or the only run when `key` is `None`.
pub fn select_run<'a>(
    results: &'a Results,
    path: &Path,
    key: Option<&str>,
) -> Result<&'a Run, Error> {
    let available = || {
        results
            .runs
            .iter()
            .map(Run::key)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match key {
        Some(key) => results
            .runs
            .iter()
            .find(|r| r.key() == key)
            .ok_or_else(|| Error::NoSuchRun {
                path: path.to_owned(),
                run: key.to_owned(),
                available: available(),
            }),
        None => match results.runs.as_slice() {
            [only] => Ok(only),
            runs => Err(Error::RunRequired {
                path: path.to_owned(),
                count: runs.len(),
                available: available(),
            }),
        },
    }
}

/// Renders `results` (read from `path`) in `format`. `run` (`workload@target`) picks
/// the run: required for per-run formats when the file holds several, a filter otherwise.
pub fn export(
    results: &Results,
    path: &Path,
    format: Format,
    run: Option<&str>,
) -> Result<String, Error> {
    let exporter = format!("{} {}", results.tool.name, results.tool.version);
    Ok(match (format, run) {
        (Format::Gab | Format::Bmf, Some(key)) => {
            let only = Results {
                runs: vec![select_run(results, path, Some(key))?.clone()],
                ..results.clone()
            };
            export(&only, path, format, None)?
        }
        (Format::Gab, None) => github_action_benchmark(results),
        (Format::Bmf, None) => bencher_metric_format(results),
        (Format::Folded, _) => folded(select_run(results, path, run)?),
        (Format::Speedscope, _) => speedscope(select_run(results, path, run)?, &exporter),
    })
}
