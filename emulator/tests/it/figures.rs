//! The modeled figures of every committed image, pinned: each workload of the
//! default suite on its default targets, and each firmware fixture on every
//! shipped target (to a cycle budget; a fault, a hang or a refused image is a
//! figure too). Work on the emulator's speed, the engine build or the hooks
//! must leave all of them as they were, to the cycle, the instruction and the
//! last bit of energy.
//!
//! Each run is kept as its cycles and instructions, and a digest of its whole
//! record (profile, regions, output, energy) without host figures and paths.
//! A change in a model moves them on purpose: review the snapshot diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mcubench::machine::RunOptions;
use mcubench::run::run_image;
use mcubench::suite::{pick_image, Manifest};
use mcubench::target::{Catalog, Target};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Cycles a fixture may run on a target it was not written for.
const FIXTURE_BUDGET: u64 = 20_000_000;

#[test]
fn every_image_keeps_its_modeled_figures() {
    let catalog = Catalog::shipped();
    let workloads = crate::root().join("workloads");
    let suite = Manifest::load(&workloads.join("suite.toml")).expect("suite loads");
    let mut runs: Vec<(String, PathBuf, Target, RunOptions)> = Vec::new();
    for workload in &suite.workload {
        for entry in &suite.suite.default_targets {
            let target = entry.resolve(&catalog).expect("default target loads");
            if let Ok((_, image)) = pick_image(workload, &target) {
                let options = RunOptions {
                    max_cycles: workload
                        .max_cycles
                        .unwrap_or(RunOptions::default().max_cycles),
                    ..RunOptions::default()
                };
                let key = format!("{}@{}", workload.name, target.name);
                runs.push((key, workloads.join(image), target, options));
            }
        }
    }
    let fixtures = crate::root().join("emulator/tests/fixtures");
    for image in elf_files(&fixtures) {
        for target in catalog.load_all().expect("shipped targets load") {
            let name = image.strip_prefix(&fixtures).unwrap().display().to_string();
            let options = RunOptions {
                max_cycles: FIXTURE_BUDGET,
                ..RunOptions::default()
            };
            let key = format!("{name}@{}", target.name);
            runs.push((key, image.clone(), target, options));
        }
    }
    let figures: BTreeMap<String, String> = runs
        .into_par_iter()
        .map(|(key, image, target, options)| (key, figures(&image, &target, &options)))
        .collect();
    insta::assert_json_snapshot!(figures);
}

/// One run as `cycles/instructions/digest`, or the error refusing the image.
fn figures(image: &Path, target: &Target, options: &RunOptions) -> String {
    match run_image(image, target, options) {
        Err(err) => format!("refused: {err}").replace(&crate::root().display().to_string(), ""),
        Ok(mut record) => {
            record.host.wall_ms = 0.0;
            record.host.mips = 0.0;
            record.tool.version.clear();
            record.image.clear();
            // The figures, not the file's comments and sources.
            record.target_sha256.clear();
            let json = serde_json::to_string(&record).expect("record serializes");
            // Messages name the image by the path it was given.
            let json = json.replace(&crate::root().display().to_string(), "");
            let digest = Sha256::digest(json.as_bytes());
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("{}/{}/{hex}", record.cycles, record.instructions)
        }
    }
}

/// The ELF files under `dir`, its subdirectories included, in name order.
fn elf_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures directory reads") {
        let path = entry.expect("fixtures directory reads").path();
        if path.is_dir() {
            found.extend(elf_files(&path));
        } else if path.extension().is_some_and(|e| e == "elf") {
            found.push(path);
        }
    }
    found.sort();
    found
}
