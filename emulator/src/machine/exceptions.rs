//! Exceptions as the ARMv7-M core takes and returns from them (ARMv7-M ARM
//! B1.5.6-B1.5.8): the frame stacked on the stack in use (MSP or PSP), basic
//! or extended with the FP registers when CONTROL.FPCA says the context has
//! FP state, the handler entered in handler mode on the MSP with LR holding
//! EXC_RETURN; on return EXC_RETURN is decoded (thread or handler mode, MSP or
//! PSP, basic or extended frame), a pending exception that would preempt the
//! returned-to context is tail-chained instead, and sleep-on-exit is honoured.
//! Faults go to their configurable handler when SHCSR enables it and its
//! priority allows, else escalate to HardFault; a fault HardFault cannot take
//! is a lockup and ends the run.
//!
//! unicorn runs the code but knows nothing of this: the machine keeps the
//! NVIC state and writes unicorn's IPSR, CONTROL, MSP and PSP so that MRS,
//! MSR and CPS in the firmware see and change the real thing. Exceptions are
//! taken and returned from inside the hooks, without stopping the engine: a
//! PC written there redirects it at once.

use unicorn_engine::{RegisterARM, Unicorn};

use super::nvic::{exception, Masks};
use super::{fp_register, hooks, Engine, Failure};
use crate::machine::blocks::NO_FUNCTION;

/// CONTROL bits (B1.4.4).
const CONTROL_NPRIV: u32 = 1;
const CONTROL_SPSEL: u32 = 1 << 1;
const CONTROL_FPCA: u32 = 1 << 2;
/// EXC_RETURN bits (B1.5.8): return to thread mode, to the PSP, basic frame.
const EXC_RETURN_THREAD: u32 = 1 << 3;
const EXC_RETURN_PSP: u32 = 1 << 2;
const EXC_RETURN_BASIC: u32 = 1 << 4;
/// xPSR bit 9 in a stacked frame: the frame was realigned to 8 bytes.
const XPSR_REALIGNED: u32 = 1 << 9;
/// FPCCR (0xE000EF34) LSPEN: lazy state preservation (B3.2.21).
pub(super) const FPCCR_LSPEN: u32 = 1 << 30;

/// Exception latencies of the Cortex-M3/M4 at zero wait states: 12 cycles
/// from the interrupt to the handler's first instruction, 10 back, and 6
/// between two handlers when tail-chaining (Cortex-M4 TRM DDI 0439B section
/// 3.? "Exception model" / Cortex-M3 TRM DDI 0337 section 5.5, as restated in
/// Arm knowledge article 103489845, which also corrects the M3 TRM's exit
/// figure to 10). The Cortex-M7 is taken to match.
pub(super) const ENTRY_CYCLES: u64 = 12;
pub(super) const RETURN_CYCLES: u64 = 10;
pub(super) const TAIL_CHAIN_CYCLES: u64 = 6;
/// Saving (or restoring) S0-S15 and FPSCR: Arm application note AN298
/// ("Cortex-M4(F) lazy stacking and context switching") gives 29 cycles of
/// entry latency with the FP context stacked against 12 without, so 17.
/// Recalled, not re-read; restoring is taken to cost the same.
pub(super) const FP_STACKING_CYCLES: u64 = 17;

/// Core registers in the first words of an exception frame; the return
/// address and xPSR follow (B1.5.6).
const STACKED: [RegisterARM; 6] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R12,
    RegisterARM::LR,
];
/// Words of a basic frame and of one extended with S0-S15, FPSCR and a reserved word.
const BASIC_WORDS: u32 = 8;
const EXTENDED_WORDS: u32 = 26;

/// What raised a fault, for CFSR and the choice of handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultCause {
    /// The configurable fault that reports it (MemManage, BusFault, UsageFault).
    pub exception: u32,
    /// Its CFSR status bits.
    pub cfsr: u32,
}

impl FaultCause {
    /// An undefined instruction (UsageFault UNDEFINSTR).
    pub const UNDEFINED: FaultCause = FaultCause::usage(1 << 16);
    /// Execution in ARM state: a branch with bit 0 clear (UsageFault INVSTATE).
    pub const INVALID_STATE: FaultCause = FaultCause::usage(1 << 17);
    /// An invalid EXC_RETURN (UsageFault INVPC).
    pub const INVALID_RETURN: FaultCause = FaultCause::usage(1 << 18);
    /// An FP instruction with the FPU disabled (UsageFault NOCP).
    pub const NO_COPROCESSOR: FaultCause = FaultCause::usage(1 << 19);
    /// An unaligned access (UsageFault UNALIGNED).
    pub const UNALIGNED: FaultCause = FaultCause::usage(1 << 24);
    /// A precise data bus error, address in BFAR (BusFault PRECISERR, BFARVALID).
    pub const DATA_BUS: FaultCause = FaultCause {
        exception: exception::BUS_FAULT,
        cfsr: 1 << 9 | 1 << 15,
    };
    /// An instruction fetch bus error (BusFault IBUSERR).
    pub const FETCH_BUS: FaultCause = FaultCause {
        exception: exception::BUS_FAULT,
        cfsr: 1 << 8,
    };

    const fn usage(cfsr: u32) -> FaultCause {
        FaultCause {
            exception: exception::USAGE_FAULT,
            cfsr,
        }
    }
}

/// Handlers read from a vector table in read-only memory (flash), which
/// only flash programming changes: entry then skips a read through the engine.
#[derive(Debug, Default)]
pub(super) struct VectorCache {
    /// Address ranges mapped without write permission, as (start, end).
    read_only: Vec<(u32, u32)>,
    /// VTOR of the entries held.
    table: u32,
    /// Entries by exception number; 0 where not read yet.
    entries: Vec<u32>,
}

impl VectorCache {
    pub(super) fn new(read_only: Vec<(u32, u32)>) -> VectorCache {
        VectorCache {
            read_only,
            ..VectorCache::default()
        }
    }

    fn get(&self, table: u32, number: u32) -> Option<u32> {
        let entry = *self.entries.get(number as usize)?;
        (self.table == table && entry != 0).then_some(entry)
    }

    fn remember(&mut self, table: u32, number: u32, entry: u32) {
        let addr = u64::from(table) + 4 * u64::from(number);
        let read_only = self
            .read_only
            .iter()
            .any(|&(start, end)| u64::from(start) <= addr && addr + 4 <= u64::from(end));
        if !read_only || number >= MAX_EXCEPTIONS {
            return;
        }
        if self.table != table {
            self.forget();
            self.table = table;
        }
        if self.entries.is_empty() {
            self.entries = vec![0; MAX_EXCEPTIONS as usize];
        }
        self.entries[number as usize] = entry;
    }

    /// Drops every entry: flash was programmed or erased.
    pub(super) fn forget(&mut self) {
        self.entries.clear();
    }
}

/// Exception numbers of ARMv7-M: 16 system exceptions and up to 240 IRQs.
const MAX_EXCEPTIONS: u32 = 256;

/// The registers that say which mode and stack the core runs on.
#[derive(Debug, Clone, Copy)]
struct CoreState {
    ipsr: u32,
    control: u32,
    msp: u32,
    psp: u32,
}

/// The exception model over the engine, borrowed from a hook or from the run loop.
pub(super) struct Exceptions<'u, 'a> {
    pub(super) uc: &'u mut Unicorn<'a, Engine>,
}

impl Exceptions<'_, '_> {
    fn reg(&self, r: RegisterARM) -> u32 {
        self.uc.reg_read(r).unwrap_or(0) as u32
    }

    fn set_reg(&mut self, r: RegisterARM, value: u32) {
        let _ = self.uc.reg_write(r, u64::from(value));
    }

    /// PRIMASK, FAULTMASK and BASEPRI as the firmware left them.
    fn masks(&mut self) -> Masks {
        hooks::masks(self.uc)
    }

    /// Pends what is due by now (SysTick, peripheral events).
    fn poll_events(&mut self) {
        hooks::poll_events(self.uc);
    }

    /// Sleeps until a wake-up event (see `hooks::sleep`).
    fn sleep(&mut self, pc: u32) -> Result<(), Failure> {
        hooks::sleep(self.uc, pc).map_err(|stop| self.uc.get_data().failure(stop, pc))
    }

    /// Moves unicorn's core from `from`, its state now, to `to`. unicorn
    /// applies MSR's rules (no SPSEL write in handler mode, none at all
    /// unprivileged), so such a change goes through privileged thread mode
    /// with the stack pointers written last; else only what changes is written.
    fn set_core_state(&mut self, from: CoreState, to: CoreState) {
        let spsel = if to.ipsr == 0 {
            to.control & CONTROL_SPSEL
        } else {
            0
        };
        let restricted = CONTROL_NPRIV | CONTROL_SPSEL;
        if from.control & restricted == 0 && (to.control & CONTROL_NPRIV) | spsel == 0 {
            // Privileged on the MSP before and after: MSR's rules allow the
            // writes as they are.
            let control = to.control & !restricted;
            let writes = [
                (RegisterARM::IPSR, from.ipsr, to.ipsr),
                (RegisterARM::CONTROL, from.control, control),
                (RegisterARM::MSP, from.msp, to.msp),
                (RegisterARM::PSP, from.psp, to.psp),
            ];
            for (r, was, value) in writes {
                if was != value {
                    self.set_reg(r, value);
                }
            }
            // Handler mode and CONTROL are what unicorn's cached flags
            // depend on here (a negative priority never is: it has no NVIC).
            if (from.ipsr == 0) != (to.ipsr == 0) || control != from.control {
                self.refresh_mode();
            }
            self.uc.get_data_mut().ipsr = to.ipsr;
            return;
        }
        let privileged = to.control & !CONTROL_NPRIV & !CONTROL_SPSEL;
        self.set_reg(RegisterARM::IPSR, exception::HARD_FAULT);
        self.set_reg(RegisterARM::CONTROL, privileged);
        self.set_reg(RegisterARM::IPSR, 0);
        self.set_reg(RegisterARM::CONTROL, privileged | spsel);
        self.set_reg(RegisterARM::MSP, to.msp);
        self.set_reg(RegisterARM::PSP, to.psp);
        self.set_reg(RegisterARM::IPSR, to.ipsr);
        self.set_reg(RegisterARM::CONTROL, (to.control & !CONTROL_SPSEL) | spsel);
        self.refresh_mode();
        self.uc.get_data_mut().ipsr = to.ipsr;
    }

    /// unicorn caches mode-dependent translation flags; writing the flags
    /// register makes it recompute them (FPCA, handler mode).
    fn refresh_mode(&mut self) {
        let nzcv = self.reg(RegisterARM::APSR_NZCV);
        self.set_reg(RegisterARM::APSR_NZCV, nzcv);
    }

    /// Entry `number` of the vector table, as stored.
    fn vector_entry(&mut self, number: u32) -> Option<u32> {
        let table = self.uc.get_data().sys.vtor;
        if let Some(entry) = self.uc.get_data().vectors.get(table, number) {
            return Some(entry);
        }
        let mut b = [0u8; 4];
        self.uc
            .mem_read(u64::from(table.wrapping_add(4 * number)), &mut b)
            .ok()?;
        let entry = u32::from_le_bytes(b);
        self.uc
            .get_data_mut()
            .vectors
            .remember(table, number, entry);
        Some(entry)
    }

    /// The handler of exception `number`, fetched as the core does on entry
    /// (a data read, paying flash wait states); None without the Thumb bit.
    fn vector(&mut self, number: u32) -> Option<u32> {
        let handler = self.vector_entry(number)?;
        let e = self.uc.get_data_mut();
        let addr = e.sys.vtor.wrapping_add(4 * number);
        if e.in_flash(addr) {
            let stall = u64::from(e.timing.read_stall(addr));
            e.flash_stall += stall;
            e.charge_stall(stall);
        }
        Some(handler).filter(|&h| h & 1 == 1)
    }

    /// Whether the handler of `number` is missing or a `b .` loop: then a
    /// fault is reported as itself rather than as a hang in that loop.
    fn handler_is_dead(&mut self, number: u32) -> bool {
        let Some(handler) = self.vector_entry(number).filter(|&h| h & 1 == 1) else {
            return true;
        };
        let mut b = [0u8; 2];
        self.uc.mem_read(u64::from(handler & !1), &mut b).is_err()
            || u16::from_le_bytes(b) == 0xE7FE
    }

    /// SVC: taken at once when SVCall's priority preempts, else escalated to
    /// HardFault as the architecture requires of a synchronous exception.
    pub(super) fn svc(&mut self, return_addr: u32) -> Result<u32, Failure> {
        let masks = self.masks();
        let e = self.uc.get_data_mut();
        let nvic = &mut e.sys.nvic;
        if nvic.group_priority(exception::SVCALL) < nvic.execution_priority(masks) {
            nvic.set_pending(exception::SVCALL);
            return self.take_exception(exception::SVCALL, return_addr);
        }
        let kind =
            "SVC executed where SVCall cannot preempt (masked or inside a higher-priority handler)"
                .to_owned();
        let at = e.last_insn();
        let cause = FaultCause {
            exception: exception::HARD_FAULT,
            cfsr: 0,
        };
        self.fault(kind, cause, at, None)
    }

    /// A fault at `pc`. The fault's own handler takes it when SHCSR enables it
    /// and its priority preempts; else it escalates to HardFault (FORCED);
    /// where HardFault cannot preempt either, the core locks up. When the
    /// handler that would run is a `b .` loop, the run ends with the fault itself.
    pub(super) fn fault(
        &mut self,
        kind: String,
        cause: FaultCause,
        pc: u32,
        address: Option<u32>,
    ) -> Result<u32, Failure> {
        let masks = self.masks();
        let e = self.uc.get_data_mut();
        let described = Failure::Fault {
            kind: kind.clone(),
            pc: e.describe(pc),
            address: address.map(|a| e.describe(a)),
        };
        if e.cur != 0 {
            e.close_block_at(pc);
        }
        let nvic = &e.sys.nvic;
        let current = nvic.execution_priority(masks);
        let own = cause.exception;
        let number = if nvic.fault_enabled(own) && nvic.group_priority(own) < current {
            own
        } else if current > -1 {
            exception::HARD_FAULT
        } else {
            let active = if nvic.is_active(exception::NMI) {
                "NMI"
            } else if nvic.is_active(exception::HARD_FAULT) {
                "HardFault"
            } else {
                "FAULTMASK"
            };
            return Err(Failure::Lockup {
                fault: described.to_string(),
                during: active.into(),
            });
        };
        if self.handler_is_dead(number) {
            return Err(described);
        }
        let e = self.uc.get_data_mut();
        e.sys.cfsr |= cause.cfsr;
        if number == exception::HARD_FAULT {
            e.sys.hfsr |= 1 << 30; // FORCED: escalated from a configurable fault
        }
        if let Some(a) = address {
            e.sys.fault_address = a;
        }
        e.handled_fault = Some(described.to_string());
        // Synchronous faults pend like any exception, so a late-arriving
        // interrupt of higher priority runs first and the fault tail-chains.
        e.sys.nvic.set_pending(number);
        self.stack_and_enter(number, pc)
    }

    /// Takes the pending exception `number`, interrupting execution before
    /// `return_addr`. A higher-priority exception that becomes pending while
    /// the frame is stacked is taken instead (late arrival).
    pub(super) fn take_exception(&mut self, number: u32, return_addr: u32) -> Result<u32, Failure> {
        let e = self.uc.get_data_mut();
        if e.cur != 0 {
            e.close_block();
        }
        e.cur = 0;
        self.stack_and_enter(number, return_addr)
    }

    fn stack_and_enter(&mut self, number: u32, return_addr: u32) -> Result<u32, Failure> {
        let control = self.reg(RegisterARM::CONTROL);
        let (entry_msp, entry_psp) = (self.reg(RegisterARM::MSP), self.reg(RegisterARM::PSP));
        let (msp, psp) = (entry_msp, entry_psp);
        let ipsr = self.uc.get_data().ipsr;
        let on_psp = ipsr == 0 && control & CONTROL_SPSEL != 0;
        let fpccr = self.uc.get_data().sys.fpccr();
        let extended = self.uc.get_data().sys.fpu_enabled() && control & CONTROL_FPCA != 0;
        let mut frame = [0u32; EXTENDED_WORDS as usize];
        for (word, &r) in frame.iter_mut().zip(&STACKED) {
            *word = self.reg(r);
        }
        // The stacked return address is halfword aligned; Thumb state is in xPSR.T.
        frame[6] = return_addr & !1;
        let mut xpsr = self.reg(RegisterARM::XPSR) | 1 << 24;
        let mut sp = if on_psp { psp } else { msp };
        if sp % 8 != 0 {
            sp -= 4;
            xpsr |= XPSR_REALIGNED;
        }
        frame[7] = xpsr;
        let words = if extended {
            for i in 0..16 {
                frame[8 + i] = self.reg(fp_register(i));
            }
            frame[24] = self.reg(RegisterARM::FPSCR);
            EXTENDED_WORDS
        } else {
            BASIC_WORDS
        };
        sp = sp.wrapping_sub(4 * words);
        let mut bytes = [0u8; 4 * EXTENDED_WORDS as usize];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(&frame) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        if self
            .uc
            .mem_write(u64::from(sp), &bytes[..4 * words as usize])
            .is_err()
        {
            let e = self.uc.get_data();
            return Err(Failure::Fault {
                kind: format!(
                    "stack overflow while stacking the frame of exception {number} ({})",
                    if on_psp { "PSP" } else { "MSP" }
                ),
                pc: e.describe(return_addr),
                address: Some(format!("{sp:#010x}")),
            });
        }
        let (msp, psp) = if on_psp { (msp, sp) } else { (sp, psp) };
        let exc_return = 0xFFFF_FFE1
            | if ipsr == 0 { EXC_RETURN_THREAD } else { 0 }
            | if on_psp { EXC_RETURN_PSP } else { 0 }
            | if extended { 0 } else { EXC_RETURN_BASIC };
        let e = self.uc.get_data_mut();
        if !on_psp {
            e.note_sp(sp);
        }
        // Lazy stacking reserves the FP words and saves them at the handler's
        // first FP instruction; the values are written now (no handler can
        // change S0-S15 before its first FP instruction) and the time is
        // charged where the hardware spends it.
        let lazy = extended && fpccr & FPCCR_LSPEN != 0;
        e.fp_lazy_pending = lazy;
        let mut cycles = ENTRY_CYCLES;
        if extended && !lazy {
            cycles += FP_STACKING_CYCLES;
        }
        e.charge_exception(cycles);
        // Late arrival: something more urgent became pending while stacking.
        self.poll_events();
        let masks = self.masks();
        let e = self.uc.get_data_mut();
        let chosen = match e.sys.nvic.preempting(masks) {
            Some(n) if e.sys.nvic.priority(n) < e.sys.nvic.priority(number) => n,
            _ => number,
        };
        let from = CoreState {
            ipsr,
            control,
            msp: entry_msp,
            psp: entry_psp,
        };
        self.vector_to(chosen, exc_return, from, msp, psp)
    }

    /// Enters the handler of `number` with `exc_return` in LR, the frame
    /// already stacked (after entry, or when tail-chaining): from the core
    /// state `from` to handler mode on `msp`, with `psp` as it is left.
    fn vector_to(
        &mut self,
        number: u32,
        exc_return: u32,
        from: CoreState,
        msp: u32,
        psp: u32,
    ) -> Result<u32, Failure> {
        let handler = self.vector(number).ok_or_else(|| {
            let e = self.uc.get_data();
            Failure::Fault {
                kind: format!("exception {number} has no handler in the vector table (vector without the Thumb bit)"),
                pc: e.describe(e.expect),
                address: None,
            }
        })?;
        let to = CoreState {
            ipsr: number,
            control: from.control & !CONTROL_SPSEL & !CONTROL_FPCA,
            msp,
            psp,
        };
        self.set_core_state(from, to);
        self.set_reg(RegisterARM::LR, exc_return);
        let e = self.uc.get_data_mut();
        e.sys.nvic.activate(number);
        e.event_register = true;
        let handler = handler & !1;
        let func = e
            .symbols
            .index_of(handler)
            .map_or(NO_FUNCTION, |i| i as u32);
        e.profiler.enter_exception(func, msp, e.cycles, e.energy());
        // Entry (or tail-chain) cycles belong to the handler.
        e.attribute(func);
        e.expect = handler;
        e.settle_next_event();
        Ok(handler)
    }

    /// Returns from the active exception through `exc_return`: tail-chains
    /// into a pending exception that would preempt the context returned to,
    /// or sleeps on exit, or unstacks the frame; gives where execution goes on.
    pub(super) fn exception_return(&mut self, exc_return: u32, pc: u32) -> Result<u32, Failure> {
        let e = self.uc.get_data_mut();
        let handler_func = e.blocks.get(e.cur).func;
        if e.cur != 0 {
            e.close_block();
            e.cur = 0;
        }
        e.attribute(handler_func);
        let returning = e.ipsr;
        let to_thread = exc_return & EXC_RETURN_THREAD != 0;
        let valid = exc_return | 0x1C == 0xFFFF_FFFD
            && matches!(exc_return & 0xF, 0x1 | 0x9 | 0xD)
            && (exc_return & EXC_RETURN_BASIC != 0 || e.sys.fpu_enabled())
            && returning != 0
            && e.sys.nvic.is_active(returning);
        if !valid {
            let kind = format!(
                "invalid exception return: EXC_RETURN {exc_return:#010x} from {}",
                if returning == 0 {
                    "thread mode".to_owned()
                } else {
                    format!("exception {returning}")
                }
            );
            return self.fault(kind, FaultCause::INVALID_RETURN, pc, None);
        }
        e.sys.nvic.deactivate(returning);
        e.profiler.leave_exception(e.cycles, e.energy());
        e.returning_from = handler_func;
        if returning != exception::NMI && self.masks().faultmask {
            self.set_reg(RegisterARM::FAULTMASK, 0);
            self.uc.get_data_mut().masks = None;
        }
        let control = self.reg(RegisterARM::CONTROL);
        let mut slept = false;
        loop {
            let masks = self.masks();
            let e = self.uc.get_data_mut();
            if let Some(next) = e.sys.nvic.preempting(masks) {
                e.charge_exception(TAIL_CHAIN_CYCLES);
                let (msp, psp) = (self.reg(RegisterARM::MSP), self.reg(RegisterARM::PSP));
                let from = CoreState {
                    ipsr: returning,
                    control,
                    msp,
                    psp,
                };
                return self.vector_to(next, exc_return, from, msp, psp);
            }
            let sleeps_on_exit =
                to_thread && e.sys.nvic.sleep_on_exit() && !e.sys.nvic.any_active();
            if !sleeps_on_exit || slept {
                // Woken by an interrupt PRIMASK keeps out: back to thread mode.
                break;
            }
            // The core sleeps with the frame still stacked; the interrupt
            // that wakes it is tail-chained (B1.5.19).
            self.sleep(pc)?;
            slept = true;
        }
        self.unstack(exc_return, control)
    }

    fn unstack(&mut self, exc_return: u32, control: u32) -> Result<u32, Failure> {
        let on_psp = exc_return & EXC_RETURN_PSP != 0;
        let extended = exc_return & EXC_RETURN_BASIC == 0;
        let (frame_msp, frame_psp) = (self.reg(RegisterARM::MSP), self.reg(RegisterARM::PSP));
        let (msp, psp) = (frame_msp, frame_psp);
        let sp = if on_psp { psp } else { msp };
        let words = if extended {
            EXTENDED_WORDS
        } else {
            BASIC_WORDS
        };
        let mut buffer = [0u8; 4 * EXTENDED_WORDS as usize];
        let bytes = &mut buffer[..4 * words as usize];
        if self.uc.mem_read(u64::from(sp), bytes).is_err() {
            let e = self.uc.get_data();
            return Err(Failure::Fault {
                kind: format!(
                    "exception return reads its frame from unmapped memory ({})",
                    if on_psp { "PSP" } else { "MSP" }
                ),
                pc: e.describe(e.expect),
                address: Some(format!("{sp:#010x}")),
            });
        }
        let mut frame = [0u32; EXTENDED_WORDS as usize];
        for (word, c) in frame.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        for (r, v) in STACKED.iter().zip(&frame) {
            self.set_reg(*r, *v);
        }
        let fp_restored = extended && !self.uc.get_data().fp_lazy_pending;
        if extended {
            for i in 0..16 {
                self.set_reg(fp_register(i), frame[8 + i]);
            }
            self.set_reg(RegisterARM::FPSCR, frame[24]);
        }
        let xpsr = frame[7];
        let padding = if xpsr & XPSR_REALIGNED != 0 { 4 } else { 0 };
        let sp = sp.wrapping_add(4 * words + padding);
        let (msp, psp) = if on_psp { (msp, sp) } else { (sp, psp) };
        let ipsr = if exc_return & EXC_RETURN_THREAD != 0 {
            0
        } else {
            xpsr & 0x1FF
        };
        let from = CoreState {
            ipsr: self.uc.get_data().ipsr,
            control,
            msp: frame_msp,
            psp: frame_psp,
        };
        let control = (control & !CONTROL_SPSEL & !CONTROL_FPCA)
            | if on_psp { CONTROL_SPSEL } else { 0 }
            | if extended { CONTROL_FPCA } else { 0 };
        let to = CoreState {
            ipsr,
            control,
            msp,
            psp,
        };
        self.set_core_state(from, to);
        self.set_reg(
            RegisterARM::XPSR_NZCVQG,
            (xpsr & !0x1FF & !XPSR_REALIGNED) | ipsr,
        );
        let resume = frame[6] & !1;
        let e = self.uc.get_data_mut();
        e.fp_lazy_pending = false;
        e.event_register = true;
        let mut cycles = RETURN_CYCLES;
        if fp_restored {
            cycles += FP_STACKING_CYCLES;
        }
        e.charge_exception(cycles);
        // Return cycles belong to the handler returned from.
        let func = e.returning_from;
        e.attribute(func);
        e.expect = resume;
        e.settle_next_event();
        Ok(resume)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_kept_only_from_read_only_memory_until_flash_changes() {
        let mut cache = VectorCache::new(vec![(0x0800_0000, 0x0810_0000)]);
        cache.remember(0x0800_0000, 15, 0x0800_0201);
        cache.remember(0x2000_0000, 15, 0x0800_0301); // RAM: the firmware may rewrite it
        assert_eq!(cache.get(0x0800_0000, 15), Some(0x0800_0201));
        assert_eq!(cache.get(0x2000_0000, 15), None);
        assert_eq!(cache.get(0x0800_0000, 14), None);
        cache.remember(0x0800_0400, 11, 0x0800_0501); // VTOR moved within flash
        assert_eq!(cache.get(0x0800_0000, 15), None);
        assert_eq!(cache.get(0x0800_0400, 11), Some(0x0800_0501));
        cache.forget();
        assert_eq!(cache.get(0x0800_0400, 11), None);
        cache.remember(0x080F_FFFC, 1, 0x0800_0001); // the entry would end past flash
        assert_eq!(cache.get(0x080F_FFFC, 1), None);
    }
}
