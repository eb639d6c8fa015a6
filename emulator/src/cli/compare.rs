//! `mcubench compare BASE NEW`: the CI gate. Prints a markdown table (fit for a PR
//! comment or `$GITHUB_STEP_SUMMARY`) and exits 1 when any run regressed past a limit.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench_reports::compare::{self, parse_percent, Ceiling, Limits, Metric};
use mcubench_reports::{json, markdown, Error};

/// Compare two results files of the same suite, run by run (workload@target).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Baseline results.json (e.g. from the main branch).
    pub base: PathBuf,
    /// New results.json.
    pub new: PathBuf,
    /// Soft limit: largest allowed increase of any compared metric, e.g. 0.5%.
    #[arg(long, value_name = "PERCENT", default_value = "1%")]
    pub max_regression: String,
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
}

/// Exit 0 when nothing regressed past the limits, 1 when something did or a
/// run of the base is missing from the new file (named on stderr), 2 on bad
/// input or bad limits.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match gate(&args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

fn gate(args: &Args) -> Result<ExitCode, Error> {
    let limits = Limits {
        metrics: args.metric.clone(),
        max_regression_pct: parse_percent(&args.max_regression)?,
        ceilings: args
            .max
            .iter()
            .map(|c| c.parse::<Ceiling>())
            .collect::<Result<_, _>>()?,
    };
    let base = json::read_results(&args.base)?;
    let new = json::read_results(&args.new)?;
    compare::check_same_suite(&args.base, &base, &args.new, &new)?;
    let comparison = compare::compare(&base, &new, &limits);
    print!(
        "{}",
        markdown::render(
            &comparison,
            &args.base.display().to_string(),
            &args.new.display().to_string()
        )
    );
    let failures = comparison.failures();
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        eprintln!("regression: {f}");
    }
    Ok(ExitCode::from(1))
}
