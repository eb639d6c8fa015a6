//! Models of STM32 peripheral blocks: the clock tree (RCC), the power
//! controller (PWR), the flash interface's access control, GPIO ports,
//! USARTs, the CRC unit, the debug MCU block and the basic and
//! general-purpose timers, after the reference manuals RM0008 (F1), RM0090
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
mod timer;
mod usart;

pub use crc::Crc;
pub use dbgmcu::Dbgmcu;
pub use flash::{F1Flash, F4Flash, H7Flash, L4Flash};
pub use gpio::{F1Gpio, Gpio};
pub use pwr::{F4Pwr, H7Pwr, L4Pwr};
pub use rcc::Rcc;
pub use timer::Timer;
pub use usart::{Usart, UsartV2};

use super::RegisterFile;
use crate::target::{PeripheralSpec, ResetValue, Target};

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
}

/// A register a model names: offset, name as the manual gives it, reset value.
type RegDef = (u32, &'static str, u32);

/// Registers at the reset values of `defs`, then any values the target file
/// gives (the HSE pseudo-entry excluded).
fn reset_file(defs: &[RegDef], spec: &PeripheralSpec) -> RegisterFile {
    let values: Vec<ResetValue> = defs
        .iter()
        .map(|&(offset, _, value)| ResetValue { offset, value })
        .chain(
            spec.reset
                .iter()
                .copied()
                .filter(|r| r.offset != HSE_OFFSET),
        )
        .collect();
    RegisterFile::new(&values)
}

/// The name `defs` give the register at `offset`.
fn name_in(defs: &[RegDef], offset: u32) -> Option<&'static str> {
    defs.iter()
        .find(|&&(o, _, _)| o == offset)
        .map(|&(_, name, _)| name)
}

/// `old` with the lanes `mask` selects replaced by those of `value`.
fn merge(old: u32, value: u32, mask: u32) -> u32 {
    (old & !mask) | (value & mask)
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
    //! A bus context over nothing, for the models' unit tests.

    use super::super::BusContext;
    use crate::machine::clock::{Clocks, FlashSettings};
    use crate::machine::semihosting::Memory;
    use crate::target::{BusClock, PeripheralKind, PeripheralSpec, ResetValue, Target};

    /// Memory with nothing in it: the STM32 models never touch memory.
    pub struct NoMemory;

    impl Memory for NoMemory {
        fn read(&self, _addr: u32, _buf: &mut [u8]) -> Option<()> {
            None
        }
        fn write(&mut self, _addr: u32, _data: &[u8]) -> Option<()> {
            None
        }
    }

    /// Everything a `BusContext` borrows.
    pub struct Harness {
        pub clocks: Clocks,
        pub flash: FlashSettings,
        pub console: Vec<u8>,
        pub raised: Vec<u32>,
        pub memory: NoMemory,
    }

    impl Harness {
        /// Clocks at `hz` everywhere, flash at 0 wait states.
        pub fn new(hz: u64) -> Harness {
            Harness {
                clocks: Clocks::uniform(hz),
                flash: FlashSettings {
                    wait_states: 0,
                    prefetch: false,
                    icache: false,
                    dcache: false,
                },
                console: Vec::new(),
                raised: Vec::new(),
                memory: NoMemory,
            }
        }

        /// A context at cycle `now`.
        pub fn ctx(&mut self, now: u64) -> BusContext<'_> {
            BusContext {
                now,
                clocks: &mut self.clocks,
                flash: &mut self.flash,
                console: &mut self.console,
                raised: &mut self.raised,
                memory: &mut self.memory,
            }
        }
    }

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
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets");
        match Target::find(&dir, name) {
            Ok(target) => target,
            Err(e) => panic!("test target {name}: {e}"),
        }
    }
}
