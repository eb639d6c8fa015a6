//! Models of STM32 peripheral blocks: the clock tree (RCC), the power
//! controller (PWR), the flash interface's access control, GPIO ports,
//! USARTs, the CRC unit, the debug MCU block, the basic and
//! general-purpose timers and the real-time clock, after the reference manuals RM0008 (F1), RM0090
//! (F4), RM0385 (F7), RM0433 (H7) and RM0432 (L4+).
//!
//! Register offsets and bit positions were checked against ST's CMSIS device
//! headers (stm32f103xe.h, stm32f407xx.h, stm32f746xx.h, stm32h743xx.h,
//! stm32l4r5xx.h from STMicroelectronics/cmsis_device_*), reset values
//! against ST's SVD files (STM32F103, STM32F407, STM32F746, STM32H743,
//! STM32L4R5) where the manual's own table was not at hand. Figures taken
//! from memory of a manual, not re-read, are marked "recalled, not re-read".
//! Manual section numbers in the comments point the reader to the place;
//! they are recalled too unless a comment quotes the manual's text.
//!
//! One kind can serve several families (`stm32f4-rcc` on an F7, `stm32-gpio`
//! on F4/F7/H7/L4); the model reads the family from the target's part number
//! where the layouts differ.

mod crc;
mod dbgmcu;
mod flash;
mod gpio;
mod pwr;
mod rcc;
mod rtc;
mod timer;
mod usart;

pub use crc::Crc;
pub use dbgmcu::Dbgmcu;
pub use flash::FlashInterface;
pub use gpio::Gpio;
pub use pwr::Pwr;
pub use rcc::Rcc;
pub use rtc::Rtc;
pub use timer::Timer;
pub use usart::{Usart, UsartV2};

use super::RegisterFile;
use crate::target::{PeripheralKind, PeripheralSpec, Target};

/// The reset entry offset at which a target file gives the HSE crystal
/// frequency in Hz to an RCC block (it is not a register).
pub const HSE_OFFSET: u32 = 0xFFFF_FFF0;

/// The STM32 family a target belongs to, from its part number: one kind
/// serves several families whose register layouts differ in details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// STM32F1 (RM0008).
    F1,
    /// STM32F2/F4 (RM0090 and kin).
    F4,
    /// STM32F7 (RM0385).
    F7,
    /// STM32H7 (RM0433).
    H7,
    /// STM32L4 and L4+ (RM0351, RM0432).
    L4,
}

impl Family {
    /// The family of `target`'s part; parts of other families get the F4
    /// layout, the one the F2/F4/F7/L4/H7 blocks share the most of.
    pub fn of(target: &Target) -> Family {
        let part = target.part.to_ascii_uppercase();
        if part.starts_with("STM32F1") {
            Family::F1
        } else if part.starts_with("STM32F7") {
            Family::F7
        } else if part.starts_with("STM32H7") {
            Family::H7
        } else if part.starts_with("STM32L4") {
            Family::L4
        } else {
            Family::F4
        }
    }

    /// The family a block of `spec`'s kind models on `target`, for the kinds
    /// that name one (RCC, PWR, FLASH): the kind's, except that the F4 kinds
    /// also serve the F7, which the part tells apart.
    pub fn of_block(spec: &PeripheralSpec, target: &Target) -> Family {
        match spec.kind {
            PeripheralKind::Stm32f1Rcc | PeripheralKind::Stm32f1Flash => Family::F1,
            PeripheralKind::Stm32h7Rcc
            | PeripheralKind::Stm32h7Pwr
            | PeripheralKind::Stm32h7Flash => Family::H7,
            PeripheralKind::Stm32l4Rcc
            | PeripheralKind::Stm32l4Pwr
            | PeripheralKind::Stm32l4Flash => Family::L4,
            _ if Family::of(target) == Family::F7 => Family::F7,
            _ => Family::F4,
        }
    }
}

/// A register a model names: offset, name as the manual gives it, reset value.
type RegDef = (u32, &'static str, u32);

/// Registers at the reset values of `defs`, then any values the target file
/// gives (the HSE pseudo-entry excluded).
fn reset_file(defs: &[RegDef], spec: &PeripheralSpec) -> RegisterFile {
    RegisterFile::with_defaults(
        defs.iter().map(|&(offset, _, value)| (offset, value)),
        spec.reset
            .iter()
            .copied()
            .filter(|r| r.offset != HSE_OFFSET),
    )
}

/// The reset value the target file gives the register at `offset`, if any.
fn reset_value(spec: &PeripheralSpec, offset: u32) -> Option<u32> {
    spec.reset
        .iter()
        .find(|r| r.offset == offset)
        .map(|r| r.value)
}

/// The name `defs` give the register at `offset`.
fn name_in(defs: &[RegDef], offset: u32) -> Option<&'static str> {
    defs.iter()
        .find(|&&(o, _, _)| o == offset)
        .map(|&(_, name, _)| name)
}

/// Flags after an rc_w0 write: a written 0 clears a flag, a written 1 or an
/// unwritten lane leaves it as it is.
fn clear_w0(flags: u32, value: u32, mask: u32) -> u32 {
    flags & (value | !mask)
}

/// Pulls an interrupt line the way the NVIC sees a level-sensitive source:
/// pends `irq` when the line rises, or when `retrigger` says the condition
/// was re-armed while it stayed asserted (a data register refilled), and
/// remembers the level for the next edge.
fn drive_irq(
    level: &mut bool,
    asserted: bool,
    retrigger: bool,
    irq: Option<u32>,
    ctx: &mut super::BusContext<'_>,
) {
    if asserted && (!*level || retrigger) {
        if let Some(irq) = irq {
            ctx.raise(irq);
        }
    }
    *level = asserted;
}

#[cfg(test)]
pub(crate) mod testing {
    //! Block specs and shipped targets for the models' unit tests.

    use crate::target::{BusClock, PeripheralKind, PeripheralSpec, ResetValue, Target};

    /// A block spec for tests.
    pub fn spec(
        name: &str,
        kind: PeripheralKind,
        irqs: &[u32],
        clock: BusClock,
        reset: &[(u32, u32)],
    ) -> PeripheralSpec {
        PeripheralSpec {
            name: name.into(),
            kind,
            base: 0x4000_0000,
            size: 0x400,
            irqs: irqs.to_vec(),
            clock,
            reset: reset
                .iter()
                .map(|&(offset, value)| ResetValue { offset, value })
                .collect(),
        }
    }

    /// A shipped target, by name.
    pub fn target(name: &str) -> Target {
        match crate::target::Catalog::shipped().find(name) {
            Ok(target) => target,
            Err(e) => panic!("test target {name}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::target;
    use crate::machine::bus::testing::Rig;
    use crate::machine::bus::Bus;

    /// Each shipped STM32 target: name, DBGMCU address, expected IDCODE,
    /// USART1 data register address.
    const TARGETS: [(&str, u32, u32, u32); 5] = [
        ("stm32f103", 0xE004_2000, 0x1003_6414, 0x4001_3804),
        ("stm32f407", 0xE004_2000, 0x1007_6413, 0x4001_1004),
        ("stm32f746", 0xE004_2000, 0x1001_6449, 0x4001_1028),
        ("stm32h743", 0x5C00_1000, 0x2003_6450, 0x4001_1028),
        ("stm32l4r5", 0xE004_2000, 0x1000_6470, 0x4001_3828),
    ];

    #[test]
    fn shipped_targets_place_their_blocks_in_peripheral_space() {
        for (name, ..) in TARGETS {
            let t = target(name);
            let mut blocks: Vec<(u32, u32, &str)> = t
                .peripherals
                .iter()
                .map(|p| (p.base, p.size, p.name.as_str()))
                .collect();
            blocks.sort_unstable();
            for pair in blocks.windows(2) {
                assert!(
                    pair[0].0 + pair[0].1 <= pair[1].0,
                    "{name}: {} overlaps {}",
                    pair[0].2,
                    pair[1].2
                );
            }
            for (base, size, block) in blocks {
                let ppb = (0xE000_0000..0xE010_0000).contains(&base);
                let inside = t.peripheral_space.iter().any(|s| {
                    u64::from(base) >= u64::from(s.base)
                        && u64::from(base) + u64::from(size)
                            <= u64::from(s.base) + u64::from(s.size)
                });
                assert!(
                    ppb || inside,
                    "{name}: {block} outside the peripheral space"
                );
            }
        }
    }

    #[test]
    fn shipped_targets_answer_idcode_and_print_through_usart1() {
        for (name, dbgmcu, idcode, usart1_dr) in TARGETS {
            let mut bus = Bus::new(&target(name), true);
            let mut h = Rig::new(8_000_000);
            assert_eq!(bus.read(dbgmcu, 4, &mut h.ctx()), Ok(idcode), "{name}");
            // CR1 sits at DR - 8 on the F1/F4 map (UE | TE), at TDR - 0x28 on V2.
            let (cr1, enable) = if usart1_dr & 0xFF == 0x04 {
                (usart1_dr + 8, 1 << 13 | 1 << 3)
            } else {
                (usart1_dr - 0x28, 1 | 1 << 3)
            };
            assert_eq!(bus.write(cr1, 4, enable, &mut h.ctx()), Ok(()));
            assert_eq!(
                bus.write(usart1_dr, 1, u32::from(b'k'), &mut h.ctx()),
                Ok(())
            );
            assert_eq!(h.console, b"k", "{name}");
        }
    }
}
