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
                self.tail = VecDeque::new();
                return true;
            }
        }
        false
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
    fn the_console_says_when_the_run_ends() {
        let mut console = Console::new(false, b"done");
        assert!(!console.write(b"working, "));
        assert!(console.write(b"done\n"));
        assert_eq!(console.take(), b"working, done\n");
    }
}
