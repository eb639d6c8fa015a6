//! The firmware's output: one stream fed by every channel (semihosting, UART
//! TX, SEGGER RTT, ITM), kept for the run record and, when asked, copied to
//! the host's stdout as it arrives, so a long run shows its progress.

use std::io::Write;

/// Most bytes kept for the record; later output is still streamed but not kept,
/// so chatty firmware cannot exhaust host memory.
const MAX_KEPT: usize = 16 << 20;

/// The output stream of one run.
#[derive(Debug, Default)]
pub struct Console {
    kept: Vec<u8>,
    stream: bool,
}

impl Console {
    /// A console that also copies to stdout when `stream` is set.
    pub fn new(stream: bool) -> Console {
        Console {
            kept: Vec::new(),
            stream,
        }
    }

    /// Appends what the firmware wrote.
    pub fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.stream {
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not stop the run.
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        let room = MAX_KEPT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
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
