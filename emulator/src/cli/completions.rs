//! `mcubench completions SHELL`: the shell's completion script on stdout, e.g.
//! `mcubench completions bash > ~/.local/share/bash-completion/completions/mcubench`.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `mcubench completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Prints the script.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    let name = command.get_name().to_owned();
    // Written whole, so a closed pipe is an error rather than a panic inside
    // the generator.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}
