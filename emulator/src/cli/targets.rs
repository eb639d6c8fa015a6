//! `mcubench targets`: the targets at a glance, shipped and from `--targets-dir`.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench::target::MemoryKind;

/// Arguments of `mcubench targets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
}

/// Prints one line per target.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let targets = super::catalog(args.targets_dir)?.load_all()?;
    println!(
        "{:<15} {:<11} {:>7} {:>4} {:>9} {:>9} {:>8} {:>12}  part",
        "name", "core", "MHz", "WS", "flash KiB", "RAM KiB", "µA/MHz", "supply"
    );
    for t in &targets {
        println!(
            "{:<15} {:<11} {:>7} {:>4} {:>9} {:>9} {:>8} {:>12}  {} ({})",
            t.name,
            t.core.name(),
            t.clock_mhz,
            t.wait_states(),
            t.capacity(&[MemoryKind::Flash]) / 1024,
            t.capacity(&[MemoryKind::Sram, MemoryKind::Tcm, MemoryKind::Ccm]) / 1024,
            t.energy.run_ua_per_mhz,
            format!("{:.2} V {}", t.energy.vdd_v, t.energy.regulator),
            t.part,
            t.vendor
        );
    }
    Ok(ExitCode::SUCCESS)
}
