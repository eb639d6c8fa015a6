//! `mcubench run ELF --target NAME`: one image on one modeled MCU.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mcubench::machine::RunOptions;
use mcubench::run::{run_image, RunRecord};
use mcubench::target::Target;

/// Arguments of `mcubench run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Firmware image (ELF).
    elf: PathBuf,
    /// Target name (see `mcubench targets`) or a path to a target file.
    #[arg(long, short)]
    target: String,
    /// Run at this clock instead of the target's default; wait states follow.
    #[arg(long, value_parser = super::positive_number)]
    clock_mhz: Option<f64>,
    /// Supply the part at this voltage instead of the target's; currents follow
    /// its regulator (LDO: same current, SMPS: same power).
    #[arg(long, value_parser = super::positive_number)]
    vdd: Option<f64>,
    /// Stop with an error after this many modeled cycles.
    #[arg(long, default_value_t = RunOptions::default().max_cycles)]
    max_cycles: u64,
    /// Stop with an error after this many host seconds.
    #[arg(long, default_value_t = RunOptions::default().wall_limit.as_secs())]
    wall_limit_s: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Functions shown in the table's profile.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
    /// Record block counts into this file, for `mcubench reprice`.
    #[arg(long)]
    record_trace: Option<PathBuf>,
    /// Also report the average draw when the run repeats every this many ms,
    /// asleep in between.
    #[arg(long, value_parser = super::positive_number)]
    period_ms: Option<f64>,
    /// Battery capacity in mAh, for its life at the draw of --period-ms and at
    /// the firmware's own duty cycle.
    #[arg(long, value_parser = super::positive_number)]
    battery_mah: Option<f64>,
    /// Bytes the firmware's console UART receives, as if typed at a terminal
    /// (a file, at most 16 MiB).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Make accesses to peripheral registers that no model serves errors
    /// (by default they keep what is written and are listed in the record).
    #[arg(long)]
    strict_peripherals: bool,
    /// Arguments passed to the firmware through SYS_GET_CMDLINE: everything
    /// after the image from the first word that is not one of these options (or
    /// after `--`), as a cargo runner appends them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    firmware_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Runs the image and prints its record; exit 0 only when the firmware exited 0.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut target = super::catalog(args.targets_dir)?.find(&args.target)?;
    if let Some(mhz) = args.clock_mhz {
        target = target.with_clock(mhz)?;
    }
    if let Some(vdd) = args.vdd {
        target = target.with_vdd(vdd)?;
    }
    let name = args
        .elf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cmdline = std::iter::once(name)
        .chain(args.firmware_args)
        .collect::<Vec<_>>()
        .join(" ");
    let options = RunOptions {
        max_cycles: args.max_cycles,
        wall_limit: Duration::from_secs(args.wall_limit_s),
        cmdline,
        record_trace: args.record_trace.is_some(),
        strict_peripherals: args.strict_peripherals,
        stream_output: args.format == Format::Table,
        console_input: match &args.input {
            Some(path) => read_input(path)?,
            None => Vec::new(),
        },
    };
    if args.format == Format::Table {
        print!("{}", header(&args.elf.display().to_string(), &target));
        println!("--- firmware output ---");
    }
    let mut record = run_image(&args.elf, &target, &options)?;
    if let Some(period_ms) = args.period_ms {
        record.duty_cycle = Some(record.at_period(&target, period_ms, args.battery_mah)?);
    }
    record.firmware_duty_cycle = record.own_duty_cycle(args.battery_mah);
    if let (Some(path), Some(trace)) = (&args.record_trace, &record.trace) {
        let json = serde_json::to_vec(trace).context("encoding the trace")?;
        mcubench_reports::output::write_atomic(path, &json)?;
    }
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&record).context("encoding the record")?
        ),
        Format::Table => {
            println!("-----------------------");
            print!("{}", figures(&record, args.top));
        }
    }
    for warning in &record.warnings {
        eprintln!("warning: {}: {warning}", record.image);
    }
    if let Some(error) = &record.error {
        eprintln!("error: {error}");
    } else if record.exit_code != Some(0) {
        eprintln!(
            "error: {}: firmware exited with status {}",
            record.image,
            record.exit_code.unwrap_or(-1)
        );
    }
    // The firmware's own exit code where it has one, as probe-rs and QEMU
    // runners do; 1 when it failed without one.
    Ok(match (&record.error, record.exit_code) {
        (None, Some(status)) => ExitCode::from(process_status(status)),
        _ => ExitCode::from(1),
    })
}

/// The firmware's exit status as a process's: its low byte, as a host's
/// `exit(-1)` gives 255, except that a failure never reads as success (a
/// nonzero status whose low byte is 0, such as 256, gives 1).
fn process_status(status: i32) -> u8 {
    match status.to_le_bytes()[0] {
        0 if status != 0 => 1,
        low => low,
    }
}

/// Most bytes `--input` takes: far above what a console session sends, and a
/// bound on what a stray path can make the host read.
const MAX_INPUT_BYTES: u64 = 16 << 20;

/// The bytes of `--input`, bounded.
fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    mcubench_reports::input::read_bounded(path, MAX_INPUT_BYTES)
        .with_context(|| format!("{}: cannot read the console input", path.display()))
}

/// The first line of a run's summary: what runs where.
fn header(image: &str, target: &Target) -> String {
    format!(
        "{image} on {} ({}, {} MHz, {} WS, {:.2} V {})\n",
        target.name,
        target.core,
        target.clock_mhz,
        target.wait_states(),
        target.energy.vdd_v,
        target.energy.regulator
    )
}

/// The figures of a run: what follows the firmware's output.
fn figures(r: &RunRecord, top: usize) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if !r.per_call.is_empty() {
        let _ = writeln!(
            out,
            "per call:\n  {:<24} {:>14} {:>12} {:>12} {:>10}",
            "region", "cycles", "ms", "µJ", "mW"
        );
        for c in &r.per_call {
            let _ = writeln!(
                out,
                "  {:<24} {:>14.0} {:>12.3} {:>12.3} {:>10.3}",
                c.region,
                c.cycles,
                c.time_us / 1000.0,
                c.energy_uj,
                c.avg_power_mw
            );
        }
        out.push_str("whole run:\n");
    }
    let exit = r.exit_code.map_or("none".to_owned(), |c| c.to_string());
    let rows = [
        ("exit code", exit),
        ("cycles", r.cycles.to_string()),
        ("instructions", r.instructions.to_string()),
        ("CPI", format!("{:.3}", r.cpi)),
        ("time", format!("{:.3} µs", r.time_us)),
        (
            "asleep",
            format!(
                "{:.3} µs ({:.1}%), {:.3} µJ",
                r.sleep_time_us,
                100.0 * r.sleep_time_us / r.time_us.max(f64::MIN_POSITIVE),
                r.sleep_energy_uj
            ),
        ),
        ("energy", format!("{:.3} µJ", r.energy_uj)),
        ("average power", format!("{:.3} mW", r.avg_power_mw)),
        ("flash wait cycles", r.flash_stall_cycles.to_string()),
        (
            "stack peak",
            match r.stack_reserved_bytes {
                Some(reserved) => format!("{} B of {reserved} B reserved", r.stack_peak_bytes),
                None => format!("{} B", r.stack_peak_bytes),
            },
        ),
        (
            "heap peak",
            r.heap_peak_bytes
                .map_or("no _sbrk".to_owned(), |b| format!("{b} B")),
        ),
        (
            "flash",
            format!("{} / {} B", r.flash_bytes, r.flash_capacity_bytes),
        ),
        (
            "RAM",
            format!("{} / {} B", r.ram_bytes, r.ram_capacity_bytes),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<18} {v}");
    }
    // Each RAM region apart where there are several: one can be full while
    // the sum looks roomy.
    for m in r.ram_regions.iter().filter(|_| r.ram_regions.len() > 1) {
        let name = format!("  {}", m.name);
        let _ = writeln!(
            out,
            "  {name:<18} {} / {} B",
            m.used_bytes, m.capacity_bytes
        );
    }
    if r.deep_sleep_wakeups > 0 {
        let _ = writeln!(
            out,
            "  {:<18} {} from deep sleep, {:.3} µJ",
            "wake-ups", r.deep_sleep_wakeups, r.wakeup_energy_uj
        );
    }
    let cycles = [
        r.duty_cycle
            .as_ref()
            .map(|d| (d, format!("every {} ms", d.period_ms))),
        r.firmware_duty_cycle
            .as_ref()
            .map(|d| (d, format!("own, {:.3} ms", d.period_ms))),
    ];
    for (d, label) in cycles.into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {:<18} {:.4} mW, {:.4} mA",
            label, d.avg_power_mw, d.avg_current_ma
        );
        if let Some(hours) = d.battery_life_h {
            let _ = writeln!(
                out,
                "  {:<18} {:.1} h ({:.1} days)",
                "battery life",
                hours,
                hours / 24.0
            );
        }
    }
    if let Some(fault) = &r.handled_fault {
        let _ = writeln!(out, "  {:<18} {fault}", "handled fault");
    }
    if r.clocks.len() > 1 {
        let _ = writeln!(
            out,
            "clocks (as the firmware set them):\n  {:>10} {:>4} {:>8} {:>14}",
            "MHz", "WS", "caches", "cycles"
        );
        for c in &r.clocks {
            let flag = |on: bool, letter: char| if on { letter } else { '-' };
            let caches: String = [
                flag(c.flash.prefetch, 'P'),
                flag(c.flash.icache, 'I'),
                flag(c.flash.dcache, 'D'),
            ]
            .iter()
            .collect();
            let _ = writeln!(
                out,
                "  {:>10.3} {:>4} {:>8} {:>14}",
                c.hclk_hz as f64 / 1e6,
                c.flash.wait_states,
                caches,
                c.cycles
            );
        }
    }
    if !r.peripherals.is_empty() {
        let _ = writeln!(
            out,
            "peripherals touched:\n  {:<12} {:<10} {:>10} {:>8} {:>8}",
            "block", "register", "address", "reads", "writes"
        );
        for p in &r.peripherals {
            let _ = writeln!(
                out,
                "  {:<12} {:<10} {:#010x} {:>8} {:>8}{}",
                p.peripheral,
                p.register,
                p.address,
                p.reads,
                p.writes,
                if p.modeled {
                    ""
                } else {
                    "  (not modeled: keeps writes)"
                }
            );
        }
    }
    if !r.regions.is_empty() {
        let _ = writeln!(
            out,
            "regions:\n  {:<24} {:>8} {:>14} {:>14} {:>12}",
            "name", "calls", "cycles", "cycles/call", "µJ"
        );
        for g in &r.regions {
            let _ = writeln!(
                out,
                "  {:<24} {:>8} {:>14} {:>14} {:>12.3}",
                g.name,
                g.calls,
                g.cycles,
                g.cycles / g.calls.max(1),
                g.energy_uj
            );
        }
    }
    if !r.profile.is_empty() && top > 0 {
        let _ = writeln!(
            out,
            "profile (top {top} by self cycles):\n  {:<32} {:>14} {:>14} {:>8} {:>7}",
            "function", "self", "total", "calls", "self %"
        );
        for f in r.profile.iter().take(top) {
            let share = 100.0 * f.self_cycles as f64 / r.cycles.max(1) as f64;
            let _ = writeln!(
                out,
                "  {:<32} {:>14} {:>14} {:>8} {:>6.2}%",
                f.name, f.self_cycles, f.total_cycles, f.calls, share
            );
        }
    }
    let _ = writeln!(
        out,
        "host: {:.1} ms, {:.1} MIPS",
        r.host.wall_ms, r.host.mips
    );
    out
}
