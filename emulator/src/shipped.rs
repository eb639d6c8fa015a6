//! What the binary carries with it: the shipped target files and the default
//! suite, embedded at build time (see `build.rs`), so that an installed
//! `mcubench` works from any directory.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// The text of the shipped target `name`.
pub fn target(name: &str) -> Option<&'static str> {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Writes the shipped suite (manifest and images) under `dir` and returns the
/// manifest's path: workers read the manifest and images as files, and the
/// results can name files that exist.
pub fn write_suite(dir: &Path) -> Result<PathBuf, mcubench_reports::Error> {
    for (relative, bytes) in SUITE {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| mcubench_reports::Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        mcubench_reports::output::write_atomic(&path, bytes)?;
    }
    Ok(dir.join("suite.toml"))
}
