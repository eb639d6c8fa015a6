//! `mcubench worker`: one suite run in a process of its own, its record as JSON
//! on stdout. The suite starts these; users have no need to.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mcubench::machine::RunOptions;
use mcubench::suite::run_job;
use mcubench::target::Catalog;

/// Arguments of `mcubench worker`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The suite manifest.
    manifest: PathBuf,
    /// The workload to run.
    #[arg(long)]
    workload: String,
    /// The target to run it on: a shipped target's name, or a target file
    /// (a path ending in `.toml`).
    #[arg(long)]
    target: String,
    /// Core clock in MHz.
    #[arg(long)]
    clock_mhz: f64,
    /// Supply voltage in V.
    #[arg(long)]
    vdd: f64,
    /// Host seconds allowed for the run.
    #[arg(long)]
    wall_limit_s: u64,
    /// Address space this process may use, in MiB.
    #[arg(long)]
    memory_limit_mib: u64,
}

/// Runs the job and prints its record.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes = args.memory_limit_mib.saturating_mul(1 << 20);
    rlimit::setrlimit(rlimit::Resource::AS, bytes, bytes)
        .context("cannot limit the worker's address space")?;
    let target = Catalog::shipped()
        .find(&args.target)?
        .with_clock(args.clock_mhz)?
        .with_vdd(args.vdd)?;
    let options = RunOptions {
        wall_limit: Duration::from_secs(args.wall_limit_s),
        ..RunOptions::default()
    };
    let record = run_job(&args.manifest, &args.workload, &target, &options)?;
    println!("{}", serde_json::to_string(&record)?);
    Ok(ExitCode::SUCCESS)
}
