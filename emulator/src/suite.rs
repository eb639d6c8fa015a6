//! Suites: a manifest of workloads, each with an image per core, run on every
//! chosen target in parallel. One run's failure is recorded with its reason
//! and the others go on; the whole set becomes one versioned results file.
//!
//! Each run can go to a worker process of its own (`mcubench worker`): a run
//! that aborts, hangs or exhausts memory then costs only its own result, and no
//! state inside one process (the emulation engine's included) is shared between
//! runs, so figures do not depend on which runs happened to share a process.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mcubench_reports::results::{self as schema, Kind, Results, Status};
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wait_timeout::ChildExt;

use crate::image::{Image, MAX_IMAGE_BYTES};
use crate::machine::{check_watched_text, RunOptions, MAX_CONSOLE_INPUT_BYTES, MAX_WINDOW_CALLS};
use crate::run::{run_loaded, RunRecord};
use crate::target::{Catalog, Core, FlashController, Origin, Target, TargetError};
use mcubench_reports::input::{read_bounded, read_text};
use mcubench_reports::record::{RecordFigures, RunContext};

/// The `[suite]` table of a manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteHeader {
    /// Suite name, recorded in results so comparisons refuse other suites.
    pub name: String,
    /// Targets used when none are given, each maybe at its own clock.
    pub default_targets: Vec<TargetEntry>,
}

/// One entry of a target list: a target's name, or a path to a target file,
/// optionally at a clock of its own (`stm32f407@84MHz`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct TargetEntry {
    /// The target's name or file.
    pub name: String,
    /// The core clock to run it at instead of the target's own, MHz.
    pub clock_mhz: Option<f64>,
}

impl std::str::FromStr for TargetEntry {
    type Err = String;
    fn from_str(text: &str) -> Result<TargetEntry, String> {
        let bad = |why: &str| format!("target `{text}`: {why}");
        let Some((name, clock)) = text.rsplit_once('@') else {
            return Ok(TargetEntry {
                name: text.to_owned(),
                clock_mhz: None,
            });
        };
        let mhz = clock
            .strip_suffix("MHz")
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| bad("expected a clock such as @84MHz after the name"))?;
        if name.is_empty() {
            return Err(bad("no target name before the clock"));
        }
        if !(mhz.is_finite() && mhz > 0.0) {
            return Err(bad("the clock must be finite and above 0 MHz"));
        }
        Ok(TargetEntry {
            name: name.to_owned(),
            clock_mhz: Some(mhz),
        })
    }
}

impl TryFrom<String> for TargetEntry {
    type Error = String;
    fn try_from(text: String) -> Result<TargetEntry, String> {
        text.parse()
    }
}

impl std::fmt::Display for TargetEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.clock_mhz {
            Some(mhz) => write!(f, "{}@{mhz}MHz", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl TargetEntry {
    /// The target this entry names, at its clock; a clock the part is not
    /// specified for is refused.
    pub fn resolve(&self, catalog: &Catalog) -> Result<Target, TargetError> {
        let target = catalog.find(&self.name)?;
        match self.clock_mhz {
            Some(mhz) => target.with_clock(mhz),
            None => Ok(target),
        }
    }
}

/// Something a workload needs from the target beyond its core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// An emulated flash controller, to erase and program flash.
    FlashController,
}

/// One `[[workload]]` of a manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Unique name.
    pub name: String,
    /// Inference or training.
    pub kind: Kind,
    /// What it measures.
    pub description: String,
    /// Image per core name, relative to the manifest.
    pub images: BTreeMap<String, PathBuf>,
    /// The region whose per-call cycles are the headline figure.
    pub roi: Option<String>,
    /// MACs of one call of the roi (inference).
    pub macs: Option<u64>,
    /// Text the firmware must print to pass.
    pub expect_stdout: Option<String>,
    /// Cycle budget.
    pub max_cycles: Option<u64>,
    /// What the target must provide.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// Where the images load when they are raw flash images (`.bin`), as
    /// vendor tools also ship firmware; ELF images need none.
    pub load_address: Option<u32>,
    /// The console session the firmware is run with.
    pub session: Option<Session>,
}

/// A console session (`run --input`, `--input-after`, `--until`, `--window`):
/// how firmware that talks a protocol, such as EEMBC's runner's, is driven
/// and measured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Bytes the console UART receives, a file relative to the manifest.
    pub input: Option<PathBuf>,
    /// Text the firmware prints before the input arrives (its prompt).
    pub input_after: Option<String>,
    /// Text that ends the run, as an exit with status 0.
    pub until: Option<String>,
    /// The two lines the region `window` is measured between.
    pub window: Option<[String; 2]>,
    /// Calls of the measured work one window holds.
    #[serde(default = "one_call")]
    pub window_calls: u64,
}

fn one_call() -> u64 {
    1
}

impl Session {
    /// Puts the session into the run's options, reading its input file from
    /// `base`; `Err` names a file that cannot be read.
    fn apply(&self, base: &Path, options: &mut RunOptions) -> Result<(), String> {
        if let Some(input) = &self.input {
            let path = base.join(input);
            options.console_input = read_bounded(&path, MAX_CONSOLE_INPUT_BYTES)
                .map_err(|e| format!("{}: cannot read the session input: {e}", path.display()))?;
        }
        let bytes = |text: &Option<String>| text.clone().unwrap_or_default().into_bytes();
        options.input_after = bytes(&self.input_after);
        options.until = bytes(&self.until);
        options.window = (self.window.as_ref()).map(|[from, to]| {
            (
                from.clone().into_bytes(),
                to.clone().into_bytes(),
                self.window_calls,
            )
        });
        Ok(())
    }

    /// What is wrong with the session, if anything.
    fn problem(&self) -> Option<String> {
        let texts = (self.input_after.iter())
            .chain(&self.until)
            .chain(self.window.iter().flatten());
        if let Some(problem) = texts.map(|t| check_watched_text(t)).find_map(Result::err) {
            return Some(format!("session: {problem}"));
        }
        if self.input_after.is_some() && self.input.is_none() {
            return Some("session `input_after` without an `input`".to_owned());
        }
        if !(1..=MAX_WINDOW_CALLS).contains(&self.window_calls) {
            return Some(format!(
                "session `window_calls` = {} is outside 1..={MAX_WINDOW_CALLS}",
                self.window_calls
            ));
        }
        None
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The suite table.
    pub suite: SuiteHeader,
    /// The workloads, in order.
    pub workload: Vec<WorkloadSpec>,
}

/// Why a suite could not be set up (bad input, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The manifest could not be read.
    #[error("{path}: cannot read: {error}")]
    Io {
        /// The manifest.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A shard specification is not `k/n` with 1 <= k <= n.
    #[error("bad shard `{0}`: expected k/n with 1 <= k <= n")]
    Shard(String),
    /// A `--filter` pattern is not a glob.
    #[error("bad filter `{pattern}`: {message}")]
    Filter {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Which runs of a suite to keep: globs (`*`, `?`, `[...]`) matched against a
/// run's workload name, its target's name and `workload@target`. With no
/// globs every run is kept.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    patterns: Vec<String>,
    globs: globset::GlobSet,
}

impl Filter {
    /// A filter keeping the runs that match any of `patterns`.
    pub fn new(patterns: &[String]) -> Result<Filter, SuiteError> {
        let mut globs = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = globset::Glob::new(pattern).map_err(|e| SuiteError::Filter {
                pattern: pattern.clone(),
                message: e.kind().to_string(),
            })?;
            globs.add(glob);
        }
        let globs = globs.build().map_err(|e| SuiteError::Filter {
            pattern: patterns.join(", "),
            message: e.to_string(),
        })?;
        Ok(Filter {
            patterns: patterns.to_vec(),
            globs,
        })
    }

    /// Indices of the patterns that match this run.
    fn matching(&self, workload: &str, target: &str) -> Vec<usize> {
        let mut found = self.globs.matches(workload);
        found.extend(self.globs.matches(target));
        found.extend(self.globs.matches(format!("{workload}@{target}")));
        found
    }

    /// Whether the run of `workload` on `target` is kept.
    pub fn keeps(&self, workload: &str, target: &str) -> bool {
        self.patterns.is_empty() || !self.matching(workload, target).is_empty()
    }

    /// The first pattern that keeps no run of `manifest` on `targets`: a
    /// mistyped name selects nothing rather than silently running less.
    pub fn unmatched(&self, manifest: &Manifest, targets: &[Target]) -> Option<&str> {
        let mut used = vec![false; self.patterns.len()];
        for w in &manifest.workload {
            for t in targets {
                for i in self.matching(&w.name, &t.name) {
                    used[i] = true;
                }
            }
        }
        let first = used.iter().position(|u| !u)?;
        Some(&self.patterns[first])
    }
}

/// Which slice of the suite's runs this invocation executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = SuiteError;
    fn from_str(s: &str) -> Result<Shard, SuiteError> {
        let bad = || SuiteError::Shard(s.to_owned());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

impl Manifest {
    /// Reads and checks a manifest.
    pub fn load(path: &Path) -> Result<Manifest, SuiteError> {
        let text = read_text(path, MAX_MANIFEST_BYTES).map_err(|error| SuiteError::Io {
            path: path.to_owned(),
            error,
        })?;
        let invalid = |message: String| SuiteError::Invalid {
            path: path.to_owned(),
            message,
        };
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| invalid(e.message().to_owned()))?;
        if let Some(twice) = repeated_target(&manifest.suite.default_targets) {
            return Err(invalid(format!(
                "default_targets: target `{twice}` is listed twice"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for w in &manifest.workload {
            if !seen.insert(&w.name) {
                return Err(invalid(format!("workload `{}` is listed twice", w.name)));
            }
            if w.images.is_empty() {
                return Err(invalid(format!("workload `{}` has no images", w.name)));
            }
            if let Some(core) = w.images.keys().find(|c| Core::from_name(c).is_none()) {
                return Err(invalid(format!(
                    "workload `{}`: unknown core `{core}`",
                    w.name
                )));
            }
            if let Some(problem) = w.session.as_ref().and_then(Session::problem) {
                return Err(invalid(format!("workload `{}`: {problem}", w.name)));
            }
            if w.kind == Kind::Inference && w.macs.is_none() {
                return Err(invalid(format!(
                    "inference workload `{}` needs `macs`",
                    w.name
                )));
            }
        }
        Ok(manifest)
    }
}

/// The first target named twice in `entries` (at any clocks: runs are told
/// apart by workload and target name).
pub fn repeated_target(entries: &[TargetEntry]) -> Option<&str> {
    entries.iter().enumerate().find_map(|(i, e)| {
        entries[..i]
            .iter()
            .any(|earlier| earlier.name == e.name)
            .then_some(e.name.as_str())
    })
}

/// Options for running a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Targets to run on, in order.
    pub targets: Vec<Target>,
    /// The runs to keep.
    pub filter: Filter,
    /// The slice of runs to execute.
    pub shard: Option<Shard>,
    /// Limits applied to every run (a workload's own `max_cycles` wins).
    pub run: RunOptions,
    /// Run each job in a worker process; `None` runs them on threads of this
    /// process: the same figures, but a crash or running out of memory there
    /// takes every run.
    pub worker: Option<Worker>,
}

/// How jobs run in processes of their own.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The `mcubench` executable, run as `mcubench worker ...`.
    pub exe: PathBuf,
    /// Address space allowed to one worker, in MiB; past it the run fails alone.
    pub memory_limit_mib: u64,
    /// Host time a worker gets past its run's wall-clock limit before it is
    /// killed: the run enforces its own limit, this only catches a worker that
    /// stopped answering.
    pub grace: Duration,
}

/// The most a worker may print: a results record is bounded well below this
/// (see `run::MAX_RECORDED_OUTPUT`), so more means the worker misbehaved.
const MAX_WORKER_OUTPUT: u64 = 256 << 20;

/// One workload × target pair.
#[derive(Debug, Clone)]
pub struct Job {
    /// Index into the manifest's workloads.
    pub workload: usize,
    /// Index into the options' targets.
    pub target: usize,
}

/// The pairs `filter` keeps in manifest × target order, restricted to `shard`.
pub fn jobs(
    manifest: &Manifest,
    targets: &[Target],
    filter: &Filter,
    shard: Option<Shard>,
) -> Vec<Job> {
    (0..manifest.workload.len())
        .flat_map(|w| {
            (0..targets.len()).map(move |t| Job {
                workload: w,
                target: t,
            })
        })
        .filter(|job| {
            filter.keeps(
                &manifest.workload[job.workload].name,
                &targets[job.target].name,
            )
        })
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| *i as u64 % s.count == s.index - 1))
        .map(|(_, job)| job)
        .collect()
}

/// The image of `spec` that `target` runs: the one built for its core, else one
/// for a core it can run. `Err` says why none applies, and the run is skipped.
pub fn pick_image<'a>(spec: &'a WorkloadSpec, target: &Target) -> Result<(Core, &'a Path), String> {
    let images = || {
        spec.images
            .iter()
            .filter_map(|(c, p)| Some((Core::from_name(c)?, p.as_path())))
    };
    if let Some(found) = images().find(|(c, _)| *c == target.core) {
        return Ok(found);
    }
    if let Some(found) = images().find(|(c, _)| target.core.runs_image_for(*c)) {
        return Ok(found);
    }
    let built: Vec<String> = spec.images.keys().cloned().collect();
    let needs_fpu = images().all(|(c, _)| c.has_fpu());
    Err(if needs_fpu && !target.core.has_fpu() {
        format!(
            "needs an FPU (images for {}), {} has a {} without one",
            built.join(", "),
            target.name,
            target.core
        )
    } else {
        format!(
            "no image for {} (images for {})",
            target.core,
            built.join(", ")
        )
    })
}

/// Fails naming the first image a job would run that is not a readable
/// regular file: a manifest pointing at a missing build is bad input, found
/// before any run starts.
pub fn check_images(
    manifest: &Manifest,
    manifest_path: &Path,
    targets: &[Target],
    filter: &Filter,
    shard: Option<Shard>,
) -> Result<(), SuiteError> {
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    for job in jobs(manifest, targets, filter, shard) {
        let spec = &manifest.workload[job.workload];
        let Ok((_, image)) = pick_image(spec, &targets[job.target]) else {
            continue;
        };
        let path = base.join(image);
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return Err(SuiteError::Invalid {
                path: manifest_path.to_owned(),
                message: format!(
                    "workload `{}`: image {} is missing or not a regular file",
                    spec.name,
                    path.display()
                ),
            });
        }
    }
    Ok(())
}

/// Runs the jobs in parallel; `progress` is told about each finished run.
pub fn run_suite(
    manifest: &Manifest,
    manifest_path: &Path,
    options: &SuiteOptions,
    progress: &(dyn Fn(&schema::Run) + Sync),
) -> Results {
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let jobs = jobs(manifest, &options.targets, &options.filter, options.shard);
    let runs: Vec<schema::Run> = jobs
        .par_iter()
        .map(|job| {
            let spec = &manifest.workload[job.workload];
            let target = &options.targets[job.target];
            let run = match &options.worker {
                Some(worker) => run_in_worker(worker, manifest_path, spec, target, &options.run),
                None => run_one(spec, target, base, &options.run),
            };
            progress(&run);
            run
        })
        .collect();
    let mut images: Vec<schema::ImageDigest> = jobs
        .iter()
        .filter_map(|job| {
            let (_, image) = pick_image(
                &manifest.workload[job.workload],
                &options.targets[job.target],
            )
            .ok()?;
            Some(schema::ImageDigest {
                path: image.display().to_string(),
                sha256: file_sha256(&base.join(image)).unwrap_or_else(|| "unreadable".into()),
            })
        })
        .collect();
    images.sort_by(|a, b| a.path.cmp(&b.path));
    images.dedup_by(|a, b| a.path == b.path);
    Results {
        schema_version: mcubench_reports::SCHEMA_VERSION.to_owned(),
        tool: schema::Tool {
            name: "mcubench".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        provenance: schema::Provenance {
            suite: manifest.suite.name.clone(),
            manifest: manifest_path.display().to_string(),
            manifest_sha256: file_sha256(manifest_path).unwrap_or_default(),
            targets: options
                .targets
                .iter()
                .map(|t| schema::TargetDigest {
                    name: t.name.clone(),
                    sha256: t.sha256.clone(),
                })
                .collect(),
            images,
            shard: options.shard.map(|s| schema::Shard {
                index: s.index,
                count: s.count,
            }),
        },
        runs,
    }
}

/// Runs one workload of the manifest at `manifest_path` on `target` in this
/// process: what `mcubench worker` does.
pub fn run_job(
    manifest_path: &Path,
    workload: &str,
    target: &Target,
    options: &RunOptions,
) -> Result<schema::Run, SuiteError> {
    let manifest = Manifest::load(manifest_path)?;
    let spec = manifest
        .workload
        .iter()
        .find(|w| w.name == workload)
        .ok_or_else(|| SuiteError::Invalid {
            path: manifest_path.to_owned(),
            message: format!("no workload `{workload}`"),
        })?;
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    Ok(run_one(spec, target, base, options))
}

/// Runs one job in a worker process and reads its record back; a worker that
/// dies, hangs or answers nonsense becomes a failed run saying which.
fn run_in_worker(
    worker: &Worker,
    manifest_path: &Path,
    spec: &WorkloadSpec,
    target: &Target,
    options: &RunOptions,
) -> schema::Run {
    let failed = |error: String| {
        let mut run = not_run(spec, target, String::new(), Status::Failed, error);
        if let Ok((_, image)) = pick_image(spec, target) {
            run.image = image.display().to_string();
        }
        run
    };
    let mut command = Command::new(&worker.exe);
    command
        .arg("worker")
        .arg(manifest_path)
        .args(["--workload", &spec.name])
        .arg("--target")
        .arg(match &target.origin {
            Origin::File(path) => path.as_os_str(),
            Origin::Shipped => target.name.as_ref(),
        })
        .args(["--clock-mhz", &target.clock_mhz.to_string()])
        .args(["--vdd", &target.energy.vdd_v.to_string()])
        .args(["--wall-limit-s", &options.wall_limit.as_secs().to_string()])
        .args(["--memory-limit-mib", &worker.memory_limit_mib.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return failed(format!(
                "cannot start a worker ({}): {e}",
                worker.exe.display()
            ))
        }
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_WORKER_OUTPUT).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let limit = options.wall_limit + worker.grace;
    let status = match child.wait_timeout(limit) {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return failed(format!(
                "the worker did not finish within {} s of host time and was killed",
                limit.as_secs()
            ));
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    if let Ok(run) = serde_json::from_slice::<schema::Run>(&stdout) {
        return run;
    }
    let said = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    failed(
        match std::os::unix::process::ExitStatusExt::signal(&status) {
            Some(signal) => format!(
                "the worker died of signal {signal}{}{}",
                signal_meaning(signal),
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            ),
            None => format!(
                "the worker exited with status {} without a record{}",
                status.code().unwrap_or(-1),
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                }
            ),
        },
    )
}

/// What a signal that ends a worker usually means.
fn signal_meaning(signal: i32) -> &'static str {
    match signal {
        6 => " (SIGABRT: an abort, e.g. an allocation past the memory limit)",
        9 => " (SIGKILL: killed, e.g. by the kernel when memory ran out)",
        11 => " (SIGSEGV)",
        _ => "",
    }
}

/// The record of a run that produced no figures.
fn not_run(
    spec: &WorkloadSpec,
    target: &Target,
    image: String,
    status: Status,
    error: String,
) -> schema::Run {
    schema::Run {
        workload: spec.name.clone(),
        kind: spec.kind,
        target: target.name.clone(),
        core: target.core.name().into(),
        clock_mhz: target.clock_mhz,
        vdd_v: target.energy.vdd_v,
        image,
        status,
        error: Some(error),
        exit_code: None,
        per_call: None,
        cycles: 0,
        instructions: 0,
        time_us: 0.0,
        energy_uj: 0.0,
        avg_power_mw: 0.0,
        macs: spec.macs,
        cycles_per_mac: None,
        stack_peak_bytes: 0,
        flash_bytes: 0,
        ram_bytes: 0,
        flash_capacity_bytes: 0,
        ram_capacity_bytes: 0,
        regions: Vec::new(),
        marked_regions: Vec::new(),
        profile: Vec::new(),
        stacks: Vec::new(),
        stdout: String::new(),
        host: schema::Host {
            wall_ms: 0.0,
            mips: 0.0,
        },
    }
}

fn run_one(spec: &WorkloadSpec, target: &Target, base: &Path, options: &RunOptions) -> schema::Run {
    let not_run = |image, status, error| not_run(spec, target, image, status, error);
    let (_, image_path) = match pick_image(spec, target) {
        Ok(found) => found,
        Err(reason) => return not_run(String::new(), Status::Skipped, reason),
    };
    let shown = image_path.display().to_string();
    for need in &spec.requires {
        match need {
            Requirement::FlashController
                if target.flash_program.controller == FlashController::None =>
            {
                return not_run(
                    shown,
                    Status::Skipped,
                    format!(
                        "needs an emulated flash controller, {} has none",
                        target.name
                    ),
                );
            }
            Requirement::FlashController => {}
        }
    }
    let loaded = match spec.load_address {
        Some(base_address) => Image::load_raw(&base.join(image_path), base_address),
        None => Image::load(&base.join(image_path)),
    };
    let image = match loaded {
        Ok(image) => Arc::new(image),
        Err(e) => return not_run(shown, Status::Error, e.to_string()),
    };
    let mut options = options.clone();
    if let Some(max) = spec.max_cycles {
        options.max_cycles = max;
    }
    if let Some(session) = &spec.session {
        if let Err(e) = session.apply(base, &mut options) {
            return not_run(shown, Status::Error, e);
        }
    }
    options.cmdline = image_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match run_loaded(image, target, &options) {
        Ok(record) => to_schema(spec, shown.clone(), record)
            .unwrap_or_else(|e| not_run(shown, Status::Error, e)),
        Err(e) => not_run(shown, Status::Error, e.to_string()),
    }
}

/// The results file's run from a run's record, read through the keys of
/// `run --format json` as `compare` reads a record file (see
/// [`mcubench_reports::record::RecordFigures`]); `Err` names a record those
/// keys cannot carry.
fn to_schema(spec: &WorkloadSpec, image: String, r: RunRecord) -> Result<schema::Run, String> {
    let missing_output = spec
        .expect_stdout
        .as_ref()
        .filter(|want| !r.stdout.contains(want.as_str()))
        .map(|want| format!("expected output `{want}` not printed"));
    // The roi's call: a function region's, or the session's window.
    let per_call = (spec.roi.as_ref())
        .and_then(|name| r.per_call.iter().find(|c| &c.region == name))
        .cloned();
    let cycles_per_mac = match (&per_call, spec.macs) {
        (Some(call), Some(macs)) if macs > 0 => Some(call.cycles / macs as f64),
        _ => None,
    };
    let context = RunContext {
        workload: spec.name.clone(),
        kind: spec.kind,
        image,
        per_call,
        macs: spec.macs,
        cycles_per_mac,
        failure: missing_output,
    };
    let figures = serde_json::to_value(&r)
        .and_then(serde_json::from_value::<RecordFigures>)
        .map_err(|e| format!("the run's record does not read back: {e}"))?;
    Ok(schema::Run::from_record(figures, context))
}

/// Hex SHA-256 of a file's bytes.
pub fn file_sha256(path: &Path) -> Option<String> {
    Some(sha256_hex(&read_bounded(path, MAX_IMAGE_BYTES).ok()?))
}

/// Lowercase hex SHA-256 of bytes, as provenance records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
