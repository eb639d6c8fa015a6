//! `mcubench reprice TRACE --target NAME`: a recorded run priced for another
//! target, core or clock without emulating again. The trace carries the
//! blocks' bytes and the functions' symbols: the image is not read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mcubench::target::Core;
use mcubench::trace::{Repriced, Trace};
use mcubench_reports::numbers::{energy_uj, thousands, time_us};
use mcubench_reports::table::{Column, Table};

use super::{console, Format};

/// Widest function or region name before it wraps.
const NAME_WIDTH: usize = 48;

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
    /// Functions in the profile, by self cycles.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
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
    let mut priced = trace
        .reprice(&target, args.core)
        .with_context(|| args.trace.display().to_string())?;
    priced.profile.truncate(args.top);
    match args.format {
        Format::Json => console::print(&format!("{}\n", serde_json::to_string_pretty(&priced)?)),
        format => console::print(&figures(&trace, &priced, format)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The re-priced figures as tables (terminal or markdown): the totals, the
/// regions per call, the flat profile.
fn figures(trace: &Trace, priced: &Repriced, format: Format) -> String {
    let title = format!(
        "{} recorded on {}, priced for {} ({}, {} MHz)",
        trace.image, trace.target, priced.target, priced.core, priced.clock_mhz
    );
    let mut table = Table::new(vec![Column::left("figure"), Column::right("value")]);
    table.row(["cycles".to_owned(), thousands(priced.cycles)]);
    table.row(["instructions".to_owned(), thousands(priced.instructions)]);
    table.row([
        "flash wait cycles".to_owned(),
        thousands(priced.flash_stall_cycles),
    ]);
    table.row(["time".to_owned(), time_us(priced.time_us)]);
    table.row(["energy".to_owned(), energy_uj(priced.energy_uj)]);
    let mut sections = vec![console::section(format, &title, &table)];
    if !priced.regions.is_empty() {
        let mut table = Table::new(vec![
            Column::left("region").wrap_at(NAME_WIDTH),
            Column::right("calls"),
            Column::right("cycles"),
            Column::right("cycles/call"),
            Column::right("energy/call"),
        ]);
        for g in &priced.regions {
            let calls = g.calls.max(1);
            table.row([
                g.name.clone(),
                thousands(g.calls),
                thousands(g.cycles),
                thousands(g.cycles / calls),
                energy_uj(g.energy_uj / calls as f64),
            ]);
        }
        sections.push(console::section(format, "regions:", &table));
    }
    if !priced.profile.is_empty() {
        let mut table = Table::new(vec![
            Column::left("function").wrap_at(NAME_WIDTH),
            Column::right("self"),
            Column::right("self %"),
        ]);
        for f in &priced.profile {
            let share = 100.0 * f.self_cycles as f64 / priced.cycles.max(1) as f64;
            table.row([
                f.name.clone(),
                thousands(f.self_cycles),
                format!("{share:.2}%"),
            ]);
        }
        let title = format!("profile (top {} by self cycles):", priced.profile.len());
        sections.push(console::section(format, &title, &table));
    }
    sections.join("\n")
}
