//! The exception state of the ARMv7-M ARM (B1.5): which exceptions are
//! enabled, pending and active, their priorities (SHPR1-3, NVIC_IPR, grouped
//! by AIRCR.PRIGROUP), and the registers of the SCB and NVIC that show and
//! change them (ICSR, AIRCR, SCR, SHCSR, NVIC_ISER/ICER/ISPR/ICPR/IABR/IPR,
//! STIR). This is pure bookkeeping; the machine stacks frames and switches
//! modes (see `exceptions`).

/// Exception numbers (ARMv7-M ARM B1.5.2).
pub mod exception {
    /// NMI.
    pub const NMI: u32 = 2;
    /// HardFault.
    pub const HARD_FAULT: u32 = 3;
    /// MemManage.
    pub const MEM_MANAGE: u32 = 4;
    /// BusFault.
    pub const BUS_FAULT: u32 = 5;
    /// UsageFault.
    pub const USAGE_FAULT: u32 = 6;
    /// SVCall.
    pub const SVCALL: u32 = 11;
    /// DebugMonitor.
    pub const DEBUG_MONITOR: u32 = 12;
    /// PendSV.
    pub const PENDSV: u32 = 14;
    /// SysTick.
    pub const SYSTICK: u32 = 15;
    /// The first external interrupt (IRQ 0).
    pub const IRQ0: u32 = 16;

    /// The architecture's name of exception `number` (Armv7-M ARM B1.5.2).
    pub fn name(number: u32) -> String {
        match number {
            1 => "Reset".into(),
            NMI => "NMI".into(),
            HARD_FAULT => "HardFault".into(),
            MEM_MANAGE => "MemManage".into(),
            BUS_FAULT => "BusFault".into(),
            USAGE_FAULT => "UsageFault".into(),
            SVCALL => "SVCall".into(),
            DEBUG_MONITOR => "DebugMonitor".into(),
            PENDSV => "PendSV".into(),
            SYSTICK => "SysTick".into(),
            n if n >= IRQ0 => format!("IRQ {}", n - IRQ0),
            n => format!("reserved exception {n}"),
        }
    }
}

/// Offsets of the registers served here within the PPB (0xE000_0000).
pub mod reg {
    /// Interrupt control and state.
    pub const ICSR: u32 = 0xED04;
    /// Application interrupt and reset control.
    pub const AIRCR: u32 = 0xED0C;
    /// System control (sleep on exit, deep sleep, SEVONPEND).
    pub const SCR: u32 = 0xED10;
    /// Configuration and control.
    pub const CCR: u32 = 0xED14;
    /// System handler priorities 4..7.
    pub const SHPR1: u32 = 0xED18;
    /// System handler priorities 12..15.
    pub const SHPR3: u32 = 0xED20;
    /// System handler control and state.
    pub const SHCSR: u32 = 0xED24;
    /// Interrupt set-enable registers.
    pub const ISER: u32 = 0xE100;
    /// Interrupt clear-enable registers.
    pub const ICER: u32 = 0xE180;
    /// Interrupt set-pending registers.
    pub const ISPR: u32 = 0xE200;
    /// Interrupt clear-pending registers.
    pub const ICPR: u32 = 0xE280;
    /// Interrupt active bit registers.
    pub const IABR: u32 = 0xE300;
    /// Interrupt priority registers.
    pub const IPR: u32 = 0xE400;
    /// Software trigger interrupt.
    pub const STIR: u32 = 0xEF00;
}

const ICSR_PENDSVSET: u32 = 1 << 28;
const ICSR_PENDSVCLR: u32 = 1 << 27;
const ICSR_PENDSTSET: u32 = 1 << 26;
const ICSR_PENDSTCLR: u32 = 1 << 25;
const ICSR_NMIPENDSET: u32 = 1 << 31;
const ICSR_ISRPENDING: u32 = 1 << 22;
const ICSR_RETTOBASE: u32 = 1 << 11;
const AIRCR_VECTKEY: u32 = 0x05FA;
/// AIRCR SYSRESETREQ: the firmware asks the part to reset (B3.2.6).
const AIRCR_SYSRESETREQ: u32 = 1 << 2;
/// Reading AIRCR returns VECTKEYSTAT 0xFA05 in the top half.
const AIRCR_VECTKEYSTAT: u32 = 0xFA05 << 16;
/// SCR bits (ARMv7-M ARM B3.2.7).
const SCR_SLEEPONEXIT: u32 = 1 << 1;
const SCR_SLEEPDEEP: u32 = 1 << 2;
/// CCR reset value: STKALIGN set (8-byte frame alignment), as on the
/// Cortex-M4 and Cortex-M3 r2p0+ (Cortex-M4 TRM 4.3.? "CCR"; recalled, not re-read).
const CCR_RESET: u32 = 1 << 9;
/// CCR.UNALIGN_TRP: every unaligned word or halfword access faults (B3.2.8).
const CCR_UNALIGN_TRP: u32 = 1 << 3;
/// SHCSR enable bits for MemManage, BusFault and UsageFault (B3.2.13).
const SHCSR_ENABLES: [(u32, u32); 3] = [
    (exception::MEM_MANAGE, 1 << 16),
    (exception::BUS_FAULT, 1 << 17),
    (exception::USAGE_FAULT, 1 << 18),
];
/// SHCSR active and pending bits, by exception (B3.2.13).
const SHCSR_STATE: [(u32, u32, bool); 10] = [
    (exception::MEM_MANAGE, 1 << 0, true),
    (exception::BUS_FAULT, 1 << 1, true),
    (exception::USAGE_FAULT, 1 << 3, true),
    (exception::SVCALL, 1 << 7, true),
    (exception::DEBUG_MONITOR, 1 << 8, true),
    (exception::PENDSV, 1 << 10, true),
    (exception::SYSTICK, 1 << 11, true),
    (exception::USAGE_FAULT, 1 << 12, false),
    (exception::MEM_MANAGE, 1 << 13, false),
    (exception::BUS_FAULT, 1 << 14, false),
];
/// SHCSR SVCALLPENDED (bit 15).
const SHCSR_SVCALLPENDED: u32 = 1 << 15;

/// The priority of thread mode with nothing active and no mask: below every exception.
pub const THREAD_PRIORITY: i16 = 256;

/// The masks of the special registers, as the core holds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Masks {
    /// PRIMASK: boosts to priority 0.
    pub primask: bool,
    /// FAULTMASK: boosts to priority -1.
    pub faultmask: bool,
    /// BASEPRI: boosts to its value when not 0.
    pub basepri: u8,
}

/// Why a register access was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NvicError {
    /// The firmware named an interrupt the part does not have.
    #[error("IRQ {irq} does not exist on this part (it has IRQ 0..{last}) ({register})")]
    UnknownIrq {
        /// The IRQ number.
        irq: u32,
        /// The highest IRQ the part has.
        last: u32,
        /// The register written.
        register: &'static str,
    },
}

/// A set of exception numbers, one bit each: the NVIC's enabled, pending and
/// active states, scanned a word at a time on every exception entry and return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ExceptionSet([u64; EXCEPTION_WORDS]);

/// Words of an [`ExceptionSet`]: 16 system exceptions and at most 240 IRQs.
const EXCEPTION_WORDS: usize = 4;

impl ExceptionSet {
    fn get(&self, n: u32) -> bool {
        self.0
            .get(n as usize / 64)
            .is_some_and(|w| w >> (n % 64) & 1 != 0)
    }

    fn set(&mut self, n: u32, on: bool) {
        if let Some(w) = self.0.get_mut(n as usize / 64) {
            if on {
                *w |= 1 << (n % 64);
            } else {
                *w &= !(1 << (n % 64));
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    fn and(&self, other: &ExceptionSet) -> ExceptionSet {
        ExceptionSet(std::array::from_fn(|i| self.0[i] & other.0[i]))
    }

    /// The numbers in the set, lowest first.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    64 * i as u32 + bit
                })
            })
        })
    }
}

/// Enabled, pending and active exceptions and their priorities.
#[derive(Debug, Clone)]
pub struct Nvic {
    /// Exceptions the part has: 16 system ones plus its external IRQs.
    count: u32,
    /// Implemented priority bits (the top bits of each 8-bit field).
    priority_bits: u8,
    enabled: ExceptionSet,
    pending: ExceptionSet,
    active: ExceptionSet,
    /// Programmed 8-bit priority per exception (fixed ones ignored).
    priority: Vec<u8>,
    prigroup: u32,
    shcsr_enables: u32,
    scr: u32,
    ccr: u32,
    /// Whether the firmware wrote AIRCR.SYSRESETREQ.
    pub reset_requested: bool,
}

impl Nvic {
    /// The state at reset of a part with `irqs` external interrupts and
    /// `priority_bits` implemented priority bits.
    pub fn new(irqs: u32, priority_bits: u8) -> Nvic {
        let count = exception::IRQ0 + irqs.min(240);
        let mut enabled = ExceptionSet::default();
        // System exceptions are always enabled, except the configurable faults (SHCSR).
        for n in 0..exception::IRQ0 {
            enabled.set(n, true);
        }
        Nvic {
            count,
            priority_bits: priority_bits.clamp(3, 8),
            enabled,
            pending: ExceptionSet::default(),
            active: ExceptionSet::default(),
            priority: vec![0; count as usize],
            prigroup: 0,
            shcsr_enables: 0,
            scr: 0,
            ccr: CCR_RESET,
            reset_requested: false,
        }
    }

    /// External IRQs the part has.
    pub fn irqs(&self) -> u32 {
        self.count - exception::IRQ0
    }

    fn exists(&self, number: u32) -> bool {
        number < self.count && !matches!(number, 0 | 1 | 7..=10 | 13)
    }

    /// The priority of exception `number`: fixed for Reset, NMI and HardFault
    /// (-3, -2, -1), else its programmed value.
    pub fn priority(&self, number: u32) -> i16 {
        match number {
            1 => -3,
            exception::NMI => -2,
            exception::HARD_FAULT => -1,
            n => i16::from(self.priority.get(n as usize).copied().unwrap_or(0)),
        }
    }

    /// The group priority of exception `number`.
    pub fn group_priority(&self, number: u32) -> i16 {
        self.group(self.priority(number))
    }

    /// The group priority of an 8-bit priority value under AIRCR.PRIGROUP (B1.5.4).
    fn group(&self, priority: i16) -> i16 {
        if priority < 0 {
            priority
        } else {
            priority & (0xFF << (self.prigroup + 1)) as i16 & 0xFF
        }
    }

    /// Whether the configurable fault `number` is enabled in SHCSR (others always are).
    pub fn fault_enabled(&self, number: u32) -> bool {
        SHCSR_ENABLES
            .iter()
            .find(|&&(n, _)| n == number)
            .is_none_or(|&(_, bit)| self.shcsr_enables & bit != 0)
    }

    /// Whether `number` is active.
    pub fn is_active(&self, number: u32) -> bool {
        self.active.get(number)
    }

    /// Whether any exception is active (the core is in handler mode).
    pub fn any_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// The execution priority: the highest (numerically lowest) group
    /// priority of the active exceptions and of the boosts the masks apply (B1.5.4).
    pub fn execution_priority(&self, masks: Masks) -> i16 {
        let mut p = THREAD_PRIORITY;
        for n in self.active.iter() {
            p = p.min(self.group(self.priority(n)));
        }
        if masks.basepri != 0 {
            p = p.min(self.group(i16::from(self.implemented(masks.basepri))));
        }
        if masks.primask {
            p = p.min(0);
        }
        if masks.faultmask {
            p = p.min(-1);
        }
        p
    }

    /// `value` with the unimplemented low priority bits cleared.
    fn implemented(&self, value: u8) -> u8 {
        value & (0xFF << (8 - self.priority_bits)) as u8
    }

    /// Pends exception `number` (an interrupt line, SysTick, PendSV...).
    pub fn set_pending(&mut self, number: u32) {
        if number < self.count {
            self.pending.set(number, true);
        }
    }

    /// Clears the pending state of `number`.
    pub fn clear_pending(&mut self, number: u32) {
        self.pending.set(number, false);
    }

    /// Whether `number` is pending.
    pub fn is_pending(&self, number: u32) -> bool {
        self.pending.get(number)
    }

    /// The pending, enabled exception that would be taken next, with the
    /// priority order of B1.5.4: lowest priority value, then lowest number.
    pub fn highest_pending(&self) -> Option<u32> {
        self.pending
            .and(&self.enabled)
            .iter()
            .min_by_key(|&n| (self.priority(n), n))
    }

    /// The exception that preempts execution at `masks` now, if any.
    pub fn preempting(&self, masks: Masks) -> Option<u32> {
        let n = self.highest_pending()?;
        (self.group(self.priority(n)) < self.execution_priority(masks)).then_some(n)
    }

    /// Whether a pending exception would wake the core from WFI: one that
    /// would preempt if PRIMASK were clear (B1.5.19).
    pub fn wakes(&self, masks: Masks) -> bool {
        let unmasked = Masks {
            primask: false,
            ..masks
        };
        self.preempting(unmasked).is_some()
    }

    /// Marks `number` taken: active, no longer pending.
    pub fn activate(&mut self, number: u32) {
        self.clear_pending(number);
        self.set_active(number, true);
    }

    /// Marks `number` returned from.
    pub fn deactivate(&mut self, number: u32) {
        self.set_active(number, false);
    }

    fn set_active(&mut self, number: u32, on: bool) {
        if number < self.count {
            self.active.set(number, on);
        }
    }

    /// Whether every unaligned word or halfword access is a UsageFault (CCR.UNALIGN_TRP).
    pub fn traps_unaligned(&self) -> bool {
        self.ccr & CCR_UNALIGN_TRP != 0
    }

    /// Whether the core sleeps again instead of returning to thread mode (SCR.SLEEPONEXIT).
    pub fn sleep_on_exit(&self) -> bool {
        self.scr & SCR_SLEEPONEXIT != 0
    }

    /// Whether sleep is deep sleep (SCR.SLEEPDEEP): the part's stop mode.
    pub fn sleep_deep(&self) -> bool {
        self.scr & SCR_SLEEPDEEP != 0
    }

    /// CCR.IC and CCR.DC: whether a Cortex-M7's L1 caches are on.
    pub fn l1_caches(&self) -> (bool, bool) {
        (self.ccr & 1 << 17 != 0, self.ccr & 1 << 16 != 0)
    }

    /// Whether registers at `offset` (PPB) are served here.
    pub fn serves(offset: u32) -> bool {
        matches!(
            offset,
            reg::ICSR | reg::AIRCR | reg::SCR | reg::CCR | reg::SHCSR | reg::STIR
        ) || (reg::SHPR1..reg::SHPR3 + 4).contains(&offset)
            || (reg::ISER..reg::IPR + 0xF0).contains(&offset)
    }

    /// Whether a narrower store into the word at `offset` keeps the other
    /// lanes (priority bytes); the set/clear and trigger registers take the
    /// written lanes alone, as merging would repeat their other bits.
    pub fn merges_lanes(offset: u32) -> bool {
        !(matches!(offset, reg::ICSR | reg::STIR) || (reg::ISER..reg::IPR).contains(&offset))
    }

    /// Reads the word at PPB `offset`; `current` is the active exception number (IPSR).
    pub fn read(&self, offset: u32, current: u32) -> u32 {
        match offset {
            reg::ICSR => self.icsr(current),
            reg::AIRCR => AIRCR_VECTKEYSTAT | self.prigroup << 8,
            reg::SCR => self.scr,
            reg::CCR => self.ccr,
            reg::SHCSR => self.shcsr(),
            o if (reg::SHPR1..reg::SHPR3 + 4).contains(&o) => {
                self.priority_word(4 + (o - reg::SHPR1))
            }
            o if (reg::IPR..reg::IPR + 0xF0).contains(&o) => {
                self.priority_word(exception::IRQ0 + (o - reg::IPR))
            }
            o if (reg::ISER..reg::IPR).contains(&o) => {
                let (bank, word) = ((o - reg::ISER) / 0x80, (o & 0x7F) / 4);
                let bits = match bank {
                    0 | 1 => &self.enabled,
                    2 | 3 => &self.pending,
                    4 => &self.active,
                    _ => return 0,
                };
                (0..32)
                    .filter(|b| bits.get(exception::IRQ0 + 32 * word + b))
                    .fold(0, |acc, b| acc | 1 << b)
            }
            _ => 0,
        }
    }

    /// Writes the word at PPB `offset`. Writes that name an IRQ the part lacks
    /// are errors: on silicon they are ignored, which hides a firmware built
    /// for another part.
    pub fn write(&mut self, offset: u32, value: u32) -> Result<(), NvicError> {
        match offset {
            reg::ICSR => {
                if value & ICSR_NMIPENDSET != 0 {
                    self.set_pending(exception::NMI);
                }
                if value & ICSR_PENDSVSET != 0 {
                    self.set_pending(exception::PENDSV);
                } else if value & ICSR_PENDSVCLR != 0 {
                    self.clear_pending(exception::PENDSV);
                }
                if value & ICSR_PENDSTSET != 0 {
                    self.set_pending(exception::SYSTICK);
                } else if value & ICSR_PENDSTCLR != 0 {
                    self.clear_pending(exception::SYSTICK);
                }
            }
            // Writes without the key are ignored (B3.2.6).
            reg::AIRCR if value >> 16 == AIRCR_VECTKEY => {
                self.prigroup = (value >> 8) & 7;
                self.reset_requested |= value & AIRCR_SYSRESETREQ != 0;
            }
            reg::SCR => self.scr = value & 0x16,
            // Cortex-M7 adds IC, DC and BP (bits 17, 16, 18) to the ARMv7-M bits.
            reg::CCR => self.ccr = value & 0x7_031B,
            reg::SHCSR => {
                self.shcsr_enables = value & 0x7_0000;
                for &(n, bit, active) in &SHCSR_STATE {
                    let on = value & bit != 0;
                    if active {
                        self.set_active(n, on);
                    } else if on {
                        self.set_pending(n);
                    } else {
                        self.clear_pending(n);
                    }
                }
                if value & SHCSR_SVCALLPENDED != 0 {
                    self.set_pending(exception::SVCALL);
                } else {
                    self.clear_pending(exception::SVCALL);
                }
            }
            reg::STIR => {
                let irq = value & 0x1FF;
                self.check_irq(irq, "STIR")?;
                self.set_pending(exception::IRQ0 + irq);
            }
            o if (reg::SHPR1..reg::SHPR3 + 4).contains(&o) => {
                self.set_priority_word(4 + (o - reg::SHPR1), value);
            }
            o if (reg::IPR..reg::IPR + 0xF0).contains(&o) => {
                self.set_priority_word(exception::IRQ0 + (o - reg::IPR), value);
            }
            o if (reg::ISER..reg::IABR).contains(&o) => {
                let (bank, word) = ((o - reg::ISER) / 0x80, (o & 0x7F) / 4);
                let name = ["NVIC_ISER", "NVIC_ICER", "NVIC_ISPR", "NVIC_ICPR"][bank as usize];
                for b in (0..32).filter(|b| value & (1 << b) != 0) {
                    let irq = 32 * word + b;
                    // Clearing every bit of ICER/ICPR is common start-up code: only
                    // enabling or pending a missing IRQ is an error.
                    if exception::IRQ0 + irq >= self.count && bank % 2 == 1 {
                        continue;
                    }
                    self.check_irq(irq, name)?;
                    let n = exception::IRQ0 + irq;
                    match bank {
                        0 => self.enabled.set(n, true),
                        1 => self.enabled.set(n, false),
                        2 => self.set_pending(n),
                        _ => self.clear_pending(n),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_irq(&self, irq: u32, register: &'static str) -> Result<(), NvicError> {
        if exception::IRQ0 + irq < self.count {
            Ok(())
        } else {
            Err(NvicError::UnknownIrq {
                irq,
                last: self.irqs().saturating_sub(1),
                register,
            })
        }
    }

    fn priority_word(&self, first: u32) -> u32 {
        (0..4).fold(0, |acc, i| {
            let n = first + i;
            let p = if self.exists(n) && n >= exception::MEM_MANAGE {
                self.priority[n as usize]
            } else {
                0
            };
            acc | u32::from(p) << (8 * i)
        })
    }

    fn set_priority_word(&mut self, first: u32, value: u32) {
        for i in 0..4 {
            let n = first + i;
            if self.exists(n) && n >= exception::MEM_MANAGE {
                self.priority[n as usize] = self.implemented((value >> (8 * i)) as u8);
            }
        }
    }

    /// Pends external interrupt `irq`: a peripheral raised its line.
    pub fn raise_irq(&mut self, irq: u32) {
        self.set_pending(exception::IRQ0 + irq);
    }

    fn icsr(&self, current: u32) -> u32 {
        let pending = self.highest_pending().unwrap_or(0);
        let mut v = current & 0x1FF | (pending & 0x1FF) << 12;
        if self.pending.iter().any(|n| n >= exception::IRQ0) {
            v |= ICSR_ISRPENDING;
        }
        if self.active.iter().nth(1).is_none() {
            v |= ICSR_RETTOBASE;
        }
        if self.is_pending(exception::NMI) {
            v |= ICSR_NMIPENDSET;
        }
        if self.is_pending(exception::PENDSV) {
            v |= ICSR_PENDSVSET;
        }
        if self.is_pending(exception::SYSTICK) {
            v |= ICSR_PENDSTSET;
        }
        v
    }

    fn shcsr(&self) -> u32 {
        let mut v = self.shcsr_enables;
        for &(n, bit, active) in &SHCSR_STATE {
            let on = if active {
                self.is_active(n)
            } else {
                self.is_pending(n)
            };
            if on {
                v |= bit;
            }
        }
        if self.is_pending(exception::SVCALL) {
            v |= SHCSR_SVCALLPENDED;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_sets_hold_every_number_in_order() {
        let mut set = ExceptionSet::default();
        for n in [255, 0, 64, 63, 15, 128] {
            set.set(n, true);
        }
        set.set(300, true); // past the last exception: ignored
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 15, 63, 64, 128, 255]);
        set.set(63, false);
        assert!(!set.get(63) && set.get(64));
        let mut other = ExceptionSet::default();
        other.set(64, true);
        other.set(1, true);
        assert_eq!(set.and(&other).iter().collect::<Vec<_>>(), [64]);
        assert!(ExceptionSet::default().is_empty() && !set.is_empty());
    }

    #[test]
    fn the_highest_pending_wins_by_priority_then_number() {
        let mut n = Nvic::new(240, 8);
        for irq in [200, 3, 100] {
            n.write(reg::ISER + 4 * (irq / 32), 1 << (irq % 32))
                .unwrap();
            n.raise_irq(irq);
        }
        assert_eq!(n.highest_pending(), Some(exception::IRQ0 + 3));
        n.write(reg::IPR + 200, 0x40).unwrap(); // IRQ 200's byte at 0: highest
        n.write(reg::IPR + 100, 0x80).unwrap();
        n.write(reg::IPR, 0xC0 << 24).unwrap(); // IRQ 3: lowest
        assert_eq!(n.highest_pending(), Some(exception::IRQ0 + 200));
    }

    fn nvic() -> Nvic {
        Nvic::new(32, 3)
    }

    #[test]
    fn the_lowest_priority_value_wins_then_the_lowest_number() {
        let mut n = nvic();
        n.write(reg::ISER, 0b11).unwrap();
        n.write(reg::IPR, 0x0000_4040).unwrap();
        n.write(reg::ISPR, 0b11).unwrap();
        assert_eq!(n.highest_pending(), Some(16));
        n.write(reg::IPR, 0x0000_2040).unwrap();
        assert_eq!(n.highest_pending(), Some(17));
        assert_eq!(n.read(reg::IPR, 0), 0x0000_2040);
    }

    #[test]
    fn unimplemented_priority_bits_read_zero() {
        let mut n = nvic();
        n.write(reg::SHPR3, 0xFFFF_0000).unwrap();
        assert_eq!(n.read(reg::SHPR3, 0), 0xE0E0_0000);
        assert_eq!(n.priority(exception::PENDSV), 0xE0);
    }

    #[test]
    fn only_a_higher_group_priority_preempts() {
        let mut n = Nvic::new(32, 8);
        // PRIGROUP 5: bits 7:6 group, 5:0 subpriority.
        n.write(reg::AIRCR, 0x05FA_0500).unwrap();
        n.write(reg::ISER, 0b11).unwrap();
        n.write(reg::IPR, 0x0000_4050).unwrap(); // IRQ0 0x50, IRQ1 0x40: same group 0x40
        n.activate(16);
        n.set_pending(17);
        assert_eq!(n.preempting(Masks::default()), None);
        n.write(reg::IPR, 0x0000_0050).unwrap(); // IRQ1 group 0x00
        assert_eq!(n.preempting(Masks::default()), Some(17));
    }

    #[test]
    fn masks_boost_the_execution_priority() {
        let mut n = nvic();
        n.write(reg::ISER, 1).unwrap();
        n.write(reg::IPR, 0x40).unwrap();
        n.set_pending(16);
        let base = Masks::default();
        assert_eq!(n.preempting(base), Some(16));
        let basepri = Masks {
            basepri: 0x40,
            ..base
        };
        assert_eq!(n.preempting(basepri), None);
        let primask = Masks {
            primask: true,
            ..base
        };
        assert_eq!(n.preempting(primask), None);
        assert!(
            n.wakes(primask),
            "WFI wakes on a pending interrupt under PRIMASK"
        );
        assert!(!n.wakes(basepri));
    }

    #[test]
    fn icsr_shows_pending_and_active_exceptions() {
        let mut n = nvic();
        n.write(reg::ICSR, ICSR_PENDSVSET).unwrap();
        assert_eq!(n.read(reg::ICSR, 0) >> 12 & 0x1FF, exception::PENDSV);
        n.activate(exception::PENDSV);
        assert_eq!(
            n.read(reg::ICSR, exception::PENDSV) & 0x1FF,
            exception::PENDSV
        );
        assert_eq!(n.read(reg::ICSR, 0) & ICSR_PENDSVSET, 0);
    }

    #[test]
    fn sysresetreq_is_noted_only_with_the_key() {
        let mut n = nvic();
        n.write(reg::AIRCR, 1 << 2).unwrap();
        assert!(!n.reset_requested, "no VECTKEY: ignored");
        n.write(reg::AIRCR, 0x05FA_0004).unwrap();
        assert!(n.reset_requested);
    }

    #[test]
    fn an_irq_the_part_lacks_is_an_error() {
        let mut n = nvic();
        let err = n.write(reg::ISER + 4, 1 << 8).unwrap_err();
        assert_eq!(
            err.to_string(),
            "IRQ 40 does not exist on this part (it has IRQ 0..31) (NVIC_ISER)"
        );
    }
}
