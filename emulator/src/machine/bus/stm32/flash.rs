//! Flash interface access control (FLASH_ACR): the wait states, prefetch and
//! caches the firmware sets for reading the flash. Every ACR write puts them
//! in force for the cost model; until the firmware first programs ACR or the
//! RCC clock tree the target's configured wait states apply, and from then on
//! what ACR holds (its reset value until written). The other registers of the block (keys, status,
//! control, option bytes) only keep what is written here: programming is the
//! machine's flash controller's business, not these models'.

use super::{merge, reset_file, Family, RegDef};
use crate::machine::bus::{BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::FlashSettings;
use crate::target::{PeripheralSpec, Target};

/// Reads the word at `offset`, ACR through `acr`.
fn read_with(regs: &RegisterFile, offset: u32, acr: impl Fn(u32) -> u32) -> u32 {
    let value = regs.get(offset);
    if offset == 0 {
        acr(value)
    } else {
        value
    }
}

/// RM0008 3.3.3 / ST's STM32F103 SVD (v1.2): ACR resets with the prefetch
/// buffer on (PRFTBE, PRFTBS); CR with LOCK; option bytes erased.
const F1_REGS: &[RegDef] = &[
    (0x00, "ACR", 0x0000_0030),
    (0x10, "CR", 0x0000_0080),
    (0x1C, "OBR", 0x03FF_FFFC),
    (0x20, "WRPR", 0xFFFF_FFFF),
];

/// STM32F1 flash interface: LATENCY, HLFCYA and PRFTBE, with PRFTBS (the
/// prefetch buffer status) following PRFTBE.
pub struct F1Flash {
    regs: RegisterFile,
}

impl F1Flash {
    /// The FLASH block as `spec` describes it.
    pub fn new(spec: &PeripheralSpec) -> F1Flash {
        F1Flash {
            regs: reset_file(F1_REGS, spec),
        }
    }
}

impl Peripheral for F1Flash {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(read_with(&self.regs, offset, |acr| {
            acr & 0x1F | (acr >> 4 & 1) << 5
        }))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if offset != 0 {
            self.regs.set(offset, value, mask);
            return Ok(());
        }
        // LATENCY (2:0), HLFCYA (3), PRFTBE (4).
        let acr = merge(self.regs.get(0), value, mask & 0x1F);
        self.regs.set(0, acr, u32::MAX);
        self.apply(ctx.flash);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        (offset == 0).then_some("ACR")
    }

    fn flash_settings(&self, mut now: FlashSettings) -> Option<FlashSettings> {
        self.apply(&mut now);
        Some(now)
    }
}

impl F1Flash {
    /// Puts what ACR says into `flash`.
    fn apply(&self, flash: &mut FlashSettings) {
        let acr = self.regs.get(0);
        flash.wait_states = acr & 0x7;
        flash.prefetch = acr >> 4 & 1 == 1;
        flash.icache = false;
        flash.dcache = false;
    }
}

/// RM0090 3.9.7, RM0385 3.7.6: CR resets locked. The other registers are the
/// machine's flash controller's; these values only serve reads it passes on.
const F4_REGS: &[RegDef] = &[(0x00, "ACR", 0), (0x10, "CR", 0x8000_0000)];

/// STM32F4/F7 flash interface ACR. F4: LATENCY, PRFTEN, ICEN, DCEN, ICRST,
/// DCRST (RM0090 3.9.1). F7: LATENCY, PRFTEN, ARTEN (bit 9), ARTRST (bit 11)
/// (RM0385 3.7.1); there the caches in the flash timing are the core's L1.
pub struct F4Flash {
    regs: RegisterFile,
    /// Bits of ACR software can write.
    writable: u32,
    f7: bool,
}

impl F4Flash {
    /// The FLASH block of `target`.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> F4Flash {
        let f7 = Family::of(target) == Family::F7;
        let part = target.part.to_ascii_uppercase();
        // LATENCY is 3 bits on the F405/407/415/417, 4 bits on the others
        // (RM0090 3.9.1, and stm32f407xx.h FLASH_ACR_LATENCY_Msk 0x7).
        let latency = if ["STM32F40", "STM32F41"].iter().any(|p| part.starts_with(p)) {
            0x7
        } else {
            0xF
        };
        let writable = if f7 {
            latency | 0x0B00
        } else {
            latency | 0x1F00
        };
        F4Flash {
            regs: reset_file(F4_REGS, spec),
            writable,
            f7,
        }
    }
}

impl Peripheral for F4Flash {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.regs.get(offset))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if offset != 0 {
            self.regs.set(offset, value, mask);
            return Ok(());
        }
        let acr = merge(self.regs.get(0), value, mask & self.writable);
        self.regs.set(0, acr, u32::MAX);
        self.apply(ctx.flash);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        (offset == 0).then_some("ACR")
    }

    fn flash_settings(&self, mut now: FlashSettings) -> Option<FlashSettings> {
        self.apply(&mut now);
        Some(now)
    }
}

impl F4Flash {
    /// Puts what ACR says into `flash`.
    fn apply(&self, flash: &mut FlashSettings) {
        let acr = self.regs.get(0);
        flash.wait_states = acr & 0xF;
        flash.prefetch = acr >> 8 & 1 == 1;
        // On the F7 the caches the model keeps are the core's L1 (CCR.IC/DC);
        // the ART serves the ITCM path, which the flash timing does not model.
        if !self.f7 {
            flash.icache = acr >> 9 & 1 == 1;
            flash.dcache = acr >> 10 & 1 == 1;
        }
    }
}

/// ST's STM32H743 SVD (2023): ACR resets at LATENCY 7, WRHIGHFREQ 3, and is
/// visible at 0x000 and at 0x100 (the bank 2 view); CR1/CR2 reset locked
/// with PSIZE 64 bits, 0x31 (the SVD gives CR1 as 0, CR2 as 0x31; RM0433
/// 4.9.4 gives both 0x31, recalled, not re-read).
const H7_REGS: &[RegDef] = &[
    (0x000, "ACR", 0x0000_0037),
    (0x00C, "CR1", 0x0000_0031),
    (0x10C, "CR2", 0x0000_0031),
];

/// STM32H7 flash interface ACR: LATENCY and WRHIGHFREQ. The H7 has no flash
/// accelerator; its caches are the core's L1, which this model leaves alone.
pub struct H7Flash {
    regs: RegisterFile,
}

impl H7Flash {
    /// The FLASH block as `spec` describes it.
    pub fn new(spec: &PeripheralSpec) -> H7Flash {
        H7Flash {
            regs: reset_file(H7_REGS, spec),
        }
    }
}

/// The H7's second view of ACR.
fn h7_canonical(offset: u32) -> u32 {
    if offset == 0x100 {
        0
    } else {
        offset
    }
}

impl Peripheral for H7Flash {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.regs.get(h7_canonical(offset)))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let offset = h7_canonical(offset);
        if offset != 0 {
            self.regs.set(offset, value, mask);
            return Ok(());
        }
        // LATENCY (3:0), WRHIGHFREQ (5:4).
        let acr = merge(self.regs.get(0), value, mask & 0x3F);
        self.regs.set(0, acr, u32::MAX);
        self.apply(ctx.flash);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        (h7_canonical(offset) == 0).then_some("ACR")
    }

    fn flash_settings(&self, mut now: FlashSettings) -> Option<FlashSettings> {
        self.apply(&mut now);
        Some(now)
    }
}

impl H7Flash {
    /// Puts what ACR says into `flash`.
    fn apply(&self, flash: &mut FlashSettings) {
        // LATENCY counts AXI clock cycles; the cost model counts core cycles
        // and the H743 target assumes AXI = core / 2 (HPRE /2, needed above
        // 240 MHz): a read of LATENCY + 1 AXI cycles costs 2 x (LATENCY + 1)
        // core cycles, one of which a zero-wait access takes anyway (see
        // targets/stm32h743.toml [flash]).
        flash.wait_states = 2 * ((self.regs.get(0) & 0xF) + 1) - 1;
    }
}

/// ST's STM32L4R5 SVD (v1.6): ACR resets with both caches on (ICEN, DCEN),
/// CR locked (LOCK, OPTLOCK), option bytes and protections as shipped.
const L4_REGS: &[RegDef] = &[
    (0x00, "ACR", 0x0000_0600),
    (0x14, "CR", 0xC000_0000),
    (0x20, "OPTR", 0xFFEF_F8AA),
    (0x24, "PCROP1SR", 0xFFFF_FFFF),
    (0x28, "PCROP1ER", 0x0FF0_0000),
    (0x2C, "WRP1AR", 0xFF00_FF00),
    (0x30, "WRP1BR", 0xFF00_FF00),
    (0x44, "PCROP2SR", 0xFFFF_FFFF),
    (0x48, "PCROP2ER", 0x0FF0_0000),
    (0x4C, "WRP2AR", 0xFF00_FF00),
    (0x50, "WRP2BR", 0xFF00_FF00),
];

/// STM32L4/L4+ flash interface ACR: LATENCY, PRFTEN, ICEN, DCEN, ICRST,
/// DCRST, RUN_PD, SLEEP_PD (RM0432 3.7.1).
pub struct L4Flash {
    regs: RegisterFile,
}

impl L4Flash {
    /// The FLASH block as `spec` describes it.
    pub fn new(spec: &PeripheralSpec) -> L4Flash {
        L4Flash {
            regs: reset_file(L4_REGS, spec),
        }
    }
}

impl Peripheral for L4Flash {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.regs.get(offset))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if offset != 0 {
            self.regs.set(offset, value, mask);
            return Ok(());
        }
        let acr = merge(self.regs.get(0), value, mask & 0x7F0F);
        self.regs.set(0, acr, u32::MAX);
        self.apply(ctx.flash);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        (offset == 0).then_some("ACR")
    }

    fn flash_settings(&self, mut now: FlashSettings) -> Option<FlashSettings> {
        self.apply(&mut now);
        Some(now)
    }
}

impl L4Flash {
    /// Puts what ACR says into `flash`.
    fn apply(&self, flash: &mut FlashSettings) {
        let acr = self.regs.get(0);
        flash.wait_states = acr & 0xF;
        flash.prefetch = acr >> 8 & 1 == 1;
        flash.icache = acr >> 9 & 1 == 1;
        flash.dcache = acr >> 10 & 1 == 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target, Harness};
    use crate::target::{BusClock, PeripheralKind};

    fn wr(p: &mut dyn Peripheral, h: &mut Harness, offset: u32, value: u32) {
        assert_eq!(p.write(offset, value, u32::MAX, &mut h.ctx(0)), Ok(()));
    }

    fn rd(p: &mut dyn Peripheral, h: &mut Harness, offset: u32) -> u32 {
        match p.read(offset, &mut h.ctx(0)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn flash_spec(kind: PeripheralKind) -> PeripheralSpec {
        spec("FLASH", kind, &[], BusClock::Ahb, &[])
    }

    #[test]
    fn f4_acr_sets_wait_states_prefetch_and_caches() {
        let mut f = F4Flash::new(
            &flash_spec(PeripheralKind::Stm32f4Flash),
            &target("stm32f407"),
        );
        let mut h = Harness::new(1);
        wr(&mut f, &mut h, 0x00, 0x0705);
        assert_eq!(rd(&mut f, &mut h, 0x00), 0x0705);
        assert_eq!(h.flash.wait_states, 5);
        assert!(h.flash.prefetch && h.flash.icache && h.flash.dcache);
        // LATENCY bit 3 does not exist on the F407.
        wr(&mut f, &mut h, 0x00, 0x000F);
        assert_eq!(h.flash.wait_states, 7);
        assert!(!h.flash.icache);
        // Other offsets only keep what is written.
        wr(&mut f, &mut h, 0x04, 0x4567_0123);
        assert_eq!(rd(&mut f, &mut h, 0x04), 0x4567_0123);
        assert_eq!(f.register_name(0x04), None);
    }

    #[test]
    fn f7_art_leaves_the_l1_caches_to_ccr() {
        let mut f = F4Flash::new(
            &flash_spec(PeripheralKind::Stm32f4Flash),
            &target("stm32f746"),
        );
        let mut h = Harness::new(1);
        let before = (h.flash.icache, h.flash.dcache);
        wr(&mut f, &mut h, 0x00, 0x0307);
        assert_eq!(h.flash.wait_states, 7);
        assert!(h.flash.prefetch);
        assert_eq!((h.flash.icache, h.flash.dcache), before);
    }

    #[test]
    fn f1_prefetch_status_follows_enable() {
        let mut f = F1Flash::new(&flash_spec(PeripheralKind::Stm32f1Flash));
        let mut h = Harness::new(1);
        assert_eq!(rd(&mut f, &mut h, 0x00), 0x30);
        wr(&mut f, &mut h, 0x00, 0x02);
        assert_eq!(rd(&mut f, &mut h, 0x00), 0x02);
        assert_eq!(h.flash.wait_states, 2);
        assert!(!h.flash.prefetch);
    }

    #[test]
    fn h7_latency_counts_core_cycles_and_leaves_caches() {
        let mut f = H7Flash::new(&flash_spec(PeripheralKind::Stm32h7Flash));
        let mut h = Harness::new(1);
        h.flash.icache = true;
        wr(&mut f, &mut h, 0x100, 0x24);
        assert_eq!(rd(&mut f, &mut h, 0x00), 0x24);
        assert_eq!(h.flash.wait_states, 9);
        assert!(h.flash.icache);
    }

    #[test]
    fn l4_acr() {
        let mut f = L4Flash::new(&flash_spec(PeripheralKind::Stm32l4Flash));
        let mut h = Harness::new(1);
        assert_eq!(rd(&mut f, &mut h, 0x00), 0x600);
        wr(&mut f, &mut h, 0x00, 0x105);
        assert_eq!(h.flash.wait_states, 5);
        assert!(h.flash.prefetch && !h.flash.icache && !h.flash.dcache);
    }
}
