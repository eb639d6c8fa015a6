//! Command-line parsing: one file per subcommand.

mod compare;
mod completions;
mod console;
mod export;
mod ldscript;
mod man;
mod merge;
mod report;
mod reprice;
mod run;
mod suite;
mod targets;
mod worker;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mcubench::target::Catalog;

/// Cycle-approximate Cortex-M emulator and TinyML benchmarking harness.
#[derive(Debug, Parser)]
#[command(name = "mcubench", version, about)]
pub struct Cli {
    /// No progress or informational lines; errors and warnings still print
    ///
    /// Silenced: the suite's progress, the `wrote FILE`, `results:` and
    /// `report:` lines on stderr, and for `run --format table` the header,
    /// separators and figures, leaving only the firmware's own output. Still
    /// printed: results asked for with --format json or markdown, the tables of
    /// the other commands, warnings, errors, and run's notes on registers no
    /// model serves.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// The version line: mcubench's, and the engine it runs on.
pub fn version() -> &'static str {
    let engine = if mcubench::machine::engine_is_patched() {
        "unicorn with mcubench's patch (engine/README.md)"
    } else {
        "unicorn as unicorn-engine-sys builds it (slower; see engine/README.md)"
    };
    let line = format!("{}, engine: {engine}", env!("CARGO_PKG_VERSION"));
    Box::leak(line.into_boxed_str())
}

/// How a command prints its result on stdout. Messages (progress, warnings,
/// errors) always go to stderr, so stdout holds only this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal: counts with thousands separators, times,
    /// energies and sizes in the unit that suits them, colour on a terminal
    /// (unless NO_COLOR is set; CLICOLOR_FORCE=1 forces it).
    Table,
    /// JSON with raw numbers in the units of the results schema, for scripts.
    Json,
    /// GitHub-flavoured markdown tables, for a PR comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one firmware image on a modeled MCU and report what it cost.
    Run(run::Args),
    /// List the shipped targets.
    Targets(targets::Args),
    /// Run a suite of workloads on several targets into results.json and a report.
    Suite(suite::Args),
    /// Render results (and a baseline) as a self-contained HTML report.
    Report(report::Args),
    /// Compare two results files (or run records) and fail on regressions.
    Compare(compare::Args),
    /// Join results files of suite shards.
    Merge(merge::Args),
    /// Export results for other tools (github-action-benchmark, Bencher, folded, speedscope).
    Export(export::Args),
    /// Print a GNU ld linker script for a target's memory map.
    Ldscript(ldscript::Args),
    /// Price a recorded run (`run --record-trace`) for another target, core or clock.
    Reprice(reprice::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Print the manual page (roff).
    Man(man::Args),
    /// Run one job of a suite in this process (the suite's worker processes).
    #[command(hide = true)]
    Worker(worker::Args),
}

pub use console::error;

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let console = console::Console { quiet: cli.quiet };
    match cli.command {
        Command::Run(args) => run::run(args, console),
        Command::Targets(args) => targets::run(args),
        Command::Suite(args) => suite::run(args, console),
        Command::Reprice(args) => reprice::run(args),
        Command::Report(args) => report::run(args, console),
        Command::Compare(args) => compare::run(args, console),
        Command::Merge(args) => merge::run(args, console),
        Command::Export(args) => export::run(args, console),
        Command::Ldscript(args) => ldscript::run(args, console),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Worker(args) => worker::run(args),
    }
}

/// A command-line number that must be finite and above zero (a clock, a
/// supply, a period, a capacity): `inf`, `nan` and negatives are refused
/// before anything runs.
fn positive_number(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a finite number above 0")),
    }
}

/// Names the directory of target files that add to or replace the shipped ones.
const TARGETS_DIR_VAR: &str = "MCUBENCH_TARGETS_DIR";

/// The targets a command can name: the shipped ones, with the files of
/// `--targets-dir`, else of `MCUBENCH_TARGETS_DIR`, added or put in their place.
pub fn catalog(flag: Option<PathBuf>) -> anyhow::Result<Catalog> {
    if let Some(dir) = flag {
        return Catalog::with_dir(&dir).context("--targets-dir");
    }
    match std::env::var_os(TARGETS_DIR_VAR) {
        Some(dir) => Catalog::with_dir(Path::new(&dir)).context(TARGETS_DIR_VAR),
        None => Ok(Catalog::shipped()),
    }
}
