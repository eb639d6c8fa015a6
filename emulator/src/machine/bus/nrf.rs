//! Nordic nRF52840 peripherals: the CLOCK block firmware starts its clocks
//! with, UARTE0 whose EasyDMA transmissions carry the console, and the RTCs and
//! TIMERs firmware keeps time and wakes up with.
//!
//! Behaviour: nRF52840 Product Specification (PS) v1.7, chapters "Peripheral
//! interface" (tasks, events, shortcuts, interrupts), "CLOCK", "UARTE", "RTC"
//! and "TIMER". Offsets, reset values, field positions and instance sizes:
//! Nordic's MDK in nrfx 4.2.1 (bsp/stable/mdk/nrf52840.svd,
//! nrf52840_bitfields.h, nrf52840_peripherals.h), read while writing this file.
//!
//! All blocks share the PS's task/event scheme: writing 1 to a TASKS register
//! starts an action, an EVENTS register reads 1 once its event happened and
//! is cleared by writing 0, and a block's interrupt line is high while an
//! event is set whose INTEN bit is set. The interrupt is raised each time an
//! enabled event happens and when INTEN is enabled on an event already set;
//! an event left set after its handler returns does not pend the interrupt
//! again at once, as the hardware's level-sensitive line would.

use super::ticks::{next_in_progression, Ticker};
use super::{BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::Clocks;
use crate::target::PeripheralSpec;

/// First EVENTS register; event n sits at `EVENTS + 4 * n` and has INTEN bit n
/// (PS "Peripheral interface": e.g. UARTE EVENTS_ENDTX at 0x120 is INTEN bit 8).
const EVENTS: u32 = 0x100;
/// INTENSET and INTENCLR, at the same offsets in every block here (MDK SVD).
const INTENSET: u32 = 0x304;
const INTENCLR: u32 = 0x308;

/// nRF peripheral registers take 32-bit accesses only (PS "Peripheral
/// interface", register access; recalled, not re-read).
fn word_only(width: u8) -> Result<(), BusError> {
    if width == 4 {
        Ok(())
    } else {
        Err(BusError::Width { width, allowed: 4 })
    }
}

/// Whether a write to a TASKS register triggers it: writing 1 does (PS "Tasks").
fn triggers(value: u32) -> bool {
    value & 1 != 0
}

/// The index of `offset` in an array of `count` words starting at `base`.
fn index(offset: u32, base: u32, count: usize) -> Option<usize> {
    let delta = offset.checked_sub(base)?;
    let i = usize::try_from(delta / 4).ok()?;
    (delta % 4 == 0 && i < count).then_some(i)
}

/// Storage for the registers a model keeps without behaviour: the block's own
/// reset values (`defaults`, from the MDK SVD), overridden by the target file's.
fn storage(defaults: &[(u32, u32)], spec: &PeripheralSpec) -> RegisterFile {
    RegisterFile::with_defaults(defaults.iter().copied(), spec.reset.iter().copied())
}

/// The event registers of one block and the interrupt enables over them, as
/// bit masks: bit n stands for the event at `EVENTS + 4 * n`.
#[derive(Debug, Clone)]
struct Events {
    /// Events the block has.
    valid: u32,
    /// Bits INTEN holds (the CLOCK block shares its INTEN with POWER).
    inten_bits: u32,
    set: u32,
    inten: u32,
    irq: Option<u32>,
}

impl Events {
    fn new(valid: u32, inten_bits: u32, spec: &PeripheralSpec) -> Events {
        Events {
            valid,
            inten_bits,
            set: 0,
            inten: 0,
            irq: spec.irqs.first().copied(),
        }
    }

    /// The bit of the event register at `offset`, if the block has one there.
    fn bit(&self, offset: u32) -> Option<u32> {
        let n = index(offset, EVENTS, 32)?;
        let bit = 1u32 << n;
        (self.valid & bit != 0).then_some(bit)
    }

    /// What the event or interrupt-enable register at `offset` reads, if
    /// the block has one there.
    fn read_register(&self, offset: u32) -> Option<u32> {
        match offset {
            INTENSET | INTENCLR => Some(self.inten),
            _ => self.bit(offset).map(|bit| u32::from(self.set & bit != 0)),
        }
    }

    /// Writes the event or interrupt-enable register at `offset`; false if
    /// the block has none there.
    fn write_register(&mut self, offset: u32, value: u32, ctx: &mut BusContext<'_>) -> bool {
        match offset {
            INTENSET | INTENCLR => self.write_inten(offset, value, ctx),
            _ => match self.bit(offset) {
                Some(bit) => self.write(bit, value, ctx),
                None => return false,
            },
        }
        true
    }

    fn raise(&self, ctx: &mut BusContext<'_>) {
        if let Some(irq) = self.irq {
            ctx.raise(irq);
        }
    }

    /// The events in `bits` happened; each enabled one raises the interrupt,
    /// whether or not firmware cleared it since it last happened.
    fn fire(&mut self, bits: u32, ctx: &mut BusContext<'_>) {
        let bits = bits & self.valid;
        self.set |= bits;
        if bits & self.inten != 0 {
            self.raise(ctx);
        }
    }

    /// Firmware writes an event register: 0 clears it, 1 sets it as if the
    /// event had happened (PS "Events"; recalled, not re-read).
    fn write(&mut self, bit: u32, value: u32, ctx: &mut BusContext<'_>) {
        if value & 1 == 0 {
            self.set &= !bit;
        } else {
            self.fire(bit, ctx);
        }
    }

    /// Writes INTENSET, INTENCLR or (UARTE) INTEN; enabling the interrupt of
    /// an event already set raises it, as the line goes high.
    fn write_inten(&mut self, offset: u32, value: u32, ctx: &mut BusContext<'_>) {
        let before = self.inten;
        match offset {
            INTENSET => self.inten |= value & self.inten_bits,
            INTENCLR => self.inten &= !value,
            _ => self.inten = value & self.inten_bits,
        }
        if self.inten & !before & self.set != 0 {
            self.raise(ctx);
        }
    }
}

mod clock {
    //! CLOCK offsets and fields (MDK SVD/bitfields `CLOCK_*`).
    pub const TASKS_HFCLKSTART: u32 = 0x000;
    pub const TASKS_HFCLKSTOP: u32 = 0x004;
    pub const TASKS_LFCLKSTART: u32 = 0x008;
    pub const TASKS_LFCLKSTOP: u32 = 0x00C;
    pub const TASKS_CAL: u32 = 0x010;
    pub const TASKS_CTSTART: u32 = 0x014;
    pub const TASKS_CTSTOP: u32 = 0x018;
    pub const HFCLKRUN: u32 = 0x408;
    pub const HFCLKSTAT: u32 = 0x40C;
    pub const LFCLKRUN: u32 = 0x414;
    pub const LFCLKSTAT: u32 = 0x418;
    pub const LFCLKSRCCOPY: u32 = 0x41C;
    pub const LFCLKSRC: u32 = 0x518;
    pub const HFXODEBOUNCE: u32 = 0x528;
    pub const CTIV: u32 = 0x538;
    pub const TRACECONFIG: u32 = 0x55C;
    pub const LFRCMODE: u32 = 0x5B4;
    /// POWER's SYSTEMOFF, in the same block (nRF52840 PS 'POWER registers').
    pub const SYSTEMOFF: u32 = 0x500;
    /// Event bits: HFCLKSTARTED 0, LFCLKSTARTED 1, DONE 3, CTTO 4, CTSTARTED 10, CTSTOPPED 11.
    pub const HFCLKSTARTED: u32 = 1 << 0;
    pub const LFCLKSTARTED: u32 = 1 << 1;
    pub const DONE: u32 = 1 << 3;
    pub const CTSTARTED: u32 = 1 << 10;
    pub const CTSTOPPED: u32 = 1 << 11;
    pub const EVENTS: u32 = 0xC1B;
    /// INTEN bits 0..11: CLOCK's events and POWER's (POFWARN 2, SLEEPENTER 5,
    /// SLEEPEXIT 6, USBDETECTED 7, USBREMOVED 8, USBPWRRDY 9) in one register.
    pub const INTEN: u32 = 0xFFF;
    /// HFCLKSTAT/LFCLKSTAT STATE (bit 16, running) and HFCLKSTAT SRC = Xtal (bit 0).
    pub const STAT_RUNNING: u32 = 1 << 16;
    pub const HF_SRC_XTAL: u32 = 1;
    /// LFCLKSRC: SRC (bits 1:0), BYPASS (16), EXTERNAL (17).
    pub const LFCLKSRC_BITS: u32 = 0x3_0003;
    pub const LF_SRC: u32 = 0x3;
    /// HFXODEBOUNCE resets to 0x10 (SVD).
    pub const HFXODEBOUNCE_RESET: u32 = 0x10;
}

/// nRF52 CLOCK (the block it shares with POWER at 0x40000000).
///
/// Modeled: HFCLKSTART switches HFCLK to the crystal and LFCLKSTART starts
/// LFCLK from the source in LFCLKSRC, each at once (no start-up time), setting
/// EVENTS_HFCLKSTARTED / EVENTS_LFCLKSTARTED; the STOP tasks undo them;
/// HFCLKRUN/LFCLKRUN, HFCLKSTAT/LFCLKSTAT and LFCLKSRCCOPY report it;
/// TASKS_CAL completes at once (EVENTS_DONE) and the calibration timer
/// reports started and stopped. Not modeled: the calibration timeout
/// (EVENTS_CTTO never fires) and clock start-up times; the clocks do not
/// change any other block (the RTCs count whether LFCLK was started or not).
/// POWER's registers in the same block keep what is written.
#[derive(Debug, Clone)]
pub struct NrfClock {
    events: Events,
    hfclk_run: bool,
    hfxo: bool,
    lfclk_run: bool,
    lfclksrc: u32,
    lfclksrccopy: u32,
    other: RegisterFile,
}

impl NrfClock {
    /// CLOCK at reset: HFCLK on its internal oscillator, LFCLK stopped.
    pub fn new(spec: &PeripheralSpec) -> NrfClock {
        NrfClock {
            events: Events::new(clock::EVENTS, clock::INTEN, spec),
            hfclk_run: false,
            hfxo: false,
            lfclk_run: false,
            lfclksrc: 0,
            lfclksrccopy: 0,
            other: storage(&[(clock::HFXODEBOUNCE, clock::HFXODEBOUNCE_RESET)], spec),
        }
    }

    fn task(&mut self, offset: u32, ctx: &mut BusContext<'_>) {
        match offset {
            clock::TASKS_HFCLKSTART => {
                self.hfclk_run = true;
                self.hfxo = true;
                self.events.fire(clock::HFCLKSTARTED, ctx);
            }
            clock::TASKS_HFCLKSTOP => {
                self.hfclk_run = false;
                self.hfxo = false;
            }
            clock::TASKS_LFCLKSTART => {
                self.lfclk_run = true;
                self.lfclksrccopy = self.lfclksrc & clock::LF_SRC;
                self.events.fire(clock::LFCLKSTARTED, ctx);
            }
            clock::TASKS_LFCLKSTOP => self.lfclk_run = false,
            clock::TASKS_CAL => self.events.fire(clock::DONE, ctx),
            clock::TASKS_CTSTART => self.events.fire(clock::CTSTARTED, ctx),
            clock::TASKS_CTSTOP => self.events.fire(clock::CTSTOPPED, ctx),
            _ => {}
        }
    }
}

impl Peripheral for NrfClock {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        if let Some(value) = self.events.read_register(offset) {
            return Ok(value);
        }
        Ok(match offset {
            clock::TASKS_HFCLKSTART..=clock::TASKS_CTSTOP => 0,
            clock::HFCLKRUN => u32::from(self.hfclk_run),
            clock::HFCLKSTAT if self.hfxo => clock::STAT_RUNNING | clock::HF_SRC_XTAL,
            clock::HFCLKSTAT => 0,
            clock::LFCLKRUN => u32::from(self.lfclk_run),
            clock::LFCLKSTAT if self.lfclk_run => clock::STAT_RUNNING | self.lfclksrccopy,
            clock::LFCLKSTAT => 0,
            clock::LFCLKSRCCOPY => self.lfclksrccopy,
            clock::LFCLKSRC => self.lfclksrc,
            _ => self.other.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if self.events.write_register(offset, value, ctx) {
            return Ok(());
        }
        match offset {
            clock::TASKS_HFCLKSTART..=clock::TASKS_CTSTOP if triggers(value) => {
                self.task(offset, ctx);
            }
            clock::TASKS_HFCLKSTART..=clock::TASKS_CTSTOP => {}
            clock::LFCLKSRC => self.lfclksrc = value & clock::LFCLKSRC_BITS,
            // Read-only status.
            clock::HFCLKRUN | clock::HFCLKSTAT | clock::LFCLKRUN | clock::LFCLKSTAT => {}
            clock::LFCLKSRCCOPY => {}
            // POWER's SYSTEMOFF: System OFF, whose wake-up is a reset.
            clock::SYSTEMOFF if value & mask & 1 != 0 => {
                return Err(BusError::Refused(
                    "System OFF: waking from it resets the part, which is not modeled".into(),
                ));
            }
            _ => self.other.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        Some(match offset {
            clock::TASKS_HFCLKSTART => "TASKS_HFCLKSTART",
            clock::TASKS_HFCLKSTOP => "TASKS_HFCLKSTOP",
            clock::TASKS_LFCLKSTART => "TASKS_LFCLKSTART",
            clock::TASKS_LFCLKSTOP => "TASKS_LFCLKSTOP",
            clock::TASKS_CAL => "TASKS_CAL",
            clock::TASKS_CTSTART => "TASKS_CTSTART",
            clock::TASKS_CTSTOP => "TASKS_CTSTOP",
            0x100 => "EVENTS_HFCLKSTARTED",
            0x104 => "EVENTS_LFCLKSTARTED",
            0x10C => "EVENTS_DONE",
            0x110 => "EVENTS_CTTO",
            0x128 => "EVENTS_CTSTARTED",
            0x12C => "EVENTS_CTSTOPPED",
            INTENSET => "INTENSET",
            INTENCLR => "INTENCLR",
            clock::HFCLKRUN => "HFCLKRUN",
            clock::HFCLKSTAT => "HFCLKSTAT",
            clock::LFCLKRUN => "LFCLKRUN",
            clock::LFCLKSTAT => "LFCLKSTAT",
            clock::LFCLKSRCCOPY => "LFCLKSRCCOPY",
            clock::LFCLKSRC => "LFCLKSRC",
            clock::SYSTEMOFF => "SYSTEMOFF",
            clock::HFXODEBOUNCE => "HFXODEBOUNCE",
            clock::CTIV => "CTIV",
            clock::TRACECONFIG => "TRACECONFIG",
            clock::LFRCMODE => "LFRCMODE",
            _ => return None,
        })
    }

    fn check_width(&self, _offset: u32, width: u8) -> Result<(), BusError> {
        word_only(width)
    }
}

mod uarte {
    //! UARTE offsets and fields (MDK SVD/bitfields `UARTE_*`).
    pub const TASKS_STARTRX: u32 = 0x000;
    pub const TASKS_STOPRX: u32 = 0x004;
    pub const TASKS_STARTTX: u32 = 0x008;
    pub const TASKS_STOPTX: u32 = 0x00C;
    pub const TASKS_FLUSHRX: u32 = 0x02C;
    pub const SHORTS: u32 = 0x200;
    pub const INTEN: u32 = 0x300;
    pub const ERRORSRC: u32 = 0x480;
    pub const ENABLE: u32 = 0x500;
    pub const PSEL_RTS: u32 = 0x508;
    pub const PSEL_TXD: u32 = 0x50C;
    pub const PSEL_CTS: u32 = 0x510;
    pub const PSEL_RXD: u32 = 0x514;
    pub const BAUDRATE: u32 = 0x524;
    pub const RXD_PTR: u32 = 0x534;
    pub const RXD_MAXCNT: u32 = 0x538;
    pub const RXD_AMOUNT: u32 = 0x53C;
    pub const TXD_PTR: u32 = 0x544;
    pub const TXD_MAXCNT: u32 = 0x548;
    pub const TXD_AMOUNT: u32 = 0x54C;
    pub const CONFIG: u32 = 0x56C;
    /// ENABLE: 8 enables the UARTE (4 would be the legacy UART).
    pub const ENABLE_UARTE: u32 = 8;
    pub const ENABLE_BITS: u32 = 0xF;
    /// TXD.MAXCNT is 16 bits on the nRF52840 (UARTE0_EASYDMA_MAXCNT_SIZE 16).
    pub const MAXCNT_BITS: u32 = 0xFFFF;
    /// Event bits: CTS 0, NCTS 1, RXDRDY 2, ENDRX 4, TXDRDY 7, ENDTX 8,
    /// ERROR 9, RXTO 17, RXSTARTED 19, TXSTARTED 20, TXSTOPPED 22.
    pub const RXDRDY: u32 = 1 << 2;
    pub const ENDRX: u32 = 1 << 4;
    pub const TXDRDY: u32 = 1 << 7;
    pub const ENDTX: u32 = 1 << 8;
    pub const RXTO: u32 = 1 << 17;
    pub const RXSTARTED: u32 = 1 << 19;
    pub const TXSTARTED: u32 = 1 << 20;
    pub const TXSTOPPED: u32 = 1 << 22;
    pub const EVENTS: u32 = 0x5A_0397;
    /// Reset values other than 0 (SVD): PSEL.* disconnected, BAUDRATE 9600 baud.
    pub const RESET: [(u32, u32); 5] = [
        (PSEL_RTS, 0xFFFF_FFFF),
        (PSEL_TXD, 0xFFFF_FFFF),
        (PSEL_CTS, 0xFFFF_FFFF),
        (PSEL_RXD, 0xFFFF_FFFF),
        (BAUDRATE, 0x0400_0000),
    ];
}

/// Data RAM, the only memory EasyDMA reaches: 256 KiB at 0x20000000 (PS
/// "EasyDMA" and "Memory"; the target's `ram` region).
const DMA_RAM: std::ops::Range<u64> = 0x2000_0000..0x2004_0000;

/// Checks that EasyDMA reaches `count` bytes at `ptr` (data RAM only).
fn dma_reach(task: &str, buffer: &str, ptr: u32, count: u32) -> Result<(), BusError> {
    let end = u64::from(ptr) + u64::from(count);
    if count == 0 || DMA_RAM.contains(&u64::from(ptr)) && end <= DMA_RAM.end {
        return Ok(());
    }
    Err(BusError::Refused(format!(
        "UARTE {task}: {buffer}.PTR {ptr:#010x} with {buffer}.MAXCNT {count} is outside \
         data RAM {:#010x}..{:#010x}, which is all EasyDMA can reach",
        DMA_RAM.start, DMA_RAM.end
    )))
}

/// nRF52 UARTE with EasyDMA.
///
/// Modeled: ENABLE; TASKS_STARTTX reads TXD.MAXCNT bytes at TXD.PTR from RAM
/// into the console at once and sets EVENTS_TXSTARTED, EVENTS_TXDRDY (for a
/// non-empty buffer) and EVENTS_ENDTX, with TXD.AMOUNT; a pointer outside data
/// RAM is refused, as EasyDMA cannot reach it; TASKS_STOPTX sets
/// EVENTS_TXSTOPPED; INTEN/INTENSET/INTENCLR and the interrupt. Reception
/// takes the host's input (`mcubench run --input`): STARTRX writes up to
/// RXD.MAXCNT waiting bytes at RXD.PTR at once, with EVENTS_RXSTARTED,
/// EVENTS_RXDRDY and, when the buffer is full, EVENTS_ENDRX; STOPRX ends a
/// reception that is not (EVENTS_ENDRX, EVENTS_RXTO); RXD.AMOUNT says how many
/// arrived; FLUSHRX sets EVENTS_ENDRX. Tasks do nothing while the UARTE is
/// disabled. Not modeled:
/// transmission time, SHORTS (kept), flow control, errors, the legacy UART
/// (ENABLE = 4), and pins and baud rate (kept).
#[derive(Debug, Clone)]
pub struct NrfUarte {
    events: Events,
    enable: u32,
    txd_ptr: u32,
    txd_maxcnt: u32,
    txd_amount: u32,
    rxd_amount: u32,
    other: RegisterFile,
}

impl NrfUarte {
    /// The UARTE at reset: disabled.
    pub fn new(spec: &PeripheralSpec) -> NrfUarte {
        NrfUarte {
            events: Events::new(uarte::EVENTS, uarte::EVENTS, spec),
            enable: 0,
            txd_ptr: 0,
            txd_maxcnt: 0,
            txd_amount: 0,
            rxd_amount: 0,
            other: storage(&uarte::RESET, spec),
        }
    }

    /// TASKS_STARTTX: the whole buffer goes out at once.
    fn start_tx(&mut self, ctx: &mut BusContext<'_>) -> Result<(), BusError> {
        let ptr = self.txd_ptr;
        let count = self.txd_maxcnt;
        dma_reach("TASKS_STARTTX", "TXD", ptr, count)?;
        let mut bytes = vec![0; count as usize];
        if count > 0 && ctx.memory.read(ptr, &mut bytes).is_none() {
            return Err(BusError::Refused(format!(
                "UARTE TASKS_STARTTX: TXD.PTR {ptr:#010x}: {count} bytes are not readable"
            )));
        }
        ctx.send(&bytes, 0);
        self.txd_amount = count;
        let sent = if count > 0 { uarte::TXDRDY } else { 0 };
        self.events
            .fire(uarte::TXSTARTED | sent | uarte::ENDTX, ctx);
        Ok(())
    }

    /// TASKS_STARTRX: what the host has sent, up to RXD.MAXCNT bytes, lands at
    /// RXD.PTR at once; a full buffer ends the reception.
    fn start_rx(&mut self, ctx: &mut BusContext<'_>) -> Result<(), BusError> {
        let ptr = self.other.get(uarte::RXD_PTR);
        let max = self.other.get(uarte::RXD_MAXCNT) & uarte::MAXCNT_BITS;
        dma_reach("TASKS_STARTRX", "RXD", ptr, max)?;
        let bytes = ctx.input.take(ctx.now, max as usize);
        let take = bytes.len();
        if take > 0 && ctx.memory.write(ptr, &bytes).is_none() {
            return Err(BusError::Refused(format!(
                "UARTE TASKS_STARTRX: RXD.PTR {ptr:#010x}: {take} bytes are not writable"
            )));
        }
        self.rxd_amount = take as u32;
        let mut events = uarte::RXSTARTED;
        if take > 0 {
            events |= uarte::RXDRDY;
        }
        if max > 0 && take == max as usize {
            events |= uarte::ENDRX;
        }
        self.events.fire(events, ctx);
        Ok(())
    }

    fn task(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<(), BusError> {
        if self.enable != uarte::ENABLE_UARTE {
            return Ok(());
        }
        match offset {
            uarte::TASKS_STARTTX => self.start_tx(ctx)?,
            uarte::TASKS_STOPTX => self.events.fire(uarte::TXSTOPPED, ctx),
            uarte::TASKS_STARTRX => self.start_rx(ctx)?,
            uarte::TASKS_STOPRX => self.events.fire(uarte::ENDRX | uarte::RXTO, ctx),
            uarte::TASKS_FLUSHRX => self.events.fire(uarte::ENDRX, ctx),
            _ => {}
        }
        Ok(())
    }
}

impl Peripheral for NrfUarte {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        if let Some(value) = self.events.read_register(offset) {
            return Ok(value);
        }
        Ok(match offset {
            uarte::TASKS_STARTRX..=uarte::TASKS_STOPTX | uarte::TASKS_FLUSHRX => 0,
            uarte::INTEN => self.events.inten,
            uarte::ENABLE => self.enable,
            uarte::TXD_PTR => self.txd_ptr,
            uarte::TXD_MAXCNT => self.txd_maxcnt,
            uarte::TXD_AMOUNT => self.txd_amount,
            uarte::RXD_AMOUNT => self.rxd_amount,
            _ => self.other.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if self.events.write_register(offset, value, ctx) {
            return Ok(());
        }
        match offset {
            uarte::TASKS_STARTRX..=uarte::TASKS_STOPTX | uarte::TASKS_FLUSHRX => {
                if triggers(value) {
                    self.task(offset, ctx)?;
                }
            }
            uarte::INTEN => self.events.write_inten(offset, value, ctx),
            uarte::ENABLE => self.enable = value & uarte::ENABLE_BITS,
            uarte::TXD_PTR => self.txd_ptr = value,
            uarte::TXD_MAXCNT => self.txd_maxcnt = value & uarte::MAXCNT_BITS,
            uarte::TXD_AMOUNT | uarte::RXD_AMOUNT => {}
            _ => self.other.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        Some(match offset {
            uarte::TASKS_STARTRX => "TASKS_STARTRX",
            uarte::TASKS_STOPRX => "TASKS_STOPRX",
            uarte::TASKS_STARTTX => "TASKS_STARTTX",
            uarte::TASKS_STOPTX => "TASKS_STOPTX",
            uarte::TASKS_FLUSHRX => "TASKS_FLUSHRX",
            0x100 => "EVENTS_CTS",
            0x104 => "EVENTS_NCTS",
            0x108 => "EVENTS_RXDRDY",
            0x110 => "EVENTS_ENDRX",
            0x11C => "EVENTS_TXDRDY",
            0x120 => "EVENTS_ENDTX",
            0x124 => "EVENTS_ERROR",
            0x144 => "EVENTS_RXTO",
            0x14C => "EVENTS_RXSTARTED",
            0x150 => "EVENTS_TXSTARTED",
            0x158 => "EVENTS_TXSTOPPED",
            uarte::SHORTS => "SHORTS",
            uarte::INTEN => "INTEN",
            INTENSET => "INTENSET",
            INTENCLR => "INTENCLR",
            uarte::ERRORSRC => "ERRORSRC",
            uarte::ENABLE => "ENABLE",
            uarte::PSEL_RTS => "PSEL.RTS",
            uarte::PSEL_TXD => "PSEL.TXD",
            uarte::PSEL_CTS => "PSEL.CTS",
            uarte::PSEL_RXD => "PSEL.RXD",
            uarte::BAUDRATE => "BAUDRATE",
            uarte::RXD_PTR => "RXD.PTR",
            uarte::RXD_MAXCNT => "RXD.MAXCNT",
            uarte::RXD_AMOUNT => "RXD.AMOUNT",
            uarte::TXD_PTR => "TXD.PTR",
            uarte::TXD_MAXCNT => "TXD.MAXCNT",
            uarte::TXD_AMOUNT => "TXD.AMOUNT",
            uarte::CONFIG => "CONFIG",
            _ => return None,
        })
    }

    fn check_width(&self, _offset: u32, width: u8) -> Result<(), BusError> {
        word_only(width)
    }
}

/// Names of the arrays of up to six registers the RTC and TIMER have.
const COMPARE_NAMES: [&str; 6] = [
    "EVENTS_COMPARE[0]",
    "EVENTS_COMPARE[1]",
    "EVENTS_COMPARE[2]",
    "EVENTS_COMPARE[3]",
    "EVENTS_COMPARE[4]",
    "EVENTS_COMPARE[5]",
];
const CC_NAMES: [&str; 6] = ["CC[0]", "CC[1]", "CC[2]", "CC[3]", "CC[4]", "CC[5]"];
const CAPTURE_NAMES: [&str; 6] = [
    "TASKS_CAPTURE[0]",
    "TASKS_CAPTURE[1]",
    "TASKS_CAPTURE[2]",
    "TASKS_CAPTURE[3]",
    "TASKS_CAPTURE[4]",
    "TASKS_CAPTURE[5]",
];
/// EVENTS_COMPARE[n] at 0x140 + 4n is event bit 16 + n.
const COMPARE_EVENTS: u32 = 0x140;
const COMPARE_BIT: u32 = 16;

mod rtc {
    //! RTC offsets and fields (MDK SVD/bitfields `RTC_*`).
    pub const TASKS_START: u32 = 0x000;
    pub const TASKS_STOP: u32 = 0x004;
    pub const TASKS_CLEAR: u32 = 0x008;
    pub const TASKS_TRIGOVRFLW: u32 = 0x00C;
    pub const EVTEN: u32 = 0x340;
    pub const EVTENSET: u32 = 0x344;
    pub const EVTENCLR: u32 = 0x348;
    pub const COUNTER: u32 = 0x504;
    pub const PRESCALER: u32 = 0x508;
    pub const CC: u32 = 0x540;
    /// Event bits: TICK 0, OVRFLW 1, COMPARE[n] 16 + n.
    pub const TICK: u32 = 1 << 0;
    pub const OVRFLW: u32 = 1 << 1;
    /// COUNTER and CC are 24 bits wide.
    pub const WRAP: u64 = 1 << 24;
    pub const VALUE_BITS: u32 = 0xFF_FFFF;
    /// PRESCALER is 12 bits wide: f = 32768 Hz / (PRESCALER + 1).
    pub const PRESCALER_BITS: u32 = 0xFFF;
    /// TASKS_TRIGOVRFLW sets COUNTER to this (SVD description).
    pub const TRIGOVRFLW_VALUE: u32 = 0xFF_FFF0;
    /// LFCLK, 32.768 kHz, independent of the core clock.
    pub const LFCLK_HZ: u64 = 32_768;
}

/// nRF52 RTC: a 24-bit counter at 32768 Hz / (PRESCALER + 1).
///
/// Modeled: START/STOP/CLEAR/TRIGOVRFLW, COUNTER, PRESCALER, CC[n], the TICK,
/// OVRFLW and COMPARE[n] events (COMPARE[n] when COUNTER becomes CC[n]), EVTEN
/// and INTEN. An event is only generated while it is enabled in EVTEN or INTEN
/// (PS "RTC - Event control"; recalled, not re-read). The counter is never
/// stepped: it follows from its value at an anchor and the LFCLK ticks since,
/// converted from core cycles at the core clock. Not modeled: the LFCLK
/// having to be started first, PPI routing, and the PS's caveat that a CC
/// written to COUNTER + 1 may not match (here it does).
#[derive(Debug, Clone)]
pub struct NrfRtc {
    events: Events,
    evten: u32,
    prescaler: u32,
    cc: [u32; 4],
    /// Compare registers this instance has: 3 on RTC0, 4 on RTC1/RTC2.
    ccs: usize,
    running: bool,
    /// COUNTER at the anchor.
    counter0: u32,
    /// RTC ticks since the anchor.
    ticker: Ticker,
    /// Ticks since the anchor already acted on.
    done: u64,
    /// Events that fell due while the clocks changed, set at the next advance.
    pending: u32,
    other: RegisterFile,
}

impl NrfRtc {
    /// The RTC at reset: stopped at 0. The number of compare registers follows
    /// the instance name (nrf52840_peripherals.h: RTC0_CC_NUM 3, RTC1/RTC2 4).
    pub fn new(spec: &PeripheralSpec) -> NrfRtc {
        let ccs = if spec.name == "RTC0" { 3 } else { 4 };
        let compares = ((1u32 << ccs) - 1) << COMPARE_BIT;
        let valid = rtc::TICK | rtc::OVRFLW | compares;
        NrfRtc {
            events: Events::new(valid, valid, spec),
            evten: 0,
            prescaler: 0,
            cc: [0; 4],
            ccs,
            running: false,
            counter0: 0,
            ticker: Ticker::new(0, 0, 1),
            done: 0,
            pending: 0,
            other: RegisterFile::new(&spec.reset),
        }
    }

    fn counter_after(&self, ticks: u64) -> u32 {
        if !self.running {
            return self.counter0;
        }
        ((u64::from(self.counter0) + ticks) % rtc::WRAP) as u32
    }

    /// The first tick after `after` at which the counter steps to `value`.
    fn next_reaching(&self, value: u32, after: u64) -> u64 {
        let distance = (u64::from(value) + rtc::WRAP - u64::from(self.counter0)) % rtc::WRAP;
        let first = if distance == 0 { rtc::WRAP } else { distance };
        next_in_progression(first, rtc::WRAP, after)
    }

    /// The first tick after `after` at which the events in `bit` happen.
    fn next_of(&self, bit: u32, after: u64) -> Option<u64> {
        if !self.running {
            return None;
        }
        Some(match bit {
            rtc::TICK => after.saturating_add(1),
            rtc::OVRFLW => self.next_reaching(0, after),
            _ => {
                let n = bit.trailing_zeros().checked_sub(COMPARE_BIT)? as usize;
                self.next_reaching(*self.cc.get(n)?, after)
            }
        })
    }

    /// Acts on ticks up to `ticks`: the events that happened, as bits.
    fn run_to(&mut self, ticks: u64) -> u32 {
        let generated = (self.evten | self.events.inten) & self.events.valid;
        let happened = (0..32)
            .map(|n| 1u32 << n)
            .filter(|&bit| generated & bit != 0)
            .filter(|&bit| self.next_of(bit, self.done).is_some_and(|t| t <= ticks))
            .fold(0, |acc, bit| acc | bit);
        self.done = self.done.max(ticks);
        happened
    }

    fn catch_up(&mut self, ctx: &mut BusContext<'_>) {
        let ticks = self.ticker.ticks_at(ctx.now);
        let bits = self.run_to(ticks) | std::mem::take(&mut self.pending);
        self.events.fire(bits, ctx);
    }

    /// Re-anchors at `now` with the counter as it stands.
    fn rebase(&mut self, now: u64) {
        let ticks = self.ticker.rebase(now);
        self.counter0 = self.counter_after(ticks);
        self.done = 0;
    }

    /// Counts at the current prescaler against core clock `hclk_hz`.
    fn retime(&mut self, now: u64, hclk_hz: u64) {
        let divider = u64::from(self.prescaler) + 1;
        self.ticker
            .set_rate(now, rtc::LFCLK_HZ, hclk_hz.saturating_mul(divider));
    }
}

impl Peripheral for NrfRtc {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        self.catch_up(ctx);
        if let Some(value) = self.events.read_register(offset) {
            return Ok(value);
        }
        if let Some(n) = index(offset, rtc::CC, self.ccs) {
            return Ok(self.cc[n]);
        }
        Ok(match offset {
            rtc::TASKS_START..=rtc::TASKS_TRIGOVRFLW => 0,
            rtc::EVTEN | rtc::EVTENSET | rtc::EVTENCLR => self.evten,
            rtc::COUNTER => self.counter_after(self.ticker.ticks_at(ctx.now)),
            rtc::PRESCALER => self.prescaler,
            _ => self.other.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        self.catch_up(ctx);
        if self.events.write_register(offset, value, ctx) {
            return Ok(());
        }
        if let Some(n) = index(offset, rtc::CC, self.ccs) {
            self.cc[n] = value & rtc::VALUE_BITS;
            return Ok(());
        }
        match offset {
            rtc::TASKS_START..=rtc::TASKS_TRIGOVRFLW => {
                if !triggers(value) {
                    return Ok(());
                }
                self.rebase(ctx.now);
                match offset {
                    rtc::TASKS_START => self.running = true,
                    rtc::TASKS_STOP => self.running = false,
                    rtc::TASKS_CLEAR => self.counter0 = 0,
                    _ => self.counter0 = rtc::TRIGOVRFLW_VALUE,
                }
                self.retime(ctx.now, ctx.clocks.hclk_hz);
            }
            rtc::EVTEN => self.evten = value & self.events.valid,
            rtc::EVTENSET => self.evten |= value & self.events.valid,
            rtc::EVTENCLR => self.evten &= !value,
            rtc::PRESCALER => {
                // The PS asks for this only while stopped; a running counter
                // simply continues at the new rate.
                self.rebase(ctx.now);
                self.prescaler = value & rtc::PRESCALER_BITS;
                self.retime(ctx.now, ctx.clocks.hclk_hz);
            }
            rtc::COUNTER => {}
            _ => self.other.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        if let Some(n) = index(offset, COMPARE_EVENTS, self.ccs) {
            return Some(COMPARE_NAMES[n]);
        }
        if let Some(n) = index(offset, rtc::CC, self.ccs) {
            return Some(CC_NAMES[n]);
        }
        Some(match offset {
            rtc::TASKS_START => "TASKS_START",
            rtc::TASKS_STOP => "TASKS_STOP",
            rtc::TASKS_CLEAR => "TASKS_CLEAR",
            rtc::TASKS_TRIGOVRFLW => "TASKS_TRIGOVRFLW",
            0x100 => "EVENTS_TICK",
            0x104 => "EVENTS_OVRFLW",
            INTENSET => "INTENSET",
            INTENCLR => "INTENCLR",
            rtc::EVTEN => "EVTEN",
            rtc::EVTENSET => "EVTENSET",
            rtc::EVTENCLR => "EVTENCLR",
            rtc::COUNTER => "COUNTER",
            rtc::PRESCALER => "PRESCALER",
            _ => return None,
        })
    }

    fn check_width(&self, _offset: u32, width: u8) -> Result<(), BusError> {
        word_only(width)
    }

    fn next_event(&self, now: u64, _clocks: &Clocks) -> Option<u64> {
        if self.pending != 0 {
            return Some(now);
        }
        let enabled = self.events.inten & self.events.valid;
        let tick = (0..32)
            .map(|n| 1u32 << n)
            .filter(|&bit| enabled & bit != 0)
            .filter_map(|bit| self.next_of(bit, self.done))
            .min()?;
        self.ticker.cycle_of(tick)
    }

    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.catch_up(ctx);
    }

    fn clocks_changed(&mut self, now: u64, before: &Clocks, after: &Clocks) {
        let _ = before;
        let ticks = self.ticker.ticks_at(now);
        self.pending |= self.run_to(ticks);
        self.rebase(now);
        self.retime(now, after.hclk_hz);
    }
}

mod timer {
    //! TIMER offsets and fields (MDK SVD/bitfields `TIMER_*`).
    pub const TASKS_START: u32 = 0x000;
    pub const TASKS_STOP: u32 = 0x004;
    pub const TASKS_COUNT: u32 = 0x008;
    pub const TASKS_CLEAR: u32 = 0x00C;
    pub const TASKS_SHUTDOWN: u32 = 0x010;
    pub const TASKS_CAPTURE: u32 = 0x040;
    pub const SHORTS: u32 = 0x200;
    pub const MODE: u32 = 0x504;
    pub const BITMODE: u32 = 0x508;
    pub const PRESCALER: u32 = 0x510;
    pub const CC: u32 = 0x540;
    /// MODE: 0 timer; 1 counter and 2 low-power counter count TASKS_COUNT.
    pub const MODE_TIMER: u32 = 0;
    pub const MODE_BITS: u32 = 0x3;
    /// BITMODE: 0 16-bit, 1 8-bit, 2 24-bit, 3 32-bit.
    pub const BITMODE_BITS: u32 = 0x3;
    /// PRESCALER: 4 bits, reset 4 (SVD), f = 16 MHz / 2^PRESCALER; the PS
    /// allows 0..=9 (recalled, not re-read), larger values count as 9.
    pub const PRESCALER_BITS: u32 = 0xF;
    pub const PRESCALER_RESET: u32 = 4;
    pub const PRESCALER_MAX: u32 = 9;
    /// The timer clock, PCLK16M, in Hz.
    pub const BASE_HZ: u64 = 16_000_000;
    /// SHORTS: COMPARE[n]_CLEAR is bit n, COMPARE[n]_STOP bit 8 + n.
    pub const STOP_SHIFT: u32 = 8;
}

/// nRF52 TIMER: a counter at 16 MHz / 2^PRESCALER, or counting TASKS_COUNT.
///
/// Modeled: START/STOP/COUNT/CLEAR/SHUTDOWN (as STOP)/CAPTURE[n], MODE,
/// BITMODE, PRESCALER, CC[n], EVENTS_COMPARE[n] when the counter steps to
/// CC[n], the COMPARE_CLEAR and COMPARE_STOP shortcuts, INTENSET/INTENCLR. A
/// compare with COMPARE_CLEAR ends the period: the counter steps from CC - 1
/// to 0, so a period is CC ticks (CC = 0 never clears). A CC of 0 matches
/// when the counter wraps at the bit width. The counter is never stepped: it
/// follows from its value at an anchor and the ticks since, converted from
/// core cycles at the core clock (PCLK16M is a quarter of the 64 MHz HFCLK).
/// Not modeled: PPI, and the clock requests (the timer runs whatever HFCLK
/// source is started).
#[derive(Debug, Clone)]
pub struct NrfTimer {
    events: Events,
    shorts: u32,
    mode: u32,
    bitmode: u32,
    prescaler: u32,
    cc: [u32; 6],
    /// Compare registers this instance has: 4 on TIMER0..2, 6 on TIMER3/4.
    ccs: usize,
    running: bool,
    /// The counter at the anchor.
    counter0: u64,
    /// Timer ticks since the anchor (timer mode).
    ticker: Ticker,
    /// Ticks since the anchor already acted on (in counter mode: COUNT tasks).
    done: u64,
    /// Events that fell due while the clocks changed, set at the next advance.
    pending: u32,
    other: RegisterFile,
}

impl NrfTimer {
    /// The TIMER at reset: stopped at 0, timer mode, 16-bit, 1 MHz. The
    /// number of compare registers follows the instance name
    /// (nrf52840_peripherals.h: TIMER3_CC_NUM and TIMER4_CC_NUM 6, others 4).
    pub fn new(spec: &PeripheralSpec) -> NrfTimer {
        let ccs = if matches!(spec.name.as_str(), "TIMER3" | "TIMER4") {
            6
        } else {
            4
        };
        let valid = ((1u32 << ccs) - 1) << COMPARE_BIT;
        NrfTimer {
            events: Events::new(valid, valid, spec),
            shorts: 0,
            mode: timer::MODE_TIMER,
            bitmode: 0,
            prescaler: timer::PRESCALER_RESET,
            cc: [0; 6],
            ccs,
            running: false,
            counter0: 0,
            ticker: Ticker::new(0, 0, 1),
            done: 0,
            pending: 0,
            other: RegisterFile::new(&spec.reset),
        }
    }

    /// The counter's modulus: 2^bits.
    fn width(&self) -> u64 {
        match self.bitmode & timer::BITMODE_BITS {
            0 => 1 << 16,
            1 => 1 << 8,
            2 => 1 << 24,
            _ => 1 << 32,
        }
    }

    /// CC[n] as the counter compares it, within the bit width.
    fn compare(&self, n: usize) -> u64 {
        u64::from(self.cc[n]) % self.width()
    }

    /// The counter runs through 0..period: the smallest nonzero CC with a
    /// COMPARE_CLEAR shortcut, else the full width.
    fn period(&self) -> u64 {
        (0..self.ccs)
            .filter(|&n| self.shorts & (1 << n) != 0)
            .map(|n| self.compare(n))
            .filter(|&cc| cc > 0)
            .min()
            .unwrap_or_else(|| self.width())
    }

    /// Whether the counter advances with time (timer mode, started).
    fn timed(&self) -> bool {
        self.running && self.mode == timer::MODE_TIMER
    }

    /// The counter `ticks` ticks after the anchor. Above the period (CC
    /// lowered below the counter) it first runs up to the width and wraps.
    fn counter_after(&self, ticks: u64) -> u64 {
        let (c0, period, width) = (self.counter0, self.period(), self.width());
        if c0 < period {
            return (c0 + ticks % period) % period;
        }
        let to_wrap = width - c0;
        if ticks < to_wrap {
            c0 + ticks
        } else {
            (ticks - to_wrap) % period
        }
    }

    /// The first tick after `after` at which the counter steps to CC[n]. A
    /// step is to the value before any clear: the step that clears the
    /// counter at CC = period reaches CC, and the wrap at the width reaches 0.
    fn next_compare(&self, n: usize, after: u64) -> Option<u64> {
        let (c0, period, width) = (self.counter0, self.period(), self.width());
        let cc = self.compare(n);
        let target = if cc == 0 { width } else { cc };
        if c0 < period {
            if target > period {
                return None;
            }
            let distance = (target + period - c0) % period;
            let first = if distance == 0 { period } else { distance };
            return Some(next_in_progression(first, period, after));
        }
        let to_wrap = width - c0;
        if target > c0 && target - c0 > after {
            return Some(target - c0);
        }
        (target <= period).then(|| next_in_progression(to_wrap + target, period, after))
    }

    /// Acts on ticks up to `ticks`: sets the counter's state after any
    /// COMPARE_STOP and returns the compare events that happened, as bits.
    fn run_to(&mut self, ticks: u64) -> u32 {
        if !self.running || ticks <= self.done {
            return 0;
        }
        let stop = (0..self.ccs)
            .filter(|&n| self.shorts & (1 << (timer::STOP_SHIFT + n as u32)) != 0)
            .filter_map(|n| self.next_compare(n, self.done))
            .filter(|&t| t <= ticks)
            .min();
        let end = stop.unwrap_or(ticks);
        let happened = (0..self.ccs)
            .filter(|&n| self.next_compare(n, self.done).is_some_and(|t| t <= end))
            .fold(0, |acc, n| acc | 1 << (COMPARE_BIT + n as u32));
        match stop {
            Some(at) => {
                self.counter0 = self.counter_after(at);
                self.running = false;
                self.done = 0;
            }
            None => self.done = ticks,
        }
        happened
    }

    fn catch_up(&mut self, ctx: &mut BusContext<'_>) {
        let bits = if self.timed() {
            let ticks = self.ticker.ticks_at(ctx.now);
            self.run_to(ticks)
        } else {
            0
        };
        let bits = bits | std::mem::take(&mut self.pending);
        self.events.fire(bits, ctx);
    }

    /// The counter now.
    fn counter_now(&self, now: u64) -> u64 {
        if self.timed() {
            self.counter_after(self.ticker.ticks_at(now))
        } else {
            self.counter_after(self.done)
        }
    }

    /// Re-anchors at `now` with the counter as it stands, before a task or a
    /// register changes how it counts.
    fn rebase(&mut self, now: u64) {
        self.counter0 = self.counter_now(now);
        self.ticker.rebase(now);
        self.done = 0;
    }

    /// Counts at the current prescaler against core clock `hclk_hz`.
    fn retime(&mut self, now: u64, hclk_hz: u64) {
        let shift = self.prescaler.min(timer::PRESCALER_MAX);
        self.ticker
            .set_rate(now, timer::BASE_HZ, hclk_hz.saturating_mul(1 << shift));
    }

    fn task(&mut self, offset: u32, ctx: &mut BusContext<'_>) {
        match offset {
            timer::TASKS_START => self.running = true,
            timer::TASKS_STOP | timer::TASKS_SHUTDOWN => self.running = false,
            timer::TASKS_COUNT => {
                if self.running && self.mode != timer::MODE_TIMER {
                    let bits = self.run_to(self.done + 1);
                    self.events.fire(bits, ctx);
                }
            }
            timer::TASKS_CLEAR => self.counter0 = 0,
            _ => {
                if let Some(n) = index(offset, timer::TASKS_CAPTURE, self.ccs) {
                    // Kept within the register's 32 bits; the counter is at most 32 bits wide.
                    self.cc[n] = (self.counter0 & 0xFFFF_FFFF) as u32;
                }
            }
        }
    }
}

impl Peripheral for NrfTimer {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        self.catch_up(ctx);
        if let Some(value) = self.events.read_register(offset) {
            return Ok(value);
        }
        if let Some(n) = index(offset, timer::CC, self.ccs) {
            return Ok(self.cc[n]);
        }
        Ok(match offset {
            timer::TASKS_START..=timer::TASKS_SHUTDOWN => 0,
            _ if index(offset, timer::TASKS_CAPTURE, self.ccs).is_some() => 0,
            timer::SHORTS => self.shorts,
            timer::MODE => self.mode,
            timer::BITMODE => self.bitmode,
            timer::PRESCALER => self.prescaler,
            _ => self.other.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        self.catch_up(ctx);
        if self.events.write_register(offset, value, ctx) {
            return Ok(());
        }
        let is_task = offset <= timer::TASKS_SHUTDOWN
            || index(offset, timer::TASKS_CAPTURE, self.ccs).is_some();
        if is_task && !triggers(value) {
            return Ok(());
        }
        // Everything else changes how the counter runs: settle it first.
        self.rebase(ctx.now);
        let clear_bits = (1u32 << self.ccs) - 1;
        let shorts_bits = clear_bits | clear_bits << timer::STOP_SHIFT;
        match offset {
            _ if is_task => self.task(offset, ctx),
            timer::SHORTS => self.shorts = value & shorts_bits,
            timer::MODE => self.mode = value & timer::MODE_BITS,
            timer::BITMODE => self.bitmode = value & timer::BITMODE_BITS,
            timer::PRESCALER => self.prescaler = value & timer::PRESCALER_BITS,
            _ => match index(offset, timer::CC, self.ccs) {
                Some(n) => self.cc[n] = value,
                None => self.other.set(offset, value, mask),
            },
        }
        self.counter0 %= self.width();
        self.retime(ctx.now, ctx.clocks.hclk_hz);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        if let Some(n) = index(offset, timer::TASKS_CAPTURE, self.ccs) {
            return Some(CAPTURE_NAMES[n]);
        }
        if let Some(n) = index(offset, COMPARE_EVENTS, self.ccs) {
            return Some(COMPARE_NAMES[n]);
        }
        if let Some(n) = index(offset, timer::CC, self.ccs) {
            return Some(CC_NAMES[n]);
        }
        Some(match offset {
            timer::TASKS_START => "TASKS_START",
            timer::TASKS_STOP => "TASKS_STOP",
            timer::TASKS_COUNT => "TASKS_COUNT",
            timer::TASKS_CLEAR => "TASKS_CLEAR",
            timer::TASKS_SHUTDOWN => "TASKS_SHUTDOWN",
            timer::SHORTS => "SHORTS",
            INTENSET => "INTENSET",
            INTENCLR => "INTENCLR",
            timer::MODE => "MODE",
            timer::BITMODE => "BITMODE",
            timer::PRESCALER => "PRESCALER",
            _ => return None,
        })
    }

    fn check_width(&self, _offset: u32, width: u8) -> Result<(), BusError> {
        word_only(width)
    }

    fn next_event(&self, now: u64, _clocks: &Clocks) -> Option<u64> {
        if self.pending != 0 {
            return Some(now);
        }
        if !self.timed() {
            return None;
        }
        let tick = (0..self.ccs)
            .filter(|&n| self.events.inten & (1 << (COMPARE_BIT + n as u32)) != 0)
            .filter_map(|n| self.next_compare(n, self.done))
            .min()?;
        self.ticker.cycle_of(tick)
    }

    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.catch_up(ctx);
    }

    fn clocks_changed(&mut self, now: u64, before: &Clocks, after: &Clocks) {
        let _ = before;
        if self.timed() {
            let ticks = self.ticker.ticks_at(now);
            self.pending |= self.run_to(ticks);
        }
        self.rebase(now);
        self.retime(now, after.hclk_hz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::testing::Rig;
    use crate::machine::bus::HostInput;
    use crate::machine::semihosting::Memory;
    use crate::target::{BusClock, PeripheralKind};

    /// 4 KiB of RAM at 0x20000000, and a 4 KiB flash-like window at 0 to show
    /// that readable memory outside data RAM is still refused.
    struct FakeMemory {
        ram: Vec<u8>,
        flash: Vec<u8>,
    }

    impl FakeMemory {
        fn region(&self, addr: u32, len: usize) -> Option<(&[u8], usize)> {
            let (bytes, base) = if addr >= 0x2000_0000 {
                (&self.ram, 0x2000_0000)
            } else {
                (&self.flash, 0)
            };
            let start = usize::try_from(addr - base).ok()?;
            (start.checked_add(len)? <= bytes.len()).then_some((bytes.as_slice(), start))
        }
    }

    impl Memory for FakeMemory {
        fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()> {
            let (bytes, start) = self.region(addr, buf.len())?;
            buf.copy_from_slice(&bytes[start..start + buf.len()]);
            Some(())
        }
        fn write(&mut self, addr: u32, data: &[u8]) -> Option<()> {
            let start = usize::try_from(addr.checked_sub(0x2000_0000)?).ok()?;
            self.ram
                .get_mut(start..start + data.len())?
                .copy_from_slice(data);
            Some(())
        }
    }

    /// The nRF52840's 64 MHz core clock over a fake memory.
    fn rig() -> Rig<FakeMemory> {
        Rig::with_memory(
            64_000_000,
            FakeMemory {
                ram: vec![0; 4096],
                flash: vec![0x55; 4096],
            },
        )
    }

    fn spec(name: &str, kind: PeripheralKind, irq: u32) -> PeripheralSpec {
        PeripheralSpec {
            name: name.into(),
            kind,
            base: 0x4000_0000,
            size: 0x1000,
            irqs: vec![irq],
            clock: BusClock::Ahb,
            reset: Vec::new(),
        }
    }

    #[test]
    fn registers_take_words_only() {
        let c = NrfClock::new(&spec("CLOCK", PeripheralKind::NrfClock, 0));
        assert_eq!(c.check_width(0x100, 4), Ok(()));
        assert_eq!(
            c.check_width(0x100, 1),
            Err(BusError::Width {
                width: 1,
                allowed: 4
            })
        );
        let t = NrfTimer::new(&spec("TIMER0", PeripheralKind::NrfTimer, 8));
        assert!(t.check_width(0x540, 2).is_err());
    }

    #[test]
    fn system_off_ends_the_run() {
        let mut rig = rig();
        let mut c = NrfClock::new(&spec("CLOCK", PeripheralKind::NrfClock, 0));
        assert_eq!(c.register_name(clock::SYSTEMOFF), Some("SYSTEMOFF"));
        assert_eq!(
            c.write(clock::SYSTEMOFF, 0, u32::MAX, &mut rig.ctx()),
            Ok(())
        );
        match c.write(clock::SYSTEMOFF, 1, u32::MAX, &mut rig.ctx()) {
            Err(BusError::Refused(message)) => assert!(message.contains("System OFF"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clock_starts_hfxo_and_lfclk_at_once() {
        let mut rig = rig();
        let mut c = NrfClock::new(&spec("CLOCK", PeripheralKind::NrfClock, 0));
        assert_eq!(rig.read(&mut c, clock::HFCLKSTAT), 0);
        assert_eq!(rig.read(&mut c, clock::HFXODEBOUNCE), 0x10);
        rig.write(&mut c, clock::TASKS_HFCLKSTART, 1);
        assert_eq!(rig.read(&mut c, 0x100), 1);
        assert_eq!(rig.read(&mut c, clock::HFCLKSTAT), 0x1_0001);
        assert_eq!(rig.read(&mut c, clock::HFCLKRUN), 1);
        assert!(rig.raised.is_empty(), "interrupt not enabled");

        rig.write(&mut c, INTENSET, clock::LFCLKSTARTED);
        rig.write(&mut c, clock::LFCLKSRC, 1);
        rig.write(&mut c, clock::TASKS_LFCLKSTART, 1);
        assert_eq!(rig.raised, vec![0]);
        assert_eq!(rig.read(&mut c, 0x104), 1);
        assert_eq!(rig.read(&mut c, clock::LFCLKSTAT), 0x1_0001);
        assert_eq!(rig.read(&mut c, clock::LFCLKSRCCOPY), 1);
        rig.write(&mut c, 0x104, 0);
        assert_eq!(rig.read(&mut c, 0x104), 0, "writing 0 clears an event");
        assert_eq!(rig.read(&mut c, INTENCLR), clock::LFCLKSTARTED);
        rig.write(&mut c, INTENCLR, clock::LFCLKSTARTED);
        assert_eq!(rig.read(&mut c, INTENSET), 0);

        rig.write(&mut c, clock::TASKS_HFCLKSTOP, 1);
        assert_eq!(rig.read(&mut c, clock::HFCLKSTAT), 0);
        assert_eq!(c.register_name(0x518), Some("LFCLKSRC"));
        assert_eq!(c.register_name(0x578), None, "POWER's DCDCEN is only kept");
        rig.write(&mut c, 0x578, 1);
        assert_eq!(rig.read(&mut c, 0x578), 1);
    }

    #[test]
    fn enabling_an_interrupt_on_a_set_event_raises_it() {
        let mut rig = rig();
        let mut c = NrfClock::new(&spec("CLOCK", PeripheralKind::NrfClock, 0));
        rig.write(&mut c, clock::TASKS_HFCLKSTART, 1);
        rig.write(&mut c, INTENSET, clock::HFCLKSTARTED);
        assert_eq!(rig.raised, vec![0]);
        rig.write(&mut c, clock::TASKS_HFCLKSTART, 0);
        assert_eq!(rig.raised, vec![0], "writing 0 to a task does nothing");
    }

    #[test]
    fn uarte_sends_from_ram_with_events() {
        let mut rig = rig();
        let mut u = NrfUarte::new(&spec("UARTE0", PeripheralKind::NrfUarte, 2));
        assert_eq!(rig.read(&mut u, uarte::PSEL_TXD), 0xFFFF_FFFF);
        assert_eq!(rig.read(&mut u, uarte::BAUDRATE), 0x0400_0000);
        assert_eq!(rig.memory.write(0x2000_0010, b"hello\n"), Some(()));
        rig.write(&mut u, uarte::TXD_PTR, 0x2000_0010);
        rig.write(&mut u, uarte::TXD_MAXCNT, 6);
        rig.write(&mut u, uarte::TASKS_STARTTX, 1);
        assert!(rig.console.is_empty(), "disabled: the task does nothing");

        rig.write(&mut u, uarte::ENABLE, uarte::ENABLE_UARTE);
        rig.write(&mut u, INTENSET, uarte::ENDTX);
        rig.write(&mut u, uarte::TASKS_STARTTX, 1);
        assert_eq!(rig.console, b"hello\n");
        assert_eq!(rig.raised, vec![2]);
        assert_eq!(rig.read(&mut u, 0x120), 1, "EVENTS_ENDTX");
        assert_eq!(rig.read(&mut u, 0x150), 1, "EVENTS_TXSTARTED");
        assert_eq!(rig.read(&mut u, 0x11C), 1, "EVENTS_TXDRDY");
        assert_eq!(rig.read(&mut u, uarte::TXD_AMOUNT), 6);
        assert_eq!(rig.read(&mut u, uarte::INTEN), uarte::ENDTX);

        rig.write(&mut u, uarte::TASKS_STOPTX, 1);
        assert_eq!(rig.read(&mut u, 0x158), 1, "EVENTS_TXSTOPPED");
        assert_eq!(u.register_name(0x548), Some("TXD.MAXCNT"));
    }

    #[test]
    fn uarte_receives_the_hosts_input_into_ram() {
        let mut rig = rig();
        let mut u = NrfUarte::new(&spec("UARTE0", PeripheralKind::NrfUarte, 2));
        rig.input = HostInput::new(b"abc", b"");
        rig.write(&mut u, uarte::ENABLE, uarte::ENABLE_UARTE);
        rig.write(&mut u, uarte::RXD_PTR, 0x2000_0040);
        rig.write(&mut u, uarte::RXD_MAXCNT, 2);
        rig.write(&mut u, uarte::TASKS_STARTRX, 1);
        let mut got = [0u8; 2];
        assert_eq!(rig.memory.read(0x2000_0040, &mut got), Some(()));
        assert_eq!(&got, b"ab");
        assert_eq!(rig.read(&mut u, uarte::RXD_AMOUNT), 2);
        assert_eq!(
            rig.read(&mut u, 0x110),
            1,
            "EVENTS_ENDRX: the buffer is full"
        );
        // One byte left for a buffer of two: no ENDRX until STOPRX.
        rig.write(&mut u, 0x110, 0);
        rig.write(&mut u, uarte::TASKS_STARTRX, 1);
        assert_eq!(rig.read(&mut u, uarte::RXD_AMOUNT), 1);
        assert_eq!(rig.read(&mut u, 0x110), 0);
        rig.write(&mut u, uarte::TASKS_STOPRX, 1);
        assert_eq!(rig.read(&mut u, 0x110), 1);
        assert_eq!(rig.read(&mut u, 0x144), 1, "EVENTS_RXTO");
    }

    #[test]
    fn uarte_refuses_pointers_outside_data_ram() {
        let mut rig = rig();
        let mut u = NrfUarte::new(&spec("UARTE0", PeripheralKind::NrfUarte, 2));
        rig.write(&mut u, uarte::ENABLE, uarte::ENABLE_UARTE);
        rig.write(&mut u, uarte::TXD_PTR, 0x0000_0100);
        rig.write(&mut u, uarte::TXD_MAXCNT, 4);
        let err = rig.try_write(&mut u, uarte::TASKS_STARTTX, 1);
        match err {
            Err(BusError::Refused(message)) => assert!(message.contains("0x00000100"), "{message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(rig.console.is_empty());
        assert_eq!(
            rig.read(&mut u, 0x120),
            0,
            "no ENDTX for a refused transfer"
        );
        // A buffer that runs past the end of data RAM is refused too.
        rig.write(&mut u, uarte::TXD_PTR, 0x2003_FFFE);
        assert!(rig.try_write(&mut u, uarte::TASKS_STARTTX, 1).is_err());
        // So is one inside data RAM that the memory cannot supply.
        rig.write(&mut u, uarte::TXD_PTR, 0x2000_1000);
        assert!(rig.try_write(&mut u, uarte::TASKS_STARTTX, 1).is_err());
    }

    #[test]
    fn uarte_maxcnt_is_sixteen_bits() {
        let mut rig = rig();
        let mut u = NrfUarte::new(&spec("UARTE0", PeripheralKind::NrfUarte, 2));
        rig.write(&mut u, uarte::TXD_MAXCNT, 0x1_0003);
        assert_eq!(rig.read(&mut u, uarte::TXD_MAXCNT), 3);
        rig.write(&mut u, uarte::ENABLE, uarte::ENABLE_UARTE);
        rig.write(&mut u, uarte::TXD_PTR, 0x2000_0000);
        rig.write(&mut u, uarte::TASKS_STARTTX, 1);
        assert_eq!(rig.console.len(), 3);
    }

    /// Core cycles per RTC tick at prescaler 0: 64 MHz / 32768 Hz = 1953.125.
    fn rtc_cycles(ticks: u64) -> u64 {
        (ticks * 64_000_000).div_ceil(32_768)
    }

    #[test]
    fn rtc_counts_at_32768_hz_and_fires_compare() {
        let mut rig = rig();
        let mut r = NrfRtc::new(&spec("RTC1", PeripheralKind::NrfRtc, 17));
        rig.write(&mut r, rtc::CC + 4, 100);
        rig.write(&mut r, INTENSET, 1 << 17);
        rig.write(&mut r, rtc::TASKS_START, 1);
        assert_eq!(r.next_event(0, &rig.clocks), Some(rtc_cycles(100)));
        rig.run_to(&mut r, rtc_cycles(50));
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 50);
        assert!(rig.raised.is_empty());
        rig.run_to(&mut r, rtc_cycles(100));
        assert_eq!(rig.raised, vec![17]);
        assert_eq!(rig.read(&mut r, 0x144), 1, "EVENTS_COMPARE[1]");
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 100);
        // The next match is a full 24-bit turn later.
        assert_eq!(
            r.next_event(rig.now, &rig.clocks),
            Some(rtc_cycles(100 + (1 << 24)))
        );
    }

    #[test]
    fn rtc_prescaler_divides_and_tick_needs_enabling() {
        let mut rig = rig();
        let mut r = NrfRtc::new(&spec("RTC0", PeripheralKind::NrfRtc, 11));
        rig.write(&mut r, rtc::PRESCALER, 327);
        rig.write(&mut r, rtc::TASKS_START, 1);
        // 32768 / 328 = 99.9 Hz: 10 ticks in about 0.1 s.
        rig.run_to(&mut r, 6_406_250);
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 10);
        assert_eq!(
            rig.read(&mut r, 0x100),
            0,
            "TICK is not generated unless enabled"
        );
        rig.write(&mut r, rtc::EVTENSET, rtc::TICK);
        // The 11th tick comes at 11 x 640625 = 7046875 cycles.
        rig.run_to(&mut r, 7_046_875);
        assert_eq!(rig.read(&mut r, 0x100), 1);
        assert!(rig.raised.is_empty(), "EVTEN alone does not interrupt");
        assert_eq!(r.register_name(0x54C), None, "RTC0 has three CC registers");
        assert_eq!(r.register_name(0x548), Some("CC[2]"));
    }

    #[test]
    fn rtc_overflows_clears_and_stops() {
        let mut rig = rig();
        let mut r = NrfRtc::new(&spec("RTC2", PeripheralKind::NrfRtc, 36));
        rig.write(&mut r, INTENSET, rtc::OVRFLW);
        rig.write(&mut r, rtc::TASKS_TRIGOVRFLW, 1);
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 0xFF_FFF0);
        rig.write(&mut r, rtc::TASKS_START, 1);
        rig.run_to(&mut r, rtc_cycles(16));
        assert_eq!(rig.raised, vec![36]);
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 0);
        rig.run_to(&mut r, rtc_cycles(20));
        rig.write(&mut r, rtc::TASKS_STOP, 1);
        rig.run_to(&mut r, rtc_cycles(1000));
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 4, "stopped");
        rig.write(&mut r, rtc::TASKS_CLEAR, 1);
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 0);
    }

    #[test]
    fn rtc_compare_due_across_a_clock_change_fires_after_it() {
        let mut rig = rig();
        let mut r = NrfRtc::new(&spec("RTC1", PeripheralKind::NrfRtc, 17));
        rig.write(&mut r, rtc::CC, 3);
        rig.write(&mut r, INTENSET, 1 << 16);
        rig.write(&mut r, rtc::TASKS_START, 1);
        let before = rig.clocks;
        rig.clocks = Clocks::uniform(32_000_000);
        r.clocks_changed(rtc_cycles(5), &before, &rig.clocks);
        assert_eq!(
            r.next_event(rtc_cycles(5), &rig.clocks),
            Some(rtc_cycles(5))
        );
        rig.now = rtc_cycles(5);
        r.advance(&mut rig.ctx());
        assert_eq!(rig.raised, vec![17]);
        // At half the core clock an RTC tick is half as many cycles.
        let now = rig.now;
        rig.run_to(&mut r, now + (100 * 32_000_000u64).div_ceil(32_768));
        assert_eq!(rig.read(&mut r, rtc::COUNTER), 105);
    }

    #[test]
    fn timer_fires_periodically_with_compare_clear() {
        let mut rig = rig();
        let mut t = NrfTimer::new(&spec("TIMER0", PeripheralKind::NrfTimer, 8));
        // Reset prescaler 4: 1 MHz, 64 core cycles per tick.
        rig.write(&mut t, timer::BITMODE, 3);
        rig.write(&mut t, timer::CC, 1000);
        rig.write(&mut t, timer::SHORTS, 1);
        rig.write(&mut t, INTENSET, 1 << 16);
        rig.write(&mut t, timer::TASKS_START, 1);
        assert_eq!(t.next_event(0, &rig.clocks), Some(64_000));
        rig.run_to(&mut t, 64_000 * 10);
        assert_eq!(rig.raised.len(), 10, "one compare per 1000 ticks");
        rig.now += 64 * 250;
        rig.write(&mut t, 0x040, 1);
        assert_eq!(rig.read(&mut t, timer::CC), 250, "CAPTURE[0] into CC[0]");
    }

    #[test]
    fn rewriting_cc_in_each_interrupt_keeps_the_tick_grid() {
        let mut rig = rig();
        let mut t = NrfTimer::new(&spec("TIMER1", PeripheralKind::NrfTimer, 9));
        rig.write(&mut t, timer::BITMODE, 3);
        rig.write(&mut t, timer::CC, 100);
        rig.write(&mut t, INTENSET, 1 << 16);
        rig.write(&mut t, timer::TASKS_START, 1);
        for k in 1..=5u64 {
            let at = t.next_event(rig.now, &rig.clocks);
            assert_eq!(at, Some(k * 100 * 64));
            rig.run_to(&mut t, k * 100 * 64 + 17);
            // The handler clears the event and moves CC on, a few cycles late.
            rig.write(&mut t, COMPARE_EVENTS, 0);
            rig.write(&mut t, timer::CC, u32::try_from((k + 1) * 100).unwrap_or(0));
        }
        assert_eq!(rig.raised.len(), 5);
    }

    #[test]
    fn timer_compare_stop_and_bit_width() {
        let mut rig = rig();
        let mut t = NrfTimer::new(&spec("TIMER3", PeripheralKind::NrfTimer, 26));
        rig.write(&mut t, timer::PRESCALER, 0);
        rig.write(&mut t, timer::BITMODE, 1);
        rig.write(&mut t, timer::CC + 20, 40);
        rig.write(&mut t, timer::SHORTS, 1 << (timer::STOP_SHIFT + 5));
        rig.write(&mut t, timer::TASKS_START, 1);
        // 16 MHz against 64 MHz: 4 cycles per tick; the stop comes at tick 40.
        rig.run_to(&mut t, 4 * 1000);
        assert_eq!(rig.read(&mut t, 0x154), 1, "EVENTS_COMPARE[5]");
        rig.write(&mut t, 0x054, 1);
        assert_eq!(rig.read(&mut t, timer::CC + 20), 40, "stopped at CC[5]");
        // 8-bit: CC[0] = 0 matches on the wrap from 255.
        rig.write(&mut t, timer::SHORTS, 0);
        rig.write(&mut t, INTENSET, 1 << 16);
        rig.write(&mut t, timer::TASKS_START, 1);
        let start = rig.now;
        assert_eq!(t.next_event(start, &rig.clocks), Some(start + 4 * 216));
        assert_eq!(t.register_name(0x054), Some("TASKS_CAPTURE[5]"));
    }

    #[test]
    fn timer_counter_mode_counts_tasks() {
        let mut rig = rig();
        let mut t = NrfTimer::new(&spec("TIMER2", PeripheralKind::NrfTimer, 10));
        rig.write(&mut t, timer::MODE, 1);
        rig.write(&mut t, timer::CC + 4, 3);
        rig.write(&mut t, INTENSET, 1 << 17);
        rig.write(&mut t, timer::TASKS_COUNT, 1);
        rig.write(&mut t, timer::TASKS_START, 1);
        assert_eq!(t.next_event(0, &rig.clocks), None, "time does not count");
        for _ in 0..3 {
            rig.write(&mut t, timer::TASKS_COUNT, 1);
        }
        assert_eq!(rig.raised, vec![10]);
        rig.write(&mut t, 0x040, 1);
        assert_eq!(
            rig.read(&mut t, timer::CC),
            3,
            "the COUNT before START was ignored"
        );
    }

    #[test]
    fn timer_cc_lowered_below_the_counter_waits_for_the_wrap() {
        let mut rig = rig();
        let mut t = NrfTimer::new(&spec("TIMER4", PeripheralKind::NrfTimer, 27));
        rig.write(&mut t, timer::BITMODE, 1);
        rig.write(&mut t, timer::TASKS_START, 1);
        rig.now = 64 * 200;
        rig.write(&mut t, timer::CC, 50);
        rig.write(&mut t, timer::SHORTS, 1);
        rig.write(&mut t, INTENSET, 1 << 16);
        // From 200 up to 255, wrap to 0 at tick 56, then 50 more ticks.
        assert_eq!(
            t.next_event(rig.now, &rig.clocks),
            Some(64 * (200 + 56 + 50))
        );
        rig.run_to(&mut t, 64 * (200 + 56 + 50 + 50 * 3));
        assert_eq!(rig.raised.len(), 4);
    }

    #[test]
    fn the_nrf52840_target_wires_these_models() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/nrf52840.toml");
        let target = crate::target::Target::load(&path).expect("nrf52840.toml loads");
        let mut bus = super::super::Bus::new(&target, true);
        let mut rig = rig();
        assert_eq!(rig.memory.write(0x2000_0000, b"hi"), Some(()));
        for (addr, value) in [
            (0x4000_2500, 8),
            (0x4000_2544, 0x2000_0000),
            (0x4000_2548, 2),
            (0x4000_2008, 1),
        ] {
            assert_eq!(bus.write(addr, 4, value, &mut rig.ctx()), Ok(()));
        }
        assert_eq!(rig.console, b"hi", "UARTE0 at 0x40002000");
        assert_eq!(
            bus.read(0x4000_2500, 1, &mut rig.ctx()),
            Err(BusError::Width {
                width: 1,
                allowed: 4
            })
        );
        assert_eq!(
            bus.read(0x1000_0100, 4, &mut rig.ctx()),
            Ok(0x5_2840),
            "FICR INFO.PART"
        );
        assert_eq!(
            bus.read(0x4000_0900, 4, &mut rig.ctx()),
            Ok(0xFFFF),
            "POWER RAM[0].POWER"
        );
        assert_eq!(
            bus.locate(0x4001_A554).register,
            "CC[5]",
            "TIMER3 has six CCs"
        );
        assert_eq!(
            bus.locate(0x4000_8550).register,
            "+0x550",
            "TIMER0 has four"
        );
        // RTC1: compare 0 at 10 ticks raises IRQ 17.
        for (addr, value) in [(0x4001_1540, 10), (0x4001_1304, 1 << 16), (0x4001_1000, 1)] {
            assert_eq!(bus.write(addr, 4, value, &mut rig.ctx()), Ok(()));
        }
        let at = bus.next_event(0, &rig.clocks);
        assert_eq!(at, Some((10 * 64_000_000u64).div_ceil(32_768)));
        rig.now = at.unwrap_or(0);
        bus.advance(&mut rig.ctx());
        assert_eq!(rig.raised, vec![17]);
    }
}
