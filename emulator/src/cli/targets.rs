//! `mcubench targets`: the targets at a glance, shipped and from `--targets-dir`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mcubench::target::{MemoryKind, Target};
use mcubench_reports::numbers::{bytes, figure, grouped};
use mcubench_reports::table::{Column, Table};

use super::{console, Format};

/// Arguments of `mcubench targets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Prints one row per target.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let targets = super::catalog(args.targets_dir)?.load_all()?;
    match args.format {
        Format::Json => {
            let list: Vec<_> = targets.iter().map(json).collect();
            let text = serde_json::to_string_pretty(&list).context("encoding the targets")?;
            console::print(&format!("{text}\n"));
        }
        format => console::print(&console::section(format, "", &table(&targets))),
    }
    Ok(ExitCode::SUCCESS)
}

/// Flash bytes: where the image goes.
fn flash_bytes(t: &Target) -> u64 {
    t.capacity(&[MemoryKind::Flash])
}

/// RAM bytes of every kind the firmware's data can use.
fn ram_bytes(t: &Target) -> u64 {
    t.capacity(&[MemoryKind::Sram, MemoryKind::Tcm, MemoryKind::Ccm])
}

fn table(targets: &[Target]) -> Table {
    let mut table = Table::new(vec![
        Column::left("name").wrap_at(24),
        Column::left("core"),
        Column::right("MHz"),
        Column::right("WS"),
        Column::right("flash"),
        Column::right("RAM"),
        Column::right("µA/MHz"),
        Column::right("supply"),
        Column::left("part").wrap_at(40),
    ]);
    for t in targets {
        table.row([
            t.name.clone(),
            t.core.name().to_owned(),
            figure(t.clock_mhz, true),
            t.wait_states().to_string(),
            bytes(flash_bytes(t)),
            bytes(ram_bytes(t)),
            grouped(t.energy.run_ua_per_mhz, 1),
            format!("{:.2} V {}", t.energy.vdd_v, t.energy.regulator),
            format!("{} ({})", t.part, t.vendor),
        ]);
    }
    table
}

/// One target in `--format json`: the table's figures unscaled, in their units.
fn json(t: &Target) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "core": t.core.name(),
        "clock_mhz": t.clock_mhz,
        "wait_states": t.wait_states(),
        "flash_bytes": flash_bytes(t),
        "ram_bytes": ram_bytes(t),
        "run_ua_per_mhz": t.energy.run_ua_per_mhz,
        "vdd_v": t.energy.vdd_v,
        "regulator": t.energy.regulator,
        "part": t.part,
        "vendor": t.vendor,
    })
}
