//! `mcubench reprice TRACE --target NAME`: a recorded run priced for another
//! target, core or clock without emulating again.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench::target::Core;
use mcubench::trace::Trace;

/// Arguments of `mcubench reprice`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace written by `mcubench run --record-trace`.
    trace: PathBuf,
    /// Target to price for (memory map compatible with the image).
    #[arg(long, short)]
    target: String,
    /// Price for this core instead of the target's (same memory map).
    #[arg(long, value_enum)]
    core: Option<Core>,
    /// Price at this clock; wait states follow.
    #[arg(long, value_parser = super::positive_number)]
    clock_mhz: Option<f64>,
    /// Price at this supply voltage; currents follow the regulator.
    #[arg(long, value_parser = super::positive_number)]
    vdd: Option<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
}

/// Prints the re-priced figures.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut target = super::catalog(args.targets_dir)?.find(&args.target)?;
    if let Some(mhz) = args.clock_mhz {
        target = target.with_clock(mhz)?;
    }
    if let Some(vdd) = args.vdd {
        target = target.with_vdd(vdd)?;
    }
    let trace = Trace::load(&args.trace)?;
    let priced = trace.reprice(&target, args.core)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&priced)?);
    } else {
        println!(
            "{} recorded on {}, priced for {} ({}, {} MHz)",
            trace.image, trace.target, priced.target, priced.core, priced.clock_mhz
        );
        println!("  cycles             {}", priced.cycles);
        println!("  instructions       {}", priced.instructions);
        println!("  flash wait cycles  {}", priced.flash_stall_cycles);
        println!("  time               {:.3} µs", priced.time_us);
        println!("  energy             {:.3} µJ", priced.energy_uj);
    }
    Ok(ExitCode::SUCCESS)
}
