//! `mcubench compare BASE NEW`: the CI gate. Prints a markdown table (fit for a PR
//! comment or `$GITHUB_STEP_SUMMARY`), a terminal table or JSON, and says through its
//! exit code what it found, so a CI step can tell a slower build from a broken one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use mcubench_reports::compare::{
    self, parse_percent, Ceiling, Limits, Metric, MetricLimit, Outcome,
};
use mcubench_reports::json::{self, Document};
use mcubench_reports::{compare_json, compare_table, markdown};

use super::console::{self, Console};
use super::Format;

/// Compare two results files of the same suite run by run (workload@target), or
/// the records of two single runs (`mcubench run --format json`).
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_STATUS)]
pub struct Args {
    /// Baseline: results.json (e.g. from the main branch) or a run record.
    pub base: PathBuf,
    /// New results.json or run record.
    pub new: PathBuf,
    /// Soft limit: largest allowed increase of a compared metric without a
    /// --limit of its own, e.g. 0.5%.
    #[arg(long, value_name = "PERCENT", default_value = "1%")]
    pub max_regression: String,
    /// Soft limit of one metric, METRIC=PERCENT, e.g. cycles=0.5%; the metric
    /// is compared even when --metric leaves it out. Repeatable.
    #[arg(long = "limit", value_name = "METRIC=PERCENT")]
    pub limit: Vec<String>,
    /// Metrics to compare, comma separated.
    #[arg(
        long,
        value_enum,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "cycles"
    )]
    pub metric: Vec<Metric>,
    /// Hard limit on the new figures, KEY=NUMBER or KEY=FIELD, e.g.
    /// stack_peak_bytes=ram_capacity_bytes; repeatable.
    #[arg(long = "max", value_name = "KEY=VALUE")]
    pub max: Vec<String>,
    /// Compare runs whose image, target file, clock, supply or core differ
    /// (marked in the output) instead of refusing them.
    #[arg(long)]
    pub allow_config_change: bool,
    /// Output format on stdout: markdown by default, to paste into a PR comment
    /// or append to `$GITHUB_STEP_SUMMARY`; json gives per run and metric the
    /// figures, change, limit and verdict.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// Exit status when a run of the base is missing or no longer runs.
const RUNS_BROKEN: u8 = 3;

/// What the exit status means, for `--help` and the manual page.
const EXIT_STATUS: &str = "Exit status:
  0  nothing regressed past a limit
  1  a figure regressed past its limit or a hard limit (--max)
  3  a run of BASE is missing from NEW or no longer runs (checked before 1)
  2  bad input, or a run measured in another configuration (image, target
     file, clock, supply, core) without --allow-config-change";

/// Runs the gate; exit codes as [`EXIT_STATUS`] says.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    match gate(&args, console) {
        Ok(code) => Ok(code),
        Err(e) => {
            console::error(format_args!("{e:#}"));
            Ok(ExitCode::from(2))
        }
    }
}

fn gate(args: &Args, console: Console) -> anyhow::Result<ExitCode> {
    let limits = limits(args)?;
    let (mut base, base_kind) = json::read_results_or_record(&args.base)?;
    let (mut new, new_kind) = json::read_results_or_record(&args.new)?;
    // The new side takes the base's name first, so two records go by the base's.
    if new_kind == Document::RunRecord {
        compare::pair_record(&mut new, &base);
    }
    if base_kind == Document::RunRecord {
        compare::pair_record(&mut base, &new);
    }
    compare::check_same_suite(&args.base, &base, &args.new, &new)?;
    let comparison = compare::compare(&base, &new, &limits);
    if !args.allow_config_change {
        compare::check_same_config(&comparison)?;
    }
    for d in &comparison.differences {
        console.warning(d);
    }
    let (base_label, new_label) = (label(&args.base), label(&args.new));
    match args.format {
        Format::Markdown => console::print(&markdown::render(&comparison, &base_label, &new_label)),
        Format::Json => console::print(&compare_json::render(&comparison, &base_label, &new_label)),
        Format::Table => {
            console::print(&compare_table::render(&comparison, &base_label, &new_label))
        }
    }
    for f in comparison.failures() {
        eprintln!("regression: {f}");
    }
    Ok(match comparison.outcome() {
        Outcome::Passed => ExitCode::SUCCESS,
        Outcome::Regressed => ExitCode::from(1),
        Outcome::RunsBroken => ExitCode::from(RUNS_BROKEN),
    })
}

/// The limits the arguments ask for; a metric with a `--limit` of its own is compared.
fn limits(args: &Args) -> anyhow::Result<Limits> {
    let metric_limits = args
        .limit
        .iter()
        .map(|l| {
            l.parse::<MetricLimit>()
                .with_context(|| format!("--limit {l}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut metrics = args.metric.clone();
    for l in &metric_limits {
        if !metrics.contains(&l.metric) {
            metrics.push(l.metric);
        }
    }
    Ok(Limits {
        metrics,
        max_regression_pct: parse_percent(&args.max_regression)
            .with_context(|| format!("--max-regression {}", args.max_regression))?,
        metric_limits,
        ceilings: args
            .max
            .iter()
            .map(|c| c.parse::<Ceiling>().with_context(|| format!("--max {c}")))
            .collect::<anyhow::Result<_>>()?,
    })
}

fn label(path: &Path) -> String {
    path.display().to_string()
}
