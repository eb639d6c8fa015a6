//! What the models' unit tests drive them with: everything a [`BusContext`]
//! borrows, owned by the test, and the accesses a test makes through it.

use super::{BusContext, BusError, HostInput, Peripheral};
use crate::machine::clock::{Clocks, FlashSettings};
use crate::machine::semihosting::Memory;

/// Memory with nothing in it, for models that never touch memory.
pub struct NoMemory;

impl Memory for NoMemory {
    fn read(&self, _addr: u32, _buf: &mut [u8]) -> Option<()> {
        None
    }
    fn write(&mut self, _addr: u32, _data: &[u8]) -> Option<()> {
        None
    }
}

/// The machine around a model under test: the time, the clocks, the flash
/// settings, the console, the interrupts raised and memory.
pub struct Rig<M: Memory = NoMemory> {
    pub now: u64,
    pub clocks: Clocks,
    pub flash: FlashSettings,
    pub console: Vec<u8>,
    pub input: HostInput,
    pub raised: Vec<u32>,
    pub memory: M,
}

impl Rig {
    /// At cycle 0 with clocks at `hz` everywhere, flash at 0 wait states and
    /// no memory.
    pub fn new(hz: u64) -> Rig {
        Rig::with_memory(hz, NoMemory)
    }
}

impl<M: Memory> Rig<M> {
    /// As [`Rig::new`], over `memory`.
    pub fn with_memory(hz: u64, memory: M) -> Rig<M> {
        Rig {
            now: 0,
            clocks: Clocks::uniform(hz),
            flash: FlashSettings {
                wait_states: 0,
                prefetch: false,
                icache: false,
                dcache: false,
            },
            console: Vec::new(),
            input: HostInput::default(),
            raised: Vec::new(),
            memory,
        }
    }

    /// A context at cycle `self.now`.
    pub fn ctx(&mut self) -> BusContext<'_> {
        BusContext {
            now: self.now,
            clocks: &mut self.clocks,
            flash: &mut self.flash,
            console: &mut self.console,
            input: &mut self.input,
            raised: &mut self.raised,
            memory: &mut self.memory,
        }
    }

    /// A context at cycle `now`, which becomes the rig's time.
    pub fn ctx_at(&mut self, now: u64) -> BusContext<'_> {
        self.now = now;
        self.ctx()
    }

    /// Writes a whole word to `p`, as the model answers it.
    pub fn try_write(
        &mut self,
        p: &mut dyn Peripheral,
        offset: u32,
        value: u32,
    ) -> Result<(), BusError> {
        p.write(offset, value, u32::MAX, &mut self.ctx())
    }

    /// Writes a whole word to `p`, which must take it.
    pub fn write(&mut self, p: &mut dyn Peripheral, offset: u32, value: u32) {
        assert_eq!(self.try_write(p, offset, value), Ok(()));
    }

    /// Reads the word at `offset` of `p`, which must answer.
    pub fn read(&mut self, p: &mut dyn Peripheral, offset: u32) -> u32 {
        match p.read(offset, &mut self.ctx()) {
            Ok(v) => v,
            Err(e) => panic!("read {offset:#x}: {e}"),
        }
    }

    /// Moves time to `now` the way the machine does: advance at each due event.
    pub fn run_to(&mut self, p: &mut dyn Peripheral, now: u64) {
        while let Some(at) = p.next_event(self.now, &self.clocks).filter(|&at| at <= now) {
            self.now = self.now.max(at);
            p.advance(&mut self.ctx());
        }
        self.now = now;
        p.advance(&mut self.ctx());
    }
}
