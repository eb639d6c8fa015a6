//! Power controllers: the voltage scaling, over-drive and supply
//! configuration handshakes the clock set-up code waits on. Regulators settle
//! at once, so every ready flag reads what its request holds; nothing here
//! changes the clocks or the cost of a cycle.
//!
//! One model serves every family: a register reads what it holds with its
//! ready flags derived from their requests, and takes the bits the family
//! lets software write.

use super::{name_in, reset_file, reset_value, Family, RegDef};
use crate::machine::bus::{BusContext, BusError, Peripheral, RegisterFile};
use crate::target::{PeripheralSpec, Target};

/// RM0090 5.6 register map. CR resets with VOS set, scale 1: 0x4000 on the
/// F405/407/415/417 (one VOS bit), 0xC000 on parts with two (RM0090 5.4.1,
/// recalled, not re-read; ST's F407 SVD omits VOS). The reset value of CR is
/// chosen per part in `Pwr::new`.
const F4_REGS: &[RegDef] = &[(0x00, "CR", 0x0000_4000), (0x04, "CSR", 0)];

/// RM0385 4.5 register map; reset values from ST's STM32F746 SVD (v2.4).
const F7_REGS: &[RegDef] = &[
    (0x00, "CR1", 0x0000_C000),
    (0x04, "CSR1", 0),
    (0x08, "CR2", 0),
    (0x0C, "CSR2", 0),
];

/// RM0433 5.8 register map; reset values from ST's STM32H743 SVD (2023): CR3
/// with LDOEN and SCUEN (LDO supply, configuration not yet written), D3CR at
/// VOS3.
const H7_REGS: &[RegDef] = &[
    (0x00, "CR1", 0xF000_C000),
    (0x04, "CSR1", 0x0000_4000),
    (0x08, "CR2", 0),
    (0x0C, "CR3", 0x0000_0006),
    (0x10, "CPUCR", 0),
    (0x18, "D3CR", 0x0000_4000),
    (0x20, "WKUPCR", 0),
    (0x24, "WKUPFR", 0),
    (0x28, "WKUPEPR", 0),
];

/// CR3 supply configuration bits: BYPASS, LDOEN, SCUEN.
const H7_SUPPLY: u32 = 0x7;

/// RM0432 5.4.26 register map; reset values from ST's STM32L4R5 SVD (v1.6):
/// CR1 at range 1, CR3 with EIWUL, CR5 with R1MODE (range 1 normal mode).
const L4_REGS: &[RegDef] = &[
    (0x00, "CR1", 0x0000_0200),
    (0x04, "CR2", 0),
    (0x08, "CR3", 0x0000_8000),
    (0x0C, "CR4", 0),
    (0x10, "SR1", 0),
    (0x14, "SR2", 0),
    (0x18, "SCR", 0),
    (0x20, "PUCRA", 0),
    (0x24, "PDCRA", 0),
    (0x28, "PUCRB", 0),
    (0x2C, "PDCRB", 0),
    (0x30, "PUCRC", 0),
    (0x34, "PDCRC", 0),
    (0x38, "PUCRD", 0),
    (0x3C, "PDCRD", 0),
    (0x40, "PUCRE", 0),
    (0x44, "PDCRE", 0),
    (0x48, "PUCRF", 0),
    (0x4C, "PDCRF", 0),
    (0x50, "PUCRG", 0),
    (0x54, "PDCRG", 0),
    (0x58, "PUCRH", 0),
    (0x5C, "PDCRH", 0),
    (0x60, "PUCRI", 0),
    (0x64, "PDCRI", 0),
    (0x80, "CR5", 0x0000_0100),
];

/// An STM32 power controller:
/// - F4/F7: VOS with VOSRDY, over-drive (F42x/F43x, F446, F469/F479 and F7)
///   with ODRDY and ODSWRDY, the backup regulator.
/// - H7: the once-only supply configuration (CR3) that ACTVOSRDY confirms,
///   VOS in D3CR with VOSRDY.
/// - L4/L4+: VOS in CR1 whose transition flag VOSF reads 0 at once, the
///   low-power regulator flags, R1MODE (range 1 boost) in CR5.
pub struct Pwr {
    family: Family,
    defs: &'static [RegDef],
    regs: RegisterFile,
    /// F4/F7: whether CR bits 16/17 (ODEN, ODSWEN) exist.
    overdrive: bool,
    /// H7: whether the part is one of RM0433's (H742/743/750/753), whose
    /// VOS encoding [`Peripheral::voltage_range`] reads.
    rm0433: bool,
    /// H7: whether the supply configuration has been written since reset
    /// (RM0433 5.4.1: it can be written once after power-on; later writes
    /// are ignored).
    supply_set: bool,
}

impl Pwr {
    /// The PWR block of `target` as `spec` describes it: the F4/F7, H7 or L4
    /// controller by kind.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Pwr {
        let family = Family::of_block(spec, target);
        let part = target.part.to_ascii_uppercase();
        let overdrive = family == Family::F7
            || [
                "STM32F42",
                "STM32F43",
                "STM32F446",
                "STM32F469",
                "STM32F479",
            ]
            .iter()
            .any(|p| part.starts_with(p));
        let defs = match family {
            Family::F7 => F7_REGS,
            Family::H7 => H7_REGS,
            Family::L4 => L4_REGS,
            Family::F1 | Family::F4 => F4_REGS,
        };
        let mut regs = reset_file(defs, spec);
        let one_vos_bit = ["STM32F40", "STM32F41"].iter().any(|p| part.starts_with(p));
        if family == Family::F4 && !one_vos_bit && reset_value(spec, 0x00).is_none() {
            regs.set(0x00, 0x0000_C000, u32::MAX);
        }
        let rm0433 = ["STM32H742", "STM32H743", "STM32H750", "STM32H753"]
            .iter()
            .any(|p| part.starts_with(p));
        Pwr {
            family,
            defs,
            regs,
            overdrive,
            rm0433,
            supply_set: false,
        }
    }

    /// What the register at `offset`, holding `value`, reads: its ready
    /// flags follow their requests.
    fn status(&self, offset: u32, value: u32) -> u32 {
        match (self.family, offset) {
            // ACTVOS mirrors D3CR VOS; ACTVOSRDY once the supply is configured.
            (Family::H7, 0x04) => (self.regs.get(0x18) & 0xC000) | u32::from(self.supply_set) << 13,
            // BRRDY follows BREN.
            (Family::H7, 0x08) => value & 0x11 | (value & 1) << 16,
            // USB33RDY follows USB33DEN.
            (Family::H7, 0x0C) => value & 0x0300_0307 | (value >> 24 & 1) << 26,
            // VOSRDY: the regulator reaches the new level at once.
            (Family::H7, 0x18) => value & 0xC000 | 1 << 13,
            // No wake-up or standby events happen here.
            (Family::L4, 0x10 | 0x18) => 0,
            // REGLPS and REGLPF follow LPR (CR1 bit 14): the low-power
            // regulator starts and takes over at once; VOSF (bit 10) reads 0.
            (Family::L4, 0x14) => {
                let lpr = self.regs.get(0x00) >> 14 & 1;
                lpr << 8 | lpr << 9
            }
            (Family::H7 | Family::L4, _) => value,
            (_, 0x04) => {
                // BRR follows BRE (bit 9); VOSRDY (bit 14) is always set.
                let mut csr = value & 0x0300 | (value >> 9 & 1) << 3 | 1 << 14;
                if self.overdrive {
                    // ODRDY and ODSWRDY follow ODEN and ODSWEN.
                    csr |= self.regs.get(0x00) & 0x3_0000;
                }
                csr
            }
            _ => value,
        }
    }

    /// The bits of the register at `offset` software can write.
    fn writable(&self, offset: u32) -> u32 {
        match (self.family, offset) {
            (Family::H7, 0x04) => 0,
            (Family::H7, 0x08) => 0x11,
            (Family::H7, 0x0C) if self.supply_set => 0x0300_0300,
            (Family::H7, 0x0C) => 0x0300_0300 | H7_SUPPLY,
            // PDDS_D1..D3 and RUN_D3; the flags are read-only, CSSF clears them.
            (Family::H7, 0x10) => 0x0807,
            (Family::H7, 0x18) => 0xC000,
            // SR1, SR2 and SCR: flags and their clear commands.
            (Family::L4, 0x10 | 0x14 | 0x18) => 0,
            (Family::H7 | Family::L4, _) => u32::MAX,
            // CWUF and CSBF are clear commands that read 0; ODEN/ODSWEN only
            // where over-drive exists.
            (_, 0x00) if self.overdrive => !0xC,
            (_, 0x00) => !0x3_000C,
            // CSR: EWUP/EIWUP and BRE; the flags are read-only.
            (_, 0x04) => 0x0300,
            _ => u32::MAX,
        }
    }
}

impl Peripheral for Pwr {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.status(offset, self.regs.get(offset)))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        _ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let writable = self.writable(offset);
        if self.family == Family::H7 && offset == 0x0C && mask & H7_SUPPLY != 0 {
            self.supply_set = true;
        }
        self.regs.set(offset, value, mask & writable);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(self.defs, offset)
    }

    /// The range of the core regulator, where the part's Run tables give
    /// currents by it:
    /// - L4: CR1 VOS (bits 10:9), 01 Range 1, 10 Range 2 (RM0432 'PWR_CR1');
    ///   Range 1 boost (CR5 R1MODE clear) counts as Range 1, which the
    ///   tables do not tell apart.
    /// - STM32H742/743/750/753: D3CR VOS (bits 15:14), 01 VOS3, 10 VOS2,
    ///   11 VOS1 (RM0433 'PWR_D3CR'; VOS0 takes SYSCFG, which is not
    ///   modeled, and counts as VOS1).
    ///
    /// Other parts answer nothing: their curves have one range, or their
    /// encoding (the H7A3's SRDCR) was not read.
    fn voltage_range(&self) -> Option<&'static str> {
        match self.family {
            Family::L4 => match self.regs.get(0x00) >> 9 & 0x3 {
                1 => Some("Range 1"),
                2 => Some("Range 2"),
                _ => None,
            },
            Family::H7 if self.rm0433 => match self.regs.get(0x18) >> 14 & 0x3 {
                1 => Some("VOS3"),
                2 => Some("VOS2"),
                3 => Some("VOS1"),
                _ => None,
            },
            _ => None,
        }
    }

    /// What SLEEPDEEP enters:
    /// - L4: CR1 LPMS (RM0432 'PWR_CR1'): 000 Stop 0, 001 Stop 1, 010 Stop 2,
    ///   011 Standby, 1xx Shutdown.
    /// - F1/F4/F7: CR PDDS (bit 1) Standby; else Stop with the main (LPDS
    ///   clear) or low-power (LPDS, bit 0) regulator, and the flash in Stop
    ///   or, with FPDS (bit 9, reserved and 0 on the F1), in deep power-down
    ///   (RM0090 'PWR_CR', RM0008 'PWR_CR').
    /// - H7: CPUCR PDDS_D1 (bit 0) puts the core's domain in DStandby, else
    ///   the domain stops (RM0433 'PWR_CPUCR'), at the Stop voltage CR1 SVOS
    ///   (bits 15:14) sets, 11 SVOS3, 10 SVOS4, 01 SVOS5; SVOS3 with the main
    ///   or, with LPDS (bit 0), the low-power regulator (SVOS4 and 5 always run
    ///   on it); FLPS (bit 9) puts the flash in low-power mode (RM0433 and
    ///   RM0455 'PWR_CR1'; recalled, not re-read).
    fn deep_sleep_mode(&self) -> Option<&'static str> {
        let cr = self.regs.get(0x00);
        Some(match self.family {
            Family::L4 => match cr & 0x7 {
                0 => "stop0",
                1 => "stop1",
                2 => "stop2",
                3 => "standby",
                _ => "shutdown",
            },
            Family::H7 if self.regs.get(0x10) & 1 != 0 => "standby",
            Family::H7 => {
                let flash_low_power = cr & 0x200 != 0;
                match (cr >> 14 & 3, cr & 1 != 0, flash_low_power) {
                    (2, _, false) => "stop-svos4",
                    (2, _, true) => "stop-svos4-flp",
                    (1, _, false) => "stop-svos5",
                    (1, _, true) => "stop-svos5-flp",
                    // 00 is reserved: taken as the reset SVOS3.
                    (_, false, false) => "stop-svos3",
                    (_, false, true) => "stop-svos3-flp",
                    (_, true, false) => "stop-svos3-lpr",
                    (_, true, true) => "stop-svos3-lpr-flp",
                }
            }
            _ if cr & 0x2 != 0 => "standby",
            _ => match (cr & 0x1 != 0, cr & 0x200 != 0) {
                (false, false) => "stop-mr",
                (false, true) => "stop-mr-fpd",
                (true, false) => "stop-lpr",
                (true, true) => "stop-lpr-fpd",
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    #[test]
    fn f407_vos_ready_and_no_overdrive() {
        let s = spec("PWR", PeripheralKind::Stm32f4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&s, &target("stm32f407"));
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut p, 0x00), 0x4000);
        h.write(&mut p, 0x00, 0x3_4000);
        assert_eq!(h.read(&mut p, 0x04), 1 << 14, "VOSRDY, no ODRDY");
    }

    #[test]
    fn f7_overdrive_handshake() {
        let s = spec("PWR", PeripheralKind::Stm32f4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&s, &target("stm32f746"));
        let mut h = Rig::new(1);
        h.write(&mut p, 0x00, 0x1_C000);
        assert_eq!(h.read(&mut p, 0x04), 0x1_4000, "ODRDY");
        h.write(&mut p, 0x00, 0x3_C000);
        assert_eq!(h.read(&mut p, 0x04), 0x3_4000, "ODSWRDY");
    }

    #[test]
    fn h7_supply_is_configured_once() {
        let s = spec("PWR", PeripheralKind::Stm32h7Pwr, &[], BusClock::Ahb, &[]);
        let mut p = Pwr::new(&s, &target("stm32h743"));
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut p, 0x04) >> 13 & 1, 0);
        h.write(&mut p, 0x0C, 0x2);
        assert_eq!(h.read(&mut p, 0x04) >> 13 & 1, 1, "ACTVOSRDY");
        h.write(&mut p, 0x0C, 0x1);
        assert_eq!(h.read(&mut p, 0x0C) & 0x7, 0x2, "locked");
        h.write(&mut p, 0x18, 0xC000);
        assert_eq!(h.read(&mut p, 0x18), 0xE000, "VOS1 with VOSRDY");
        assert_eq!(h.read(&mut p, 0x04) & 0xC000, 0xC000, "ACTVOS");
    }

    #[test]
    fn deep_sleep_mode_follows_the_power_controller() {
        let mut h = Rig::new(1);
        let l4 = spec("PWR", PeripheralKind::Stm32l4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&l4, &target("stm32l4r5"));
        assert_eq!(p.deep_sleep_mode(), Some("stop0"), "LPMS resets to Stop 0");
        for (lpms, mode) in [(2, "stop2"), (3, "standby"), (5, "shutdown")] {
            h.write(&mut p, 0x00, 0x0200 | lpms);
            assert_eq!(p.deep_sleep_mode(), Some(mode));
        }
        let f4 = spec("PWR", PeripheralKind::Stm32f4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&f4, &target("stm32f407"));
        assert_eq!(p.deep_sleep_mode(), Some("stop-mr"));
        h.write(&mut p, 0x00, 0x4201);
        assert_eq!(p.deep_sleep_mode(), Some("stop-lpr-fpd"));
        h.write(&mut p, 0x00, 0x4002);
        assert_eq!(p.deep_sleep_mode(), Some("standby"));
        let h7 = spec("PWR", PeripheralKind::Stm32h7Pwr, &[], BusClock::Ahb, &[]);
        let mut p = Pwr::new(&h7, &target("stm32h743"));
        assert_eq!(
            p.deep_sleep_mode(),
            Some("stop-svos3"),
            "CR1 resets to SVOS3"
        );
        for (cr1, mode) in [
            (0xF000_C001, "stop-svos3-lpr"),
            (0xF000_C201, "stop-svos3-lpr-flp"),
            (0xF000_8000, "stop-svos4"),
            (0xF000_4200, "stop-svos5-flp"),
        ] {
            h.write(&mut p, 0x00, cr1);
            assert_eq!(p.deep_sleep_mode(), Some(mode), "{cr1:#x}");
        }
        h.write(&mut p, 0x10, 0x1);
        assert_eq!(p.deep_sleep_mode(), Some("standby"), "PDDS_D1");
    }

    /// A stop mode a target file prices that its power controller never
    /// enters would never be charged: every name must be one the model gives.
    #[test]
    fn every_stop_mode_a_shipped_target_prices_is_one_its_controller_enters() {
        let mut h = Rig::new(1);
        for name in crate::target::Catalog::shipped().names() {
            let target = target(&name);
            let Some(block) = target.peripherals.iter().find(|p| {
                matches!(
                    p.kind,
                    PeripheralKind::Stm32f4Pwr
                        | PeripheralKind::Stm32h7Pwr
                        | PeripheralKind::Stm32l4Pwr
                )
            }) else {
                continue;
            };
            let mut entered = std::collections::BTreeSet::new();
            // Every combination of the mode bits of CR1 (LPMS, LPDS, PDDS,
            // FPDS, FLPS, SVOS) and of H7 CPUCR's PDDS_D1.
            let bits = [0, 1, 2, 9, 14, 15];
            for combination in 0..1u32 << bits.len() {
                for cpucr in [0, 1] {
                    let mut p = Pwr::new(block, &target);
                    let cr1 = bits
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| combination >> i & 1 != 0)
                        .fold(0, |cr1, (_, &bit)| cr1 | 1 << bit);
                    h.write(&mut p, 0x00, cr1);
                    if block.kind == PeripheralKind::Stm32h7Pwr {
                        h.write(&mut p, 0x10, cpucr);
                    }
                    entered.extend(p.deep_sleep_mode());
                }
            }
            for mode in &target.energy.stop_modes {
                assert!(
                    entered.contains(mode.mode.as_str()),
                    "{name}: {} is never entered",
                    mode.mode
                );
            }
        }
    }

    #[test]
    fn voltage_range_is_read_where_the_encoding_is_known() {
        let mut h = Rig::new(1);
        let l4 = spec("PWR", PeripheralKind::Stm32l4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&l4, &target("stm32l4r5"));
        assert_eq!(p.voltage_range(), Some("Range 1"), "CR1 resets to Range 1");
        h.write(&mut p, 0x00, 0x0400);
        assert_eq!(p.voltage_range(), Some("Range 2"));
        let h7 = spec("PWR", PeripheralKind::Stm32h7Pwr, &[], BusClock::Ahb, &[]);
        let mut p = Pwr::new(&h7, &target("stm32h743"));
        assert_eq!(p.voltage_range(), Some("VOS3"), "D3CR resets to VOS3");
        h.write(&mut p, 0x18, 0xC000);
        assert_eq!(p.voltage_range(), Some("VOS1"));
        let p = Pwr::new(&h7, &target("stm32h7a3"));
        assert_eq!(p.voltage_range(), None, "SRDCR's encoding was not read");
    }

    #[test]
    fn l4_vos_and_boost() {
        let s = spec("PWR", PeripheralKind::Stm32l4Pwr, &[], BusClock::Apb1, &[]);
        let mut p = Pwr::new(&s, &target("stm32l4r5"));
        let mut h = Rig::new(1);
        h.write(&mut p, 0x00, 0x0400);
        assert_eq!(h.read(&mut p, 0x14) >> 10 & 1, 0, "VOSF");
        h.write(&mut p, 0x80, 0);
        assert_eq!(h.read(&mut p, 0x80), 0, "R1MODE cleared: boost");
    }
}
