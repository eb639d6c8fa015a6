//! Command-line parsing: one file per subcommand.

mod run;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Cycle-approximate Cortex-M emulator and TinyML benchmarking harness.
#[derive(Debug, Parser)]
#[command(name = "mcubench", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one firmware image on a modeled MCU and report what it cost.
    Run(run::Args),
    /// List the shipped targets.
    Targets(targets::Args),
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Targets(args) => targets::run(args),
    }
}

/// Where target files live: `--targets-dir`, else `MCUBENCH_TARGETS`, else
/// `targets/` in the working directory, else the source tree's `targets/`.
pub fn targets_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("MCUBENCH_TARGETS").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("targets")).filter(|p| p.is_dir()))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../targets")))
}
