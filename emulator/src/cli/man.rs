//! `mcubench man [COMMAND]`: a roff manual page on stdout, the command's own
//! or one subcommand's (the pages the main one refers to), e.g.
//! `mcubench man > mcubench.1` and `mcubench man run > mcubench-run.1`.

use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

/// Arguments of `mcubench man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subcommand whose page to print (`mcubench-run(1)` for `run`).
    command: Option<String>,
}

/// Prints the page.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    // Gives subcommands their `mcubench-NAME` titles.
    command.build();
    let page = match &args.command {
        None => command,
        Some(name) => {
            let known: Vec<&str> = command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name())
                .collect();
            command
                .find_subcommand(name)
                .filter(|c| !c.is_hide_set())
                .cloned()
                .with_context(|| {
                    format!(
                        "no manual page for `{name}` (commands: {})",
                        known.join(", ")
                    )
                })?
        }
    };
    clap_mangen::Man::new(page)
        .source(format!("mcubench {}", env!("CARGO_PKG_VERSION")))
        .render(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
