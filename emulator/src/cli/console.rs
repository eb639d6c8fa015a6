//! Where a command's words go: results on stdout in the `--format` asked for, messages
//! (progress, warnings, errors) on stderr. Colour is written as anstyle codes through
//! anstream, which keeps them only on a terminal and honours NO_COLOR and
//! CLICOLOR_FORCE; JSON and markdown are printed without it.

use std::fmt::Display;
use std::io::{ErrorKind, Write};

use anstyle::{AnsiColor, Style};
use mcubench_reports::markdown::escape;
use mcubench_reports::table::Table;

use super::Format;

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default();

/// Prints `error: MESSAGE` on stderr; `--quiet` never hides it.
pub fn error(message: impl Display) {
    anstream::eprintln!("{ERROR}error:{ERROR:#} {message}");
}

/// What a command may say on stderr besides its errors.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// `--quiet`: no progress and no informational lines.
    pub quiet: bool,
}

impl Console {
    /// Prints `warning: MESSAGE` on stderr: something the reader should act on, so
    /// shown under `--quiet` too.
    pub fn warning(self, message: impl Display) {
        anstream::eprintln!("{WARNING}warning:{WARNING:#} {message}");
    }

    /// Prints an informational line (what was written where) on stderr, unless quiet.
    pub fn note(self, message: impl Display) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}

/// A titled table in `format` (table or markdown; JSON has no tables): the title on a
/// line of its own, bold in markdown.
pub fn section(format: Format, title: &str, table: &Table) -> String {
    match format {
        Format::Markdown if title.is_empty() => table.markdown(),
        Format::Markdown => format!("**{}**\n\n{}", escape(title), table.markdown()),
        _ if title.is_empty() => table.terminal(),
        _ => format!("{title}\n{}", table.terminal()),
    }
}

/// Prints text on stdout: a terminal table's colour codes are kept only where
/// stdout is a terminal that takes colour. A reader that went away (`| head`) is
/// no error: the rest is dropped, and the command's exit status stays its own.
pub fn print(text: &str) {
    let mut stdout = anstream::stdout();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != ErrorKind::BrokenPipe {
            error(format_args!("writing to standard output: {e}"));
        }
    }
}
