//! Regions the firmware marks with calls rather than functions: code that is
//! no function of its own, such as one layer of a model run by a loop.
//!
//! The firmware calls `mb_region_begin(name, macs)` and `mb_region_end()`
//! (workloads/runtime/mcubench.h), two functions that do nothing; the block
//! hook recognises a block at either entry and reads the arguments there, so
//! no instruction is hooked and the image runs unchanged elsewhere. A region
//! is inclusive: callees and interrupts taken inside it count. Regions nest;
//! an end closes the innermost open one.

use std::collections::HashMap;

/// The function whose entry begins a marked region.
pub const BEGIN_SYMBOL: &str = "mb_region_begin";
/// The function whose entry ends the innermost open marked region.
pub const END_SYMBOL: &str = "mb_region_end";

/// Bytes of a name read from the firmware: longer names are cut.
pub const MAX_NAME_BYTES: usize = 64;
/// Distinct names tracked; further names are dropped with a warning, so
/// firmware making up names cannot grow the record without end.
const MAX_NAMES: usize = 1024;
/// Regions open at once; a begin past this is dropped with a warning.
const MAX_OPEN: usize = 64;

/// Which marker function a block is the entry of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `mb_region_begin(name, macs)`.
    Begin,
    /// `mb_region_end()`.
    End,
}

/// The entries of the two marker functions in one image.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markers {
    begin: Option<u32>,
    end: Option<u32>,
}

impl Markers {
    /// Looks the two functions up by name; an image without them marks nothing.
    pub fn of(symbols: &crate::image::Symbols) -> Markers {
        Markers {
            begin: symbols.addr_of(BEGIN_SYMBOL),
            end: symbols.addr_of(END_SYMBOL),
        }
    }

    /// The marker whose entry is `addr`, if any.
    pub fn at(&self, addr: u32) -> Option<Marker> {
        if self.begin == Some(addr) {
            Some(Marker::Begin)
        } else if self.end == Some(addr) {
            Some(Marker::End)
        } else {
            None
        }
    }
}

/// Totals of one marked name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkTotals {
    /// The name the firmware gave.
    pub name: String,
    /// Regions open around its first begin: 0 for an outermost one.
    pub depth: u32,
    /// Multiply-accumulates of one call, as the firmware declared (0: none).
    pub macs: u64,
    /// Times it was begun.
    pub calls: u64,
    /// Inclusive cycles over all calls.
    pub cycles: u64,
    /// Inclusive energy-weighted cycles (thousandths) over all calls.
    pub weighted: u64,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    /// The name's totals; `None` for a name past the limit, kept open so its
    /// end closes it and not another.
    index: Option<usize>,
    cycles: u64,
    weighted: u64,
}

/// The marked regions of a run, in the order their names first appeared.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    totals: Vec<MarkTotals>,
    by_name: HashMap<String, usize>,
    open: Vec<Open>,
    /// Begins dropped for nesting past the limit and not yet ended.
    too_deep: u64,
    /// Opens of each name on the stack: a name open twice (recursion) is
    /// charged once, by its outermost open.
    active: Vec<u32>,
    warnings: Vec<String>,
    /// The [`Warning`]s already given: each kind is reported once, naming
    /// its first case, however often the firmware repeats it.
    warned: u8,
}

/// What can go wrong with the markers, one bit each.
#[derive(Debug, Clone, Copy)]
enum Warning {
    TooDeep = 1,
    TooManyNames = 1 << 1,
    MacsDiffer = 1 << 2,
    EndWithoutBegin = 1 << 3,
    OpenAtEnd = 1 << 4,
}

impl Marks {
    /// Opens region `name` at the given counters.
    pub fn begin(&mut self, name: String, macs: u64, cycles: u64, weighted: u64) {
        if self.open.len() >= MAX_OPEN {
            self.too_deep += 1;
            self.warn(Warning::TooDeep, || format!(
                "marked regions nest deeper than {MAX_OPEN}; `{name}` and deeper ones are not measured"
            ));
            return;
        }
        let index = match self.by_name.get(&name) {
            Some(&index) => index,
            None if self.totals.len() >= MAX_NAMES => {
                self.warn(Warning::TooManyNames, || format!(
                    "more than {MAX_NAMES} marked region names; `{name}` and later new names are not measured"
                ));
                self.open.push(Open {
                    index: None,
                    cycles,
                    weighted,
                });
                return;
            }
            None => {
                let index = self.totals.len();
                self.by_name.insert(name.clone(), index);
                self.totals.push(MarkTotals {
                    name,
                    depth: self.open.len() as u32,
                    macs,
                    calls: 0,
                    cycles: 0,
                    weighted: 0,
                });
                self.active.push(0);
                index
            }
        };
        let totals = &mut self.totals[index];
        if totals.macs != macs {
            let first = totals.macs;
            let name = totals.name.clone();
            self.warn(Warning::MacsDiffer, || format!(
                "marked region `{name}` declared {first} MACs at first and {macs} later; cycles per MAC use {first}"
            ));
        }
        self.totals[index].calls += 1;
        self.active[index] += 1;
        self.open.push(Open {
            index: Some(index),
            cycles,
            weighted,
        });
    }

    /// Closes the innermost open region.
    pub fn end(&mut self, cycles: u64, weighted: u64) {
        if self.too_deep > 0 {
            self.too_deep -= 1;
            return;
        }
        match self.open.pop() {
            Some(open) => self.close(open, cycles, weighted),
            None => self.warn(Warning::EndWithoutBegin, || {
                "`mb_region_end` called with no marked region open; ignored".to_owned()
            }),
        }
    }

    /// Adds `calls` calls of an outermost region measured elsewhere than at
    /// the markers (the console window of `mcubench run --window`).
    pub fn add(&mut self, name: &str, calls: u64, cycles: u64, weighted: u64) {
        let index = match self.by_name.get(name) {
            Some(&index) => index,
            None => {
                self.by_name.insert(name.to_owned(), self.totals.len());
                self.totals.push(MarkTotals {
                    name: name.to_owned(),
                    depth: 0,
                    macs: 0,
                    calls: 0,
                    cycles: 0,
                    weighted: 0,
                });
                self.active.push(0);
                self.totals.len() - 1
            }
        };
        let totals = &mut self.totals[index];
        totals.calls += calls;
        totals.cycles += cycles;
        totals.weighted += weighted;
    }

    /// A warning of the run's own, among the markers'.
    pub fn note(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Closes what is still open when the run ends, with a warning naming it.
    pub fn finish(&mut self, cycles: u64, weighted: u64) {
        while let Some(open) = self.open.pop() {
            if let Some(index) = open.index {
                let name = self.totals[index].name.clone();
                self.warn(Warning::OpenAtEnd, || {
                    format!(
                        "marked region `{name}` was still open when the run ended; closed there"
                    )
                });
            }
            self.close(open, cycles, weighted);
        }
    }

    fn close(&mut self, open: Open, cycles: u64, weighted: u64) {
        let Some(index) = open.index else {
            return;
        };
        self.active[index] -= 1;
        if self.active[index] == 0 {
            let totals = &mut self.totals[index];
            totals.cycles += cycles - open.cycles;
            totals.weighted += weighted - open.weighted;
        }
    }

    /// Gives a warning of `kind` unless one was given already.
    fn warn(&mut self, kind: Warning, message: impl FnOnce() -> String) {
        if self.warned & kind as u8 == 0 {
            self.warned |= kind as u8;
            self.warnings.push(message());
        }
    }

    /// Totals per name, in the order the names first appeared.
    pub fn totals(&self) -> &[MarkTotals] {
        &self.totals
    }

    /// What went wrong with the markers, each kind once.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// A name read from firmware memory (at most [`MAX_NAME_BYTES`], up to its
/// NUL) made printable: control characters become U+FFFD, so a name cannot
/// move a terminal's cursor or break a table.
pub fn printable_name(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    crate::demangle::printable(String::from_utf8_lossy(&bytes[..end.min(MAX_NAME_BYTES)]).chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_measured_elsewhere_adds_its_calls_to_its_name() {
        let mut marks = Marks::default();
        marks.add("window", 10, 1_000, 900);
        marks.add("window", 10, 1_200, 1_100);
        let window = &marks.totals()[0];
        assert_eq!(
            (window.calls, window.cycles, window.weighted, window.depth),
            (20, 2_200, 2_000, 0)
        );
    }

    #[test]
    fn nested_regions_are_inclusive_and_keep_first_appearance_order() {
        let mut marks = Marks::default();
        marks.begin("outer".into(), 0, 0, 0);
        marks.begin("inner".into(), 100, 10, 1000);
        marks.end(30, 3000);
        marks.begin("inner".into(), 100, 40, 4000);
        marks.end(45, 4500);
        marks.end(50, 5000);
        let totals = marks.totals();
        assert_eq!(totals[0].name, "outer");
        assert_eq!(
            (totals[0].calls, totals[0].cycles, totals[0].depth),
            (1, 50, 0)
        );
        assert_eq!(
            (totals[1].calls, totals[1].cycles, totals[1].depth),
            (2, 25, 1)
        );
        assert_eq!(totals[1].weighted, 2500);
        assert!(marks.warnings().is_empty());
    }

    #[test]
    fn a_name_open_twice_is_charged_once() {
        let mut marks = Marks::default();
        marks.begin("r".into(), 0, 0, 0);
        marks.begin("r".into(), 0, 5, 0);
        marks.end(8, 0);
        marks.end(10, 0);
        assert_eq!((marks.totals()[0].calls, marks.totals()[0].cycles), (2, 10));
    }

    #[test]
    fn unbalanced_and_runaway_markers_are_bounded_and_warned_once() {
        let mut marks = Marks::default();
        marks.end(0, 0);
        marks.end(1, 0);
        for i in 0..2 * MAX_NAMES as u64 {
            marks.begin(format!("n{i}"), 0, i, 0);
            marks.end(i + 1, 0);
        }
        for _ in 0..2 * MAX_OPEN {
            marks.begin("n0".into(), 0, 0, 0);
        }
        marks.finish(7, 0);
        assert_eq!(marks.totals().len(), MAX_NAMES);
        assert_eq!(marks.warnings().len(), 4, "{:?}", marks.warnings());
        assert!(marks.warnings()[0].contains("no marked region open"));
    }

    #[test]
    fn a_dropped_name_still_pairs_with_its_end() {
        let mut marks = Marks::default();
        for i in 0..MAX_NAMES as u64 {
            marks.begin(format!("n{i}"), 0, 0, 0);
            marks.end(0, 0);
        }
        marks.begin("n0".into(), 0, 100, 0);
        marks.begin("one too many".into(), 0, 102, 0);
        marks.end(105, 0);
        marks.end(110, 0);
        assert_eq!(marks.totals()[0].cycles, 10);
        assert_eq!(marks.warnings().len(), 1);
    }

    #[test]
    fn names_are_cut_at_nul_and_made_printable() {
        assert_eq!(printable_name(b"3 conv\0junk"), "3 conv");
        assert_eq!(printable_name(b"a\x1b[2Jb"), "a\u{fffd}[2Jb");
        assert_eq!(printable_name(&[b'x'; 200]).len(), MAX_NAME_BYTES);
        assert_eq!(printable_name(b"\xff\xfe"), "\u{fffd}\u{fffd}");
    }
}
