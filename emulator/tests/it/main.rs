//! Integration tests of the emulator against committed firmware fixtures
//! (emulator/tests/fixtures: source, Makefile and the ELFs built from them).

mod bad_input;
mod bsp;
mod cli;
mod compare;
mod devices;
mod exceptions;
mod figures;
mod install;
mod layers;
mod ldscript;
mod machine;
mod mutation;
mod profile;
mod qemu;
mod suite;
mod targets;
mod trace;
mod trm;

use std::path::{Path, PathBuf};

use mcubench::machine::RunOptions;
use mcubench::run::{run_image, RunRecord};
use mcubench::target::{Catalog, Target};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A committed test firmware image.
pub fn fixture(name: &str) -> PathBuf {
    root().join("emulator/tests/fixtures").join(name)
}

/// The shipped targets.
pub fn targets_dir() -> PathBuf {
    root().join("targets")
}

/// A shipped target by name.
pub fn target(name: &str) -> Target {
    Catalog::shipped().find(name).expect("shipped target loads")
}

/// Runs a fixture on a shipped target with default limits.
pub fn run(fixture_name: &str, target_name: &str) -> RunRecord {
    run_with(fixture_name, target_name, &RunOptions::default())
}

/// Runs a fixture on a shipped target with the given limits.
pub fn run_with(fixture_name: &str, target_name: &str, options: &RunOptions) -> RunRecord {
    run_image(&fixture(fixture_name), &target(target_name), options)
        .expect("fixture loads and fits")
}
