//! Symbol names as their authors wrote them: Rust (legacy and v0) and C++
//! (Itanium) mangled names are demangled once, when an image is loaded, so
//! profiles, flame graphs, regions and messages read `mylib::infer` rather
//! than `_ZN5mylib5infer17h0123456789abcdefE`.
//!
//! Names come from untrusted images, so each is bounded on the way in and on
//! the way out: a C++ name can demangle to exponentially more text than it
//! has bytes.

use std::fmt::{self, Write};

/// Longest name kept, in bytes, mangled or demangled. Real Rust and C++
/// names stay well below it; past it a name is cut and marked with `…`.
pub const MAX_NAME_BYTES: usize = 1024;

/// The name users should see for the symbol `raw`: demangled where it is a
/// Rust or C++ name (without Rust's hash), else `raw` itself, cut at
/// `MAX_NAME_BYTES`.
pub fn readable(raw: &str) -> String {
    if raw.len() > MAX_NAME_BYTES {
        return cut(raw);
    }
    rust(raw)
        .or_else(|| cpp(raw))
        .unwrap_or_else(|| raw.to_owned())
}

/// Characters of a name taken from the firmware with control characters as
/// U+FFFD, so the name cannot move a terminal's cursor or break a table.
pub fn printable(chars: impl Iterator<Item = char>) -> String {
    chars
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// The last path segment of a readable name, without C++ parameters or
/// template arguments: `roi_infer` for `firmware::roi_infer`,
/// `<firmware::Net as Model>::roi_infer` and `firmware::roi_infer(int)`.
pub fn leaf(name: &str) -> &str {
    let (mut depth, mut start) = (0u32, 0);
    let mut chars = name.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '<' | '(' | '[' | '{' => {
                if depth == 0 && i > start {
                    return &name[start..i];
                }
                depth += 1;
            }
            '>' | ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 && chars.peek().is_some_and(|&(_, n)| n == ':') => {
                chars.next();
                start = i + 2;
            }
            _ => {}
        }
    }
    &name[start..]
}

fn rust(raw: &str) -> Option<String> {
    let demangled = rustc_demangle::try_demangle(raw).ok()?;
    let mut out = Bounded::default();
    // `{:#}` leaves out the hash that only tells monomorphizations apart.
    write!(out, "{demangled:#}").ok()?;
    Some(out.0)
}

fn cpp(raw: &str) -> Option<String> {
    if !raw.starts_with("_Z") {
        return None;
    }
    let symbol = cpp_demangle::Symbol::new(raw.as_bytes()).ok()?;
    let mut out = Bounded::default();
    symbol
        .structured_demangle(&mut out, &cpp_demangle::DemangleOptions::default())
        .ok()?;
    Some(out.0)
}

/// `raw` cut at a character boundary within `MAX_NAME_BYTES`, marked `…`.
fn cut(raw: &str) -> String {
    let mut end = MAX_NAME_BYTES - '…'.len_utf8();
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}

/// A string that refuses to grow past `MAX_NAME_BYTES`, which stops a
/// demangler at the first write too many.
#[derive(Default)]
struct Bounded(String);

impl Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.0.len() + s.len() > MAX_NAME_BYTES {
            return Err(fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_names() {
        for (raw, shown) in [
            ("_ZN5mylib5infer17h0123456789abcdefE", "mylib::infer"),
            ("_RNvCs1234_5mylib5infer", "mylib::infer"),
            (
                "_RNvNtCs1234_8firmware3net9roi_infer",
                "firmware::net::roi_infer",
            ),
            ("_ZN8firmware9roi_inferEi", "firmware::roi_infer(int)"),
            (
                "_ZNK3net5Model5inferEPKaj",
                "net::Model::infer(signed char const*, unsigned int) const",
            ),
            ("main", "main"),
            ("_Z", "_Z"),
            ("_ZN5mylib", "_ZN5mylib"),
            ("_RNv", "_RNv"),
            ("_ZN5mylib9inferE", "_ZN5mylib9inferE"),
            // Bytes that were not UTF-8 are read as `?` and still demangle.
            ("_ZN5mylib5in?er17h0123456789abcdefE", "mylib::in?er"),
        ] {
            assert_eq!(readable(raw), shown, "{raw}");
        }
    }

    #[test]
    fn long_names_are_cut_and_never_demangled() {
        let raw = format!("_ZN{}{}E", 2000, "x".repeat(2000));
        let shown = readable(&raw);
        assert_eq!(shown.len(), MAX_NAME_BYTES);
        assert!(shown.starts_with("_ZN2000xx") && shown.ends_with('…'));
        assert_eq!(readable(&"é".repeat(700)).chars().last(), Some('…'));
    }

    #[test]
    fn a_name_that_demangles_past_the_bound_stays_mangled() {
        // `f(A, void (*)(A, A), ...)`, each pointer type taking two of the
        // one before through a substitution: 2^30 copies of `A` in 180 bytes.
        let substitution = |i: u32| match i {
            0 => "S_".to_owned(),
            _ => {
                let digit = |d| char::from_digit(d, 36).unwrap().to_ascii_uppercase();
                let i = i - 1;
                let high = if i >= 36 {
                    digit(i / 36).to_string()
                } else {
                    String::new()
                };
                format!("S{high}{}_", digit(i % 36))
            }
        };
        let mut raw = "_Z1f1A".to_owned();
        for level in 0..30 {
            let s = substitution(2 * level);
            raw.push_str(&format!("PFv{s}{s}E"));
        }
        assert_eq!(readable(&raw), raw);
        let short = "_Z1f1APFvS_S_EPFvS1_S1_E";
        assert_eq!(
            readable(short),
            "f(A, void (*)(A, A), void (*)(void (*)(A, A), void (*)(A, A)))"
        );
    }

    #[test]
    fn leaves() {
        for (name, leaf_name) in [
            ("roi_infer", "roi_infer"),
            ("firmware::roi_infer", "roi_infer"),
            ("<firmware::Net as firmware::Model>::roi_infer", "roi_infer"),
            ("firmware::roi_infer(int)", "roi_infer"),
            (
                "net::Model::infer(signed char const*, unsigned int) const",
                "infer",
            ),
            ("firmware::roi_step<float>(float*)", "roi_step"),
            ("firmware::roi_infer::{{closure}}", "{{closure}}"),
        ] {
            assert_eq!(leaf(name), leaf_name, "{name}");
        }
    }
}
