//! A realistic results set built from a small cost table, so tests exercise the same
//! shapes the suite writes: inference and training workloads on three targets, derived
//! time/energy consistent with the clock and supply, profiles, stacks and one run that
//! could not run.

use mcubench_reports::results::{
    Host, ImageDigest, Kind, MarkedRegion, PerCall, ProfileEntry, Provenance, Region, Results, Run,
    StackSample, Status, TargetDigest, Tool,
};
use mcubench_reports::SCHEMA_VERSION;

/// (name, core, clock MHz, flash bytes, RAM bytes, µA/MHz, cycle scale in percent).
const TARGETS: [(&str, &str, f64, u64, u64, f64, u64); 3] = [
    (
        "stm32f407",
        "cortex-m4f",
        168.0,
        1 << 20,
        128 << 10,
        238.0,
        100,
    ),
    (
        "stm32h743",
        "cortex-m7f",
        480.0,
        2 << 20,
        128 << 10,
        263.0,
        62,
    ),
    ("nrf52840", "cortex-m4f", 64.0, 1 << 20, 256 << 10, 52.0, 93),
];

/// (name, kind, MACs per call, calls, leaf kernels with their share of cycles in percent).
type Workload = (&'static str, Kind, u64, u64, &'static [(&'static str, u64)]);
const WORKLOADS: [Workload; 3] = [
    (
        "kws-dscnn",
        Kind::Inference,
        2_656_000,
        1,
        &[
            ("arm_convolve_s8", 55),
            ("arm_depthwise_conv_s8", 30),
            ("arm_avgpool_s8", 15),
        ],
    ),
    (
        "ad-autoencoder",
        Kind::Inference,
        264_192,
        1,
        &[("arm_fully_connected_s8", 90), ("arm_relu_q7", 10)],
    ),
    (
        "mnist-train",
        Kind::Training,
        0,
        20,
        &[
            ("dense_forward_f32", 35),
            ("dense_backward_f32", 50),
            ("sgd_update_f32", 15),
        ],
    ),
];

/// A digest-looking hex string derived from `seed`.
pub fn digest(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::new();
    for round in 0..4u64 {
        for b in seed.bytes().chain(round.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// One run computed from the tables above.
pub fn run(workload: usize, target: usize) -> Run {
    let (name, kind, macs, calls, kernels) = WORKLOADS[workload];
    let (tname, core, clock, flash_cap, ram_cap, ua_per_mhz, scale) = TARGETS[target];
    let core_dir = core;
    let per_call = match kind {
        Kind::Inference => macs * 3 / 2 * scale / 100,
        Kind::Training => 410_000 * scale / 100,
    };
    let roi_cycles = per_call * calls;
    let cycles = roi_cycles + 48_213;
    let instructions = cycles * 4 / 5;
    let time_us = cycles as f64 / clock;
    let power_mw = 3.3 * ua_per_mhz * clock / 1000.0;
    let energy_uj = power_mw * time_us / 1000.0;
    let roi = match kind {
        Kind::Inference => "inference",
        Kind::Training => "train_step",
    };
    let mut stacks = Vec::new();
    let mut profile = Vec::new();
    let mut marked_regions = Vec::new();
    for (i, &(kernel, share)) in kernels.iter().enumerate() {
        let c = roi_cycles * share / 100;
        // A model's runtime marks each layer; the sample's layers are its kernels.
        let layer_macs = macs * share / 100;
        if kind == Kind::Inference {
            marked_regions.push(MarkedRegion {
                name: format!("{i} {kernel}"),
                depth: 0,
                calls,
                cycles: c,
                time_us: c as f64 / clock,
                energy_uj: power_mw * c as f64 / clock / 1000.0,
                macs: layer_macs,
                cycles_per_mac: (layer_macs > 0)
                    .then(|| c as f64 / calls as f64 / layer_macs as f64),
                share: share as f64 / 100.0,
            });
        }
        stacks.push(StackSample {
            stack: format!("main;roi_{roi};{kernel}"),
            cycles: c,
        });
        profile.push(ProfileEntry {
            name: kernel.to_owned(),
            self_cycles: c,
            total_cycles: c,
            calls: calls * 4,
        });
    }
    stacks.push(StackSample {
        stack: "main".to_owned(),
        cycles: cycles - roi_cycles,
    });
    profile.push(ProfileEntry {
        name: format!("roi_{roi}"),
        self_cycles: 0,
        total_cycles: roi_cycles,
        calls,
    });
    let region = Region {
        name: roi.to_owned(),
        calls,
        cycles: roi_cycles,
        time_us: roi_cycles as f64 / clock,
        energy_uj: power_mw * roi_cycles as f64 / clock / 1000.0,
    };
    Run {
        workload: name.to_owned(),
        kind,
        target: tname.to_owned(),
        core: core.to_owned(),
        clock_mhz: clock,
        vdd_v: 3.3,
        image: format!("prebuilt/{core_dir}/{}.elf", name.replace('-', "_")),
        status: Status::Ok,
        error: None,
        exit_code: Some(0),
        per_call: PerCall::of(&region),
        cycles,
        instructions,
        time_us,
        energy_uj,
        avg_power_mw: power_mw,
        macs: (macs > 0).then_some(macs),
        cycles_per_mac: (macs > 0).then(|| per_call as f64 / macs as f64),
        stack_peak_bytes: 3_072 + 1_024 * workload as u64,
        flash_bytes: 96_000 + 40_000 * workload as u64,
        ram_bytes: 24_000 + 30_000 * workload as u64,
        flash_capacity_bytes: flash_cap,
        ram_capacity_bytes: ram_cap,
        regions: vec![region],
        marked_regions,
        profile,
        stacks,
        stdout: format!("{name}: check ok\nPASS\n"),
        host: Host {
            wall_ms: 120.5,
            mips: 48.25,
        },
    }
}

/// A run that could not start because there is no image for the core.
pub fn error_run() -> Run {
    Run {
        workload: "kws-dscnn".to_owned(),
        kind: Kind::Inference,
        target: "stm32f103".to_owned(),
        core: "cortex-m3".to_owned(),
        clock_mhz: 72.0,
        vdd_v: 3.3,
        image: String::new(),
        status: Status::Error,
        error: Some("no image for core cortex-m3".to_owned()),
        exit_code: None,
        per_call: None,
        cycles: 0,
        instructions: 0,
        time_us: 0.0,
        energy_uj: 0.0,
        avg_power_mw: 0.0,
        macs: Some(2_656_000),
        cycles_per_mac: None,
        stack_peak_bytes: 0,
        flash_bytes: 0,
        ram_bytes: 0,
        flash_capacity_bytes: 512 << 10,
        ram_capacity_bytes: 64 << 10,
        regions: Vec::new(),
        marked_regions: Vec::new(),
        profile: Vec::new(),
        stacks: Vec::new(),
        stdout: String::new(),
        host: Host {
            wall_ms: 0.0,
            mips: 0.0,
        },
    }
}

/// The full set: every workload on every target, plus the error run.
pub fn results() -> Results {
    let mut runs = Vec::new();
    for w in 0..WORKLOADS.len() {
        for t in 0..TARGETS.len() {
            runs.push(run(w, t));
        }
    }
    runs.push(error_run());
    let mut images: Vec<ImageDigest> = runs
        .iter()
        .filter(|r| !r.image.is_empty())
        .map(|r| ImageDigest {
            path: r.image.clone(),
            sha256: digest(&r.image),
        })
        .collect();
    images.sort_by(|a, b| a.path.cmp(&b.path));
    images.dedup();
    Results {
        schema_version: SCHEMA_VERSION.to_owned(),
        tool: Tool {
            name: "mcubench".to_owned(),
            version: "0.1.0".to_owned(),
        },
        provenance: Provenance {
            suite: "tinyml".to_owned(),
            manifest: "workloads/suite.toml".to_owned(),
            manifest_sha256: digest("workloads/suite.toml"),
            targets: ["stm32f407", "stm32h743", "nrf52840", "stm32f103"]
                .iter()
                .map(|t| TargetDigest {
                    name: (*t).to_owned(),
                    sha256: digest(t),
                })
                .collect(),
            images,
            shard: None,
        },
        runs,
    }
}
