//! The `mcubench` command: thin glue over the library. Each subcommand lives
//! in its own file under `cli/`; main only parses and maps errors to exit codes
//! (0 success, 1 the firmware, suite or gate failed, 2 bad usage or bad input).

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let mut command = cli::Cli::command();
    // Which unicorn is linked is known only by asking an engine, so only
    // when the version is asked for.
    if std::env::args_os().any(|a| a == "-V" || a == "--version") {
        command = command.version(cli::version());
    }
    let args = cli::Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            cli::error(format!("{err:#}"));
            ExitCode::from(2)
        }
    }
}
