//! The system control space the firmware sees, driven by the modeled clock:
//! DWT_CYCCNT returns the modeled cycle count at the reading instruction,
//! SysTick counts modeled cycles and pends its exception, SCB holds CPACR
//! (which gates the FPU), VTOR and the fault status registers, the NVIC and
//! the exception registers of the SCB live in [`Nvic`], and ITM stimulus
//! port 0 writes to the console as if a probe had enabled tracing.
//!
//! Addresses are offsets from 0xE000_0000 (the Private Peripheral Bus).
//! Registers not modeled here keep what was written, so configuration code
//! (MPU, debug registers...) runs unchanged.

use std::collections::HashMap;

use super::nvic::{Nvic, NvicError};
use crate::target::{CacheGeometry, Core};

/// Offsets within the PPB.
pub mod reg {
    /// DWT control.
    pub const DWT_CTRL: u32 = 0x1000;
    /// DWT cycle counter.
    pub const DWT_CYCCNT: u32 = 0x1004;
    /// SysTick control and status.
    pub const SYST_CSR: u32 = 0xE010;
    /// SysTick reload value.
    pub const SYST_RVR: u32 = 0xE014;
    /// SysTick current value.
    pub const SYST_CVR: u32 = 0xE018;
    /// SysTick calibration.
    pub const SYST_CALIB: u32 = 0xE01C;
    /// CPU identification.
    pub const CPUID: u32 = 0xED00;
    /// Interrupt control and state.
    pub const ICSR: u32 = 0xED04;
    /// Vector table offset.
    pub const VTOR: u32 = 0xED08;
    /// Configurable fault status.
    pub const CFSR: u32 = 0xED28;
    /// HardFault status.
    pub const HFSR: u32 = 0xED2C;
    /// MemManage fault address.
    pub const MMFAR: u32 = 0xED34;
    /// BusFault address.
    pub const BFAR: u32 = 0xED38;
    /// Coprocessor access control.
    pub const CPACR: u32 = 0xED88;
    /// Debug exception and monitor control.
    pub const DEMCR: u32 = 0xEDFC;
    /// FP context control.
    pub const FPCCR: u32 = 0xEF34;
}

const DEMCR_TRCENA: u32 = 1 << 24;
const DWT_CYCCNTENA: u32 = 1;
const CSR_ENABLE: u32 = 1;
const CSR_TICKINT: u32 = 1 << 1;
const CSR_CLKSOURCE: u32 = 1 << 2;
const CSR_COUNTFLAG: u32 = 1 << 16;
/// ITM stimulus port 0, trace enable and trace control (ARMv7-M ARM C1.7).
const ITM_STIM0: u32 = 0x0000;
const ITM_TER: u32 = 0x0E00;
const ITM_TCR: u32 = 0x0E80;
/// TCR as a probe leaves it with tracing on: ITMENA (CMSIS ITM_SendChar checks it).
const ITM_TCR_ENABLED: u32 = 1;
/// FPCCR at reset: ASPEN and LSPEN set (ARMv7-M ARM B3.2.21).
const FPCCR_RESET: u32 = 0xC000_0000;
/// CP10 and CP11 full access: the FPU is enabled.
const CPACR_FPU: u32 = 0xF << 20;
/// SysTick's external reference on STM32 parts is the core clock divided by 8
/// (RM0090 section 6.2, "SysTick calibration"), the usual choice for CLKSOURCE = 0.
const SYSTICK_EXTERNAL_DIVIDER: u64 = 8;

/// Cortex-M7 cache identification (ARMv7-M ARM B4.8, Cortex-M7 TRM 4.1.1;
/// values recalled, not re-read): CLIDR with separate L1 I and D caches and
/// LoUU = LoC = 1, CTR with 8-word lines.
const CLIDR: u32 = 0x0900_0003;
const CTR: u32 = 0x8303_C003;
const CLIDR_OFFSET: u32 = 0xED78;
const CTR_OFFSET: u32 = 0xED7C;
const CCSIDR_OFFSET: u32 = 0xED80;
const CSSELR_OFFSET: u32 = 0xED84;

/// CCSIDR of a cache: sets - 1, ways - 1, log2(words per line) - 2, with the
/// write-through, write-back, read- and write-allocate bits the M7 reports.
fn ccsidr(cache: CacheGeometry) -> u32 {
    let ways = cache.ways.max(1);
    let sets = (cache.lines / ways).max(1);
    let words = (cache.line_bytes / 4).max(4);
    0xF000_0000 | (sets - 1) << 13 | (ways - 1) << 3 | (words.trailing_zeros() - 2)
}

/// The CPUID each core reports (the TRMs' CPUID reset values): Cortex-M3 r2p1
/// (DDI 0337I), Cortex-M4 r0p1 (DDI 0439B), Cortex-M7 r1p2 (DDI 0489F).
fn cpuid(core: Core) -> u32 {
    match core {
        Core::CortexM3 => 0x412F_C231,
        Core::CortexM4 | Core::CortexM4f => 0x410F_C241,
        Core::CortexM7 | Core::CortexM7f => 0x411F_C272,
    }
}

#[derive(Debug, Clone, Default)]
struct SysTick {
    csr: u32,
    rvr: u32,
    /// Counter value at `loaded_at`.
    loaded_value: u32,
    /// Cycle at which the counter held `loaded_value`.
    loaded_at: u64,
    /// Wraps since `loaded_at` already folded into `countflag`.
    wraps_seen: u64,
    /// COUNTFLAG: set when the counter goes from 1 to 0, cleared by a read of
    /// CSR or a write to CVR, and by nothing else (ARMv7-M ARM B3.3.3): a
    /// tickless RTOS stops the counter and reads the flag after waking.
    countflag: bool,
}

impl SysTick {
    fn divider(&self) -> u64 {
        if self.csr & CSR_CLKSOURCE != 0 {
            1
        } else {
            SYSTICK_EXTERNAL_DIVIDER
        }
    }

    fn running(&self) -> bool {
        self.csr & CSR_ENABLE != 0
    }

    fn ticks(&self, now: u64) -> u64 {
        now.saturating_sub(self.loaded_at) / self.divider()
    }

    /// Number of 1 -> 0 transitions up to `now`.
    fn wraps(&self, now: u64) -> u64 {
        if !self.running() {
            return self.wraps_seen;
        }
        let (k, v0, period) = (
            self.ticks(now),
            u64::from(self.loaded_value),
            u64::from(self.rvr) + 1,
        );
        let first = if v0 > 0 { v0 } else { period };
        if self.rvr == 0 && v0 == 0 || k < first {
            0
        } else {
            1 + (k - first) / period
        }
    }

    fn value(&self, now: u64) -> u32 {
        if !self.running() {
            return self.loaded_value;
        }
        let (k, v0, period) = (
            self.ticks(now),
            u64::from(self.loaded_value),
            u64::from(self.rvr) + 1,
        );
        if k <= v0 {
            (v0 - k) as u32
        } else {
            (u64::from(self.rvr) - (k - v0 - 1) % period) as u32
        }
    }

    /// Cycle of the next wrap strictly after `now`, when it interrupts.
    fn next_interrupt(&self, now: u64) -> Option<u64> {
        if !self.running() || self.csr & CSR_TICKINT == 0 || self.rvr == 0 {
            return None;
        }
        let (v0, period) = (u64::from(self.loaded_value), u64::from(self.rvr) + 1);
        let first = if v0 > 0 { v0 } else { period };
        let k = self.ticks(now);
        let n = if k < first {
            0
        } else {
            1 + (k - first) / period
        };
        Some(self.loaded_at + (first + n * period) * self.divider())
    }

    /// Folds the wraps up to `now` into COUNTFLAG; call before the counter
    /// stops or reloads.
    fn latch(&mut self, now: u64) {
        let wraps = self.wraps(now);
        self.countflag |= wraps > self.wraps_seen;
        self.wraps_seen = wraps;
    }

    fn reload(&mut self, now: u64, value: u32) {
        self.loaded_at = now;
        self.loaded_value = value;
        self.wraps_seen = 0;
    }
}

/// The PPB registers of one run.
#[derive(Debug, Clone)]
pub struct SystemRegisters {
    core: Core,
    demcr: u32,
    dwt_ctrl: u32,
    /// CYCCNT value at `cyccnt_at` (while counting).
    cyccnt_value: u32,
    cyccnt_at: u64,
    systick: SysTick,
    /// Coprocessor access control; bits 20..23 enable the FPU.
    pub cpacr: u32,
    /// Vector table offset.
    pub vtor: u32,
    /// Configurable fault status.
    pub cfsr: u32,
    /// HardFault status.
    pub hfsr: u32,
    /// Fault address (BFAR and MMFAR).
    pub fault_address: u32,
    /// Exception state and the NVIC.
    pub nvic: Nvic,
    /// The Cortex-M7 cache identification: CCSIDR of the D-cache and the
    /// I-cache (0 on cores without caches), chosen by CSSELR.
    ccsidr: [u32; 2],
    /// Bytes written to ITM stimulus port 0 and not yet taken by the console.
    pub itm: Vec<u8>,
    other: HashMap<u32, u32>,
}

impl SystemRegisters {
    /// Registers at reset, with the vector table at `vtor`, `nvic`, and on a
    /// Cortex-M7 the L1 caches of `l1` (I-cache, D-cache geometry).
    pub fn new(
        core: Core,
        vtor: u32,
        nvic: Nvic,
        l1: Option<(CacheGeometry, CacheGeometry)>,
    ) -> SystemRegisters {
        SystemRegisters {
            core,
            demcr: 0,
            dwt_ctrl: 0,
            cyccnt_value: 0,
            cyccnt_at: 0,
            systick: SysTick::default(),
            cpacr: 0,
            vtor,
            cfsr: 0,
            hfsr: 0,
            fault_address: 0,
            nvic,
            ccsidr: l1.map_or([0; 2], |(i, d)| [ccsidr(d), ccsidr(i)]),
            itm: Vec::new(),
            other: HashMap::new(),
        }
    }

    /// Whether the FPU may be used (CPACR grants CP10/CP11).
    pub fn fpu_enabled(&self) -> bool {
        self.core.has_fpu() && self.cpacr & CPACR_FPU == CPACR_FPU
    }

    fn cyccnt_counting(&self) -> bool {
        self.demcr & DEMCR_TRCENA != 0 && self.dwt_ctrl & DWT_CYCCNTENA != 0
    }

    fn cyccnt(&self, now: u64) -> u32 {
        if self.cyccnt_counting() {
            self.cyccnt_value
                .wrapping_add((now - self.cyccnt_at) as u32)
        } else {
            self.cyccnt_value
        }
    }

    fn freeze_cyccnt(&mut self, now: u64) {
        self.cyccnt_value = self.cyccnt(now);
        self.cyccnt_at = now;
    }

    /// FP context control: whether frames carry FP state and stack it lazily.
    pub fn fpccr(&self) -> u32 {
        self.other.get(&reg::FPCCR).copied().unwrap_or(FPCCR_RESET)
    }

    /// Reads the register at `offset` at cycle `now`, in exception `ipsr`.
    pub fn read(&mut self, offset: u32, now: u64, ipsr: u32) -> u32 {
        if Nvic::serves(offset) {
            return self.nvic.read(offset, ipsr);
        }
        match offset {
            // The stimulus port's FIFO is always ready.
            ITM_STIM0 => 1,
            ITM_TER => 0xFFFF_FFFF,
            ITM_TCR => *self.other.get(&offset).unwrap_or(&ITM_TCR_ENABLED),
            reg::DWT_CTRL => self.dwt_ctrl | 0x4000_0000, // NUMCOMP = 4
            reg::DWT_CYCCNT => self.cyccnt(now),
            reg::SYST_CSR => {
                self.systick.latch(now);
                let flag = std::mem::take(&mut self.systick.countflag);
                self.systick.csr | if flag { CSR_COUNTFLAG } else { 0 }
            }
            reg::SYST_RVR => self.systick.rvr,
            reg::SYST_CVR => self.systick.value(now),
            // No reference clock calibration value (NOREF clear, SKEW set, TENMS 0).
            reg::SYST_CALIB => 1 << 30,
            reg::CPUID => cpuid(self.core),
            reg::VTOR => self.vtor,
            reg::CFSR => self.cfsr,
            reg::HFSR => self.hfsr,
            reg::MMFAR | reg::BFAR => self.fault_address,
            reg::CPACR => self.cpacr,
            reg::DEMCR => self.demcr,
            reg::FPCCR => self.fpccr(),
            CLIDR_OFFSET if self.ccsidr[0] != 0 => CLIDR,
            CTR_OFFSET if self.ccsidr[0] != 0 => CTR,
            CCSIDR_OFFSET => {
                let csselr = self.other.get(&CSSELR_OFFSET).copied().unwrap_or(0);
                self.ccsidr[(csselr & 1) as usize]
            }
            _ => self.other.get(&offset).copied().unwrap_or(0),
        }
    }

    /// Writes the register at `offset` at cycle `now`.
    pub fn write(&mut self, offset: u32, value: u32, now: u64) -> Result<(), NvicError> {
        if Nvic::serves(offset) {
            return self.nvic.write(offset, value);
        }
        match offset {
            ITM_STIM0 => self.itm.push(value as u8),
            reg::DWT_CTRL => {
                self.freeze_cyccnt(now);
                self.dwt_ctrl = value;
            }
            reg::DWT_CYCCNT => {
                self.cyccnt_value = value;
                self.cyccnt_at = now;
            }
            reg::DEMCR => {
                self.freeze_cyccnt(now);
                self.demcr = value;
            }
            reg::SYST_CSR => {
                self.systick.latch(now);
                let value_now = self.systick.value(now);
                let was_running = self.systick.running();
                self.systick.csr = value & (CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE);
                if self.systick.running() != was_running || self.systick.running() {
                    self.systick.reload(now, value_now);
                }
            }
            reg::SYST_RVR => {
                self.systick.latch(now);
                let value_now = self.systick.value(now);
                self.systick.rvr = value & 0x00FF_FFFF;
                self.systick.reload(now, value_now);
            }
            // Any write clears the counter and COUNTFLAG; the counter reloads
            // from RVR on the next tick.
            reg::SYST_CVR => {
                self.systick.reload(now, 0);
                self.systick.countflag = false;
            }
            reg::VTOR => self.vtor = value & !0x7F,
            reg::CFSR => self.cfsr &= !value,
            reg::HFSR => self.hfsr &= !value,
            reg::CPACR => self.cpacr = value,
            _ => {
                self.other.insert(offset, value);
            }
        }
        Ok(())
    }

    /// The core clock stopped for `cycles` (Stop mode): SysTick, which
    /// counts it, resumes where it stopped.
    pub fn pause_systick(&mut self, cycles: u64) {
        if self.systick.running() {
            self.systick.loaded_at = self.systick.loaded_at.saturating_add(cycles);
        }
    }

    /// The cycle at which SysTick next raises its exception, if it will.
    pub fn next_systick(&self, now: u64) -> Option<u64> {
        self.systick.next_interrupt(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyccnt_counts_only_when_enabled_and_keeps_writes() {
        let mut r = SystemRegisters::new(Core::CortexM4f, 0, Nvic::new(32, 3), None);
        assert_eq!(r.read(reg::DWT_CYCCNT, 100, 0), 0);
        r.write(reg::DEMCR, DEMCR_TRCENA, 100).unwrap();
        r.write(reg::DWT_CTRL, DWT_CYCCNTENA, 110).unwrap();
        assert_eq!(r.read(reg::DWT_CYCCNT, 150, 0), 40);
        r.write(reg::DWT_CYCCNT, 1000, 200).unwrap();
        assert_eq!(r.read(reg::DWT_CYCCNT, 205, 0), 1005);
        r.write(reg::DWT_CTRL, 0, 210).unwrap();
        assert_eq!(r.read(reg::DWT_CYCCNT, 9999, 0), 1010);
    }

    #[test]
    fn systick_counts_down_and_interrupts_every_period() {
        let mut r = SystemRegisters::new(Core::CortexM4f, 0, Nvic::new(32, 3), None);
        r.write(reg::SYST_RVR, 999, 0).unwrap();
        r.write(reg::SYST_CVR, 0, 0).unwrap();
        r.write(reg::SYST_CSR, CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE, 10)
            .unwrap();
        // CVR = 0 reloads on the first tick: wraps at 10 + 1000, 10 + 2000...
        assert_eq!(r.next_systick(10), Some(1010));
        assert_eq!(r.next_systick(1010), Some(2010));
        assert_eq!(r.read(reg::SYST_CVR, 11, 0), 999);
        assert_eq!(r.read(reg::SYST_CVR, 1009, 0), 1);
        assert_eq!(
            r.read(reg::SYST_CSR, 1500, 0) & CSR_COUNTFLAG,
            CSR_COUNTFLAG
        );
        assert_eq!(r.read(reg::SYST_CSR, 1600, 0) & CSR_COUNTFLAG, 0);
    }

    /// A tickless RTOS idle (FreeRTOS's vPortSuppressTicksAndSleep): the
    /// counter is stopped by a CSR write after the wake-up tick, and the flag
    /// it then reads must still say the counter reached 0.
    #[test]
    fn countflag_survives_stopping_and_reloading_and_clears_on_a_read_or_cvr_write() {
        let mut r = SystemRegisters::new(Core::CortexM4f, 0, Nvic::new(32, 3), None);
        let run = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
        r.write(reg::SYST_RVR, 99, 0).unwrap();
        r.write(reg::SYST_CVR, 0, 0).unwrap();
        r.write(reg::SYST_CSR, run, 0).unwrap();
        // Wraps at 100; stopped at 150 without a read; the flag is read at 160.
        r.write(reg::SYST_CSR, CSR_TICKINT | CSR_CLKSOURCE, 150)
            .unwrap();
        assert_eq!(r.read(reg::SYST_CVR, 155, 0), 50);
        r.write(reg::SYST_RVR, 999, 156).unwrap();
        assert_eq!(r.read(reg::SYST_CSR, 160, 0) & CSR_COUNTFLAG, CSR_COUNTFLAG);
        assert_eq!(r.read(reg::SYST_CSR, 161, 0) & CSR_COUNTFLAG, 0);
        // A wrap, then a CVR write: cleared.
        r.write(reg::SYST_CVR, 0, 170).unwrap();
        r.write(reg::SYST_CSR, run, 170).unwrap();
        assert_eq!(r.next_systick(170), Some(1170));
        r.write(reg::SYST_CVR, 0, 1200).unwrap();
        assert_eq!(r.read(reg::SYST_CSR, 1201, 0) & CSR_COUNTFLAG, 0);
    }

    #[test]
    fn an_m7_describes_its_l1_caches() {
        let d = CacheGeometry {
            lines: 128,
            line_bytes: 32,
            ways: 4,
        };
        let i = CacheGeometry { ways: 2, ..d };
        let mut r = SystemRegisters::new(Core::CortexM7f, 0, Nvic::new(32, 3), Some((i, d)));
        r.write(CSSELR_OFFSET, 0, 0).unwrap();
        // 4 KiB, 4 ways, 32-byte lines: 32 sets (the STM32F746 D-cache).
        assert_eq!(r.read(CCSIDR_OFFSET, 0, 0), 0xF003_E019);
        r.write(CSSELR_OFFSET, 1, 0).unwrap();
        assert_eq!(r.read(CCSIDR_OFFSET, 0, 0), 0xF007_E009);
        assert_eq!(r.read(CLIDR_OFFSET, 0, 0), CLIDR);
    }

    #[test]
    fn cpacr_gates_the_fpu_and_cpuid_names_the_core() {
        let mut r = SystemRegisters::new(Core::CortexM4f, 0, Nvic::new(32, 3), None);
        assert!(!r.fpu_enabled());
        r.write(reg::CPACR, CPACR_FPU, 0).unwrap();
        assert!(r.fpu_enabled());
        assert!(!SystemRegisters::new(Core::CortexM3, 0, Nvic::new(32, 3), None).fpu_enabled());
        assert_eq!(r.read(reg::CPUID, 0, 0), 0x410F_C241);
    }
}
