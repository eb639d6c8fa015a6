//! Embeds the shipped target files and the default suite (its manifest and
//! prebuilt images) so that an installed `mcubench` needs no checkout.
//!
//! `targets` and `workloads` in this crate are links to the repository's own
//! directories: one copy of the data, which `cargo package` follows into the
//! crate archive.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let targets = crate_dir.join("targets");
    let workloads = crate_dir.join("workloads");
    println!("cargo:rerun-if-changed={}", targets.display());
    println!(
        "cargo:rerun-if-changed={}",
        workloads.join("suite.toml").display()
    );

    let mut code =
        String::from("/// The shipped target files: (name, TOML text), sorted by name.\n");
    code.push_str("pub static TARGETS: &[(&str, &str)] = &[\n");
    for path in files(&targets, "toml") {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 target name");
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n\n");

    code.push_str("/// The default suite: (path relative to the manifest's directory, bytes).\n");
    code.push_str("pub static SUITE: &[(&str, &[u8])] = &[\n");
    let manifest = workloads.join("suite.toml");
    writeln!(
        code,
        "    (\"suite.toml\", include_bytes!({:?})),",
        manifest.display().to_string()
    )
    .unwrap();
    let prebuilt = workloads.join("prebuilt");
    println!("cargo:rerun-if-changed={}", prebuilt.display());
    for core in subdirs(&prebuilt) {
        for image in files(&core, "elf") {
            let relative = image.strip_prefix(&workloads).expect("under workloads/");
            writeln!(
                code,
                "    ({:?}, include_bytes!({:?})),",
                relative.display().to_string(),
                image.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("shipped.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

/// Files of `dir` ending in `.extension`, sorted.
fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == extension))
        .collect();
    found.sort();
    found
}

/// Directories inside `dir`, sorted.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory").path())
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found
}
