//! The debug MCU block: the device and revision identifier (IDCODE), which
//! firmware reads to tell parts and silicon revisions apart, and the debug
//! configuration and peripheral freeze registers, which only keep what is
//! written (no debugger is attached, so they change nothing).
//!
//! IDCODE is the target file's reset value at offset 0 (REV_ID in bits
//! 31:16, DEV_ID in 11:0) and is read-only.

use super::{name_in, Family, RegDef};
use crate::machine::bus::{BusContext, BusError, Peripheral, RegisterFile};
use crate::target::{PeripheralSpec, Target};

/// F1 map (stm32f103xe.h DBGMCU_TypeDef).
const F1_REGS: &[RegDef] = &[(0x00, "IDCODE", 0), (0x04, "CR", 0)];
/// F4/F7 map (stm32f407xx.h, stm32f746xx.h DBGMCU_TypeDef).
const F4_REGS: &[RegDef] = &[
    (0x00, "IDCODE", 0),
    (0x04, "CR", 0),
    (0x08, "APB1FZ", 0),
    (0x0C, "APB2FZ", 0),
];
/// H7 map at 0x5C001000 (stm32h743xx.h DBGMCU_TypeDef).
const H7_REGS: &[RegDef] = &[
    (0x00, "IDCODE", 0),
    (0x04, "CR", 0),
    (0x34, "APB3FZ1", 0),
    (0x3C, "APB1LFZ1", 0),
    (0x44, "APB1HFZ1", 0),
    (0x4C, "APB2FZ1", 0),
    (0x54, "APB4FZ1", 0),
];
/// L4 map (stm32l4r5xx.h DBGMCU_TypeDef).
const L4_REGS: &[RegDef] = &[
    (0x00, "IDCODE", 0),
    (0x04, "CR", 0),
    (0x08, "APB1FZR1", 0),
    (0x0C, "APB1FZR2", 0),
    (0x10, "APB2FZR", 0),
];

/// A DBGMCU block.
pub struct Dbgmcu {
    defs: &'static [RegDef],
    regs: RegisterFile,
}

impl Dbgmcu {
    /// The DBGMCU of `target`, its IDCODE from `spec`'s reset value at offset 0.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Dbgmcu {
        let defs = match Family::of(target) {
            Family::F1 => F1_REGS,
            Family::F4 | Family::F7 => F4_REGS,
            Family::H7 => H7_REGS,
            Family::L4 => L4_REGS,
        };
        Dbgmcu {
            defs,
            regs: RegisterFile::new(&spec.reset),
        }
    }
}

impl Peripheral for Dbgmcu {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.regs.get(offset))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        _ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        if offset != 0 {
            self.regs.set(offset, value, mask);
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(self.defs, offset)
    }

    fn check_width(&self, offset: u32, width: u8) -> Result<(), BusError> {
        // "DBGMCU_IDCODE ... Only 32-bits access supported. Read-only."
        // (RM0090 38.6.1; the same words in RM0033 and RM0401.)
        if offset == 0 && width != 4 {
            return Err(BusError::Width { width, allowed: 4 });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    #[test]
    fn idcode_is_read_only_and_word_only() {
        let s = spec(
            "DBGMCU",
            PeripheralKind::Stm32Dbgmcu,
            &[],
            BusClock::Ahb,
            &[(0, 0x1007_6413)],
        );
        let mut d = Dbgmcu::new(&s, &target("stm32f407"));
        let mut h = Rig::new(1);
        assert_eq!(d.write(0x00, 0, u32::MAX, &mut h.ctx()), Ok(()));
        assert_eq!(d.read(0x00, &mut h.ctx()), Ok(0x1007_6413));
        assert_eq!(
            d.check_width(0x00, 2),
            Err(BusError::Width {
                width: 2,
                allowed: 4
            })
        );
        assert_eq!(d.write(0x08, 0x1800, u32::MAX, &mut h.ctx()), Ok(()));
        assert_eq!(d.read(0x08, &mut h.ctx()), Ok(0x1800));
        assert_eq!(d.register_name(0x08), Some("APB1FZ"));
    }
}
