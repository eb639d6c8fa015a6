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
    Host, ImageDigest, Kind, PerCall, ProfileEntry, Provenance, Region, Results, Run, StackSample,
    Status, TargetDigest, Tool,
};
use crate::SCHEMA_VERSION;

/// The keys of a run record that a comparison uses.
#[derive(Debug, Deserialize)]
struct Record {
    #[serde(default)]
    tool: Option<Tool>,
    image: String,
    #[serde(default)]
    image_sha256: Option<String>,
    target: String,
    #[serde(default)]
    target_sha256: Option<String>,
    core: String,
    clock_mhz: f64,
    vdd_v: f64,
    per_call: Vec<PerCall>,
    cycles: u64,
    instructions: u64,
    time_us: f64,
    energy_uj: f64,
    avg_power_mw: f64,
    stack_peak_bytes: u64,
    flash_bytes: u64,
    ram_bytes: u64,
    flash_capacity_bytes: u64,
    ram_capacity_bytes: u64,
    exit_code: Option<i64>,
    error: Option<String>,
    stdout: String,
    regions: Vec<Region>,
    profile: Vec<ProfileEntry>,
    stacks: Vec<StackSample>,
    host: Host,
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
    let r: Record = serde_json::from_str(text).map_err(|source| crate::Error::InvalidRecord {
        path: path.to_owned(),
        source,
    })?;
    // As a suite judges a run: it failed unless the firmware exited 0.
    let error = r.error.or_else(|| {
        (r.exit_code != Some(0))
            .then(|| format!("firmware exited with status {}", r.exit_code.unwrap_or(-1)))
    });
    let per_call = r.per_call.into_iter().next();
    let kind = match &per_call {
        Some(c) if c.region == "train_step" => Kind::Training,
        _ => Kind::Inference,
    };
    let workload = Path::new(&r.image)
        .file_stem()
        .map_or_else(|| r.image.clone(), |s| s.to_string_lossy().into_owned());
    let run = Run {
        workload,
        kind,
        target: r.target.clone(),
        core: r.core,
        clock_mhz: r.clock_mhz,
        vdd_v: r.vdd_v,
        image: r.image.clone(),
        status: if error.is_none() {
            Status::Ok
        } else {
            Status::Failed
        },
        error,
        exit_code: r.exit_code,
        per_call,
        cycles: r.cycles,
        instructions: r.instructions,
        time_us: r.time_us,
        energy_uj: r.energy_uj,
        avg_power_mw: r.avg_power_mw,
        macs: None,
        cycles_per_mac: None,
        stack_peak_bytes: r.stack_peak_bytes,
        flash_bytes: r.flash_bytes,
        ram_bytes: r.ram_bytes,
        flash_capacity_bytes: r.flash_capacity_bytes,
        ram_capacity_bytes: r.ram_capacity_bytes,
        regions: r.regions,
        profile: r.profile,
        stacks: r.stacks,
        stdout: r.stdout,
        host: r.host,
    };
    Ok(Results {
        schema_version: SCHEMA_VERSION.to_owned(),
        // An older record does not say which version made it: nothing to warn about.
        tool: r.tool.unwrap_or(Tool {
            name: "mcubench".to_owned(),
            version: String::new(),
        }),
        provenance: Provenance {
            suite: String::new(),
            manifest: String::new(),
            manifest_sha256: String::new(),
            targets: r
                .target_sha256
                .map(|sha256| TargetDigest {
                    name: r.target,
                    sha256,
                })
                .into_iter()
                .collect(),
            images: r
                .image_sha256
                .map(|sha256| ImageDigest {
                    path: r.image,
                    sha256,
                })
                .into_iter()
                .collect(),
            shard: None,
        },
        runs: vec![run],
    })
}
