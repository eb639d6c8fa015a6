//! The `mcubench` command: thin glue over the library. Each subcommand lives
//! in its own file under `cli/`; main only parses and maps errors to exit codes
//! (0 success, 1 the firmware, suite or gate failed, 2 bad usage or bad input).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            cli::error(format!("{err:#}"));
            ExitCode::from(2)
        }
    }
}
