//! What the host types at the firmware's console. Firmware that talks a
//! command protocol (EEMBC's EnergyRunner, a shell) reads nothing before it
//! has printed its prompt, and a byte arriving earlier can land in a handler
//! not yet set up, as it would on a board whose host typed too soon. Given a
//! prompt (`mcubench run --input-after`), the bytes are held until the
//! firmware's UART has sent it, and the first arrives two frames after its
//! last byte was written: one to send that byte, one to receive the host's
//! answer.
//!
//! Bytes arrive at the line's rate, one frame apart, and never faster than
//! the firmware reads them: a host with flow control, so no byte is lost to
//! an overrun. The frame is the receiving UART's, from its baud rate
//! register; a UART that does not model one passes 0, and its bytes are all
//! there at once.

use std::collections::VecDeque;

use crate::machine::console::TextWatch;

/// The bytes the console UARTs receive, oldest first, and the prompt that
/// releases them.
#[derive(Debug, Default)]
pub struct HostInput {
    bytes: VecDeque<u8>,
    /// What the UARTs must send before any byte arrives, if anything.
    prompt: Option<TextWatch>,
    /// The core cycle at which the oldest byte is in the receiver.
    due: u64,
}

impl HostInput {
    /// `bytes` to arrive once the firmware has sent `prompt` (at once if it is empty).
    pub fn new(bytes: &[u8], prompt: &[u8]) -> HostInput {
        HostInput {
            bytes: bytes.iter().copied().collect(),
            prompt: (!prompt.is_empty()).then(|| TextWatch::new(prompt)),
            due: 0,
        }
    }

    /// Whether the prompt has been sent (or none was awaited).
    fn released(&self) -> bool {
        self.prompt.as_ref().is_none_or(TextWatch::found)
    }

    /// When the oldest byte not yet read arrives, if one is still to come
    /// or waits: an event for the machine, as it raises the receive interrupt.
    pub fn next_arrival(&self) -> Option<u64> {
        (self.released() && !self.bytes.is_empty()).then_some(self.due)
    }

    /// Whether a byte waits in the receiver at cycle `now`.
    pub fn waiting(&self, now: u64) -> bool {
        self.next_arrival().is_some_and(|due| due <= now)
    }

    /// Takes the waiting byte at `now`; the next arrives a `frame` (core
    /// cycles) after this one did, or at once if the firmware read late, as
    /// it waited in the shift register.
    pub fn receive(&mut self, now: u64, frame: u64) -> Option<u8> {
        if !self.waiting(now) {
            return None;
        }
        self.due = (self.due + frame).max(now);
        self.bytes.pop_front()
    }

    /// Takes every byte arrived by `now`, up to `count`, for a UART that
    /// receives into memory and models no line timing.
    pub fn take(&mut self, now: u64, count: usize) -> Vec<u8> {
        if !self.waiting(now) {
            return Vec::new();
        }
        let count = count.min(self.bytes.len());
        self.bytes.drain(..count).collect()
    }

    /// Listens to what a UART with a `frame` of core cycles sent at `now`;
    /// returns whether it completed the prompt.
    pub fn hear(&mut self, sent: &[u8], now: u64, frame: u64) -> bool {
        let released = self.prompt.as_mut().is_some_and(|p| p.hear(sent));
        if released {
            self.due = now + 2 * frame;
        }
        released
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_wait_for_the_prompt_then_arrive_a_frame_apart() {
        let mut input = HostInput::new(b"name%", b"m-ready");
        assert_eq!(input.next_arrival(), None);
        assert_eq!(input.receive(1_000, 100), None);
        assert!(!input.hear(b"m-init-done\r\nm-rea", 900, 100));
        assert!(input.hear(b"dy\r\n", 1_000, 100));
        // The prompt's last byte goes out, then the host's first comes in.
        assert_eq!(input.next_arrival(), Some(1_200));
        assert!(!input.waiting(1_199));
        assert_eq!(input.receive(1_200, 100), Some(b'n'));
        assert_eq!(input.receive(1_250, 100), None);
        // Read late: the next byte waited in the shift register and is there
        // at once.
        assert_eq!(input.receive(1_500, 100), Some(b'a'));
        assert_eq!(input.next_arrival(), Some(1_500));
        assert_eq!(input.receive(1_500, 100), Some(b'm'));
        assert_eq!(input.next_arrival(), Some(1_600));
        assert_eq!(input.take(1_600, 10), b"e%");
        assert_eq!(input.next_arrival(), None);
        // Once released, later output changes nothing.
        assert!(!input.hear(b"m-ready", 2_000, 100));
    }

    #[test]
    fn without_a_prompt_the_bytes_are_there_from_reset() {
        let mut input = HostInput::new(b"ok", b"");
        assert!(input.waiting(0));
        assert!(!input.hear(b"anything", 0, 100));
        assert_eq!(input.receive(0, 0), Some(b'o'));
        assert_eq!(input.receive(0, 0), Some(b'k'));
    }

    #[test]
    fn a_prompt_split_over_a_repeated_prefix_is_still_found() {
        let mut input = HostInput::new(b"x", b"aab");
        assert!(!input.hear(b"aa", 0, 0));
        assert!(input.hear(b"ab", 0, 0));
        assert!(input.waiting(0));
    }
}
