//! The machine: the only module that touches unicorn. It maps the target's
//! memory, loads the image, and runs it with one block hook that charges the
//! precomputed price of each block. Narrow hooks see what is dynamic: divides
//! (one code hook per divide instruction: their cycles depend on the
//! operands), `_sbrk` (heap), the system control space and the flash
//! controller (MMIO callbacks), semihosting and exception return (interrupt
//! hook), and accesses to unmapped addresses (hooks on the gaps of the map).
//!
//! No memory hook covers a mapped page: unicorn sends every access to such a
//! page down its slow path. So data reads from flash are priced by the block
//! hook: literal-pool loads by address, and loads through registers that point
//! into flash at block entry (one register read per pointer, not per load);
//! stores to flash fault on its read-only mapping and are carried out here
//! while the flash controller is programming.
//!
//! A block is charged when the next one starts, because only then is it known
//! whether its last branch was taken; so the cycle counter at any instruction
//! is "everything before the current block" plus the block's prefix up to it.

pub mod blocks;
pub mod bus;
pub mod clock;
mod console;
mod exceptions;
pub mod flash;
mod hooks;
mod hot_path;
pub mod nvic;
pub mod rtt;
pub mod semihosting;
pub mod sysregs;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use unicorn_engine::{Arch, ArmCpuModel, HookType, MemType, Mode, Prot, RegisterARM, Unicorn};

use crate::cost::decode::{Class, Decoder, Operand};
use crate::cost::{weight, CostModel, EnergySplit, Unsupported};
use crate::image::{Image, Symbols};
use crate::marks::{Markers, Marks};
use crate::profile::Profiler;
use crate::target::{Core, FlashController as ControllerKind, MemoryKind, MemoryRegion, Target};
use crate::trace::{Closed, Exit, MachineTotals, Recorder, RunEnd, Trace, TracedDeepSleep};
use blocks::{AlignedAccess, BlockTable};
use bus::{Bus, HostInput, RegisterAccess};
use clock::{ClockRecord, ClockSpan, Clocks, FlashSettings, RunEnergy};
use console::{Console, OutputWindow};
use exceptions::{Exceptions, FaultCause, VectorCache};
use flash::{FlashController, FlashRanges, FlashTiming};
use hooks::{
    on_bitband_read, on_bitband_write, on_device_read, on_device_write, on_divide, on_interrupt,
    on_ppb_read, on_ppb_write,
};
use hot_path::HotPath;
pub use hot_path::{engine_is_patched, skip_access_exit_checks};
use nvic::Nvic;
use rtt::RttHost;
use semihosting::{HeapInfo, Memory, Semihosting};
use sysregs::SystemRegisters;

/// The region `RunOptions::window` measures, among the marked ones.
pub const WINDOW_REGION: &str = "window";

/// Most bytes of console input a run takes: far above what a console session
/// sends, and a bound on what a stray path can make the host read.
pub const MAX_CONSOLE_INPUT_BYTES: u64 = 16 << 20;
/// Longest text a run watches its console for (a prompt, the line it ends
/// on, a window's ends): a line, not a document.
pub const MAX_WATCHED_TEXT_BYTES: usize = 256;
/// Most calls one console window may stand for.
pub const MAX_WINDOW_CALLS: u64 = 1_000_000_000;

/// Whether `text` can be watched for: not empty and at most
/// [`MAX_WATCHED_TEXT_BYTES`]; `Err` says which it is not.
pub fn check_watched_text(text: &str) -> Result<(), String> {
    match text.len() {
        0 => Err("the text to watch the console for is empty".into()),
        n if n > MAX_WATCHED_TEXT_BYTES => Err(format!(
            "the text {text:?} is {n} bytes long; at most {MAX_WATCHED_TEXT_BYTES}"
        )),
        _ => Ok(()),
    }
}

/// Limits and inputs of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stop with an error after this many modeled cycles.
    pub max_cycles: u64,
    /// Stop with an error after this much host time.
    pub wall_limit: Duration,
    /// The command line the firmware reads through SYS_GET_CMDLINE.
    pub cmdline: String,
    /// Record block counts so the run can be re-priced (see `trace`).
    pub record_trace: bool,
    /// Make accesses to peripheral registers no model serves errors.
    pub strict_peripherals: bool,
    /// Copy the firmware's output to the host's stdout as it arrives.
    pub stream_output: bool,
    /// Bytes the firmware's console UART receives, as if typed at a terminal.
    pub console_input: Vec<u8>,
    /// What the firmware's UART must send before `console_input` arrives (its
    /// prompt); empty: the bytes are there from reset.
    pub input_after: Vec<u8>,
    /// Output that ends the run, as an exit with status 0, once the firmware
    /// has printed it; empty: none does.
    pub until: Vec<u8>,
    /// A region measured between two texts the firmware prints, and the
    /// calls of its work one such window holds.
    pub window: Option<(Vec<u8>, Vec<u8>, u64)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_cycles: 20_000_000_000,
            wall_limit: Duration::from_secs(300),
            cmdline: String::new(),
            record_trace: false,
            strict_peripherals: false,
            stream_output: false,
            console_input: Vec::new(),
            input_after: Vec::new(),
            until: Vec::new(),
            window: None,
        }
    }
}

/// Why the firmware did not finish normally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The firmware faulted and no handler of its own took over.
    #[error("{kind} at pc {pc}{}", address.as_ref().map(|a| format!(", address {a}")).unwrap_or_default())]
    Fault {
        /// What happened, e.g. "write to unmapped memory".
        kind: String,
        /// PC and function of the faulting instruction.
        pc: String,
        /// The data address involved, if any.
        address: Option<String>,
    },
    /// The cycle budget ran out.
    #[error(
        "cycle budget of {max_cycles} exhausted at pc {pc} (endless loop? raise --max-cycles)"
    )]
    Budget {
        /// The budget.
        max_cycles: u64,
        /// Where execution was.
        pc: String,
    },
    /// The host time limit ran out.
    #[error("wall-clock limit of {seconds} s reached at pc {pc}")]
    WallClock {
        /// The limit.
        seconds: u64,
        /// Where execution was.
        pc: String,
    },
    /// The firmware sits in a `b .` loop it can never leave.
    #[error("firmware hangs in an endless `b .` loop at pc {pc}{}", after.as_ref().map(|f| format!(" after {f}")).unwrap_or_default())]
    Hang {
        /// Where.
        pc: String,
        /// The fault that led there, if any.
        after: Option<String>,
    },
    /// A fault the core could not take: inside HardFault or NMI, or under FAULTMASK.
    #[error("lockup: {fault}, while {during} was active (the core stops; a real part resets or halts for the debugger)")]
    Lockup {
        /// The fault.
        fault: String,
        /// What blocked HardFault: "HardFault", "NMI" or "FAULTMASK".
        during: String,
    },
    /// The firmware entered a mode whose wake-up resets the part.
    #[error("the firmware powers the core down at pc {pc}: SLEEPDEEP with the power controller set for {mode}, whose wake-up resets the part, which is not modeled")]
    PoweredDown {
        /// The mode (`standby`, `shutdown`).
        mode: String,
        /// Where it sleeps.
        pc: String,
    },
    /// The core went to sleep with nothing that could ever wake it.
    #[error("the core is asleep (WFI/WFE) at pc {pc} with no wake source: no enabled interrupt and no running timer (in a stop mode, none on a clock that runs there, such as the RTC's)")]
    Asleep {
        /// Where it sleeps.
        pc: String,
    },
    /// The stack grew into static data.
    #[error("stack overflow: sp {sp:#010x} below the end of static data {limit:#010x} at pc {pc}")]
    StackOverflow {
        /// Lowest SP seen.
        sp: u32,
        /// End of data + bss.
        limit: u32,
        /// Where.
        pc: String,
    },
    /// The emulator failed in a way the firmware did not cause.
    #[error("emulator error: {0}")]
    Internal(String),
}

/// Deep sleep in one low-power mode.
#[derive(Debug, Clone, PartialEq)]
pub struct DeepSleep {
    /// The mode as the power controller set it, if the target models one.
    pub mode: Option<&'static str>,
    /// Time in it, in µs.
    pub us: f64,
    /// Core cycles in it.
    pub cycles: u64,
    /// Wake-ups from it.
    pub wakeups: u64,
}

/// The raw outcome of a run: integer counters and what the firmware printed.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Exit status the firmware reported, if it exited.
    pub exit_code: Option<i32>,
    /// Why it did not exit normally.
    pub failure: Option<Failure>,
    /// A fault that the firmware's own handler took over, if one happened.
    pub handled_fault: Option<String>,
    /// Modeled cycles the core was awake.
    pub cycles: u64,
    /// Cycles asleep (WFI/WFE, sleep-on-exit), deep sleep included.
    pub sleep_cycles: u64,
    /// Cycles in deep sleep (SCB.SCR.SLEEPDEEP): the part's stop mode.
    pub deep_sleep_cycles: u64,
    /// Times the core woke from deep sleep.
    pub deep_sleep_wakeups: u64,
    /// The clock and flash settings in force, and for how long.
    pub clock_spans: Vec<ClockSpan>,
    /// Every peripheral register the firmware touched.
    pub peripheral_accesses: Vec<RegisterAccess>,
    /// Executed instructions.
    pub instructions: u64,
    /// Energy-weighted cycles, in thousandths.
    pub weighted_cycles: u64,
    /// Energy of flash programming and erasing, in picojoules.
    pub flash_program_pj: u64,
    /// Cycles lost to flash wait states.
    pub flash_stall_cycles: u64,
    /// Highest SP minus lowest SP seen.
    pub stack_peak_bytes: u64,
    /// Most heap the firmware held through `_sbrk`, if it has one.
    pub heap_peak_bytes: Option<u64>,
    /// The console output.
    pub stdout: Vec<u8>,
    /// The function profile.
    pub profiler: Profiler,
    /// The regions the firmware marked.
    pub marks: Marks,
    /// Host time spent emulating.
    pub wall: Duration,
    /// Modeled time in µs, each clock span at its own frequency.
    pub time_us: f64,
    /// Of that, µs asleep.
    pub sleep_us: f64,
    /// Of that, µs in deep sleep.
    pub deep_sleep_us: f64,
    /// Deep sleep by the low-power mode the firmware chose.
    pub deep_sleep_modes: Vec<DeepSleep>,
    /// Block counts for re-pricing, when recorded (image fields left empty).
    pub trace: Option<Trace>,
}

/// The heap newlib holds through `_sbrk`.
#[derive(Debug, Clone, Copy, Default)]
struct Heap {
    /// Function index of `_sbrk`, whose blocks are flagged `HotBlock::IN_SBRK`.
    sbrk: u32,
    /// Bytes held now, and the most ever held.
    held: i64,
    peak: i64,
    /// A call in progress: its return address and the increment asked for,
    /// counted only if `_sbrk` does not return `(void *)-1` (refused).
    pending: Option<(u32, i32)>,
}

impl Heap {
    /// Settles the pending call if the block at `addr` is its return, with
    /// R0 (`_sbrk`'s result) read by `result` only then.
    fn settle(&mut self, addr: u32, result: impl FnOnce() -> u32) {
        let Some((_, increment)) = self.pending.filter(|&(ret, _)| ret == addr) else {
            return;
        };
        self.pending = None;
        if result() != u32::MAX {
            self.held += i64::from(increment);
            self.peak = self.peak.max(self.held);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    Exit(i32),
    Budget,
    Hang(u32),
    Unsupported(Unsupported),
    FpuDisabled(u32),
    StackOverflow(u32, u32),
    /// Taking or returning from an exception inside a hook failed.
    Failed(Failure),
    Fault {
        kind: String,
        cause: FaultCause,
        pc: u32,
        address: Option<u32>,
    },
    /// Asleep after the WFI/WFE before this address, with no wake source.
    Asleep(u32),
    /// Deep sleep in a mode that resets the part on wake-up, at this address.
    PoweredDown(&'static str, u32),
    /// The wall-clock limit passed.
    WallClock,
    /// Something the firmware broke that a probe would report: the run ends.
    Broken {
        kind: String,
        pc: u32,
        address: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy)]
struct DivideSite {
    signed: bool,
    rn: RegisterARM,
    rm: RegisterARM,
}

/// Everything the hooks share, stored as unicorn's user data.
struct Engine {
    cycles: u64,
    /// Cycles asleep; `cycles + sleep_cycles` is the time base of timers.
    sleep_cycles: u64,
    /// Sleep in µs, each stretch at the clock then in force.
    sleep_us: f64,
    /// Deep sleep by mode, the only record of it; a handful of entries at
    /// most, one per mode.
    deep_sleep_modes: Vec<DeepSleep>,
    /// Energy-weighted cycles at the target clock's run current, in
    /// thousandths; `run_energy` gives them at the clocks they ran at.
    weighted: u64,
    run_energy: RunEnergy,
    /// The voltage range the firmware set, once it runs its own clocks.
    voltage_range: Option<&'static str>,
    /// How the core's energy splits between cycles and instructions.
    split: EnergySplit,
    instructions: u64,
    cur: u32,
    expect: u32,
    mark_cycles: u64,
    next_event: u64,
    /// When the wall-clock limit passes.
    deadline: Instant,
    /// Blocks left before the hook next reads the host clock.
    clock_check_in: u32,
    systick_at: u64,
    /// When a peripheral next needs to act.
    bus_at: u64,
    max_cycles: u64,
    blocks: BlockTable,
    decoder: Decoder,
    model: CostModel,
    symbols: Arc<Symbols>,
    flash_ranges: FlashRanges,
    /// The memory regions that set a code current (`MemoryRegion::code_current`).
    code_current_regions: Vec<MemoryRegion>,
    /// Vector table entries read from read-only memory.
    vectors: VectorCache,
    timing: FlashTiming,
    flash_stall: u64,
    profiler: Profiler,
    /// Entries of the marker functions, and the regions they marked.
    markers: Markers,
    marks: Marks,
    sys: SystemRegisters,
    semihosting: Semihosting,
    bus: Bus,
    /// Unmodeled registers already reported on stderr.
    unmodeled_reported: usize,
    clock: ClockRecord,
    /// Whether the firmware has programmed its clock tree or flash settings.
    clock_programmed: bool,
    console: Console,
    /// The region between two printed texts (`RunOptions::window`).
    window: Option<OutputWindow>,
    /// What the console UART has still to receive.
    input: HostInput,
    /// SEGGER RTT, drained as a probe would.
    rtt: RttHost,
    controller: Option<(FlashController, u32)>,
    flash_program_pj: u64,
    stop: Option<Stop>,
    lowest_sp: u32,
    check_sp_next: bool,
    static_ram_end: Option<u32>,
    /// The exception being handled (IPSR), 0 in thread mode.
    ipsr: u32,
    /// An extended frame's FP registers still to be saved at the handler's
    /// first FP instruction (lazy stacking).
    fp_lazy_pending: bool,
    /// The function of the handler being returned from, charged the return cycles.
    returning_from: u32,
    /// Cycles an instruction inside the current block stalls for, charged
    /// when the block ends and seen by reads after it (lazy FP stacking).
    stall_in_block: Option<(u32, u64)>,
    /// Whether the block hook must look for a due exception (see `request_exception_check`).
    exception_check: bool,
    /// PRIMASK, FAULTMASK and BASEPRI as last read (see `hooks::masks`).
    masks: Option<nvic::Masks>,
    /// The event register WFE consumes (set by exception entry and return).
    event_register: bool,
    /// The first fault the firmware's own handler took over.
    handled_fault: Option<String>,
    unmapped: Option<(MemType, u32)>,
    /// Index of the first instruction of the current block that has not yet
    /// been matched to a system-space access (see `access_pc`).
    access_cursor: usize,
    divides: HashMap<u32, DivideSite>,
    /// Accesses that must be aligned and carry a code hook checking them.
    alignment_traps: HashMap<u32, AlignedAccess>,
    program: ProgramCosts,
    /// Time spent programming and erasing flash, in µs.
    program_us: f64,
    /// Cycles of exception entries and returns.
    exception_cycles: u64,
    /// Heap handed out by `_sbrk` so far, and the most at any time.
    heap: Option<Heap>,
    counts: Option<Recorder>,
    /// newlib nosys `_exit`: a `b .` loop there is the firmware's exit.
    exit_at: Option<u32>,
}

/// The flash settings in force before the firmware programs its flash
/// interface: the wait states the target's clock needs (firmware sets them
/// before it raises the clock), but prefetch and the flash accelerator's
/// caches as the interface's access control register resets, until the
/// firmware turns them on: on an STM32F4 FLASH_ACR resets to 0, prefetch and
/// the ART caches off (RM0090 3.9.1), the state the Embench reference board
/// ran in. A Cortex-M7's caches are its L1, which the target describes.
fn initial_flash(bus: &Bus, target: &Target, core: Core, clock_hz: u64) -> FlashSettings {
    let described = FlashSettings::of(target);
    let reset = bus.flash_settings(described, &Clocks::uniform(clock_hz));
    let l1 = core.is_m7();
    FlashSettings {
        wait_states: described.wait_states,
        prefetch: reset.prefetch,
        icache: if l1 { described.icache } else { reset.icache },
        dcache: if l1 { described.dcache } else { reset.dcache },
    }
}

/// The flash settings a run of `core` on `target` starts with (see
/// `initial_flash`), for re-pricing a trace as the run would have gone.
pub fn starting_flash(target: &Target, core: Core) -> FlashSettings {
    let clock_hz = (target.clock_mhz * 1e6).round() as u64;
    initial_flash(&Bus::new(target, false), target, core, clock_hz)
}

/// Whether Thumb code `code` holds a halfword that opens SDIV or UDIV
/// (encoding T1, ARMv7-M Architecture Reference Manual: 0xFB9n and 0xFBBn),
/// so that only functions with one are decoded in full.
fn may_hold_divide(code: &[u8]) -> bool {
    (code.chunks_exact(2)).any(|h| u16::from_le_bytes([h[0], h[1]]) & 0xFFD0 == 0xFB90)
}

/// Where the host looks for an RTT control block no symbol names: it is a
/// static variable, so the image's RAM sections hold it; only an image
/// without section headers has every writable region of the target searched.
fn rtt_search_ranges(image: &Image, target: &Target) -> Vec<Range<u32>> {
    if image.ram_sections.is_empty() {
        return target
            .memory
            .iter()
            .filter(|r| r.access.writable())
            .map(|r| r.base..r.base.saturating_add(r.size))
            .collect();
    }
    image
        .ram_sections
        .iter()
        .map(|&(addr, size)| addr..addr.saturating_add(u32::try_from(size).unwrap_or(u32::MAX)))
        .collect()
}

/// Flash programming and erasing times, and what they cost at the run's clock.
#[derive(Debug, Clone, Default)]
struct ProgramCosts {
    write_unit: u32,
    write_us: f64,
    /// Sectors from the flash base: start address, size, erase time in µs.
    sectors: Vec<(u32, u32, f64)>,
    /// Supply power while programming, in mW (V × mA).
    power_mw: f64,
}

impl Engine {
    fn in_flash(&self, addr: u32) -> bool {
        self.flash_ranges.find(addr).is_some()
    }

    /// The run current of code at `addr`, in thousandths of the target's.
    fn code_current_permille(&self, addr: u32) -> u64 {
        self.code_current_regions
            .iter()
            .find(|r| r.contains(u64::from(addr), 1))
            .map_or(1000, MemoryRegion::code_current_permille)
    }

    /// Whether an FP instruction runs with nothing to do first: the FPU on,
    /// and no FP context reserved lazily that a handler must stack.
    #[inline]
    fn fp_ready(&self) -> bool {
        self.sys.fpu_enabled() && !(self.fp_lazy_pending && self.ipsr != 0)
    }

    /// Clock cycles elapsed, awake and asleep: the time base of timers.
    #[inline]
    fn now(&self) -> u64 {
        self.cycles + self.sleep_cycles
    }

    /// The record of deep sleep in `mode`.
    fn deep_sleep_in(&mut self, mode: Option<&'static str>) -> &mut DeepSleep {
        let at = match self.deep_sleep_modes.iter().position(|d| d.mode == mode) {
            Some(at) => at,
            None => {
                self.deep_sleep_modes.push(DeepSleep {
                    mode,
                    us: 0.0,
                    cycles: 0,
                    wakeups: 0,
                });
                self.deep_sleep_modes.len() - 1
            }
        };
        &mut self.deep_sleep_modes[at]
    }

    /// Counts a wake-up from deep sleep in `mode`.
    fn woke_from_deep_sleep(&mut self, mode: Option<&'static str>) {
        self.deep_sleep_in(mode).wakeups += 1;
    }

    /// Energy-weighted cycles so far, each at the run current of its clock.
    fn energy(&self) -> u64 {
        self.run_energy.at(self.weighted)
    }

    /// Clock cycles elapsed before the instruction at `pc` of the current block starts.
    fn cycles_at(&self, pc: u32) -> u64 {
        let block = self.blocks.get(self.cur);
        let inside = pc.wrapping_sub(block.addr) < block.size;
        self.now()
            + if inside {
                u64::from(block.cycles_before(pc)) + self.stall_before(pc)
            } else {
                0
            }
    }

    /// The stall inside the current block charged before the instruction at `pc`.
    fn stall_before(&self, pc: u32) -> u64 {
        self.stall_in_block
            .filter(|&(at, _)| pc > at)
            .map_or(0, |(_, cycles)| cycles)
    }

    /// Charges the stall inside the current block, the block now done.
    fn settle_stall_in_block(&mut self) {
        if let Some((_, cycles)) = self.stall_in_block.take() {
            self.charge_exception(cycles);
        }
    }

    fn describe(&self, addr: u32) -> String {
        self.symbols.describe(addr)
    }

    /// The failure a stop that ends the run stands for; `pc` is where
    /// execution was when the stop names no place of its own.
    fn failure(&self, stop: Stop, pc: u32) -> Failure {
        match stop {
            // Handlers often share one `b .` under several weak aliases: the
            // exception being handled says which one this is.
            Stop::Hang(at) => Failure::Hang {
                pc: match self.ipsr {
                    0 => self.describe(at),
                    n => format!(
                        "{}, handling {}",
                        self.describe(at),
                        nvic::exception::name(n)
                    ),
                },
                after: self.handled_fault.clone(),
            },
            Stop::Broken { kind, pc, address } => Failure::Fault {
                kind,
                pc: self.describe(pc),
                address: address.map(|a| self.describe(a)),
            },
            Stop::Asleep(at) => Failure::Asleep {
                pc: self.describe(at),
            },
            Stop::PoweredDown(mode, at) => Failure::PoweredDown {
                mode: mode.into(),
                pc: self.describe(at),
            },
            Stop::StackOverflow(sp, at) => Failure::StackOverflow {
                sp,
                limit: self.static_ram_end.unwrap_or(0),
                pc: self.describe(at),
            },
            _ => Failure::Budget {
                max_cycles: self.max_cycles,
                pc: self.describe(pc),
            },
        }
    }

    /// Whether the engine stopped at `pc` only because the current block ended
    /// in a YIELD or WFE (see `BlockInfo::ends_in_yield_exit`). A real
    /// undefined instruction in the next block would have run that block's
    /// hook first, making it the current one.
    fn after_yield_exit(&self, pc: u32) -> bool {
        let block = self.blocks.get(self.cur);
        self.cur != 0 && block.ends_in_yield_exit && block.fallthrough == pc
    }

    /// The last instruction of the current block: the branch that ended it.
    fn last_insn(&self) -> u32 {
        let block = self.blocks.get(self.cur);
        block.insn_addrs.last().copied().unwrap_or(block.addr)
    }

    fn charge_stall(&mut self, cycles: u64) {
        self.cycles += cycles;
        self.weighted += cycles * self.split.cycle;
    }

    /// Charges the current block as executed in full and attributes its cost.
    fn close_block(&mut self) {
        let block = *self.blocks.hot(self.cur);
        self.settle_stall_in_block();
        self.cycles += u64::from(block.cycles);
        self.weighted += u64::from(block.energy);
        self.instructions += u64::from(block.instructions);
        if let Some(recorder) = &mut self.counts {
            let closed = Closed {
                id: self.cur,
                func: block.func,
                exit: Exit::None,
            };
            recorder.close(&self.profiler, closed);
        }
        self.attribute(block.func);
    }

    /// Charges the current block up to (not including) the instruction at `pc`.
    fn close_block_at(&mut self, pc: u32) {
        let block = self.blocks.get(self.cur);
        let done = block.insn_addrs.partition_point(|&a| a < pc);
        self.cycles += u64::from(block.cycles_before(pc)) + self.stall_before(pc);
        self.stall_in_block = None;
        self.instructions += done as u64;
        self.weighted += u64::from(block.cycles_before(pc)) * weight::REFERENCE;
        if let Some(recorder) = &mut self.counts {
            recorder.close_part(&self.profiler, self.cur, done as u32);
        }
        let func = block.func;
        self.attribute(func);
        self.cur = 0;
    }

    /// Charges the cycles since the last charge to `func`, in the profile
    /// and in the trace if one is kept.
    #[inline(always)]
    fn attribute(&mut self, func: u32) {
        self.profile(func);
        if self.counts.is_some() {
            self.record_charge(func);
        }
    }

    /// [`Self::attribute`] for a run known to keep no trace. Runs once per
    /// block, so it inlines.
    #[inline(always)]
    fn profile(&mut self, func: u32) {
        let spent = self.cycles - self.mark_cycles;
        self.profiler.charge(func, spent);
        self.mark_cycles = self.cycles;
    }

    #[cold]
    fn record_charge(&mut self, func: u32) {
        let totals = self.dynamic_totals();
        if let Some(recorder) = &mut self.counts {
            recorder.charge(&self.profiler, func, totals);
        }
    }

    /// The dynamic costs so far that a trace files per function.
    fn dynamic_totals(&self) -> MachineTotals {
        MachineTotals {
            fetch_misses_jumped: self.timing.misses_jumped,
            fetch_misses_sequential: self.timing.misses_sequential,
            data_misses: self.timing.data_misses,
            exception_cycles: self.exception_cycles,
            flash_program_us: self.program_us,
        }
    }

    /// Charges the cycles of an exception entry, return or tail-chain.
    fn charge_exception(&mut self, cycles: u64) {
        self.cycles += cycles;
        self.exception_cycles += cycles;
        self.weighted += cycles * weight::REFERENCE;
    }

    /// Makes the block hook look for a due exception at the next block: a
    /// pend, an enable or a mask change may have made one due.
    fn request_exception_check(&mut self) {
        self.exception_check = true;
        self.next_event = 0;
    }

    /// Takes what the firmware printed; the text the run ends on stops it at
    /// the next block, as an exit with status 0.
    fn print(&mut self, bytes: &[u8]) {
        if self.window.is_some() {
            let (cycles, weighted) = (self.cycles, self.energy());
            if let Some(window) = &mut self.window {
                if let Some((c, w)) = window.hear(bytes, cycles, weighted) {
                    self.marks.add(WINDOW_REGION, window.calls, c, w);
                }
            }
        }
        if self.console.write(bytes) && self.stop.is_none() {
            self.stop = Some(Stop::Exit(0));
            self.request_exception_check();
        }
    }

    /// When the block hook must next look up from the hot path: a timer
    /// event, RTT's poll, the budget, or at once when an exception check is asked for.
    fn schedule_next_event(&mut self) {
        let now = self.now();
        self.systick_at = self.sys.next_systick(now).unwrap_or(u64::MAX);
        // The host's next byte is an event of the bus too: it raises a UART's
        // receive interrupt (a byte already there was signalled on arrival).
        let arrival = self.input.next_arrival().filter(|&at| at > now);
        self.bus_at = self
            .bus
            .next_event(now, &self.clock.clocks)
            .into_iter()
            .chain(arrival)
            .min()
            .unwrap_or(u64::MAX);
        self.settle_next_event();
    }

    /// Reschedules after a write of the system registers, which can move
    /// only SysTick's next event.
    fn schedule_systick(&mut self) {
        self.systick_at = self.sys.next_systick(self.now()).unwrap_or(u64::MAX);
        self.settle_next_event();
    }

    /// Sets the block hook's next stop from the event times already known:
    /// enough when nothing was due, as they are absolute cycle counts.
    fn settle_next_event(&mut self) {
        self.next_event = self
            .systick_at
            .min(self.bus_at)
            .min(self.rtt.next_poll)
            .min(self.max_cycles);
        if self.exception_check {
            self.next_event = 0;
        }
    }

    /// The first cycle at which something could wake a sleeping core.
    fn next_wake(&self) -> Option<u64> {
        Some(self.systick_at.min(self.bus_at)).filter(|&t| t != u64::MAX)
    }

    /// When something that keeps counting in Stop mode next acts: neither
    /// SysTick nor the bus-clocked blocks, whose clocks stop there.
    fn next_wake_in_stop(&self) -> Option<u64> {
        self.bus.next_event_in_stop(self.now(), &self.clock.clocks)
    }

    /// The core and bus clocks stopped for the last `cycles` (Stop mode):
    /// what counts them resumes where it stopped.
    fn clocks_stopped(&mut self, cycles: u64) {
        self.sys.pause_systick(cycles);
        self.bus.clock_paused(cycles);
        self.schedule_next_event();
    }

    fn note_sp(&mut self, sp: u32) {
        self.lowest_sp = self.lowest_sp.min(sp);
    }
}

/// A target with an image loaded, ready to run.
pub struct Machine {
    uc: Unicorn<'static, Engine>,
    /// The block hook's data, kept while the engine can call the hook.
    _block_hook: Box<HotPath>,
    image: Arc<Image>,
    initial_sp: u32,
    options: RunOptions,
    /// When the machine was built: the wall-clock limit counts from here.
    started: Instant,
    /// Writable memory the target lets code run from, mapped without EXEC
    /// until the first fetch from it (see [`Machine::allow_fetch`]), as (base, size).
    lazily_executable: Vec<(u32, u32)>,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("image", &self.image.path)
            .finish_non_exhaustive()
    }
}

/// Where the system control space is mapped and how big it is.
pub(super) const PPB_BASE: u64 = 0xE000_0000;
const PPB_SIZE: u64 = 0x0010_0000;
/// Branching to an EXC_RETURN value lands here; the page is never mapped.
const EXC_RETURN_PAGE: u32 = 0xFFFF_F000;
/// The bit-band aliases of the Cortex-M3/M4 (ARMv7-M ARM B3.1, PM0214 2.2.5):
/// each word of the 32 MiB alias is one bit of the 1 MiB region at the base.
const BITBAND: [(u32, u32); 2] = [(0x2200_0000, 0x2000_0000), (0x4200_0000, 0x4000_0000)];
const BITBAND_ALIAS_SIZE: u64 = 0x0200_0000;
/// An address never executed, used as emu_start's `until`.
const NEVER: u64 = 0xF000_0000;
/// Blocks between two reads of the host clock: a few ms of host time at
/// tens of millions of blocks per second, and no cost worth measuring.
pub(super) const CLOCK_CHECK_BLOCKS: u32 = 1 << 16;

fn uc_err(context: &str, e: unicorn_engine::uc_error) -> Failure {
    Failure::Internal(format!("{context}: {e:?}"))
}

fn prot(access: crate::target::Access) -> Prot {
    let mut p = Prot::READ;
    if access.writable() {
        p |= Prot::WRITE;
    }
    if access.executable() {
        p |= Prot::EXEC;
    }
    p
}

struct UcMemory<'a, 'b>(&'a mut Unicorn<'b, Engine>);

impl Memory for UcMemory<'_, '_> {
    fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()> {
        self.0.mem_read(u64::from(addr), buf).ok()
    }
    /// Writes as the firmware could: only into memory mapped writable, so a
    /// semihosting result or an RTT cursor never lands in flash.
    fn write(&mut self, addr: u32, data: &[u8]) -> Option<()> {
        let (start, end) = (u64::from(addr), u64::from(addr) + data.len() as u64);
        let writable = self.0.mem_regions().ok()?.iter().any(|r| {
            r.begin <= start && end <= r.end.saturating_add(1) && r.perms & Prot::WRITE.0 != 0
        });
        writable.then_some(())?;
        self.0.mem_write(start, data).ok()
    }
}

impl Machine {
    /// Makes the lazily executable region holding `pc` executable, the first
    /// time code runs from it; false when `pc` lies in none. unicorn sends
    /// every store to memory it may execute down its self-modifying-code
    /// path (a page lookup and a search for translated code per store), so
    /// RAM that never runs code is better mapped without EXEC.
    fn allow_fetch(&mut self, pc: u32) -> bool {
        let Some(i) = self
            .lazily_executable
            .iter()
            .position(|&(base, size)| pc.wrapping_sub(base) < size)
        else {
            return false;
        };
        let (base, size) = self.lazily_executable.swap_remove(i);
        self.uc
            .mem_protect(u64::from(base), u64::from(size), Prot::ALL)
            .is_ok()
    }

    /// Maps `target`'s memory, loads `image` and installs the hooks.
    pub fn new(
        target: &Target,
        image: Arc<Image>,
        options: RunOptions,
    ) -> Result<Machine, Failure> {
        let started = Instant::now();
        let core = target.core;
        let model = match core {
            Core::CortexM3 => ArmCpuModel::CORTEX_M3,
            Core::CortexM4 | Core::CortexM4f => ArmCpuModel::CORTEX_M4,
            Core::CortexM7 | Core::CortexM7f => ArmCpuModel::CORTEX_M7,
        };
        let clock_hz = (target.clock_mhz * 1e6).round() as u64;
        let controller = match (
            target.flash_program.controller,
            target.flash_program.controller_base,
        ) {
            (ControllerKind::Stm32f4, Some(base)) => Some((FlashController::new(), base)),
            _ => None,
        };
        let flash_ranges: Vec<(u32, u32)> = target
            .memory
            .iter()
            .filter(|r| r.kind == MemoryKind::Flash)
            .flat_map(|r| r.bases().map(move |b| (b, b + r.size)))
            .collect();
        let code_current_regions = target
            .memory
            .iter()
            .filter(|r| r.code_current.is_some())
            .cloned()
            .collect();
        let code_ranges: Vec<(u32, u32)> = target
            .memory
            .iter()
            .filter(|r| r.access.executable())
            .flat_map(|r| r.bases().map(move |b| (b, r.size)))
            .collect();
        let heap_base = image.static_ram_end.map_or(0, |e| (e + 7) & !7);
        let heap_limit = if heap_base > 0 && heap_base < image.initial_sp {
            heap_base + (image.initial_sp - heap_base) / 2
        } else {
            0
        };
        let heap = HeapInfo {
            heap_base,
            heap_limit,
            stack_base: image.initial_sp,
            stack_limit: heap_limit,
        };
        let bus = Bus::new(target, options.strict_peripherals);
        let flash = initial_flash(&bus, target, core, clock_hz);
        let mut timing = FlashTiming::new(target);
        timing.configure(flash);
        let engine = Engine {
            cycles: 0,
            weighted: 0,
            run_energy: RunEnergy::new(target),
            voltage_range: None,
            split: EnergySplit::of(core),
            instructions: 0,
            cur: 0,
            expect: image.reset & !1,
            mark_cycles: 0,
            next_event: options.max_cycles,
            deadline: started + options.wall_limit,
            clock_check_in: CLOCK_CHECK_BLOCKS,
            systick_at: u64::MAX,
            bus_at: u64::MAX,
            max_cycles: options.max_cycles,
            sleep_cycles: 0,
            sleep_us: 0.0,
            deep_sleep_modes: Vec::new(),
            blocks: BlockTable::new(code_ranges, options.record_trace),
            decoder: Decoder::new(),
            model: CostModel::new(core),
            symbols: Arc::new(image.symbols.clone()),
            timing,
            flash_stall: 0,
            profiler: Profiler::new(image.symbols.functions().iter().map(|f| f.addr).collect()),
            markers: Markers::of(&image.symbols),
            marks: Marks::default(),
            sys: SystemRegisters::new(
                core,
                image.vector_table,
                Nvic::new(target.interrupts.irqs, target.interrupts.priority_bits),
                core.is_m7()
                    .then_some(target.flash.icache.zip(target.flash.dcache))
                    .flatten(),
            ),
            semihosting: Semihosting::new(options.cmdline.clone(), heap),
            bus,
            unmodeled_reported: 0,
            clock: ClockRecord::new(Clocks::uniform(clock_hz), flash),
            clock_programmed: false,
            console: Console::new(options.stream_output, &options.until),
            window: (options.window.as_ref())
                .map(|(from, to, calls)| OutputWindow::new(from, to, *calls)),
            input: HostInput::new(&options.console_input, &options.input_after),
            rtt: RttHost::new(image.rtt_control_block, rtt_search_ranges(&image, target)),
            controller,
            flash_program_pj: 0,
            stop: None,
            lowest_sp: image.initial_sp,
            check_sp_next: false,
            static_ram_end: image.static_ram_end.filter(|&end| end <= image.initial_sp),
            ipsr: 0,
            fp_lazy_pending: false,
            returning_from: blocks::NO_FUNCTION,
            event_register: false,
            exception_check: false,
            masks: None,
            stall_in_block: None,
            handled_fault: None,
            unmapped: None,
            access_cursor: 0,
            divides: HashMap::new(),
            alignment_traps: HashMap::new(),
            program: ProgramCosts::new(target, &flash_ranges),
            program_us: 0.0,
            exception_cycles: 0,
            heap: image
                .symbols
                .addr_of("_sbrk")
                .and_then(|a| image.symbols.index_of(a))
                .map(|i| Heap {
                    sbrk: i as u32,
                    ..Heap::default()
                }),
            counts: options.record_trace.then(|| Recorder::new(&image.symbols)),
            exit_at: image.symbols.addr_of("_exit"),
            flash_ranges: FlashRanges::new(flash_ranges),
            code_current_regions,
            vectors: VectorCache::new(
                target
                    .memory
                    .iter()
                    .filter(|r| !r.access.writable())
                    .flat_map(|r| r.bases().map(move |b| (b, b.saturating_add(r.size))))
                    .collect(),
            ),
        };
        // Not Mode::MCLASS: unicorn 2.1 then makes every M-profile CPU a
        // Cortex-M33 whatever model is asked for, which lacks the Cortex-M7's
        // double-precision FPU. The model alone selects the M-profile core.
        let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB, engine)
            .map_err(|e| uc_err("creating the CPU", e))?;
        uc.ctl_set_cpu_model(model as i32)
            .map_err(|e| uc_err("selecting the CPU model", e))?;
        skip_access_exit_checks(&mut uc);
        let block_hook = HotPath::install(&uc).map_err(|e| uc_err("block hook", e))?;

        let mut lazily_executable = Vec::new();
        for region in &target.memory {
            let mut p = prot(region.access);
            if region.access.writable() && region.access.executable() {
                p = Prot::READ | Prot::WRITE;
                lazily_executable.extend(region.bases().map(|base| (base, region.size)));
            }
            for base in region.bases() {
                uc.mem_map(u64::from(base), u64::from(region.size), p)
                    .map_err(|e| uc_err(&format!("mapping {} at {base:#010x}", region.name), e))?;
            }
        }
        for seg in &image.segments {
            let region = target
                .region_of(u64::from(seg.addr), seg.data.len() as u64)
                .ok_or_else(|| {
                    Failure::Internal(format!("segment at {:#010x} outside memory", seg.addr))
                })?;
            // Aliased memory shows the same contents at every base.
            for base in region.bases() {
                let offset = region
                    .bases()
                    .find(|&b| seg.addr >= b && seg.addr < b + region.size)
                    .map_or(0, |b| seg.addr - b);
                uc.mem_write(u64::from(base + offset), &seg.data)
                    .map_err(|e| uc_err("loading the image", e))?;
            }
        }
        let mut machine = Machine {
            uc,
            _block_hook: block_hook,
            initial_sp: image.initial_sp,
            image,
            options,
            started,
            lazily_executable,
        };
        machine.install_hooks(target)?;
        Ok(machine)
    }

    fn install_hooks(&mut self, target: &Target) -> Result<(), Failure> {
        let uc = &mut self.uc;
        uc.add_intr_hook(on_interrupt)
            .map_err(|e| uc_err("interrupt hook", e))?;
        // Faults are noted only in the gaps of the memory map: a hook whose range
        // covers a mapped page sends every access to that page down unicorn's
        // slow path. Accesses the map forbids (e.g. stores to read-only flash)
        // stop emulation with an error, and the address is decoded from the
        // faulting instruction.
        let map = AddressMap::of(target);
        for &(begin, end) in &map.gaps {
            uc.add_mem_hook(
                HookType::MEM_UNMAPPED,
                begin,
                end,
                |uc, kind, addr, _size, _value| {
                    uc.get_data_mut().unmapped = Some((kind, addr as u32));
                    false
                },
            )
            .map_err(|e| uc_err("fault hook", e))?;
        }
        uc.mmio_map(
            PPB_BASE,
            PPB_SIZE,
            Some(|uc: &mut Unicorn<'_, Engine>, offset: u64, size: usize| {
                on_ppb_read(uc, offset as u32, size)
            }),
            Some(
                |uc: &mut Unicorn<'_, Engine>, offset: u64, size: usize, value: u64| {
                    on_ppb_write(uc, offset as u32, size, value as u32);
                },
            ),
        )
        .map_err(|e| uc_err("system control space", e))?;
        for &(begin, end) in &map.devices {
            uc.mmio_map(
                begin,
                end - begin,
                Some(
                    move |uc: &mut Unicorn<'_, Engine>, offset: u64, size: usize| {
                        on_device_read(uc, (begin + offset) as u32, size)
                    },
                ),
                Some(
                    move |uc: &mut Unicorn<'_, Engine>, offset: u64, size: usize, value: u64| {
                        on_device_write(uc, (begin + offset) as u32, size, value as u32);
                    },
                ),
            )
            .map_err(|e| uc_err(&format!("peripherals at {begin:#010x}"), e))?;
        }
        if target.bitband {
            for (alias, base) in BITBAND {
                uc.mmio_map(
                    u64::from(alias),
                    BITBAND_ALIAS_SIZE,
                    Some(
                        move |uc: &mut Unicorn<'_, Engine>, offset: u64, _size: usize| {
                            on_bitband_read(uc, base, offset as u32)
                        },
                    ),
                    Some(
                        move |uc: &mut Unicorn<'_, Engine>,
                              offset: u64,
                              _size: usize,
                              value: u64| {
                            on_bitband_write(uc, base, offset as u32, value as u32);
                        },
                    ),
                )
                .map_err(|e| uc_err("bit-band alias", e))?;
            }
        }
        // The heap is seen where newlib asks for it: one hook on `_sbrk`'s
        // first instruction, which runs once per heap growth, notes the
        // request; the block hook settles it when `_sbrk` returns.
        if let Some(sbrk) = self.image.symbols.addr_of("_sbrk") {
            self.uc
                .add_code_hook(u64::from(sbrk), u64::from(sbrk), |uc, _, _| {
                    let increment = uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32 as i32;
                    let ret = uc.reg_read(RegisterARM::LR).unwrap_or(0) as u32 & !1;
                    if let Some(heap) = &mut uc.get_data_mut().heap {
                        heap.pending = Some((ret, increment));
                    }
                })
                .map_err(|e| uc_err("heap hook", e))?;
        }
        self.install_divide_hooks()
    }

    /// Finds every SDIV/UDIV in the image's functions and hooks just those.
    fn install_divide_hooks(&mut self) -> Result<(), Failure> {
        let decoder = Decoder::new();
        let mut sites = Vec::new();
        for f in self.image.symbols.functions() {
            if self.started.elapsed() >= self.options.wall_limit {
                return Err(self.wall_clock_failure());
            }
            let Ok(bytes) = self.uc.mem_read_as_vec(u64::from(f.addr), f.size as usize) else {
                continue;
            };
            if !may_hold_divide(&bytes) {
                continue;
            }
            for insn in decoder
                .decode(f.addr, &bytes)
                .into_iter()
                .filter(|i| i.class == Class::Div)
            {
                // `sdiv rd, rn, rm`, or `sdiv rn, rm` with rd = rn.
                let (rn, rm) = match insn.operands.as_slice() {
                    [_, Operand::Core(n), Operand::Core(m)]
                    | [Operand::Core(n), Operand::Core(m)] => (*n, *m),
                    _ => continue,
                };
                let site = DivideSite {
                    signed: insn.mnemonic.starts_with("sdiv"),
                    rn: core_register(u16::from(rn)),
                    rm: core_register(u16::from(rm)),
                };
                sites.push((insn.addr, site));
            }
        }
        for (addr, site) in sites {
            self.uc.get_data_mut().divides.insert(addr, site);
            self.uc
                .add_code_hook(u64::from(addr), u64::from(addr), on_divide)
                .map_err(|e| uc_err("divide hook", e))?;
        }
        Ok(())
    }

    /// Runs the firmware to its exit, a failure, or a limit.
    pub fn run(mut self) -> Execution {
        let started = self.started;
        let mut pc = self.image.reset & !1;
        let sp = self.initial_sp;
        let _ = self.uc.reg_write(RegisterARM::SP, u64::from(sp));
        let _ = self.uc.reg_write(RegisterARM::MSP, u64::from(sp));
        let _ = self.uc.reg_write(RegisterARM::LR, 0xFFFF_FFFF);
        let mut exit_code = None;
        let failure = loop {
            if started.elapsed() >= self.options.wall_limit {
                break Some(self.wall_clock_failure());
            }
            // No engine timeout: it would start a timer thread per call, and
            // that thread reads unicorn's process-wide host clock choice
            // (`use_rt_clock`), which every engine start clears and sets again.
            // Read in between, the clock jumps by decades, the timer stops the
            // run at an arbitrary block and that block is charged twice, so
            // figures would depend on engines starting on other threads. The
            // block hook watches the clock instead (`CLOCK_CHECK_BLOCKS`).
            let result = self.uc.emu_start(u64::from(pc | 1), NEVER, 0, 0);
            let now_pc = self.uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
            let stop = self.uc.get_data_mut().stop.take();
            let next = match (result, stop) {
                (_, Some(Stop::Exit(code))) => {
                    self.uc.get_data_mut().close_block();
                    exit_code = Some(code);
                    break None;
                }
                (_, Some(Stop::Failed(failure))) => break Some(failure),
                (_, Some(Stop::WallClock)) => break Some(self.wall_clock_failure()),
                (
                    _,
                    Some(
                        stop @ (Stop::Budget
                        | Stop::Hang(_)
                        | Stop::Broken { .. }
                        | Stop::Asleep(_)
                        | Stop::PoweredDown(..)
                        | Stop::StackOverflow(..)),
                    ),
                ) => break Some(self.uc.get_data().failure(stop, now_pc)),
                (_, Some(Stop::Unsupported(u))) => {
                    let kind = format!("{}: `{}`", u.reason, u.mnemonic);
                    self.exceptions()
                        .fault(kind, FaultCause::UNDEFINED, u.addr, None)
                }
                (_, Some(Stop::FpuDisabled(at))) => {
                    let kind = "floating-point instruction with the FPU disabled (CPACR CP10/CP11 not enabled)".to_owned();
                    self.exceptions()
                        .fault(kind, FaultCause::NO_COPROCESSOR, at, None)
                }
                (
                    _,
                    Some(Stop::Fault {
                        kind,
                        cause,
                        pc: at,
                        address,
                    }),
                ) => self.exceptions().fault(kind, cause, at, address),
                (Err(_), None) if now_pc & EXC_RETURN_PAGE == EXC_RETURN_PAGE => {
                    let at = self.uc.get_data().last_insn();
                    self.exceptions().exception_return(now_pc | 1, at)
                }
                (Err(unicorn_engine::uc_error::INSN_INVALID), None)
                    if self.uc.get_data().after_yield_exit(now_pc) =>
                {
                    // A hint, not a fault: go on after it.
                    Ok(now_pc)
                }
                (Err(err), None) => {
                    let unmapped = self.uc.get_data_mut().unmapped.take();
                    if err == unicorn_engine::uc_error::FETCH_PROT && self.allow_fetch(now_pc) {
                        pc = now_pc;
                        continue;
                    }
                    if err == unicorn_engine::uc_error::WRITE_PROT {
                        match self.store_to_flash(now_pc) {
                            Ok(resume) => {
                                pc = resume;
                                continue;
                            }
                            Err(f) => break Some(f),
                        }
                    }
                    let (kind, cause, address) = describe_unmapped(err, unmapped);
                    self.exceptions().fault(kind, cause, now_pc, address)
                }
                (Ok(()), None) => {
                    if started.elapsed() >= self.options.wall_limit {
                        break Some(self.wall_clock_failure());
                    }
                    Ok(now_pc)
                }
            };
            match next {
                Ok(at) => pc = at,
                Err(f) => break Some(f),
            }
        };
        let wall = started.elapsed();
        let failure = failure.or_else(|| self.finish_rtt());
        let image = self.image.clone();
        let e = self.uc.get_data_mut();
        if failure.is_some() && e.cur != 0 {
            // How far the failing block got is unknown: none of it is charged.
            let at = e.blocks.get(e.cur).addr;
            e.close_block_at(at);
        }
        let energy = e.energy();
        e.profiler.finish_all(e.cycles, energy);
        e.marks.finish(e.cycles, energy);
        if e.window.as_ref().is_some_and(OutputWindow::is_open) {
            e.marks.note(format!(
                "the `{WINDOW_REGION}` region was still open when the run ended; not measured"
            ));
        }
        let stack_peak_bytes = u64::from(image.initial_sp.saturating_sub(e.lowest_sp));
        let deep = &e.deep_sleep_modes;
        Execution {
            exit_code,
            failure,
            handled_fault: e.handled_fault.clone(),
            cycles: e.cycles,
            sleep_cycles: e.sleep_cycles,
            deep_sleep_cycles: deep.iter().map(|d| d.cycles).sum(),
            deep_sleep_wakeups: deep.iter().map(|d| d.wakeups).sum(),
            clock_spans: e.clock.spans(e.now()),
            peripheral_accesses: e.bus.accesses(),
            time_us: e.clock.micros(e.now()),
            sleep_us: e.sleep_us,
            deep_sleep_us: deep.iter().fold(0.0, |us, d| us + d.us),
            deep_sleep_modes: deep.clone(),
            instructions: e.instructions,
            weighted_cycles: energy,
            flash_program_pj: e.flash_program_pj,
            flash_stall_cycles: e.flash_stall,
            stack_peak_bytes,
            heap_peak_bytes: e.heap.map(|heap| heap.peak.max(0) as u64),
            stdout: e.console.take(),
            profiler: e.profiler.clone(),
            marks: std::mem::take(&mut e.marks),
            wall,
            trace: e.counts.take().map(|recorder| {
                let end = RunEnd {
                    totals: e.dynamic_totals(),
                    sleep_cycles: e.sleep_cycles,
                    deep_sleep_modes: (deep.iter())
                        .map(|d| TracedDeepSleep {
                            mode: d.mode.unwrap_or_default().into(),
                            cycles: d.cycles,
                            wakeups: d.wakeups,
                        })
                        .collect(),
                    programmed_clocks: e.clock_programmed,
                };
                recorder.finish(e.blocks.blocks(), &e.symbols, &e.profiler, end)
            }),
        }
    }

    /// The last RTT drain when the run ends.
    fn finish_rtt(&mut self) -> Option<Failure> {
        let mut rtt = std::mem::take(&mut self.uc.get_data_mut().rtt);
        let result = rtt.finish(&mut UcMemory(&mut self.uc));
        let e = self.uc.get_data_mut();
        match result {
            Ok(bytes) => {
                e.console.write(&bytes);
                None
            }
            Err(err) => {
                let stop = Stop::Broken {
                    kind: err.to_string(),
                    pc: e.expect,
                    address: None,
                };
                Some(e.failure(stop, e.expect))
            }
        }
    }

    fn exceptions(&mut self) -> Exceptions<'_, 'static> {
        Exceptions { uc: &mut self.uc }
    }

    fn wall_clock_failure(&self) -> Failure {
        let pc = self.uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
        Failure::WallClock {
            seconds: self.options.wall_limit.as_secs(),
            pc: self.uc.get_data().describe(pc),
        }
    }

    /// A store into read-only memory at `pc`. While the flash controller is in
    /// programming mode, a store into flash programs it: the store is carried
    /// out here, charged the target's programming time and energy, and
    /// execution resumes after it. Otherwise it is a fault.
    fn store_to_flash(&mut self, pc: u32) -> Result<u32, Failure> {
        let mut bytes = [0u8; 4];
        let _ = self.uc.mem_read(u64::from(pc), &mut bytes);
        let insn = Decoder::new().decode(pc, &bytes).into_iter().next();
        let store = insn.as_ref().and_then(|insn| {
            let (base, index, disp) = blocks::memory_operand(insn)?;
            let value = match insn.operands.first()? {
                Operand::Core(r) => *r,
                _ => return None,
            };
            let width: usize = match insn.mnemonic.get(..4) {
                Some("strb") => 1,
                Some("strh") => 2,
                _ if insn.class == Class::Store => 4,
                _ => return None,
            };
            let reg = |r: u8| self.uc.reg_read(core_register(u16::from(r))).unwrap_or(0) as u32;
            let post_indexed =
                insn.writeback && matches!(insn.operands.last(), Some(Operand::Imm(_)));
            let offset = if post_indexed { 0 } else { disp as u32 };
            let addr = reg(base)
                .wrapping_add(offset)
                .wrapping_add(index.map_or(0, reg));
            Some((insn.len, addr, reg(value).to_le_bytes(), width))
        });
        let e = self.uc.get_data_mut();
        let programming = e.controller.as_ref().is_some_and(|(c, _)| c.programming());
        let Some((len, addr, value, width)) = store.filter(|s| programming && e.in_flash(s.1))
        else {
            return Err(Failure::Fault {
                kind: if e.controller.is_some() {
                    "write to flash without programming it through the flash controller".into()
                } else {
                    "write to read-only memory".into()
                },
                pc: e.describe(pc),
                address: store.map(|s| e.describe(s.1)),
            });
        };
        let units = (width as u64)
            .div_ceil(u64::from(e.program.write_unit))
            .max(1);
        let us = units as f64 * e.program.write_us;
        e.charge_stall(e.program.cycles(us, e.clock.clocks.hclk_hz));
        e.flash_program_pj += e.program.pj(us);
        e.program_us += us;
        let offset = addr - e.flash_ranges.find(addr).map_or(addr, |r| r.0);
        let bases: Vec<u32> = e.flash_ranges.bases().collect();
        let resume = pc + u32::from(len);
        // Charge the block up to and including the store; execution goes on after it.
        e.close_block_at(resume);
        e.expect = resume;
        e.vectors.forget();
        for base in bases {
            let _ = self.uc.mem_write(u64::from(base + offset), &value[..width]);
        }
        Ok(resume)
    }
}

impl ProgramCosts {
    fn new(target: &Target, flash_ranges: &[(u32, u32)]) -> ProgramCosts {
        let p = &target.flash_program;
        // Sectors are numbered from the flash's own base, not a boot alias at 0.
        let base = flash_ranges
            .iter()
            .map(|r| r.0)
            .find(|&b| b != 0)
            .or_else(|| flash_ranges.first().map(|r| r.0))
            .unwrap_or(0);
        let mut start = base;
        let mut sectors = Vec::new();
        for &kib in &p.sector_kib {
            let ms = p
                .erase_ms
                .iter()
                .find(|e| e.sector_kib == kib)
                .map_or(0.0, |e| e.ms);
            sectors.push((start, kib * 1024, ms * 1000.0));
            start += kib * 1024;
        }
        ProgramCosts {
            write_unit: p.write_unit_bytes.max(1),
            write_us: p.write_us,
            sectors,
            power_mw: target.energy.vdd_v * p.current_ma.unwrap_or(0.0),
        }
    }

    /// Cycles the core waits at `hz` for an operation of `us` microseconds.
    fn cycles(&self, us: f64, hz: u64) -> u64 {
        (us * hz as f64 / 1e6).round() as u64
    }

    /// Energy of an operation of `us` microseconds, in pJ (mW × µs = nJ).
    fn pj(&self, us: f64) -> u64 {
        (self.power_mw * us * 1000.0).round() as u64
    }
}

fn describe_unmapped(
    err: unicorn_engine::uc_error,
    unmapped: Option<(MemType, u32)>,
) -> (String, FaultCause, Option<u32>) {
    use unicorn_engine::uc_error;
    let (kind, cause) = match err {
        uc_error::READ_UNMAPPED => ("read from unmapped memory", FaultCause::DATA_BUS),
        uc_error::WRITE_UNMAPPED => ("write to unmapped memory", FaultCause::DATA_BUS),
        uc_error::FETCH_UNMAPPED => (
            "instruction fetch from unmapped memory",
            FaultCause::FETCH_BUS,
        ),
        uc_error::WRITE_PROT => ("write to read-only memory", FaultCause::DATA_BUS),
        uc_error::READ_PROT => ("read from protected memory", FaultCause::DATA_BUS),
        uc_error::FETCH_PROT => (
            "instruction fetch from non-executable memory",
            FaultCause::FETCH_BUS,
        ),
        uc_error::READ_UNALIGNED | uc_error::WRITE_UNALIGNED | uc_error::FETCH_UNALIGNED => {
            ("unaligned access", FaultCause::UNALIGNED)
        }
        uc_error::INSN_INVALID => ("undefined instruction", FaultCause::UNDEFINED),
        other => {
            return (
                format!("CPU stopped: {other:?}"),
                FaultCause::UNDEFINED,
                unmapped.map(|u| u.1),
            )
        }
    };
    (kind.to_owned(), cause, unmapped.map(|u| u.1))
}

/// How the address space is laid out beyond the memories: peripheral ranges
/// served by device callbacks, and the gaps where an access faults.
struct AddressMap {
    /// Page-aligned `[begin, end)` ranges of peripheral registers.
    devices: Vec<(u64, u64)>,
    /// Inclusive ranges nothing maps.
    gaps: Vec<(u64, u64)>,
}

impl AddressMap {
    fn of(target: &Target) -> AddressMap {
        let page = |a: u64| a & !0xFFF;
        let page_end = |a: u64| (a + 0xFFF) & !0xFFF;
        let mut taken: Vec<(u64, u64)> = target
            .memory
            .iter()
            .flat_map(|r| {
                r.bases()
                    .map(move |b| (u64::from(b), u64::from(b) + u64::from(r.size)))
            })
            .chain([(PPB_BASE, PPB_BASE + PPB_SIZE)])
            .collect();
        if target.bitband {
            taken.extend(
                BITBAND
                    .iter()
                    .map(|&(alias, _)| (u64::from(alias), u64::from(alias) + BITBAND_ALIAS_SIZE)),
            );
        }
        let wanted: Vec<(u64, u64)> = target
            .peripheral_space
            .iter()
            .map(|s| (u64::from(s.base), u64::from(s.base) + u64::from(s.size)))
            .chain(
                target
                    .peripherals
                    .iter()
                    .map(|p| (u64::from(p.base), u64::from(p.base) + u64::from(p.size))),
            )
            .chain(
                target
                    .flash_program
                    .controller_base
                    .map(|b| (u64::from(b), u64::from(b) + 0x400)),
            )
            .map(|(b, e)| (page(b), page_end(e).min(1 << 32)))
            .collect();
        let devices = merge(subtract(merge(wanted), &merge(taken.clone())));
        taken.extend(devices.iter().copied());
        let mut gaps = Vec::new();
        let mut next = 0u64;
        for (start, end) in merge(taken) {
            if start > next {
                gaps.push((next, start - 1));
            }
            next = next.max(end);
        }
        if next <= 0xFFFF_FFFF {
            gaps.push((next, 0xFFFF_FFFF));
        }
        AddressMap { devices, gaps }
    }
}

/// Sorted, overlapping or touching `[begin, end)` ranges joined.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (b, e) in ranges {
        match out.last_mut() {
            Some(last) if b <= last.1 => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

/// `ranges` without the parts `taken` covers (both merged).
fn subtract(ranges: Vec<(u64, u64)>, taken: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for (mut b, e) in ranges {
        for &(tb, te) in taken {
            if te <= b || tb >= e {
                continue;
            }
            if tb > b {
                out.push((b, tb));
            }
            b = b.max(te);
        }
        if b < e {
            out.push((b, e));
        }
    }
    out
}

fn core_register(n: u16) -> RegisterARM {
    use RegisterARM::*;
    [
        R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, SP, LR, PC,
    ][usize::from(n)]
}

fn fp_register(n: usize) -> RegisterARM {
    use RegisterARM::*;
    [
        S0, S1, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, S12, S13, S14, S15,
    ][n]
}

#[cfg(test)]
mod tests {
    use super::may_hold_divide;

    #[test]
    fn only_code_with_a_divide_opcode_is_decoded_for_divides() {
        // sdiv r0, r1, r2 / udiv r3, r4, r5 / mul r0, r1, r2 with a 16-bit nop before.
        let sdiv = [0x00, 0xbf, 0x91, 0xfb, 0xf2, 0xf0];
        let udiv = [0xb4, 0xfb, 0xf5, 0xf3];
        let mul = [0x00, 0xbf, 0x01, 0xfb, 0x02, 0xf0];
        assert!(may_hold_divide(&sdiv));
        assert!(may_hold_divide(&udiv));
        assert!(!may_hold_divide(&mul));
        assert!(!may_hold_divide(&[0x91]));
    }
}
