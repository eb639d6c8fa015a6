//! Reading and writing `results.json`.
//!
//! The reader checks `schema_version` before anything else, so a file from a newer
//! mcubench is refused with a message that says so rather than a confusing "missing
//! field". Within major version 1 unknown keys are ignored, so a 1.1 writer can add a
//! field without breaking 1.0 readers. Every error names the file.

use std::path::Path;

use crate::output::write_atomic;
use crate::results::{Results, Status, SCHEMA_VERSION};
use crate::Error;

/// The major version this build reads.
const SUPPORTED_MAJOR: u64 = 1;

/// The text of a results file or run record, bounded.
fn read_text(path: &Path) -> Result<String, Error> {
    crate::input::read_text(path, crate::input::MAX_RESULTS_BYTES).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads and checks a results file.
pub fn read_results(path: &Path) -> Result<Results, Error> {
    let text = read_text(path)?;
    parse_results(&text, path)
}

/// What a file given to `compare` turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A results file of a suite.
    Results,
    /// The record of one run (`mcubench run --format json`).
    RunRecord,
}

/// Reads a results file or a run record, telling them apart by their keys.
pub fn read_results_or_record(path: &Path) -> Result<(Results, Document), Error> {
    let text = read_text(path)?;
    let looks_like_record = serde_json::from_str::<serde_json::Value>(&text)
        .is_ok_and(|value| crate::record::is_record(&value));
    if looks_like_record {
        Ok((
            crate::record::parse_record(&text, path)?,
            Document::RunRecord,
        ))
    } else {
        Ok((parse_results(&text, path)?, Document::Results))
    }
}

/// Parses results text; `path` is only used to name the source in errors.
pub fn parse_results(text: &str, path: &Path) -> Result<Results, Error> {
    let json_error = |source: serde_json::Error| {
        if source.is_eof() {
            Error::Truncated {
                path: path.to_owned(),
                source,
            }
        } else {
            Error::Invalid {
                path: path.to_owned(),
                source,
            }
        }
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
    let minor = check_version(&value, path)?;
    // Parse the text again rather than the value so errors carry line and column.
    let mut results: Results = serde_json::from_str(text).map_err(json_error)?;
    if minor < 2 {
        read_skips_as_skipped(&mut results);
    }
    Ok(results)
}

/// Before 1.2 a skipped run was an `error` whose reason started `skipped:`.
fn read_skips_as_skipped(results: &mut Results) {
    for run in &mut results.runs {
        let reason = run
            .error
            .as_deref()
            .and_then(|e| e.strip_prefix("skipped:"));
        if let (Status::Error, Some(reason)) = (run.status, reason) {
            run.error = Some(reason.trim_start().to_owned());
            run.status = Status::Skipped;
        }
    }
}

/// Checks `schema_version` and returns its minor number.
fn check_version(value: &serde_json::Value, path: &Path) -> Result<u64, Error> {
    let found = value.get("schema_version");
    let bad = || Error::BadSchemaVersion {
        path: path.to_owned(),
        found: found.map_or_else(|| "nothing".to_owned(), |v| v.to_string()),
        expected: SCHEMA_VERSION,
    };
    let text = found.and_then(|v| v.as_str()).ok_or_else(bad)?;
    let (major, minor) = text.split_once('.').ok_or_else(bad)?;
    let major: u64 = major.parse().map_err(|_| bad())?;
    let minor: u64 = minor.parse().map_err(|_| bad())?;
    if major > SUPPORTED_MAJOR {
        return Err(Error::NewerSchema {
            path: path.to_owned(),
            found: text.to_owned(),
            supported: SCHEMA_VERSION,
        });
    }
    if major < SUPPORTED_MAJOR {
        return Err(bad());
    }
    Ok(minor)
}

/// The file's text: pretty-printed, keys in struct order, with a final newline.
pub fn to_json(results: &Results) -> String {
    let mut text =
        serde_json::to_string_pretty(results).expect("results hold only strings and numbers");
    text.push('\n');
    text
}

/// Writes a results file atomically (see [`write_atomic`]). Refuses NaN and infinite
/// figures: serde_json would write them as `null`, which no reader accepts.
pub fn write_results(path: &Path, results: &Results) -> Result<(), Error> {
    if let Some((field, value)) = first_non_finite(results) {
        return Err(Error::NotFinite {
            path: path.to_owned(),
            field,
            value,
        });
    }
    write_atomic(path, to_json(results).as_bytes())
}

fn first_non_finite(results: &Results) -> Option<(String, f64)> {
    for (i, run) in results.runs.iter().enumerate() {
        let mut figures = vec![
            ("clock_mhz".to_owned(), run.clock_mhz),
            ("vdd_v".to_owned(), run.vdd_v),
            ("time_us".to_owned(), run.time_us),
            ("energy_uj".to_owned(), run.energy_uj),
            ("avg_power_mw".to_owned(), run.avg_power_mw),
            ("host.wall_ms".to_owned(), run.host.wall_ms),
            ("host.mips".to_owned(), run.host.mips),
        ];
        figures.extend(run.cycles_per_mac.map(|v| ("cycles_per_mac".to_owned(), v)));
        if let Some(c) = &run.per_call {
            figures.extend([
                ("per_call.cycles".to_owned(), c.cycles),
                ("per_call.time_us".to_owned(), c.time_us),
                ("per_call.energy_uj".to_owned(), c.energy_uj),
                ("per_call.avg_power_mw".to_owned(), c.avg_power_mw),
            ]);
        }
        for (j, r) in run.regions.iter().enumerate() {
            figures.push((format!("regions[{j}].time_us"), r.time_us));
            figures.push((format!("regions[{j}].energy_uj"), r.energy_uj));
        }
        if let Some((field, value)) = figures.into_iter().find(|(_, v)| !v.is_finite()) {
            return Some((format!("runs[{i}].{field}"), value));
        }
    }
    None
}
