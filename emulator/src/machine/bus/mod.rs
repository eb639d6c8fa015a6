//! The peripheral bus: the blocks a target file lists, each served by a small
//! model behind [`Peripheral`], plus what no model covers. A register inside
//! the target's peripheral space that no model serves reads its reset value
//! (0 unless the target file gives one) and keeps what is written; it is
//! reported once, and `--strict-peripherals` makes it an error. Every access
//! is counted per register for the run record.
//!
//! Models see the bus through [`BusContext`]: the modeled time, the clocks in
//! force (which the RCC and flash models may change), the console, the
//! interrupt lines and memory for DMA.

mod cmsdk;
mod host_input;
mod nrf;
mod registers;
mod stm32;
#[cfg(test)]
mod testing;
mod ticks;

use std::collections::BTreeMap;

use serde::Serialize;

use super::clock::{Clocks, FlashSettings};
use super::semihosting::Memory;
use crate::target::{PeripheralKind, PeripheralSpec, Target};
pub use host_input::HostInput;
pub use registers::RegisterFile;

/// What a model may use and change besides its own registers.
pub struct BusContext<'a> {
    /// Core clock cycles elapsed since reset (awake and asleep).
    pub now: u64,
    /// The clocks in force; the RCC model changes them.
    pub clocks: &'a mut Clocks,
    /// The flash settings in force; the flash interface model changes them.
    pub flash: &'a mut FlashSettings,
    /// The firmware's output stream (UART TX and the like).
    pub console: &'a mut Vec<u8>,
    /// Bytes the host sends the firmware's console UART, oldest first.
    pub input: &'a mut HostInput,
    /// External interrupts raised by this access (NVIC IRQ numbers).
    pub raised: &'a mut Vec<u32>,
    /// Memory, for peripherals that read or write it themselves (EasyDMA).
    pub memory: &'a mut dyn Memory,
}

impl BusContext<'_> {
    /// Pends external interrupt `irq` in the NVIC.
    pub fn raise(&mut self, irq: u32) {
        self.raised.push(irq);
    }

    /// Sends `bytes` out of a UART whose frame lasts `frame` core cycles (0
    /// where the model has no line timing) to the console; returns whether
    /// they completed the prompt the host's input waited for.
    pub fn send(&mut self, bytes: &[u8], frame: u64) -> bool {
        self.console.extend_from_slice(bytes);
        self.input.hear(bytes, self.now, frame)
    }
}

/// A register access the bus refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The register does not accept accesses of this width.
    #[error("{width}-byte access to a register that takes only {allowed}-byte accesses")]
    Width {
        /// Bytes accessed.
        width: u8,
        /// Bytes the register takes.
        allowed: u8,
    },
    /// `--strict-peripherals`: no model serves this register.
    #[error("access to a register no model serves (--strict-peripherals)")]
    Unmodeled,
    /// The model refuses this access, e.g. a DMA pointer outside RAM.
    #[error("{0}")]
    Refused(String),
}

/// One peripheral model: its registers and its own sense of time.
///
/// Offsets are from the block's base and word-aligned; `mask` selects the byte
/// lanes a narrower store writes (0xFF for a byte at offset 0, 0xFFFF_0000 for
/// the upper halfword), and reads return the whole word.
pub trait Peripheral: Send {
    /// Reads the word at `offset`.
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError>;

    /// Writes the lanes of `value` selected by `mask` at `offset`.
    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError>;

    /// The register's name as the reference manual gives it, for records and errors.
    fn register_name(&self, offset: u32) -> Option<&'static str>;

    /// Whether a `width`-byte access at `offset` is allowed (all widths unless a model says not).
    fn check_width(&self, offset: u32, width: u8) -> Result<(), BusError> {
        let _ = (offset, width);
        Ok(())
    }

    /// The cycle at which the model next needs to act (a timer's update event),
    /// or None while it waits for the firmware.
    fn next_event(&self, now: u64, clocks: &Clocks) -> Option<u64> {
        let _ = (now, clocks);
        None
    }

    /// Acts on everything due up to `ctx.now`: counters wrap, events fire, interrupts are raised.
    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        let _ = ctx;
    }

    /// The clocks this block's registers define (the RCC's clock tree), for
    /// when the firmware takes charge of the clocks.
    fn clock_tree(&self) -> Option<Clocks> {
        None
    }

    /// The flash settings this block's registers define (FLASH_ACR), from
    /// `now`, with `clocks` in force (the H7 counts wait states in AXI cycles).
    fn flash_settings(&self, now: FlashSettings, clocks: &Clocks) -> Option<FlashSettings> {
        let _ = (now, clocks);
        None
    }

    /// The low-power mode deep sleep (SCR.SLEEPDEEP) enters as this block's
    /// registers set it (the power controller's), by the names the target
    /// file's `stop_modes` use, e.g. `stop2` or `standby`.
    fn deep_sleep_mode(&self) -> Option<&'static str> {
        None
    }

    /// Whether the block keeps counting in Stop mode, where the core and bus
    /// clocks stop: only blocks on a low-speed clock of their own (the RTC on
    /// the LSE) do.
    fn runs_in_stop(&self) -> bool {
        false
    }

    /// The bus clocks stopped for `cycles` core cycles (Stop mode): a model
    /// counting at a bus clock moves its anchor on by as much, so that it
    /// resumes where it stopped.
    fn clock_paused(&mut self, cycles: u64) {
        let _ = cycles;
    }

    /// The core wakes from a stop mode, where the oscillators and PLLs the
    /// part does not keep were off: the clock controller puts the clocks it
    /// wakes on in force.
    fn stop_exited(&mut self, ctx: &mut BusContext<'_>) {
        let _ = ctx;
    }

    /// The core's voltage range as this block's registers set it (the power
    /// controller's), by the names the target file's `run_curve` uses.
    fn voltage_range(&self) -> Option<&'static str> {
        None
    }

    /// The clocks changed at `now` from `before`; a model counting at a bus
    /// clock re-anchors its counter here.
    fn clocks_changed(&mut self, now: u64, before: &Clocks, after: &Clocks) {
        let _ = (now, before, after);
    }
}

/// How often the firmware read and wrote one register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegisterAccess {
    /// Absolute address.
    pub address: u32,
    /// Block name, e.g. `RCC`.
    pub peripheral: String,
    /// Register name, e.g. `CFGR`, or `+0x1c` where unknown.
    pub register: String,
    /// Whether a model gives it behaviour (false: it only keeps what is written).
    pub modeled: bool,
    /// Reads.
    pub reads: u64,
    /// Writes.
    pub writes: u64,
}

struct Block {
    spec: PeripheralSpec,
    model: Box<dyn Peripheral>,
    modeled: bool,
}

/// Every peripheral of a target, found by address.
pub struct Bus {
    blocks: Vec<Block>,
    /// Unmodeled registers outside any listed block: address -> value.
    loose: RegisterFile,
    strict: bool,
    counts: BTreeMap<u32, (u64, u64)>,
    /// Unmodeled registers touched so far, reported once each.
    pub unmodeled_seen: Vec<u32>,
}

impl Default for Bus {
    /// A bus with no peripherals.
    fn default() -> Bus {
        Bus {
            blocks: Vec::new(),
            loose: RegisterFile::default(),
            strict: false,
            counts: BTreeMap::new(),
            unmodeled_seen: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

/// Where an access landed, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Block name, or `unlisted` outside every listed block.
    pub peripheral: String,
    /// Register name, its offset, or `-` where no block is listed.
    pub register: String,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.register == "-" {
            write!(f, "{} register", self.peripheral)
        } else {
            write!(f, "{} {}", self.peripheral, self.register)
        }
    }
}

impl Bus {
    /// The target's peripherals at reset.
    pub fn new(target: &Target, strict: bool) -> Bus {
        let blocks = target
            .peripherals
            .iter()
            .map(|spec| {
                let (model, modeled) = build(spec, target);
                Block {
                    spec: spec.clone(),
                    model,
                    modeled,
                }
            })
            .collect();
        Bus {
            blocks,
            loose: RegisterFile::new(&[]),
            strict,
            counts: BTreeMap::new(),
            unmodeled_seen: Vec::new(),
        }
    }

    /// Whether a listed block covers `addr`.
    pub fn serves(&self, addr: u32) -> bool {
        self.block_at(addr).is_some()
    }

    fn block_at(&self, addr: u32) -> Option<usize> {
        self.blocks
            .iter()
            .position(|b| addr.wrapping_sub(b.spec.base) < b.spec.size)
    }

    /// Names the register at `addr`.
    pub fn locate(&self, addr: u32) -> Location {
        match self.block_at(addr) {
            Some(i) => {
                let b = &self.blocks[i];
                let offset = (addr - b.spec.base) & !3;
                Location {
                    peripheral: b.spec.name.clone(),
                    register: b
                        .model
                        .register_name(offset)
                        .map_or_else(|| format!("+{offset:#x}"), str::to_owned),
                }
            }
            None => Location {
                peripheral: "unlisted".into(),
                register: "-".into(),
            },
        }
    }

    fn note(&mut self, word: u32, write: bool, modeled: bool) {
        let entry = self.counts.entry(word).or_default();
        if write {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
        if !modeled && !self.unmodeled_seen.contains(&word) {
            self.unmodeled_seen.push(word);
        }
    }

    /// Where an access of `width` bytes at `addr` goes: the block serving
    /// it, the word's offset in the block and whether a model gives that
    /// register behaviour; None for a loose register outside every block.
    /// Refuses a width the register does not take, and with
    /// `--strict-peripherals` a loose register.
    fn route(&self, addr: u32, width: u8) -> Result<Option<(usize, u32, bool)>, BusError> {
        let Some(i) = self.block_at(addr) else {
            return if self.strict {
                Err(BusError::Unmodeled)
            } else {
                Ok(None)
            };
        };
        let b = &self.blocks[i];
        let offset = (addr & !3) - b.spec.base;
        b.model.check_width(offset, width)?;
        let modeled = b.modeled && b.model.register_name(offset).is_some();
        Ok(Some((i, offset, modeled)))
    }

    /// Reads `width` bytes at `addr`.
    pub fn read(
        &mut self,
        addr: u32,
        width: u8,
        ctx: &mut BusContext<'_>,
    ) -> Result<u32, BusError> {
        let word = addr & !3;
        let shift = 8 * (addr & 3);
        let (value, modeled) = match self.route(addr, width)? {
            Some((i, offset, modeled)) => (self.blocks[i].model.read(offset, ctx)?, modeled),
            None => (self.loose.get(word), false),
        };
        self.note(word, false, modeled);
        Ok((value >> shift) & lanes(width))
    }

    /// Writes `width` bytes of `value` at `addr`.
    pub fn write(
        &mut self,
        addr: u32,
        width: u8,
        value: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let word = addr & !3;
        let shift = 8 * (addr & 3);
        let mask = lanes(width) << shift;
        let value = (value << shift) & mask;
        let modeled = match self.route(addr, width)? {
            Some((i, offset, modeled)) => {
                self.blocks[i].model.write(offset, value, mask, ctx)?;
                modeled
            }
            None => {
                self.loose.set(word, value, mask);
                false
            }
        };
        self.note(word, true, modeled);
        Ok(())
    }

    /// The earliest cycle at which a model needs to act.
    pub fn next_event(&self, now: u64, clocks: &Clocks) -> Option<u64> {
        self.blocks
            .iter()
            .filter_map(|b| b.model.next_event(now, clocks))
            .min()
    }

    /// The earliest cycle at which a model that keeps counting in Stop mode
    /// needs to act.
    pub fn next_event_in_stop(&self, now: u64, clocks: &Clocks) -> Option<u64> {
        self.blocks
            .iter()
            .filter(|b| b.model.runs_in_stop())
            .filter_map(|b| b.model.next_event(now, clocks))
            .min()
    }

    /// Tells every model the core woke from a stop mode.
    pub fn stop_exited(&mut self, ctx: &mut BusContext<'_>) {
        for b in &mut self.blocks {
            b.model.stop_exited(ctx);
        }
    }

    /// Tells every model the bus clocks stopped for `cycles` core cycles.
    pub fn clock_paused(&mut self, cycles: u64) {
        for b in &mut self.blocks {
            b.model.clock_paused(cycles);
        }
    }

    /// Lets every model act on what is due up to `ctx.now`.
    pub fn advance(&mut self, ctx: &mut BusContext<'_>) {
        for b in &mut self.blocks {
            b.model.advance(ctx);
        }
    }

    /// The clocks and flash settings the registers define: what is in force
    /// once the firmware programs either, starting from `clocks` and `flash`.
    pub fn programmed_settings(
        &self,
        clocks: Clocks,
        flash: FlashSettings,
    ) -> (Clocks, FlashSettings) {
        let clocks = self
            .blocks
            .iter()
            .find_map(|b| b.model.clock_tree())
            .unwrap_or(clocks);
        (clocks, self.flash_settings(flash, &clocks))
    }

    /// The flash settings FLASH_ACR defines at `clocks`, from `flash`.
    pub fn flash_settings(&self, flash: FlashSettings, clocks: &Clocks) -> FlashSettings {
        self.blocks
            .iter()
            .find_map(|b| b.model.flash_settings(flash, clocks))
            .unwrap_or(flash)
    }

    /// The low-power mode deep sleep enters, if a block sets one.
    pub fn deep_sleep_mode(&self) -> Option<&'static str> {
        self.blocks.iter().find_map(|b| b.model.deep_sleep_mode())
    }

    /// The core's voltage range, if a block sets one.
    pub fn voltage_range(&self) -> Option<&'static str> {
        self.blocks.iter().find_map(|b| b.model.voltage_range())
    }

    /// Tells every model the clocks changed.
    pub fn clocks_changed(&mut self, now: u64, before: &Clocks, after: &Clocks) {
        for b in &mut self.blocks {
            b.model.clocks_changed(now, before, after);
        }
    }

    /// Every register touched, by address.
    pub fn accesses(&self) -> Vec<RegisterAccess> {
        self.counts
            .iter()
            .map(|(&address, &(reads, writes))| {
                let location = self.locate(address);
                let modeled = !self.unmodeled_seen.contains(&address);
                RegisterAccess {
                    address,
                    peripheral: location.peripheral,
                    register: location.register,
                    modeled,
                    reads,
                    writes,
                }
            })
            .collect()
    }
}

/// `old` with the lanes `mask` selects replaced by those of `value`: what a
/// narrower store, or a store to a register with read-only bits, leaves.
fn merge(old: u32, value: u32, mask: u32) -> u32 {
    (old & !mask) | (value & mask)
}

/// The low `width` bytes of a word.
fn lanes(width: u8) -> u32 {
    match width {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => 0xFFFF_FFFF,
    }
}

/// The model serving `spec`, and whether it has behaviour of its own.
fn build(spec: &PeripheralSpec, target: &Target) -> (Box<dyn Peripheral>, bool) {
    match spec.kind {
        PeripheralKind::Registers => (Box::new(RegisterFile::new(&spec.reset)), false),
        PeripheralKind::Stm32f1Rcc
        | PeripheralKind::Stm32f4Rcc
        | PeripheralKind::Stm32h7Rcc
        | PeripheralKind::Stm32l4Rcc => (Box::new(stm32::Rcc::new(spec, target)), true),
        PeripheralKind::Stm32f4Pwr | PeripheralKind::Stm32h7Pwr | PeripheralKind::Stm32l4Pwr => {
            (Box::new(stm32::Pwr::new(spec, target)), true)
        }
        PeripheralKind::Stm32f1Flash
        | PeripheralKind::Stm32f4Flash
        | PeripheralKind::Stm32h7Flash
        | PeripheralKind::Stm32l4Flash => {
            (Box::new(stm32::FlashInterface::new(spec, target)), true)
        }
        PeripheralKind::Stm32Gpio | PeripheralKind::Stm32f1Gpio => {
            (Box::new(stm32::Gpio::new(spec, target)), true)
        }
        PeripheralKind::Stm32Usart => (Box::new(stm32::Usart::new(spec)), true),
        PeripheralKind::Stm32UsartV2 => (Box::new(stm32::UsartV2::new(spec, target)), true),
        PeripheralKind::Stm32Crc => (Box::new(stm32::Crc::new(spec, target)), true),
        PeripheralKind::Stm32Dbgmcu => (Box::new(stm32::Dbgmcu::new(spec, target)), true),
        PeripheralKind::Stm32Timer => (Box::new(stm32::Timer::new(spec, target)), true),
        PeripheralKind::Stm32Rtc => (Box::new(stm32::Rtc::new(spec, target)), true),
        PeripheralKind::CmsdkUart => (Box::new(cmsdk::CmsdkUart::new(spec)), true),
        PeripheralKind::CmsdkTimer => (Box::new(cmsdk::CmsdkTimer::new(spec)), true),
        PeripheralKind::NrfClock => (Box::new(nrf::NrfClock::new(spec)), true),
        PeripheralKind::NrfUarte => (Box::new(nrf::NrfUarte::new(spec)), true),
        PeripheralKind::NrfRtc => (Box::new(nrf::NrfRtc::new(spec)), true),
        PeripheralKind::NrfTimer => (Box::new(nrf::NrfTimer::new(spec)), true),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Rig;
    use super::*;
    use crate::target::{BusClock, ResetValue};

    /// Every kind there is, for the sweep below.
    const KINDS: [PeripheralKind; 26] = [
        PeripheralKind::Registers,
        PeripheralKind::Stm32f1Rcc,
        PeripheralKind::Stm32f4Rcc,
        PeripheralKind::Stm32h7Rcc,
        PeripheralKind::Stm32l4Rcc,
        PeripheralKind::Stm32f4Pwr,
        PeripheralKind::Stm32h7Pwr,
        PeripheralKind::Stm32l4Pwr,
        PeripheralKind::Stm32f1Flash,
        PeripheralKind::Stm32f4Flash,
        PeripheralKind::Stm32h7Flash,
        PeripheralKind::Stm32l4Flash,
        PeripheralKind::Stm32Gpio,
        PeripheralKind::Stm32f1Gpio,
        PeripheralKind::Stm32Usart,
        PeripheralKind::Stm32UsartV2,
        PeripheralKind::Stm32Crc,
        PeripheralKind::Stm32Dbgmcu,
        PeripheralKind::Stm32Timer,
        PeripheralKind::Stm32Rtc,
        PeripheralKind::CmsdkUart,
        PeripheralKind::CmsdkTimer,
        PeripheralKind::NrfClock,
        PeripheralKind::NrfUarte,
        PeripheralKind::NrfRtc,
        PeripheralKind::NrfTimer,
    ];

    /// A fixed-seed xorshift, so the sweep is the same every run.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Firmware may write anything anywhere in a block, at any time, with any
    /// clocks and hostile reset values in the target file: every model answers
    /// with a value or a clear refusal, never a panic, and its next event is
    /// never in the past.
    #[test]
    fn every_model_survives_arbitrary_accesses() {
        let target = crate::target::Catalog::shipped().find("stm32f407").unwrap();
        for kind in KINDS {
            let spec = PeripheralSpec {
                name: "TIM2".into(),
                kind,
                base: 0x4000_0000,
                size: 0x1000,
                irqs: vec![1, 2, 3],
                clock: BusClock::Apb1,
                reset: vec![
                    ResetValue {
                        offset: 0xFFFF_FFF0,
                        value: u32::MAX,
                    },
                    ResetValue {
                        offset: 0,
                        value: u32::MAX,
                    },
                ],
            };
            let (mut model, _) = build(&spec, &target);
            let mut rig = Rig::new(168_000_000);
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ kind as u64;
            for step in 0..4000u64 {
                let r = next(&mut state);
                let offset = (r as u32 & 0xFFC) % spec.size;
                let value = (r >> 32) as u32;
                let mask = [0xFF, 0xFFFF, u32::MAX][(r >> 12) as usize % 3];
                rig.now = rig.now.max(step * 97);
                if r & 1 == 0 {
                    let _ = model.write(offset, value, mask, &mut rig.ctx());
                } else {
                    let _ = model.read(offset, &mut rig.ctx());
                }
                if step % 500 == 0 {
                    let before = rig.clocks;
                    rig.clocks = Clocks::uniform(1 + (r >> 40) % 500_000_000);
                    model.clocks_changed(rig.now, &before, &rig.clocks);
                }
                if let Some(at) = model.next_event(rig.now, &rig.clocks) {
                    assert!(
                        at >= rig.now,
                        "{kind:?}: next event {at} before {}",
                        rig.now
                    );
                    rig.now = at;
                    model.advance(&mut rig.ctx());
                }
            }
        }
    }
}
