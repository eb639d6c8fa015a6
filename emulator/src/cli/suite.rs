//! `mcubench suite [MANIFEST]`: every workload on every target, in parallel,
//! into DIR/results.json and DIR/index.html.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use mcubench::machine::RunOptions;
use mcubench::suite::{
    check_images, jobs, repeated_target, run_suite, Filter, Manifest, Shard, SuiteOptions,
    TargetEntry, Worker,
};
use mcubench_reports::numbers::{bytes, energy_uj, figure, thousands, time_us};
use mcubench_reports::table::{Cell, Column, Table};
use mcubench_reports::{json, Status};

use super::console::{self, Console};
use super::Format;

/// Arguments of `mcubench suite`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Suite manifest (default: workloads/suite.toml in the working directory,
    /// else the shipped suite, written to OUT/shipped-suite first).
    manifest: Option<PathBuf>,
    /// Comma-separated targets, each maybe at its own clock, as in
    /// `stm32f407@84MHz,nrf52840` (default: the manifest's default_targets).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<TargetEntry>,
    /// Run only what matches this glob (`*`, `?`): a workload, a target or
    /// `workload@target`. Repeat it to run what matches any.
    #[arg(long = "filter", value_name = "GLOB")]
    filters: Vec<String>,
    /// Output directory for results.json and index.html.
    #[arg(long, default_value = "target/mcubench")]
    out: PathBuf,
    /// Run only shard k of n (1-based), for splitting a suite across CI machines.
    #[arg(long)]
    shard: Option<Shard>,
    /// Host seconds allowed per run.
    #[arg(long, default_value_t = RunOptions::default().wall_limit.as_secs())]
    wall_limit_s: u64,
    /// Runs at a time (default: one per CPU).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Address space one run's worker process may use, in MiB.
    #[arg(long, default_value_t = 4096)]
    memory_limit_mib: u64,
    /// Skip writing the HTML report.
    #[arg(long)]
    no_report: bool,
    /// Supply every target at this voltage instead of its own; currents follow
    /// each target's regulator.
    #[arg(long, value_parser = super::positive_number)]
    vdd: Option<f64>,
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
    /// What is printed on stdout at the end: the summary table, or the results
    /// document itself (json). The files written are the same whatever it is.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// The default manifest: a checkout's, when run from one (its images may be
/// newer than the binary's), else the shipped suite written out under `out`.
fn default_manifest(out: &Path) -> anyhow::Result<PathBuf> {
    let local = PathBuf::from("workloads/suite.toml");
    if local.is_file() {
        return Ok(local);
    }
    let dir = out.join("shipped-suite");
    mcubench::shipped::write_suite(&dir)
        .with_context(|| format!("{}: cannot write the shipped suite", dir.display()))
}

/// Runs the suite; exit 1 when any run failed or could not run (a skipped run is neither).
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let manifest_path = match args.manifest {
        Some(path) => path,
        None => default_manifest(&args.out)?,
    };
    let manifest = Manifest::load(&manifest_path)?;
    let catalog = super::catalog(args.targets_dir)?;
    let (entries, listed_in) = if args.targets.is_empty() {
        (
            manifest.suite.default_targets.clone(),
            format!("{}: default_targets", manifest_path.display()),
        )
    } else {
        (args.targets, "--targets".to_owned())
    };
    if let Some(twice) = repeated_target(&entries) {
        anyhow::bail!("{listed_in}: target `{twice}` is listed twice");
    }
    let targets = entries
        .iter()
        .map(|entry| {
            entry
                .resolve(&catalog)
                .and_then(|target| match args.vdd {
                    Some(vdd) => target.with_vdd(vdd),
                    None => Ok(target),
                })
                .with_context(|| format!("{listed_in}: entry `{entry}`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let filter = Filter::new(&args.filters)?;
    if let Some(pattern) = filter.unmatched(&manifest, &targets) {
        anyhow::bail!(
            "--filter `{pattern}` matches no workload or target of {}",
            manifest_path.display()
        );
    }
    check_images(&manifest, &manifest_path, &targets, &filter, args.shard)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output directory", args.out.display()))?;
    mcubench_reports::output::check_writable(&args.out)?;
    let options = SuiteOptions {
        targets,
        filter,
        shard: args.shard,
        run: RunOptions {
            wall_limit: Duration::from_secs(args.wall_limit_s),
            ..RunOptions::default()
        },
        worker: Some(Worker {
            exe: std::env::current_exe().context("cannot find the mcubench executable")?,
            memory_limit_mib: args.memory_limit_mib,
            grace: Duration::from_secs(30),
        }),
    };
    let total = jobs(&manifest, &options.targets, &options.filter, options.shard).len();
    let bar = (std::io::stderr().is_terminal() && !console.quiet).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let done = Mutex::new(0usize);
    let progress = |run: &mcubench_reports::Run| {
        let line = format!(
            "{} on {}: {}",
            run.workload,
            run.target,
            run.status.as_str()
        );
        match &bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(line);
            }
            None => {
                let mut n = done.lock().unwrap_or_else(|e| e.into_inner());
                *n += 1;
                console.note(format_args!("[{n}/{total}] {line}"));
            }
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.map_or(0, usize::from))
        .build()
        .context("cannot start the suite's threads")?;
    let results = pool.install(|| run_suite(&manifest, &manifest_path, &options, &progress));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let results_path = args.out.join("results.json");
    json::write_results(&results_path, &results)?;
    match args.format {
        Format::Json => console::print(&json::to_json(&results)),
        Format::Table => console::print(&summary(&results, Format::Table)),
        Format::Markdown => console::print(&summary(&results, Format::Markdown)),
    }
    console.note(format_args!("results: {}", results_path.display()));
    if !args.no_report {
        let page = mcubench_reports::html::write_report(&results_path, None, &args.out)?;
        console.note(format_args!("report:  {}", page.display()));
    }
    let failed = results
        .runs
        .iter()
        .any(|r| matches!(r.status, Status::Failed | Status::Error));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One row per run: the figures a reader scans first, one call of the
/// headline region (one inference, one training step) ahead of the whole run;
/// then the error of each run that has one.
fn summary(results: &mcubench_reports::Results, format: Format) -> String {
    let mut table = Table::new(vec![
        Column::left("workload").wrap_at(32),
        Column::left("target"),
        Column::left("status"),
        Column::right("time/call"),
        Column::right("energy/call"),
        Column::right("cycles"),
        Column::right("time"),
        Column::right("energy"),
        Column::right("cyc/MAC"),
        Column::right("stack"),
    ]);
    let mut errors = String::new();
    for r in &results.runs {
        let (per_call_time, per_call_energy) = r
            .per_call
            .as_ref()
            .map_or(("-".to_owned(), "-".to_owned()), |c| {
                (time_us(c.time_us), energy_uj(c.energy_uj))
            });
        table.row([
            Cell::from(r.workload.clone()),
            Cell::from(r.target.clone()),
            Cell::styled(r.status.as_str(), status_style(r.status)),
            Cell::from(per_call_time),
            Cell::from(per_call_energy),
            Cell::from(thousands(r.cycles)),
            Cell::from(time_us(r.time_us)),
            Cell::from(energy_uj(r.energy_uj)),
            Cell::from(
                r.cycles_per_mac
                    .map_or("-".to_owned(), |c| figure(c, false)),
            ),
            Cell::from(bytes(r.stack_peak_bytes)),
        ]);
        if let Some(e) = &r.error {
            let key = format!("{}@{}", r.workload, r.target);
            errors.push_str(&match format {
                Format::Markdown => format!(
                    "- {}: {}\n",
                    mcubench_reports::markdown::escape(&key),
                    mcubench_reports::markdown::escape(e)
                ),
                _ => format!("{key}: {e}\n"),
            });
        }
    }
    let mut out = console::section(format, "", &table);
    if !errors.is_empty() {
        out.push('\n');
        out.push_str(&errors);
    }
    out
}

/// A run's status in colour: what passed green, what failed red, what was
/// skipped (not a failure) yellow.
fn status_style(status: Status) -> anstyle::Style {
    let colour = match status {
        Status::Ok => anstyle::AnsiColor::Green,
        Status::Failed | Status::Error => anstyle::AnsiColor::Red,
        Status::Skipped => anstyle::AnsiColor::Yellow,
    };
    colour.on_default()
}
