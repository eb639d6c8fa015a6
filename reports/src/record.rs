//! Reading the record of one run (`mcubench run --format json`) as a results file of one
//! run, so a firmware project can gate a single image without a manifest.
//!
//! The record is the emulator's, not a versioned file: only the keys read here are relied
//! on, and those added later (`tool`, `image_sha256`, `target_sha256`) may be absent. A
//! record belongs to no suite: its [`Results`] has an empty suite and manifest, and its
//! run is named after the image's file stem until [`crate::compare::pair_record`] matches
//! it with a run of the other side.

use std::path::Path;

use serde::Deserialize;

use crate::results::{
    Host, ImageDigest, Kind, MarkedRegion, PerCall, ProfileEntry, Provenance, Region, Results, Run,
    StackSample, Status, TargetDigest, Tool,
};
use crate::SCHEMA_VERSION;

/// The figures of a run record that a results file keeps, under the keys
/// `mcubench run --format json` writes. A suite reads its own runs' records
/// through these keys as well, so a suite's run and a record file of the same
/// run give the same [`Run`].
#[derive(Debug, Clone, Deserialize)]
pub struct RecordFigures {
    /// Target name.
    pub target: String,
    /// Core name.
    pub core: String,
    /// Clock in MHz.
    pub clock_mhz: f64,
    /// Supply voltage, V.
    pub vdd_v: f64,
    /// Modeled cycles.
    pub cycles: u64,
    /// Executed instructions.
    pub instructions: u64,
    /// Time, µs.
    pub time_us: f64,
    /// Energy, µJ.
    pub energy_uj: f64,
    /// Average power, mW.
    pub avg_power_mw: f64,
    /// Deepest stack use, bytes.
    pub stack_peak_bytes: u64,
    /// Flash the image occupies, bytes.
    pub flash_bytes: u64,
    /// RAM the image reserves, bytes.
    pub ram_bytes: u64,
    /// Flash the target has, bytes.
    pub flash_capacity_bytes: u64,
    /// RAM the target has, bytes.
    pub ram_capacity_bytes: u64,
    /// Exit status, when the firmware exited.
    pub exit_code: Option<i64>,
    /// Why it did not exit normally.
    pub error: Option<String>,
    /// What the firmware printed.
    pub stdout: String,
    /// Regions of interest.
    pub regions: Vec<Region>,
    /// Regions the firmware marked (absent from records before they existed).
    #[serde(default)]
    pub marked_regions: Vec<MarkedRegion>,
    /// Per-function figures.
    pub profile: Vec<ProfileEntry>,
    /// Folded call stacks.
    pub stacks: Vec<StackSample>,
    /// Host figures.
    pub host: Host,
}

/// What a results file says of a run beyond its record: which workload it
/// was, its headline region, and anything its suite found wrong.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Workload name.
    pub workload: String,
    /// Inference or training.
    pub kind: Kind,
    /// Image path as the results file names it.
    pub image: String,
    /// One call of the headline region.
    pub per_call: Option<PerCall>,
    /// MACs of one call of the headline region.
    pub macs: Option<u64>,
    /// Headline region cycles per call divided by `macs`.
    pub cycles_per_mac: Option<f64>,
    /// A failure the record does not show (output the suite expected and missed).
    pub failure: Option<String>,
}

impl Run {
    /// A run from its record, judged as a suite judges it: failed unless the
    /// firmware exited 0 and nothing else went wrong.
    pub fn from_record(r: RecordFigures, context: RunContext) -> Run {
        let error = r
            .error
            .or_else(|| {
                (r.exit_code != Some(0))
                    .then(|| format!("firmware exited with status {}", r.exit_code.unwrap_or(-1)))
            })
            .or(context.failure);
        Run {
            workload: context.workload,
            kind: context.kind,
            target: r.target,
            core: r.core,
            clock_mhz: r.clock_mhz,
            vdd_v: r.vdd_v,
            image: context.image,
            status: if error.is_none() {
                Status::Ok
            } else {
                Status::Failed
            },
            error,
            exit_code: r.exit_code,
            per_call: context.per_call,
            cycles: r.cycles,
            instructions: r.instructions,
            time_us: r.time_us,
            energy_uj: r.energy_uj,
            avg_power_mw: r.avg_power_mw,
            macs: context.macs,
            cycles_per_mac: context.cycles_per_mac,
            stack_peak_bytes: r.stack_peak_bytes,
            flash_bytes: r.flash_bytes,
            ram_bytes: r.ram_bytes,
            flash_capacity_bytes: r.flash_capacity_bytes,
            ram_capacity_bytes: r.ram_capacity_bytes,
            regions: r.regions,
            marked_regions: r.marked_regions,
            profile: r.profile,
            stacks: r.stacks,
            stdout: r.stdout,
            host: r.host,
        }
    }
}

/// The keys of a run record besides its figures: who made it, from what.
#[derive(Debug, Deserialize)]
struct Origin {
    #[serde(default)]
    tool: Option<Tool>,
    image: String,
    #[serde(default)]
    image_sha256: Option<String>,
    #[serde(default)]
    target_sha256: Option<String>,
    per_call: Vec<PerCall>,
}

/// Whether a JSON document looks like a run record rather than a results file.
pub fn is_record(value: &serde_json::Value) -> bool {
    value.get("schema_version").is_none()
        && ["image", "target", "cycles"]
            .iter()
            .all(|key| value.get(key).is_some())
}

/// Parses a run record; `path` is only used to name the source in errors.
pub fn parse_record(text: &str, path: &Path) -> Result<Results, crate::Error> {
    let invalid = |source| crate::Error::InvalidRecord {
        path: path.to_owned(),
        source,
    };
    // Read twice, so a complaint keeps its line and column.
    let o: Origin = serde_json::from_str(text).map_err(invalid)?;
    let r: RecordFigures = serde_json::from_str(text).map_err(invalid)?;
    let per_call = o.per_call.into_iter().next();
    let kind = match &per_call {
        Some(c) if c.region == "train_step" => Kind::Training,
        _ => Kind::Inference,
    };
    let workload = Path::new(&o.image)
        .file_stem()
        .map_or_else(|| o.image.clone(), |s| s.to_string_lossy().into_owned());
    let target = r.target.clone();
    let run = Run::from_record(
        r,
        RunContext {
            workload,
            kind,
            image: o.image.clone(),
            per_call,
            macs: None,
            cycles_per_mac: None,
            failure: None,
        },
    );
    Ok(Results {
        schema_version: SCHEMA_VERSION.to_owned(),
        // An older record does not say which version made it: nothing to warn about.
        tool: o.tool.unwrap_or(Tool {
            name: "mcubench".to_owned(),
            version: String::new(),
        }),
        provenance: Provenance {
            suite: String::new(),
            manifest: String::new(),
            manifest_sha256: String::new(),
            targets: o
                .target_sha256
                .map(|sha256| TargetDigest {
                    name: target,
                    sha256,
                })
                .into_iter()
                .collect(),
            images: o
                .image_sha256
                .map(|sha256| ImageDigest {
                    path: o.image,
                    sha256,
                })
                .into_iter()
                .collect(),
            shard: None,
        },
        runs: vec![run],
    })
}
