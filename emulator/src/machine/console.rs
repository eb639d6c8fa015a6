//! The firmware's output: one stream fed by every channel (semihosting, UART
//! TX, SEGGER RTT, ITM), kept for the run record and, when asked, copied to
//! the host's stdout as it arrives, so a long run shows its progress. A text
//! it waits for (`mcubench run --until`) ends the run once printed, as a test
//! runner ends a session on a pattern.

use std::collections::VecDeque;
use std::io::Write;

/// Looks for one text in output that arrives in pieces.
#[derive(Debug, Default)]
pub struct TextWatch {
    text: Vec<u8>,
    /// The last bytes heard, at most the text's length, until it is found.
    tail: VecDeque<u8>,
    found: bool,
}

impl TextWatch {
    /// Watches for `text`; an empty one is never found.
    pub fn new(text: &[u8]) -> TextWatch {
        TextWatch {
            text: text.to_vec(),
            tail: VecDeque::with_capacity(text.len()),
            found: false,
        }
    }

    /// Whether the text has been heard.
    pub fn found(&self) -> bool {
        self.found
    }

    /// Looks for the text again.
    pub fn reset(&mut self) {
        self.found = false;
        self.tail.clear();
    }

    /// Listens to `bytes`; true when they complete the text, the first time.
    pub fn hear(&mut self, bytes: &[u8]) -> bool {
        if self.found || self.text.is_empty() {
            return false;
        }
        for &byte in bytes {
            if self.tail.len() == self.text.len() {
                self.tail.pop_front();
            }
            self.tail.push_back(byte);
            if self.tail.iter().eq(self.text.iter()) {
                self.found = true;
                self.tail.clear();
                return true;
            }
        }
        false
    }
}

/// A stretch of the run between two texts the firmware prints, measured as
/// a region of `calls` calls (`mcubench run --window`): how firmware without
/// markers, a vendor image, shows its own work, as EEMBC's runner times
/// inferences between two lines. A closed window opens again at the next
/// `from`.
#[derive(Debug)]
pub struct OutputWindow {
    from: TextWatch,
    to: TextWatch,
    /// Calls of the measured work one window holds.
    pub calls: u64,
    /// The counters (cycles, energy-weighted cycles) where the open window began.
    opened: Option<(u64, u64)>,
}

impl OutputWindow {
    /// A window from `from` to `to` holding `calls` calls.
    pub fn new(from: &[u8], to: &[u8], calls: u64) -> OutputWindow {
        OutputWindow {
            from: TextWatch::new(from),
            to: TextWatch::new(to),
            calls,
            opened: None,
        }
    }

    /// Listens to `bytes` printed at the counters given; returns the span
    /// (cycles, energy-weighted cycles) of a window they close.
    pub fn hear(&mut self, bytes: &[u8], cycles: u64, weighted: u64) -> Option<(u64, u64)> {
        match self.opened {
            None => {
                if self.from.hear(bytes) {
                    self.opened = Some((cycles, weighted));
                    self.to.reset();
                }
                None
            }
            Some((c, w)) => self.to.hear(bytes).then(|| {
                self.opened = None;
                self.from.reset();
                (cycles - c, weighted - w)
            }),
        }
    }

    /// Whether a window is open.
    pub fn is_open(&self) -> bool {
        self.opened.is_some()
    }
}

/// Most bytes kept for the record; later output is still streamed but not kept,
/// so chatty firmware cannot exhaust host memory.
const MAX_KEPT: usize = 16 << 20;

/// The output stream of one run.
#[derive(Debug, Default)]
pub struct Console {
    kept: Vec<u8>,
    stream: bool,
    until: TextWatch,
}

impl Console {
    /// A console that also copies to stdout when `stream` is set and ends
    /// the run once the firmware has printed `until` (never if it is empty).
    pub fn new(stream: bool, until: &[u8]) -> Console {
        Console {
            kept: Vec::new(),
            stream,
            until: TextWatch::new(until),
        }
    }

    /// Appends what the firmware wrote; true when it completed the text the
    /// run ends on.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return false;
        }
        if self.stream {
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not stop the run.
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        let room = MAX_KEPT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.until.hear(bytes)
    }

    /// Whether output goes to the host's stdout as it arrives.
    pub fn streams(&self) -> bool {
        self.stream
    }

    /// Everything kept so far.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_found_once_across_writes() {
        let mut watch = TextWatch::new(b"m-results-");
        assert!(!watch.hear(b"m-infer-done\r\nm-res"));
        assert!(watch.hear(b"ults-[0.1]"));
        assert!(watch.found());
        assert!(!watch.hear(b"m-results-"));
        let mut never = TextWatch::new(b"");
        assert!(!never.hear(b"anything"));
        assert!(!never.found());
    }

    #[test]
    fn a_window_spans_from_its_first_text_to_its_second_and_opens_again() {
        let mut window = OutputWindow::new(b"start", b"done", 10);
        assert_eq!(window.hear(b"done before it", 5, 50), None);
        assert_eq!(window.hear(b"m-infer-sta", 10, 100), None);
        assert_eq!(window.hear(b"rt-10", 12, 120), None);
        assert!(window.is_open());
        assert_eq!(window.hear(b"m-infer-do", 500, 5_000), None);
        assert_eq!(window.hear(b"ne", 512, 5_120), Some((500, 5_000)));
        assert!(!window.is_open());
        assert_eq!(window.hear(b"start", 600, 6_000), None);
        assert_eq!(window.hear(b"done", 700, 7_000), Some((100, 1_000)));
    }

    #[test]
    fn the_console_says_when_the_run_ends() {
        let mut console = Console::new(false, b"done");
        assert!(!console.write(b"working, "));
        assert!(console.write(b"done\n"));
        assert_eq!(console.take(), b"working, done\n");
    }
}
