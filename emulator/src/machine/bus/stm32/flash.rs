//! Flash interface access control (FLASH_ACR): the wait states, prefetch and
//! caches the firmware sets for reading the flash. Every ACR write puts them
//! in force for the cost model; until the firmware first programs ACR or the
//! RCC clock tree the target's configured wait states apply, and from then on
//! what ACR holds (its reset value until written). The other registers of the
//! block (keys, status, control, option bytes) only keep what is written
//! here: programming is the machine's flash controller's business, not this
//! model's.
//!
//! One model serves every family: the blocks differ only in which ACR bits
//! exist, their reset values, what ACR means for the flash timing and, on the
//! H7, a second view of ACR.

use super::{reset_file, Family, RegDef};
use crate::machine::bus::{BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::{Clocks, FlashSettings};
use crate::target::{PeripheralSpec, Target};

/// RM0008 3.3.3 / ST's STM32F103 SVD (v1.2): ACR resets with the prefetch
/// buffer on (PRFTBE, PRFTBS); CR with LOCK; option bytes erased.
const F1_REGS: &[RegDef] = &[
    (0x00, "ACR", 0x0000_0030),
    (0x10, "CR", 0x0000_0080),
    (0x1C, "OBR", 0x03FF_FFFC),
    (0x20, "WRPR", 0xFFFF_FFFF),
];

/// RM0090 3.9.7, RM0385 3.7.6: CR resets locked. The other registers are the
/// machine's flash controller's; these values only serve reads it passes on.
const F4_REGS: &[RegDef] = &[(0x00, "ACR", 0), (0x10, "CR", 0x8000_0000)];

/// ST's STM32H743 SVD (2023): ACR resets at LATENCY 7, WRHIGHFREQ 3, and is
/// visible at 0x000 and at 0x100 (the bank 2 view); CR1/CR2 reset locked
/// with PSIZE 64 bits, 0x31 (the SVD gives CR1 as 0, CR2 as 0x31; RM0433
/// 4.9.4 gives both 0x31, recalled, not re-read).
const H7_REGS: &[RegDef] = &[
    (0x000, "ACR", 0x0000_0037),
    (0x00C, "CR1", 0x0000_0031),
    (0x10C, "CR2", 0x0000_0031),
];

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

/// Offset of ACR, the one register with behaviour.
const ACR: u32 = 0x000;
/// The H7's second view of ACR (the bank 2 one).
const H7_ACR_BANK2: u32 = 0x100;

/// An STM32 flash interface. What its ACR holds, per family:
/// - F1: LATENCY, HLFCYA and PRFTBE, with PRFTBS (the prefetch buffer
///   status) following PRFTBE (RM0008 3.3.3).
/// - F4: LATENCY, PRFTEN, ICEN, DCEN, ICRST, DCRST (RM0090 3.9.1).
/// - F7: LATENCY, PRFTEN, ARTEN (bit 9), ARTRST (bit 11) (RM0385 3.7.1);
///   the caches in the flash timing are the core's L1.
/// - H7: LATENCY and WRHIGHFREQ. The H7 has no flash accelerator; its caches
///   are the core's L1, which this model leaves alone.
/// - L4/L4+: LATENCY, PRFTEN, ICEN, DCEN, ICRST, DCRST, RUN_PD, SLEEP_PD
///   (RM0432 3.7.1).
pub struct FlashInterface {
    family: Family,
    regs: RegisterFile,
    /// Bits of ACR software can write.
    acr_writable: u32,
}

impl FlashInterface {
    /// The FLASH block of `target` as `spec` describes it: the F1, F4/F7, H7
    /// or L4 interface by kind.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> FlashInterface {
        let family = Family::of_block(spec, target);
        let (defs, acr_writable) = match family {
            // LATENCY (2:0), HLFCYA (3), PRFTBE (4).
            Family::F1 => (F1_REGS, 0x1F),
            Family::F4 => (F4_REGS, f4_latency_bits(target) | 0x1F00),
            Family::F7 => (F4_REGS, f4_latency_bits(target) | 0x0B00),
            // LATENCY (3:0), WRHIGHFREQ (5:4).
            Family::H7 => (H7_REGS, 0x3F),
            Family::L4 => (L4_REGS, 0x7F0F),
        };
        FlashInterface {
            family,
            regs: reset_file(defs, spec),
            acr_writable,
        }
    }

    /// The register `offset` stands for: the H7's bank 2 view of ACR is ACR.
    fn canonical(&self, offset: u32) -> u32 {
        if self.family == Family::H7 && offset == H7_ACR_BANK2 {
            ACR
        } else {
            offset
        }
    }

    /// Puts what ACR says into `flash`, with `clocks` in force.
    fn apply(&self, flash: &mut FlashSettings, clocks: &Clocks) {
        let acr = self.regs.get(ACR);
        match self.family {
            Family::F1 => {
                flash.wait_states = acr & 0x7;
                flash.prefetch = acr >> 4 & 1 == 1;
                flash.icache = false;
                flash.dcache = false;
            }
            Family::F4 | Family::F7 | Family::L4 => {
                flash.wait_states = acr & 0xF;
                flash.prefetch = acr >> 8 & 1 == 1;
                // On the F7 the caches the model keeps are the core's L1
                // (CCR.IC/DC); the ART serves the ITCM path, which the flash
                // timing does not model.
                if self.family != Family::F7 {
                    flash.icache = acr >> 9 & 1 == 1;
                    flash.dcache = acr >> 10 & 1 == 1;
                }
            }
            Family::H7 => {
                // LATENCY counts AXI clock cycles (RM0433 4.3.8); the cost
                // model counts core cycles: a read of LATENCY + 1 AXI cycles
                // costs (LATENCY + 1) x core / AXI core cycles, one of which a
                // zero-wait access takes anyway. With HPRE /2, as every H7
                // above 240 MHz runs, that is the 2 x (LATENCY + 1) - 1 of
                // targets/stm32h743.toml [flash].
                let axi = clocks.ahb_hz.max(1);
                let core = u64::from((acr & 0xF) + 1) * clocks.hclk_hz;
                flash.wait_states = u32::try_from(core.div_ceil(axi)).unwrap_or(u32::MAX) - 1;
            }
        }
    }
}

/// LATENCY is 3 bits on the F405/407/415/417, 4 bits on the others (RM0090
/// 3.9.1, and stm32f407xx.h FLASH_ACR_LATENCY_Msk 0x7).
fn f4_latency_bits(target: &Target) -> u32 {
    let part = target.part.to_ascii_uppercase();
    if ["STM32F40", "STM32F41"].iter().any(|p| part.starts_with(p)) {
        0x7
    } else {
        0xF
    }
}

impl Peripheral for FlashInterface {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        let offset = self.canonical(offset);
        let value = self.regs.get(offset);
        Ok(if offset == ACR && self.family == Family::F1 {
            // PRFTBS (bit 5) follows PRFTBE (bit 4).
            value & 0x1F | (value >> 4 & 1) << 5
        } else {
            value
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let offset = self.canonical(offset);
        if offset != ACR {
            self.regs.set(offset, value, mask);
            return Ok(());
        }
        self.regs.set(ACR, value, mask & self.acr_writable);
        self.apply(ctx.flash, ctx.clocks);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        (self.canonical(offset) == ACR).then_some("ACR")
    }

    fn flash_settings(&self, mut now: FlashSettings, clocks: &Clocks) -> Option<FlashSettings> {
        self.apply(&mut now, clocks);
        Some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    fn flash_spec(kind: PeripheralKind) -> PeripheralSpec {
        spec("FLASH", kind, &[], BusClock::Ahb, &[])
    }

    #[test]
    fn f4_acr_sets_wait_states_prefetch_and_caches() {
        let mut f = FlashInterface::new(
            &flash_spec(PeripheralKind::Stm32f4Flash),
            &target("stm32f407"),
        );
        let mut h = Rig::new(1);
        h.write(&mut f, 0x00, 0x0705);
        assert_eq!(h.read(&mut f, 0x00), 0x0705);
        assert_eq!(h.flash.wait_states, 5);
        assert!(h.flash.prefetch && h.flash.icache && h.flash.dcache);
        // LATENCY bit 3 does not exist on the F407.
        h.write(&mut f, 0x00, 0x000F);
        assert_eq!(h.flash.wait_states, 7);
        assert!(!h.flash.icache);
        // Other offsets only keep what is written.
        h.write(&mut f, 0x04, 0x4567_0123);
        assert_eq!(h.read(&mut f, 0x04), 0x4567_0123);
        assert_eq!(f.register_name(0x04), None);
    }

    #[test]
    fn f7_art_leaves_the_l1_caches_to_ccr() {
        let mut f = FlashInterface::new(
            &flash_spec(PeripheralKind::Stm32f4Flash),
            &target("stm32f746"),
        );
        let mut h = Rig::new(1);
        let before = (h.flash.icache, h.flash.dcache);
        h.write(&mut f, 0x00, 0x0307);
        assert_eq!(h.flash.wait_states, 7);
        assert!(h.flash.prefetch);
        assert_eq!((h.flash.icache, h.flash.dcache), before);
    }

    #[test]
    fn f1_prefetch_status_follows_enable() {
        let mut f = FlashInterface::new(
            &flash_spec(PeripheralKind::Stm32f1Flash),
            &target("stm32f103"),
        );
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut f, 0x00), 0x30);
        h.write(&mut f, 0x00, 0x02);
        assert_eq!(h.read(&mut f, 0x00), 0x02);
        assert_eq!(h.flash.wait_states, 2);
        assert!(!h.flash.prefetch);
    }

    #[test]
    fn h7_latency_counts_core_cycles_and_leaves_caches() {
        let mut f = FlashInterface::new(
            &flash_spec(PeripheralKind::Stm32h7Flash),
            &target("stm32h743"),
        );
        let mut h = Rig::new(480_000_000);
        // HPRE /2: AXI at half the core clock, as above 240 MHz.
        h.clocks.ahb_hz = 240_000_000;
        h.flash.icache = true;
        h.write(&mut f, 0x100, 0x24);
        assert_eq!(h.read(&mut f, 0x00), 0x24);
        assert_eq!(h.flash.wait_states, 9);
        assert!(h.flash.icache);
        // HPRE /1: an AXI cycle is a core cycle.
        let at_reset = Clocks::uniform(64_000_000);
        let settings = f.flash_settings(h.flash, &at_reset).unwrap();
        assert_eq!(settings.wait_states, 4);
    }

    #[test]
    fn l4_acr() {
        let mut f = FlashInterface::new(
            &flash_spec(PeripheralKind::Stm32l4Flash),
            &target("stm32l4r5"),
        );
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut f, 0x00), 0x600);
        h.write(&mut f, 0x00, 0x105);
        assert_eq!(h.flash.wait_states, 5);
        assert!(h.flash.prefetch && !h.flash.icache && !h.flash.dcache);
    }
}
