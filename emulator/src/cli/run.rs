//! `mcubench run ELF --target NAME`: one image on one modeled MCU.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mcubench::image::Image;
use mcubench::machine::{
    check_watched_text, RunOptions, MAX_CONSOLE_INPUT_BYTES, MAX_WINDOW_CALLS,
};
use mcubench::run::{run_image, run_loaded, RunError, RunRecord};
use mcubench::target::Target;
use mcubench_reports::numbers::{bytes, count, energy_uj, grouped, power_mw, thousands, time_us};
use mcubench_reports::table::{Column, Table};

use super::console::{self, Console};
use super::Format;

/// Arguments of `mcubench run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Firmware image (ELF; a raw flash image with --load-address).
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
    /// Output format on stdout; with `table` the firmware's output streams
    /// there first, between a header and the figures.
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
    /// Read the image as raw flash bytes (a `.bin`, as vendor tools also ship
    /// firmware) loaded at this address, e.g. 0x08000000, its vector table first
    #[arg(long, value_name = "ADDR", value_parser = address)]
    load_address: Option<u32>,
    /// Hold the --input bytes until the firmware's UART has sent this text
    /// (its prompt, e.g. `m-ready`), as a host waits before it types
    #[arg(long, value_name = "TEXT", requires = "input", value_parser = console_text)]
    input_after: Option<String>,
    /// End the run once the firmware has printed this text, as if it exited
    /// with status 0 (e.g. the last line of a test or benchmark session)
    #[arg(long, value_name = "TEXT", value_parser = console_text)]
    until: Option<String>,
    /// Measure the run between the firmware printing FROM and printing TO as
    /// the region `window` (again at each FROM), for firmware without markers
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"], value_parser = console_text)]
    window: Option<Vec<String>>,
    /// Calls of the measured work one --window holds, e.g. the inferences a
    /// benchmark session runs between its two lines
    #[arg(long, value_name = "N", requires = "window", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=MAX_WINDOW_CALLS))]
    window_calls: u64,
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

/// Runs the image and prints its record; exit 0 only when the firmware exited 0.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
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
        input_after: args.input_after.unwrap_or_default().into_bytes(),
        until: args.until.unwrap_or_default().into_bytes(),
        window: args.window.map(|texts| {
            let [from, to] = [&texts[0], &texts[1]].map(|t| t.as_bytes().to_vec());
            (from, to, args.window_calls)
        }),
    };
    // Under --quiet only the firmware's own output is left of the table format.
    let framed = args.format == Format::Table && !console.quiet;
    let header = header(&args.elf.display().to_string(), &target);
    if framed {
        console::print(&format!("{header}\n--- firmware output ---\n"));
    }
    let mut record = match args.load_address {
        Some(base) => {
            let image = Image::load_raw(&args.elf, base).map_err(RunError::from)?;
            run_loaded(Arc::new(image), &target, &options)?
        }
        None => run_image(&args.elf, &target, &options)?,
    };
    if let Some(period_ms) = args.period_ms {
        record.duty_cycle = Some(record.at_period(&target, period_ms, args.battery_mah)?);
    }
    record.firmware_duty_cycle = record.own_duty_cycle(args.battery_mah);
    if let (Some(path), Some(trace)) = (&args.record_trace, &record.trace) {
        let json = serde_json::to_vec(trace).context("encoding the trace")?;
        mcubench_reports::output::write_atomic(path, &json)?;
    }
    match args.format {
        Format::Json => console::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&record).context("encoding the record")?
        )),
        Format::Table if framed => console::print(&format!(
            "-----------------------\n{}",
            figures(&record, args.top, Format::Table)
        )),
        Format::Table => {}
        Format::Markdown => console::print(&format!(
            "### {}\n\n{}",
            mcubench_reports::markdown::escape(&header),
            figures(&record, args.top, Format::Markdown)
        )),
    }
    for warning in &record.warnings {
        console.warning(format_args!("{}: {warning}", record.image));
    }
    if let Some(error) = &record.error {
        console::error(error);
    } else if record.exit_code != Some(0) {
        console::error(format_args!(
            "{}: firmware exited with status {}",
            record.image,
            record.exit_code.unwrap_or(-1)
        ));
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

/// A `--load-address`: hexadecimal with `0x`, else decimal.
fn address(text: &str) -> Result<u32, String> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .map_err(|_| format!("{text:?} is not a 32-bit address"))
}

/// A text to watch the console for (`--input-after`, `--until`, `--window`).
fn console_text(text: &str) -> Result<String, String> {
    check_watched_text(text).map(|()| text.to_string())
}

/// The bytes of `--input`, bounded.
fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    mcubench_reports::input::read_bounded(path, MAX_CONSOLE_INPUT_BYTES)
        .with_context(|| format!("{}: cannot read the console input", path.display()))
}

/// The first line of a run's summary: what runs where.
fn header(image: &str, target: &Target) -> String {
    format!(
        "{image} on {} ({}, {} MHz, {} WS, {:.2} V {})",
        target.name,
        target.core,
        target.clock_mhz,
        target.wait_states(),
        target.energy.vdd_v,
        target.energy.regulator
    )
}

/// Widest a region's or a function's name grows before it wraps: demangled C++
/// and Rust symbols run to hundreds of characters.
const NAME_WIDTH: usize = 48;

/// The figures of a run, what follows the firmware's output: one table per
/// section, as terminal columns or markdown.
fn figures(r: &RunRecord, top: usize, format: Format) -> String {
    let mut sections = Vec::new();
    if !r.per_call.is_empty() {
        let mut table = Table::new(vec![
            Column::left("region").wrap_at(NAME_WIDTH),
            Column::right("cycles"),
            Column::right("time"),
            Column::right("energy"),
            Column::right("average power"),
        ]);
        for c in &r.per_call {
            table.row([
                c.region.clone(),
                count(c.cycles),
                time_us(c.time_us),
                energy_uj(c.energy_uj),
                power_mw(c.avg_power_mw),
            ]);
        }
        sections.push(console::section(format, "per call:", &table));
    }
    sections.push(console::section(format, "", &whole_run(r)));
    if r.clocks.len() > 1 {
        sections.push(console::section(
            format,
            "clocks (as the firmware set them):",
            &clocks(r),
        ));
    }
    if !r.peripherals.is_empty() {
        let mut table = Table::new(vec![
            Column::left("block"),
            Column::left("register"),
            Column::right("address"),
            Column::right("reads"),
            Column::right("writes"),
            Column::left("note"),
        ]);
        for p in &r.peripherals {
            table.row([
                p.peripheral.clone(),
                p.register.clone(),
                format!("{:#010x}", p.address),
                thousands(p.reads),
                thousands(p.writes),
                if p.modeled {
                    ""
                } else {
                    "no model: keeps writes"
                }
                .to_owned(),
            ]);
        }
        sections.push(console::section(format, "peripherals touched:", &table));
    }
    if !r.regions.is_empty() {
        let mut table = Table::new(vec![
            Column::left("region").wrap_at(NAME_WIDTH),
            Column::right("calls"),
            Column::right("cycles"),
            Column::right("cycles/call"),
            Column::right("energy"),
        ]);
        for g in &r.regions {
            table.row([
                g.name.clone(),
                thousands(g.calls),
                thousands(g.cycles),
                thousands(g.cycles / g.calls.max(1)),
                energy_uj(g.energy_uj),
            ]);
        }
        sections.push(console::section(format, "regions:", &table));
    }
    if !r.marked_regions.is_empty() {
        let table = mcubench_reports::layers::table(&r.marked_regions);
        sections.push(console::section(format, "layers (marked regions):", &table));
    }
    if !r.profile.is_empty() && top > 0 {
        let mut table = Table::new(vec![
            Column::left("function").wrap_at(NAME_WIDTH),
            Column::right("self"),
            Column::right("total"),
            Column::right("calls"),
            Column::right("self %"),
        ]);
        for f in r.profile.iter().take(top) {
            let share = 100.0 * f.self_cycles as f64 / r.cycles.max(1) as f64;
            table.row([
                f.name.clone(),
                thousands(f.self_cycles),
                thousands(f.total_cycles),
                thousands(f.calls),
                format!("{share:.2}%"),
            ]);
        }
        let title = format!("profile (top {top} by self cycles):");
        sections.push(console::section(format, &title, &table));
    }
    sections.push(format!(
        "host: {}, {} MIPS\n",
        time_us(r.host.wall_ms * 1000.0),
        grouped(r.host.mips, 1)
    ));
    sections.join("\n")
}

/// The whole run's figures, one per row.
fn whole_run(r: &RunRecord) -> Table {
    let mut table = Table::new(vec![Column::left("whole run"), Column::right("")]);
    let exit = r.exit_code.map_or("none".to_owned(), |c| c.to_string());
    table.row(["exit code".to_owned(), exit]);
    table.row(["cycles".to_owned(), thousands(r.cycles)]);
    table.row(["instructions".to_owned(), thousands(r.instructions)]);
    table.row(["CPI".to_owned(), format!("{:.3}", r.cpi)]);
    table.row(["time".to_owned(), time_us(r.time_us)]);
    table.row([
        "asleep".to_owned(),
        format!(
            "{} ({:.1}%), {}",
            time_us(r.sleep_time_us),
            100.0 * r.sleep_time_us / r.time_us.max(f64::MIN_POSITIVE),
            energy_uj(r.sleep_energy_uj)
        ),
    ]);
    table.row(["energy".to_owned(), energy_uj(r.energy_uj)]);
    table.row(["average power".to_owned(), power_mw(r.avg_power_mw)]);
    table.row([
        "flash wait cycles".to_owned(),
        thousands(r.flash_stall_cycles),
    ]);
    table.row([
        "stack peak".to_owned(),
        match r.stack_reserved_bytes {
            Some(reserved) => format!(
                "{} of {} reserved",
                bytes(r.stack_peak_bytes),
                bytes(reserved)
            ),
            None => bytes(r.stack_peak_bytes),
        },
    ]);
    table.row([
        "heap peak".to_owned(),
        r.heap_peak_bytes.map_or("no _sbrk".to_owned(), bytes),
    ]);
    table.row([
        "flash".to_owned(),
        format!(
            "{} / {}",
            bytes(r.flash_bytes),
            bytes(r.flash_capacity_bytes)
        ),
    ]);
    table.row([
        "RAM".to_owned(),
        format!("{} / {}", bytes(r.ram_bytes), bytes(r.ram_capacity_bytes)),
    ]);
    // Each RAM region apart where there are several: one can be full while
    // the sum looks roomy.
    for m in r.ram_regions.iter().filter(|_| r.ram_regions.len() > 1) {
        table.row([
            format!("  {}", m.name),
            format!("{} / {}", bytes(m.used_bytes), bytes(m.capacity_bytes)),
        ]);
    }
    if r.deep_sleep_wakeups > 0 {
        table.row([
            "wake-ups".to_owned(),
            format!(
                "{} from deep sleep, {}",
                thousands(r.deep_sleep_wakeups),
                energy_uj(r.wakeup_energy_uj)
            ),
        ]);
    }
    let cycles = [
        r.duty_cycle
            .as_ref()
            .map(|d| (d, format!("every {} ms", grouped(d.period_ms, 3)))),
        r.firmware_duty_cycle
            .as_ref()
            .map(|d| (d, format!("own, {}", time_us(d.period_ms * 1000.0)))),
    ];
    for (d, label) in cycles.into_iter().flatten() {
        table.row([
            label,
            format!(
                "{}, {} mA",
                power_mw(d.avg_power_mw),
                grouped(d.avg_current_ma, 4)
            ),
        ]);
        if let Some(hours) = d.battery_life_h {
            table.row([
                "battery life".to_owned(),
                format!(
                    "{} h ({} days)",
                    grouped(hours, 1),
                    grouped(hours / 24.0, 1)
                ),
            ]);
        }
    }
    if let Some(fault) = &r.handled_fault {
        table.row(["handled fault".to_owned(), fault.clone()]);
    }
    table
}

/// The clock settings the firmware ran at, with the cycles spent at each.
fn clocks(r: &RunRecord) -> Table {
    let mut table = Table::new(vec![
        Column::right("MHz"),
        Column::right("WS"),
        Column::right("caches"),
        Column::right("cycles"),
    ]);
    for c in &r.clocks {
        let flag = |on: bool, letter: char| if on { letter } else { '-' };
        let caches: String = [
            flag(c.flash.prefetch, 'P'),
            flag(c.flash.icache, 'I'),
            flag(c.flash.dcache, 'D'),
        ]
        .iter()
        .collect();
        table.row([
            grouped(c.hclk_hz as f64 / 1e6, 3),
            c.flash.wait_states.to_string(),
            caches,
            thousands(c.cycles),
        ]);
    }
    table
}
