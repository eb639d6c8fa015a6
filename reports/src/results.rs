//! The results file's data model: one [`Results`] per suite run, one [`Run`] per
//! workload × target.
//!
//! Field order here is the key order on disk (serde writes struct fields in declaration
//! order), and `schema/results.schema.json` lists the same keys in the same order; a test
//! holds the two together. Integer figures are `u64`; times, energies and ratios are `f64`.
//! A figure that was not measured is 0 (or empty), never guessed.

use serde::{Deserialize, Serialize};

/// The schema version this crate writes. Readers accept any `1.x` and refuse `2.0` and up.
/// 1.1 added `vdd_v` and `per_call`; a 1.0 file reads with them absent.
/// 1.2 added the status `skipped`, which older files wrote as `error` with a
/// reason starting `skipped:`; such runs read as skipped.
/// 1.3 added `marked_regions` (per-layer figures); older files read with none.
pub const SCHEMA_VERSION: &str = "1.3";

/// A whole results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// `MAJOR.MINOR`; see [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The program that wrote the file.
    pub tool: Tool,
    /// What was run: suite, manifest and input digests, shard.
    pub provenance: Provenance,
    /// One entry per workload × target, in the order they were run.
    pub runs: Vec<Run>,
}

/// The program that wrote a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `mcubench` for files this project writes.
    pub name: String,
    /// The writer's version, e.g. `0.1.0`.
    pub version: String,
}

/// Where the figures came from, so two files can be checked for comparability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The suite name from the manifest's `[suite]` table.
    pub suite: String,
    /// The manifest path as given to `mcubench suite`.
    pub manifest: String,
    /// SHA-256 of the manifest file, lowercase hex.
    pub manifest_sha256: String,
    /// Digests of the target files used.
    pub targets: Vec<TargetDigest>,
    /// Digests of the firmware images used.
    pub images: Vec<ImageDigest>,
    /// Which slice of the suite this file holds, when it was sharded.
    pub shard: Option<Shard>,
}

impl Provenance {
    /// The recorded digest of the target file named `name`.
    pub fn target_sha256(&self, name: &str) -> Option<&str> {
        let t = self.targets.iter().find(|t| t.name == name)?;
        Some(t.sha256.as_str())
    }

    /// The recorded digest of the image at `path`.
    pub fn image_sha256(&self, path: &str) -> Option<&str> {
        let i = self.images.iter().find(|i| i.path == path)?;
        Some(i.sha256.as_str())
    }
}

/// A target file's name and digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetDigest {
    /// Target name (file stem).
    pub name: String,
    /// SHA-256 of the target TOML, lowercase hex.
    pub sha256: String,
}

/// A firmware image's path and digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDigest {
    /// Path relative to the manifest's directory.
    pub path: String,
    /// SHA-256 of the ELF, lowercase hex.
    pub sha256: String,
}

/// Shard `index` of `count` (1-based), as given to `mcubench suite --shard k/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

/// What a workload does; training runs report a `train_step` region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Runs a model forward.
    Inference,
    /// Runs training steps on the device.
    Training,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ran and the workload's own check passed.
    Ok,
    /// Ran but the check failed (nonzero exit, missing output, fault, budget exhausted).
    Failed,
    /// Could not run (does not fit, bad ELF).
    Error,
    /// Not run: the target lacks what the workload needs (an image for its
    /// core, an FPU, a flash controller). Not a failure.
    Skipped,
}

impl Status {
    /// The word used in the file and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }
}

/// One workload on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Workload name from the manifest.
    pub workload: String,
    /// Inference or training.
    pub kind: Kind,
    /// Target name.
    pub target: String,
    /// Core name, e.g. `cortex-m4f`.
    pub core: String,
    /// Core clock the figures were computed at, MHz.
    pub clock_mhz: f64,
    /// Supply voltage the energy figures are at, V (0 in files before 1.1).
    #[serde(default)]
    pub vdd_v: f64,
    /// Image path relative to the manifest's directory.
    pub image: String,
    /// How the run ended.
    pub status: Status,
    /// Why the run failed, could not run or was skipped.
    pub error: Option<String>,
    /// The firmware's exit status, when it exited.
    pub exit_code: Option<i64>,
    /// One call of the workload's headline region (one inference, one training
    /// step): the figures a workload is judged by. `None` when it marked none.
    #[serde(default)]
    pub per_call: Option<PerCall>,
    /// Core clock cycles of the whole run.
    pub cycles: u64,
    /// Instructions executed.
    pub instructions: u64,
    /// `cycles / clock_mhz`, µs.
    pub time_us: f64,
    /// Modeled energy of the run, µJ.
    pub energy_uj: f64,
    /// `energy_uj / time_us`, mW.
    pub avg_power_mw: f64,
    /// MACs of one call of the headline region (inference only).
    pub macs: Option<u64>,
    /// Headline region cycles per call divided by `macs`.
    pub cycles_per_mac: Option<f64>,
    /// Deepest stack use seen, bytes.
    pub stack_peak_bytes: u64,
    /// Image bytes placed in flash (code + rodata + data load image).
    pub flash_bytes: u64,
    /// Static RAM use (data + bss), bytes.
    pub ram_bytes: u64,
    /// The target's flash size, bytes.
    pub flash_capacity_bytes: u64,
    /// The target's RAM size usable by the image, bytes.
    pub ram_capacity_bytes: u64,
    /// Regions of interest (`roi_*` functions).
    pub regions: Vec<Region>,
    /// Regions the firmware marked with `mb_region_begin`: a model's layers.
    #[serde(default)]
    pub marked_regions: Vec<MarkedRegion>,
    /// Top functions by cycles.
    pub profile: Vec<ProfileEntry>,
    /// Folded call stacks with the cycles spent in their leaf.
    pub stacks: Vec<StackSample>,
    /// The firmware's semihosting output.
    pub stdout: String,
    /// Host-side figures; never compared or gated.
    pub host: Host,
}

impl Run {
    /// The key that identifies a run across files: `workload@target`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.workload, self.target)
    }

    /// The region with this name, if the firmware marked one.
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }
}

/// A region of interest: a `roi_NAME` function, inclusive of its callees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// The function's name after `roi_` (of its last path segment, for a
    /// Rust or C++ name).
    pub name: String,
    /// How many times it was called.
    pub calls: u64,
    /// Inclusive cycles over all calls.
    pub cycles: u64,
    /// Inclusive time over all calls, µs.
    pub time_us: f64,
    /// Inclusive energy over all calls, µJ.
    pub energy_uj: f64,
}

/// A region the firmware marked by calling `mb_region_begin(name, macs)` and
/// `mb_region_end()`, such as one layer of a model; inclusive of callees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkedRegion {
    /// The name the firmware gave.
    pub name: String,
    /// Marked regions open around it: 0 for an outermost one.
    pub depth: u32,
    /// How many times it was marked.
    pub calls: u64,
    /// Inclusive cycles over all calls.
    pub cycles: u64,
    /// Inclusive time over all calls, µs.
    pub time_us: f64,
    /// Inclusive energy over all calls, µJ.
    pub energy_uj: f64,
    /// Multiply-accumulates of one call, as the firmware declared (0: none).
    pub macs: u64,
    /// Cycles per call divided by `macs`, when MACs were declared.
    pub cycles_per_mac: Option<f64>,
    /// Its cycles as a fraction of all outermost marked regions' cycles.
    pub share: f64,
}

/// One call of a region: its totals divided by its calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerCall {
    /// The region's name (`inference`, `train_step`).
    pub region: String,
    /// Cycles of one call.
    pub cycles: f64,
    /// Time of one call at the target's clock, µs.
    pub time_us: f64,
    /// Energy of one call, µJ.
    pub energy_uj: f64,
    /// `energy_uj / time_us` over the call, mW.
    pub avg_power_mw: f64,
}

impl PerCall {
    /// The per-call figures of a region that was called at least once.
    pub fn of(region: &Region) -> Option<PerCall> {
        PerCall::over(
            &region.name,
            region.calls,
            region.cycles,
            region.time_us,
            region.energy_uj,
        )
    }

    /// The per-call figures of `calls` calls (at least one) of `region`
    /// that took these totals.
    pub fn over(
        region: &str,
        calls: u64,
        cycles: u64,
        time_us: f64,
        energy_uj: f64,
    ) -> Option<PerCall> {
        let n = calls as f64;
        (calls > 0).then(|| PerCall {
            region: region.to_owned(),
            cycles: cycles as f64 / n,
            time_us: time_us / n,
            energy_uj: energy_uj / n,
            avg_power_mw: if time_us > 0.0 {
                energy_uj / time_us * 1000.0
            } else {
                0.0
            },
        })
    }
}

/// Per-function cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileEntry {
    /// Function name, demangled.
    pub name: String,
    /// Cycles spent in the function itself.
    pub self_cycles: u64,
    /// Cycles including callees.
    pub total_cycles: u64,
    /// Number of calls.
    pub calls: u64,
}

/// One folded stack, root first, frames separated by `;`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackSample {
    /// e.g. `main;roi_inference;conv2d_s8`.
    pub stack: String,
    /// Cycles spent with exactly this stack.
    pub cycles: u64,
}

/// Host-side speed of the emulator; informative only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Wall-clock time of the run, ms.
    pub wall_ms: f64,
    /// Emulated instructions per host second, millions.
    pub mips: f64,
}
