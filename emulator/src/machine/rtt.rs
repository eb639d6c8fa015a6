//! SEGGER RTT: the firmware's output written into up-channel 0 of its RTT
//! control block, read out the way a debug probe reads it. Draining advances
//! the ring's read offset in guest memory, so firmware that blocks while the
//! ring is full can go on. Pure logic over [`Memory`]; nothing here knows
//! about the emulator core.
//!
//! Layout (SEGGER_RTT.h, `SEGGER_RTT_CB` and `SEGGER_RTT_BUFFER_UP`, as
//! vendored in many public repositories; 32-bit targets, little-endian):
//!
//! | offset | field |
//! |---|---|
//! | 0 | `acID[16]`: "SEGGER RTT" and NULs |
//! | 16 | `MaxNumUpBuffers` (int) |
//! | 20 | `MaxNumDownBuffers` (int) |
//! | 24 + 24 n | `aUp[n]`: `sName`, `pBuffer`, `SizeOfBuffer`, `WrOff`, `RdOff`, `Flags` (4 bytes each) |
//!
//! Bytes between `RdOff` and `WrOff` are unread; `WrOff < RdOff` means the
//! writer has wrapped, and the ring never fills completely (one byte is always
//! left free), so `RdOff == WrOff` is empty.

use std::ops::Range;

use super::semihosting::Memory;

/// What the id field starts with; the rest of its 16 bytes are NUL.
const ID: &[u8] = b"SEGGER RTT\0";
/// Offsets within the control block.
const MAX_NUM_UP_BUFFERS: u32 = 16;
const UP0: u32 = 24;
/// Offsets within an up-buffer descriptor.
const P_BUFFER: u32 = 4;
const SIZE_OF_BUFFER: u32 = 8;
const WR_OFF: u32 = 12;
const RD_OFF: u32 = 16;
/// Most up buffers a sane control block declares (SEGGER's default is 3).
const MAX_UP_BUFFERS: i32 = 64;
/// Largest up buffer accepted, 1 MiB: far above any RTT configuration, small
/// enough that a corrupt size cannot make one drain read unbounded memory.
const MAX_BUFFER: u32 = 1 << 20;
/// Bytes read per step of the search, and the most searched in all, so a
/// search over a large map stays bounded.
const SCAN_CHUNK: u32 = 64 * 1024;
const MAX_SCAN: u64 = 64 * 1024 * 1024;

/// Why up-channel 0 could not be drained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RttError {
    /// A field of the control block is not in readable memory.
    #[error("RTT control block at {control:#010x}: {field} is not readable")]
    Unreadable {
        /// Address of the control block.
        control: u32,
        /// The field.
        field: &'static str,
    },
    /// The id is gone: the control block was overwritten or never there.
    #[error("RTT control block at {control:#010x}: acID is not \"SEGGER RTT\"")]
    NoId {
        /// Address of the control block.
        control: u32,
    },
    /// A field holds a value no intact control block has.
    #[error("RTT control block at {control:#010x}: {field} = {value} {why}")]
    Corrupt {
        /// Address of the control block.
        control: u32,
        /// The field.
        field: &'static str,
        /// Its value.
        value: i64,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The ring's bytes are not all in readable memory.
    #[error(
        "RTT control block at {control:#010x}: aUp[0].pBuffer {buffer:#010x} with \
         SizeOfBuffer {size} is outside memory"
    )]
    BufferOutsideMemory {
        /// Address of the control block.
        control: u32,
        /// `pBuffer`.
        buffer: u32,
        /// `SizeOfBuffer`.
        size: u32,
    },
    /// The read offset could not be written back.
    #[error("RTT control block at {control:#010x}: aUp[0].RdOff is not writable")]
    Unwritable {
        /// Address of the control block.
        control: u32,
    },
}

/// An RTT control block in guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtt {
    control: u32,
}

impl Rtt {
    /// The control block at `addr` (the `_SEGGER_RTT` symbol, when known).
    pub fn at(addr: u32) -> Rtt {
        Rtt { control: addr }
    }

    /// Searches `ranges` (RAM, normally) for a control block: the id at a
    /// word-aligned address, as the block holds ints and is word aligned.
    /// Stops after 64 MiB; unreadable stretches are skipped.
    pub fn find(memory: &dyn Memory, ranges: &[Range<u32>]) -> Option<Rtt> {
        let overlap = ID.len() as u32 - 1;
        let mut budget = MAX_SCAN;
        let finder = memchr::memmem::Finder::new(ID);
        let mut buffer = vec![0; (SCAN_CHUNK + overlap) as usize];
        for range in ranges {
            let Some(mut at) = range.start.checked_next_multiple_of(4) else {
                continue;
            };
            while at < range.end && budget > 0 {
                let step = (range.end - at).min(SCAN_CHUNK);
                // Read a little past the step so an id across the boundary is seen.
                let len = (range.end - at).min(step + overlap);
                let window = &mut buffer[..len as usize];
                if memory.read(at, window).is_some() {
                    let hit = finder
                        .find_iter(window)
                        .find(|&i| i % 4 == 0 && i < step as usize);
                    if let Some(i) = hit {
                        return Some(Rtt::at(at + i as u32));
                    }
                }
                budget = budget.saturating_sub(u64::from(step));
                at = match at.checked_add(step) {
                    Some(next) => next,
                    None => break,
                };
            }
        }
        None
    }

    /// Address of the control block.
    pub fn address(&self) -> u32 {
        self.control
    }

    /// Reads what up-channel 0 holds, oldest first, and marks it read by
    /// setting `RdOff` to `WrOff` in guest memory.
    pub fn drain(&mut self, memory: &mut dyn Memory) -> Result<Vec<u8>, RttError> {
        let control = self.control;
        let mut id = [0; ID.len()];
        if memory.read(control, &mut id).is_none() {
            return Err(RttError::Unreadable {
                control,
                field: "acID",
            });
        }
        if id != ID {
            return Err(RttError::NoId { control });
        }
        let word = |memory: &dyn Memory, offset: u32, field: &'static str| {
            control
                .checked_add(offset)
                .and_then(|addr| memory.word(addr))
                .ok_or(RttError::Unreadable { control, field })
        };
        let corrupt = |field, value: u32, why| RttError::Corrupt {
            control,
            field,
            value: i64::from(value),
            why,
        };

        // `int` in the struct: reinterpret the word as signed.
        let up = word(memory, MAX_NUM_UP_BUFFERS, "MaxNumUpBuffers")? as i32;
        if !(1..=MAX_UP_BUFFERS).contains(&up) {
            return Err(RttError::Corrupt {
                control,
                field: "MaxNumUpBuffers",
                value: i64::from(up),
                why: "is not in 1..=64",
            });
        }
        let buffer = word(memory, UP0 + P_BUFFER, "aUp[0].pBuffer")?;
        let size = word(memory, UP0 + SIZE_OF_BUFFER, "aUp[0].SizeOfBuffer")?;
        if size == 0 || size > MAX_BUFFER {
            return Err(corrupt(
                "aUp[0].SizeOfBuffer",
                size,
                "is not in 1..=1048576",
            ));
        }
        let wr = word(memory, UP0 + WR_OFF, "aUp[0].WrOff")?;
        if wr >= size {
            return Err(corrupt("aUp[0].WrOff", wr, "is not below SizeOfBuffer"));
        }
        let rd = word(memory, UP0 + RD_OFF, "aUp[0].RdOff")?;
        if rd >= size {
            return Err(corrupt("aUp[0].RdOff", rd, "is not below SizeOfBuffer"));
        }
        let outside = RttError::BufferOutsideMemory {
            control,
            buffer,
            size,
        };
        // The whole ring must be memory, not only its unread part: a pointer
        // off the end of RAM is corruption even while the ring is empty.
        let mut probe = [0];
        let ends_readable = buffer.checked_add(size - 1).is_some_and(|last| {
            memory.read(buffer, &mut probe).is_some() && memory.read(last, &mut probe).is_some()
        });
        if !ends_readable {
            return Err(outside);
        }

        // Unread bytes: rd..wr, or rd..size and then 0..wr once the writer wrapped.
        let spans = if wr >= rd {
            [rd..wr, 0..0]
        } else {
            [rd..size, 0..wr]
        };
        let mut out = Vec::new();
        for span in spans.into_iter().filter(|s| !s.is_empty()) {
            let mut bytes = vec![0; span.len()];
            memory
                .read(buffer + span.start, &mut bytes)
                .ok_or_else(|| outside.clone())?;
            out.extend_from_slice(&bytes);
        }
        if !out.is_empty() {
            memory
                .write(control + UP0 + RD_OFF, &wr.to_le_bytes())
                .ok_or(RttError::Unwritable { control })?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guest RAM: `bytes` at `base`, nothing elsewhere.
    struct Ram {
        base: u32,
        bytes: Vec<u8>,
    }

    impl Ram {
        fn new(base: u32, len: usize) -> Ram {
            Ram {
                base,
                bytes: vec![0; len],
            }
        }

        fn span(&self, addr: u32, len: usize) -> Option<Range<usize>> {
            let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
            let end = start.checked_add(len)?;
            (end <= self.bytes.len()).then_some(start..end)
        }

        fn put(&mut self, addr: u32, data: &[u8]) {
            assert_eq!(self.write(addr, data), Some(()));
        }

        fn put_word(&mut self, addr: u32, value: u32) {
            self.put(addr, &value.to_le_bytes());
        }
    }

    impl Memory for Ram {
        fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()> {
            let span = self.span(addr, buf.len())?;
            buf.copy_from_slice(&self.bytes[span]);
            Some(())
        }
        fn write(&mut self, addr: u32, data: &[u8]) -> Option<()> {
            let span = self.span(addr, data.len())?;
            self.bytes[span].copy_from_slice(data);
            Some(())
        }
    }

    const RAM: u32 = 0x2000_0000;
    const CB: u32 = 0x2000_0100;
    const BUF: u32 = 0x2000_0400;

    /// A control block at CB with one up buffer of `size` bytes at BUF.
    fn ram_with_block(size: u32, wr: u32, rd: u32) -> Ram {
        let mut ram = Ram::new(RAM, 0x1000);
        ram.put(CB, b"SEGGER RTT\0\0\0\0\0\0");
        ram.put_word(CB + 16, 3);
        ram.put_word(CB + 20, 3);
        ram.put_word(CB + UP0, 0x0000_1234);
        ram.put_word(CB + UP0 + P_BUFFER, BUF);
        ram.put_word(CB + UP0 + SIZE_OF_BUFFER, size);
        ram.put_word(CB + UP0 + WR_OFF, wr);
        ram.put_word(CB + UP0 + RD_OFF, rd);
        ram
    }

    #[test]
    fn finds_the_block_at_a_word_boundary() {
        let ram = ram_with_block(16, 0, 0);
        let found = Rtt::find(&ram, std::slice::from_ref(&(RAM..RAM + 0x1000)));
        assert_eq!(found.map(|r| r.address()), Some(CB));
        assert_eq!(
            Rtt::find(&ram, std::slice::from_ref(&(RAM + 0x200..RAM + 0x1000))),
            None
        );
    }

    #[test]
    fn ignores_an_unaligned_id_and_finds_one_across_chunks() {
        let mut ram = Ram::new(RAM, 3 * SCAN_CHUNK as usize);
        ram.put(RAM + 0x11, b"SEGGER RTT\0");
        let across = RAM + SCAN_CHUNK - 4;
        ram.put(across, b"SEGGER RTT\0");
        let found = Rtt::find(&ram, std::slice::from_ref(&(RAM..RAM + 3 * SCAN_CHUNK)));
        assert_eq!(found, Some(Rtt::at(across)));
    }

    #[test]
    fn search_skips_unreadable_ranges_and_ends() {
        let ram = ram_with_block(16, 0, 0);
        let ranges = [0x1000_0000..0x1010_0000, 0xFFFF_0000..0xFFFF_FFFF];
        assert_eq!(Rtt::find(&ram, &ranges), None);
        let ranges = [0x1000_0000..0x1000_1000, RAM..RAM + 0x1000];
        assert_eq!(Rtt::find(&ram, &ranges), Some(Rtt::at(CB)));
    }

    #[test]
    fn drains_unread_bytes_and_advances_rdoff() {
        let mut ram = ram_with_block(16, 5, 0);
        ram.put(BUF, b"hello");
        let mut rtt = Rtt::at(CB);
        assert_eq!(rtt.drain(&mut ram), Ok(b"hello".to_vec()));
        assert_eq!(ram.word(CB + UP0 + RD_OFF), Some(5));
        assert_eq!(rtt.drain(&mut ram), Ok(Vec::new()), "nothing new");
    }

    #[test]
    fn drains_a_wrapped_ring_in_order() {
        let mut ram = ram_with_block(8, 3, 6);
        ram.put(BUF, b"defXXXbc");
        ram.put(BUF + 6, b"bc");
        let mut rtt = Rtt::at(CB);
        assert_eq!(rtt.drain(&mut ram), Ok(b"bcdef".to_vec()));
        assert_eq!(ram.word(CB + UP0 + RD_OFF), Some(3));
    }

    fn field_of(err: RttError) -> &'static str {
        match err {
            RttError::Corrupt { field, .. } | RttError::Unreadable { field, .. } => field,
            RttError::NoId { .. } => "acID",
            RttError::BufferOutsideMemory { .. } => "pBuffer",
            RttError::Unwritable { .. } => "RdOff",
        }
    }

    #[test]
    fn corrupt_rings_name_the_block_and_the_field() {
        let cases: [(Ram, &str); 5] = [
            (ram_with_block(0, 0, 0), "aUp[0].SizeOfBuffer"),
            (ram_with_block(MAX_BUFFER + 1, 0, 0), "aUp[0].SizeOfBuffer"),
            (ram_with_block(16, 16, 0), "aUp[0].WrOff"),
            (ram_with_block(16, 0, 99), "aUp[0].RdOff"),
            (
                {
                    let mut ram = ram_with_block(16, 0, 0);
                    ram.put_word(CB + 16, 0xFFFF_FFFF);
                    ram
                },
                "MaxNumUpBuffers",
            ),
        ];
        for (mut ram, field) in cases {
            let err = Rtt::at(CB).drain(&mut ram).err();
            let message = err.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(message.contains("0x20000100"), "{message}");
            assert!(message.contains(field), "{message}");
            assert_eq!(err.map(field_of), Some(field));
        }
        let mut ram = ram_with_block(16, 0, 0);
        ram.put_word(CB + 16, 65);
        let err = Rtt::at(CB).drain(&mut ram);
        assert!(matches!(err, Err(RttError::Corrupt { value: 65, .. })));
        ram.put_word(CB + 16, u32::MAX);
        let err = Rtt::at(CB).drain(&mut ram);
        assert!(matches!(err, Err(RttError::Corrupt { value: -1, .. })));
    }

    #[test]
    fn a_buffer_outside_memory_is_an_error() {
        // Empty ring, but its end is past the end of RAM.
        let mut ram = ram_with_block(64, 0, 0);
        ram.put_word(CB + UP0 + P_BUFFER, 0x2000_0FF0);
        let err = Rtt::at(CB).drain(&mut ram);
        assert_eq!(
            err,
            Err(RttError::BufferOutsideMemory {
                control: CB,
                buffer: 0x2000_0FF0,
                size: 64
            })
        );
        ram.put_word(CB + UP0 + P_BUFFER, 0xFFFF_FFF0);
        assert!(matches!(
            Rtt::at(CB).drain(&mut ram),
            Err(RttError::BufferOutsideMemory { .. })
        ));
    }

    #[test]
    fn an_overwritten_or_missing_block_is_an_error() {
        let mut ram = ram_with_block(16, 0, 0);
        ram.put(CB, b"SEGGER RTX");
        assert_eq!(
            Rtt::at(CB).drain(&mut ram),
            Err(RttError::NoId { control: CB })
        );
        assert_eq!(
            Rtt::at(0x3000_0000).drain(&mut ram),
            Err(RttError::Unreadable {
                control: 0x3000_0000,
                field: "acID"
            })
        );
    }
}

/// How often the host drains the ring: a probe polling at 10 kHz of modeled time.
const POLL_HZ: u64 = 10_000;
/// Without a `_SEGGER_RTT` symbol the host searches RAM for the id after 1 ms
/// of modeled time, then at doubling intervals: a handful of searches in any run.
const FIRST_SEARCH_HZ: u64 = 1_000;

/// The host side of RTT: when to look for the control block and when to drain it.
#[derive(Debug, Clone, Default)]
pub struct RttHost {
    channel: Option<Rtt>,
    /// RAM searched for the id when no symbol names the block.
    ram: Vec<Range<u32>>,
    /// Cycle of the next drain.
    pub next_poll: u64,
    /// Cycle of the next search and the interval after it (0 before the first).
    next_search: u64,
    search_interval: u64,
}

impl RttHost {
    /// A host for the block at `symbol`, or one it searches for in `ram`.
    pub fn new(symbol: Option<u32>, ram: Vec<Range<u32>>) -> RttHost {
        RttHost {
            channel: symbol.map(Rtt::at),
            ram,
            next_poll: 0,
            next_search: 0,
            search_interval: 0,
        }
    }

    /// Drains up-channel 0 at cycle `now` with the core at `hz`; output not
    /// yet there (no id written yet) is no error. Schedules the next poll.
    pub fn poll(
        &mut self,
        memory: &mut dyn Memory,
        now: u64,
        hz: u64,
    ) -> Result<Vec<u8>, RttError> {
        self.next_poll = now + (hz / POLL_HZ).max(1);
        if self.channel.is_none() && now >= self.next_search {
            if self.search_interval > 0 {
                self.channel = Rtt::find(memory, &self.ram);
            }
            self.search_interval = if self.search_interval == 0 {
                (hz / FIRST_SEARCH_HZ).max(1)
            } else {
                self.search_interval.saturating_mul(2)
            };
            self.next_search = now.saturating_add(self.search_interval);
        }
        let Some(channel) = &mut self.channel else {
            return Ok(Vec::new());
        };
        match channel.drain(memory) {
            Err(RttError::NoId { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    /// The last drain at the end of a run, searching once more if need be.
    pub fn finish(&mut self, memory: &mut dyn Memory) -> Result<Vec<u8>, RttError> {
        if self.channel.is_none() {
            self.channel = Rtt::find(memory, &self.ram);
        }
        self.poll(memory, 0, 1)
    }
}
