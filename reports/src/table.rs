//! Tables for people: one model of columns and rows that prints either as aligned
//! terminal columns or as a GitHub-flavoured markdown table, so a command's
//! `--format table` and `--format markdown` agree cell for cell.
//!
//! Terminal tables are laid out by `tabled` rather than comfy-table: `tabled` measures
//! cells by their display width while skipping colour codes and wraps a cell within a
//! fixed column width, with no terminal library behind it (comfy-table's styled cells
//! bring in crossterm). Cells carry an [`anstyle::Style`]; the terminal text holds its
//! codes and the caller's output stream (anstream) keeps or strips them, so colour shows
//! only on a terminal that wants it. Markdown never carries colour.

use anstyle::Style;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::style::HorizontalLine;
use tabled::settings::{Alignment, Padding, Width};

use crate::markdown::escape;

/// How a column's cells sit: text to the left, figures to the right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Names and words.
    Left,
    /// Figures, so their digits line up.
    Right,
}

/// One column: its heading, alignment and, for names that can run long (demangled
/// symbols, workload names), the widest it may grow before its cells wrap.
#[derive(Clone, Debug)]
pub struct Column {
    heading: String,
    align: Align,
    max_width: Option<usize>,
}

impl Column {
    /// A column of names or words.
    pub fn left(heading: &str) -> Self {
        Self {
            heading: heading.to_owned(),
            align: Align::Left,
            max_width: None,
        }
    }

    /// A column of figures.
    pub fn right(heading: &str) -> Self {
        Self {
            align: Align::Right,
            ..Self::left(heading)
        }
    }

    /// Cells wider than `width` characters wrap onto more lines in the terminal
    /// (at spaces where they have any), so one long name cannot push the other
    /// columns off the screen.
    pub fn wrap_at(mut self, width: usize) -> Self {
        self.max_width = Some(width);
        self
    }
}

/// One cell: its text and how it is coloured on a terminal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    /// A cell shown in `style` on a terminal that takes colour.
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Self {
            text: text.into(),
            style,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::styled(text, Style::new())
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

/// Columns and rows, printed with [`Table::terminal`] or [`Table::markdown`].
#[derive(Clone, Debug)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table of `columns`.
    pub fn new(columns: Vec<Column>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells at its end are left empty, extra ones are dropped.
    pub fn row<C: Into<Cell>>(&mut self, cells: impl IntoIterator<Item = C>) {
        let mut row: Vec<Cell> = cells
            .into_iter()
            .take(self.columns.len())
            .map(Into::into)
            .collect();
        row.resize(self.columns.len(), Cell::default());
        self.rows.push(row);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Aligned columns two spaces apart under a ruled heading, long names wrapped
    /// in their column; each line ends in a newline and carries no trailing spaces.
    pub fn terminal(&self) -> String {
        let mut builder = Builder::default();
        builder.push_record(self.columns.iter().map(|c| c.heading.clone()));
        for row in &self.rows {
            builder.push_record(row.iter().map(|cell| {
                if cell.style == Style::new() || cell.text.is_empty() {
                    cell.text.clone()
                } else {
                    format!("{}{}{:#}", cell.style, cell.text, cell.style)
                }
            }));
        }
        let mut table = builder.build();
        let rule = HorizontalLine::new('─').intersection(' ');
        table.with(tabled::settings::Style::blank().horizontals([(1, rule)]));
        // One space of padding and one of border: columns two apart, the last unpadded
        // so the rule under the heading ends where the widest cell does.
        table.with(Padding::new(0, 1, 0, 0));
        table.modify(Columns::last(), Padding::zero());
        for (i, column) in self.columns.iter().enumerate() {
            let align = match column.align {
                Align::Left => Alignment::left(),
                Align::Right => Alignment::right(),
            };
            table.modify(Columns::one(i), align);
            if let Some(width) = column.max_width {
                table.modify(Columns::one(i), Width::wrap(width).keep_words(true));
            }
        }
        let mut out = String::new();
        for line in table.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured markdown table: figures right-aligned, every cell escaped so
    /// a name cannot break the table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let headings: Vec<String> = self.columns.iter().map(|c| escape(&c.heading)).collect();
        out.push_str(&format!("| {} |\n", headings.join(" | ")));
        let rules: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.align {
                Align::Left => "---",
                Align::Right => "---:",
            })
            .collect();
        out.push_str(&format!("| {} |\n", rules.join(" | ")));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|cell| escape(&cell.text)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(vec![
            Column::left("function").wrap_at(24),
            Column::right("cycles"),
        ]);
        table.row(["main", "1,234"]);
        table.row([
            "std::vector<int, std::allocator<int> >::push_back(int const&)",
            "56",
        ]);
        table
    }

    #[test]
    fn long_names_wrap_inside_their_column() {
        let text = sample().terminal();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "function                  cycles", "{text}");
        // Every figure stays in its column, however long the name beside it.
        let at = lines[0].find("cycles").unwrap() + "cycles".len();
        for line in text.lines().filter(|l| l.ends_with(char::is_numeric)) {
            assert_eq!(line.chars().count(), at, "{text}");
        }
        assert!(lines.iter().all(|l| l.chars().count() <= at), "{text}");
        let joined: String = lines[3..].iter().map(|l| l.trim()).collect();
        assert!(joined.contains("push_back(int"), "{text}");
        assert!(lines.len() > 4, "the long name wraps: {text}");
    }

    #[test]
    fn colour_codes_take_no_width() {
        let mut table = Table::new(vec![Column::left("status"), Column::right("n")]);
        let red = Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
        table.row([Cell::styled("failed", red), Cell::from("1")]);
        table.row(["ok", "22"]);
        let text = table.terminal();
        assert!(text.contains("\u{1b}[31mfailed\u{1b}[0m"), "{text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[3], "ok      22");
        assert_eq!(lines[2].len(), lines[3].len() + "\u{1b}[31m\u{1b}[0m".len());
    }

    #[test]
    fn markdown_is_escaped_and_aligned() {
        let mut table = Table::new(vec![Column::left("name"), Column::right("cycles")]);
        table.row(["a|b_c", "1"]);
        table.row(["short"]);
        assert_eq!(
            table.markdown(),
            "| name | cycles |\n| --- | ---: |\n| a\\|b\\_c | 1 |\n| short |  |\n"
        );
    }
}
