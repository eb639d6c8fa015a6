//! Results schema, comparisons, CI gates, exports and HTML reports for mcubench.
//!
//! `mcubench suite` writes a `results.json` ([`Results`]); this crate reads it back,
//! compares two of them with soft and hard limits, renders a markdown gate summary or a
//! self-contained HTML report, merges shards and exports to other tools' formats. It knows
//! nothing of the emulator, so a CI gate needs only this crate.
//!
//! ```
//! use std::path::Path;
//! use mcubench_reports::{compare, json, markdown, Limits};
//!
//! let text = include_str!("../schema/example-results.json");
//! let base = json::parse_results(text, Path::new("base.json"))?;
//! let mut new = base.clone();
//! new.runs[0].cycles += new.runs[0].cycles / 50; // 2% slower
//!
//! let comparison = compare::compare(&base, &new, &Limits::default());
//! assert!(!comparison.passed()); // the default soft limit is 1%
//! let table = markdown::render(&comparison, "base.json", "new.json");
//! assert!(table.contains("regressed"));
//! # Ok::<(), mcubench_reports::Error>(())
//! ```

pub mod bands;
pub mod compare;
pub mod compare_json;
pub mod compare_table;
mod error;
pub mod exports;
pub mod html;
pub mod input;
pub mod json;
pub mod layers;
pub mod markdown;
pub mod merge;
pub mod numbers;
pub mod output;
pub mod plot;
pub mod record;
pub mod results;
pub mod table;
pub mod units;

pub use compare::{Comparison, Limits, Metric};
pub use error::Error;
pub use results::{Kind, Results, Run, Status, SCHEMA_VERSION};
