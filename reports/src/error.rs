//! The one error type of this crate.
//!
//! Every variant is bad input or an unwritable output (the CLI exits with 2): a gate that
//! finds a regression is not an error but a [`crate::compare::Comparison`] that failed.
//! Each variant names the file it is about so the message alone tells the user what to fix.

use std::path::PathBuf;

/// What went wrong while reading, checking or writing results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file ends before the JSON document does.
    #[error("{} is truncated: the JSON ends early ({source})", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the parser ran out.
        source: serde_json::Error,
    },
    /// The file is JSON but not a results file this crate understands.
    #[error("{} is not a valid mcubench results file: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, with line and column.
        source: serde_json::Error,
    },
    /// The file is JSON with a run record's keys but not a record this crate understands.
    #[error("{} is not a valid `mcubench run --format json` record: {source}", path.display())]
    InvalidRecord {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, with line and column.
        source: serde_json::Error,
    },
    /// `schema_version` is missing or not of the form `MAJOR.MINOR`.
    #[error("{} has no usable schema_version (found {found}); expected \"{expected}\"", path.display())]
    BadSchemaVersion {
        /// The file.
        path: PathBuf,
        /// What the file holds there, as JSON text.
        found: String,
        /// The version this build writes.
        expected: &'static str,
    },
    /// The file was written by a newer mcubench with an incompatible schema.
    #[error(
        "{} uses results schema {found}, newer than the supported {supported}; upgrade mcubench",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The file's schema_version.
        found: String,
        /// The version this build writes.
        supported: &'static str,
    },
    /// Two results files that must describe the same suite do not.
    #[error(
        "{} and {} are not from the same suite: {what} differs ({left} vs {right})",
        left_path.display(),
        right_path.display()
    )]
    Mismatch {
        /// The first file.
        left_path: PathBuf,
        /// The second file.
        right_path: PathBuf,
        /// Which field differs.
        what: &'static str,
        /// Its value in the first file.
        left: String,
        /// Its value in the second file.
        right: String,
    },
    /// The same workload@target run appears twice where runs must be disjoint.
    #[error("run {run} appears in both {} and {}", first.display(), second.display())]
    DuplicateRun {
        /// The run key, `workload@target`.
        run: String,
        /// The file that had it first.
        first: PathBuf,
        /// The file that has it again.
        second: PathBuf,
    },
    /// A run asked for by key is not in the file.
    #[error("{} has no run {run}; it has: {available}", path.display())]
    NoSuchRun {
        /// The file.
        path: PathBuf,
        /// The key asked for.
        run: String,
        /// The keys present, comma separated.
        available: String,
    },
    /// An export of one run was asked for but the file holds several.
    #[error("{} holds {count} runs; choose one with --run WORKLOAD@TARGET ({available})", path.display())]
    RunRequired {
        /// The file.
        path: PathBuf,
        /// How many runs it holds.
        count: usize,
        /// The keys present, comma separated.
        available: String,
    },
    /// A metric name that is not a numeric run field.
    #[error("unknown metric {0:?}; known: {known}", known = crate::compare::Metric::names().join(", "))]
    UnknownMetric(String),
    /// Two sides measured a run in different configurations and the caller did not allow it.
    #[error(
        "{run}: {difference}; these are different configurations, not a change \
         (pass --allow-config-change to compare them anyway)"
    )]
    ConfigChanged {
        /// The run key, `workload@target`.
        run: String,
        /// What differs, with both values.
        difference: crate::compare::Difference,
    },
    /// A limit that does not parse.
    #[error("bad limit {text:?}: {why}")]
    BadLimit {
        /// The text given.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Shard files that do not add up to one whole suite run.
    #[error("the shards do not make up the whole suite: {why}")]
    Shards {
        /// What is missing or repeated.
        why: String,
    },
    /// Nothing to merge.
    #[error("merge needs at least one results file")]
    NothingToMerge,
    /// A figure is NaN or infinite, which JSON cannot hold.
    #[error("cannot write {}: {field} is {value}, not a finite number", path.display())]
    NotFinite {
        /// The file that was to be written.
        path: PathBuf,
        /// Where the figure is, e.g. `runs[3].time_us`.
        field: String,
        /// The value.
        value: f64,
    },
    /// The output could not be written; nothing was left behind.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A chart or flame graph could not be drawn.
    #[error("cannot draw {what}: {why}")]
    Render {
        /// Which figure.
        what: String,
        /// The renderer's message.
        why: String,
    },
}
