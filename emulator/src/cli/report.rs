//! `mcubench report RESULTS [--baseline BASE] --out DIR`: the self-contained HTML report.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench_reports::html;

/// Render a results file as DIR/index.html (inline CSS and SVG, no network).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// results.json written by `mcubench suite`.
    pub results: PathBuf,
    /// Results to compare against (same suite); every figure then shows its change.
    #[arg(long, value_name = "BASE")]
    pub baseline: Option<PathBuf>,
    /// Directory to write index.html into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Exit 0 with the page written, or 2 with `error: ...` on bad input or an unwritable
/// output (nothing is left behind then).
pub fn run(args: Args, console: super::console::Console) -> anyhow::Result<ExitCode> {
    match html::write_report(&args.results, args.baseline.as_deref(), &args.out) {
        Ok(index) => {
            console.note(format_args!("wrote {}", index.display()));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            super::error(e);
            Ok(ExitCode::from(2))
        }
    }
}
