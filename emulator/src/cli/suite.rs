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
use mcubench_reports::{json, Status};

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
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
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
    let bar = std::io::stderr().is_terminal().then(|| {
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
                eprintln!("[{n}/{total}] {line}");
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
    print!("{}", summary(&results));
    println!("results: {}", results_path.display());
    if !args.no_report {
        let page = mcubench_reports::html::write_report(&results_path, None, &args.out)?;
        println!("report:  {}", page.display());
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

/// One line per run: the figures a reader scans first, one call of the
/// headline region (one inference, one training step) ahead of the whole run.
fn summary(results: &mcubench_reports::Results) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{:<20} {:<14} {:<7} {:>10} {:>11} {:>14} {:>11} {:>11} {:>9} {:>10}\n",
        "workload",
        "target",
        "status",
        "ms/call",
        "µJ/call",
        "cycles",
        "time ms",
        "energy µJ",
        "cyc/MAC",
        "stack B"
    );
    for r in &results.runs {
        let cpm = r
            .cycles_per_mac
            .map_or("-".to_owned(), |c| format!("{c:.2}"));
        let (ms, uj) = r
            .per_call
            .as_ref()
            .map_or(("-".to_owned(), "-".to_owned()), |c| {
                (
                    format!("{:.3}", c.time_us / 1000.0),
                    format!("{:.2}", c.energy_uj),
                )
            });
        let _ = writeln!(
            out,
            "{:<20} {:<14} {:<7} {:>10} {:>11} {:>14} {:>11.3} {:>11.2} {:>9} {:>10}",
            r.workload,
            r.target,
            r.status.as_str(),
            ms,
            uj,
            r.cycles,
            r.time_us / 1000.0,
            r.energy_uj,
            cpm,
            r.stack_peak_bytes
        );
        if let Some(e) = &r.error {
            let _ = writeln!(out, "    {e}");
        }
    }
    out
}
