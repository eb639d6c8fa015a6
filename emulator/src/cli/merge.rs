//! `mcubench merge A.json B.json ... --out merged.json`: joins the shards of one suite run.

use std::path::PathBuf;
use std::process::ExitCode;

use mcubench_reports::{json, merge, Error};

/// Join results shards (same suite and schema, disjoint runs) into one file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Shard results files, e.g. from `mcubench suite --shard k/n`.
    #[arg(required = true, value_name = "RESULTS")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the merged results.json.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Exit 0 with the merged file written, or 2 when the shards don't fit together.
pub fn run(args: Args, console: super::console::Console) -> anyhow::Result<ExitCode> {
    match join(&args) {
        Ok(runs) => {
            console.note(format_args!("wrote {} ({runs} runs)", args.out.display()));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            super::error(e);
            Ok(ExitCode::from(2))
        }
    }
}

fn join(args: &Args) -> Result<usize, Error> {
    let shards = args
        .inputs
        .iter()
        .map(|path| Ok((path.clone(), json::read_results(path)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let merged = merge::merge(&shards)?;
    json::write_results(&args.out, &merged)?;
    Ok(merged.runs.len())
}
