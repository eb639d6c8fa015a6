//! `mcubench export RESULTS --format gab|bmf|folded|speedscope [--run W@T] --out FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench_reports::exports::{self, Format};
use mcubench_reports::{json, output, Error};

/// Convert results for other tools: github-action-benchmark (gab), Bencher (bmf), or one
/// run's stacks as folded text or a speedscope profile.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// results.json written by `mcubench suite`.
    pub results: PathBuf,
    /// Output format: github-action-benchmark (gab), Bencher (bmf), folded stacks or
    /// speedscope.
    #[arg(long, value_enum)]
    pub format: Format,
    /// The run to export, WORKLOAD@TARGET: needed for folded and speedscope when the file
    /// holds several runs; limits gab and bmf to that run.
    #[arg(long, value_name = "WORKLOAD@TARGET")]
    pub run: Option<String>,
    /// File to write; `-` writes to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Exit 0 with the file written, or 2 on bad input or an unwritable output.
pub fn run(args: Args, console: super::console::Console) -> anyhow::Result<ExitCode> {
    match convert(&args) {
        Ok(()) => {
            if !to_stdout(&args.out) {
                console.note(format_args!("wrote {}", args.out.display()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            super::error(e);
            Ok(ExitCode::from(2))
        }
    }
}

fn convert(args: &Args) -> Result<(), Error> {
    let results = json::read_results(&args.results)?;
    let text = exports::export(&results, &args.results, args.format, args.run.as_deref())?;
    if to_stdout(&args.out) {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|source| Error::Write {
                path: args.out.clone(),
                source,
            });
    }
    output::write_atomic(&args.out, text.as_bytes())
}

/// Whether `--out` names stdout.
fn to_stdout(out: &std::path::Path) -> bool {
    out.as_os_str() == "-"
}
