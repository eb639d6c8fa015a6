//! GPIO ports: the pin configuration registers, the output latch with its
//! atomic set/reset register, the configuration lock, and an input register
//! that reads back what the pins would show with nothing connected: an
//! output pin reads its latch, an input its pull (1 with a pull-up, else 0),
//! an analog pin 0.

use super::{name_in, reset_file, Family, RegDef};
use crate::machine::bus::{merge, BusContext, BusError, Peripheral, RegisterFile};
use crate::target::{PeripheralKind, PeripheralSpec, Target};

/// The configuration lock sequence (RM0090 8.4.8, RM0008 9.2.7): write LCKK=1,
/// LCKK=0, LCKK=1 with the same LCK[15:0]; from the third write on LCKR and
/// the locked pins' configuration are frozen until reset.
#[derive(Debug, Clone, Copy, Default)]
struct Lock {
    /// Writes of the key sequence seen so far (0..=2).
    step: u8,
    /// LCK[15:0] of the sequence under way, then the locked pins.
    pins: u32,
    locked: bool,
}

impl Lock {
    /// Follows one LCKR write of `value`; returns the LCKR content to keep.
    fn write(&mut self, value: u32) -> u32 {
        if self.locked {
            return self.pins | 1 << 16;
        }
        let key = value >> 16 & 1 == 1;
        let pins = value & 0xFFFF;
        self.step = match (self.step, key) {
            (0, true) => 1,
            (1, false) if pins == self.pins => 2,
            (2, true) if pins == self.pins => {
                self.locked = true;
                0
            }
            // A broken sequence aborts; a LCKK=1 write starts a new one.
            (_, true) => 1,
            (_, false) => 0,
        };
        self.pins = pins;
        if self.locked {
            pins | 1 << 16
        } else {
            pins
        }
    }

    /// The bits of a register with `width`-bit fields per pin, starting at
    /// pin `first`, that the lock protects.
    fn protected(&self, width: u32, first: u32) -> u32 {
        if !self.locked {
            return 0;
        }
        let field = (1u32 << width) - 1;
        (0..32 / width)
            .filter(|i| self.pins >> (first + i) & 1 == 1)
            .fold(0, |acc, i| acc | field << (i * width))
    }
}

/// F2+ port register map (RM0090 8.4.11, RM0433 11.4.12); BRR at 0x28 on the
/// L4 (RM0432 8.5.11), not on the F4, F7 or H7 (their CMSIS headers end at
/// AFR[1]).
const F2_REGS: &[RegDef] = &[
    (0x00, "MODER", 0),
    (0x04, "OTYPER", 0),
    (0x08, "OSPEEDR", 0),
    (0x0C, "PUPDR", 0),
    (0x10, "IDR", 0),
    (0x14, "ODR", 0),
    (0x18, "BSRR", 0),
    (0x1C, "LCKR", 0),
    (0x20, "AFRL", 0),
    (0x24, "AFRH", 0),
    (0x28, "BRR", 0),
];

/// F1 port register map (RM0008 9.5); CRL and CRH reset to floating inputs.
const F1_REGS: &[RegDef] = &[
    (0x00, "CRL", 0x4444_4444),
    (0x04, "CRH", 0x4444_4444),
    (0x08, "IDR", 0),
    (0x0C, "ODR", 0),
    (0x10, "BSRR", 0),
    (0x14, "BRR", 0),
    (0x18, "LCKR", 0),
];

/// Where a port's registers sit: the two layouts differ in their
/// configuration registers, and so in the offsets of the rest.
struct Layout {
    regs: &'static [RegDef],
    idr: u32,
    odr: u32,
    bsrr: u32,
    brr: u32,
    lckr: u32,
    /// (configuration register, bits per pin, first pin): the fields the
    /// configuration lock freezes.
    locked: &'static [(u32, u32, u32)],
}

/// F2/F4/F7/H7/L4: MODER, OSPEEDR and PUPDR with two bits a pin, OTYPER one,
/// AFRL/AFRH four.
const F2_LAYOUT: Layout = Layout {
    regs: F2_REGS,
    idr: 0x10,
    odr: 0x14,
    bsrr: 0x18,
    brr: 0x28,
    lckr: 0x1C,
    locked: &[
        (0x00, 2, 0),
        (0x04, 1, 0),
        (0x08, 2, 0),
        (0x0C, 2, 0),
        (0x20, 4, 0),
        (0x24, 4, 8),
    ],
};

/// F1: four configuration bits a pin in CRL (pins 0..7) and CRH (8..15).
const F1_LAYOUT: Layout = Layout {
    regs: F1_REGS,
    idr: 0x08,
    odr: 0x0C,
    bsrr: 0x10,
    brr: 0x14,
    lckr: 0x18,
    locked: &[(0x00, 4, 0), (0x04, 4, 8)],
};

/// A GPIO port. On the F2/F4/F7/H7/L4 kind, ports A and B reset with their
/// debug pins configured, and L4/H7 ports reset in analog mode: those reset
/// values come from the target file's `reset` entries.
pub struct Gpio {
    layout: &'static Layout,
    /// Whether this is an F1 port (CRL/CRH configuration).
    f1: bool,
    /// Whether the port has BRR (F1, L4); elsewhere a write there is kept
    /// like any unnamed register's.
    brr: bool,
    regs: RegisterFile,
    lock: Lock,
}

impl Gpio {
    /// The port of `target` as `spec` describes it: the F1 layout or the
    /// F2+ one by kind.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Gpio {
        let f1 = spec.kind == PeripheralKind::Stm32f1Gpio;
        let layout = if f1 { &F1_LAYOUT } else { &F2_LAYOUT };
        Gpio {
            layout,
            f1,
            brr: f1 || Family::of(target) == Family::L4,
            regs: reset_file(layout.regs, spec),
            lock: Lock::default(),
        }
    }

    fn odr(&self) -> u32 {
        self.regs.get(self.layout.odr) & 0xFFFF
    }

    fn set_odr(&mut self, odr: u32) {
        self.regs.set(self.layout.odr, odr, u32::MAX);
    }

    /// What the pins read with nothing connected.
    fn idr(&self) -> u32 {
        if self.f1 {
            self.f1_idr()
        } else {
            self.f2_idr()
        }
    }

    /// F2+: outputs read their latch, inputs and alternate functions their
    /// pull-up, analog pins 0.
    fn f2_idr(&self) -> u32 {
        let moder = self.regs.get(0x00);
        let pupdr = self.regs.get(0x0C);
        (0..16).fold(0, |acc, pin| {
            let high = match moder >> (2 * pin) & 0x3 {
                0b01 => self.odr() >> pin & 1 == 1,
                0b11 => false,
                _ => pupdr >> (2 * pin) & 0x3 == 0b01,
            };
            acc | u32::from(high) << pin
        })
    }

    /// F1: general-purpose outputs read their latch, inputs with
    /// pull-up/pull-down the latch (which selects the pull, RM0008 9.1.1),
    /// analog, floating and alternate-function pins 0.
    fn f1_idr(&self) -> u32 {
        (0..16).fold(0, |acc, pin| {
            let cr = self.regs.get(if pin < 8 { 0x00 } else { 0x04 });
            let cfg = cr >> (4 * (pin % 8)) & 0xF;
            let (mode, cnf) = (cfg & 0x3, cfg >> 2);
            let latch = self.odr() >> pin & 1;
            let high = match (mode, cnf) {
                (0, 0b10) => latch,
                (1..=3, 0b00 | 0b01) => latch,
                _ => 0,
            };
            acc | high << pin
        })
    }

    /// The bits of the register at `offset` the configuration lock freezes.
    fn protected(&self, offset: u32) -> u32 {
        self.layout
            .locked
            .iter()
            .find(|&&(reg, _, _)| reg == offset)
            .map_or(0, |&(_, width, first)| self.lock.protected(width, first))
    }
}

impl Peripheral for Gpio {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        let layout = self.layout;
        Ok(match offset {
            o if o == layout.idr => self.idr(),
            o if o == layout.odr => self.odr(),
            // BSRR and BRR are write-only and read 0.
            o if o == layout.bsrr || o == layout.brr => 0,
            _ => self.regs.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        _ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let layout = self.layout;
        let value = value & mask;
        match offset {
            o if o == layout.idr => {}
            o if o == layout.bsrr => {
                // Set bits win over reset bits (RM0090 8.4.7, RM0008 9.2.5).
                self.set_odr(self.odr() & !(value >> 16) | value & 0xFFFF);
            }
            o if o == layout.brr && self.brr => self.set_odr(self.odr() & !value),
            o if o == layout.lckr => {
                let lckr = self.lock.write(merge(self.regs.get(offset), value, mask));
                self.regs.set(offset, lckr, u32::MAX);
            }
            _ => self.regs.set(offset, value, mask & !self.protected(offset)),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        if offset == self.layout.brr && !self.brr {
            return None;
        }
        name_in(self.layout.regs, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::BusClock;

    fn wr(p: &mut dyn Peripheral, h: &mut Rig, offset: u32, value: u32, mask: u32) {
        assert_eq!(p.write(offset, value & mask, mask, &mut h.ctx()), Ok(()));
    }

    fn port(target_name: &str) -> Gpio {
        let s = spec("GPIOD", PeripheralKind::Stm32Gpio, &[], BusClock::Ahb, &[]);
        Gpio::new(&s, &target(target_name))
    }

    #[test]
    fn bsrr_sets_and_resets_with_set_winning() {
        let mut g = port("stm32f407");
        let mut h = Rig::new(1);
        wr(&mut g, &mut h, 0x18, 0x0000_1001, u32::MAX);
        assert_eq!(h.read(&mut g, 0x14), 0x1001);
        wr(&mut g, &mut h, 0x18, 0x1001_0002, u32::MAX);
        assert_eq!(h.read(&mut g, 0x14), 0x0002);
        // Both set and reset for pin 1: set wins.
        wr(&mut g, &mut h, 0x18, 0x0002_0002, u32::MAX);
        assert_eq!(h.read(&mut g, 0x14), 0x0002);
        assert_eq!(h.read(&mut g, 0x18), 0, "BSRR reads 0");
    }

    #[test]
    fn halfword_bsrr_writes_touch_only_their_half() {
        let mut g = port("stm32f407");
        let mut h = Rig::new(1);
        wr(&mut g, &mut h, 0x18, 0x0000_00F0, 0x0000_FFFF);
        // The old BSRRH: reset pins 4 and 5 through the upper halfword.
        wr(&mut g, &mut h, 0x18, 0x0030_0000, 0xFFFF_0000);
        assert_eq!(h.read(&mut g, 0x14), 0x00C0);
    }

    #[test]
    fn idr_reads_outputs_and_pulls() {
        let mut g = port("stm32f407");
        let mut h = Rig::new(1);
        // Pin 0 output, pin 1 input with pull-up, pin 2 analog with pull-up.
        wr(&mut g, &mut h, 0x00, 0b11_00_01, u32::MAX);
        wr(&mut g, &mut h, 0x0C, 0b01_01_00, u32::MAX);
        wr(&mut g, &mut h, 0x14, 0x1, u32::MAX);
        assert_eq!(h.read(&mut g, 0x10), 0b011);
        wr(&mut g, &mut h, 0x14, 0x0, u32::MAX);
        assert_eq!(h.read(&mut g, 0x10), 0b010);
    }

    #[test]
    fn lock_freezes_the_locked_pins() {
        let mut g = port("stm32f407");
        let mut h = Rig::new(1);
        for v in [0x1_0001, 0x0_0001, 0x1_0001] {
            wr(&mut g, &mut h, 0x1C, v, u32::MAX);
        }
        assert_eq!(h.read(&mut g, 0x1C), 0x1_0001);
        wr(&mut g, &mut h, 0x00, 0xFFFF_FFFF, u32::MAX);
        assert_eq!(h.read(&mut g, 0x00), 0xFFFF_FFFC);
    }

    #[test]
    fn brr_only_on_l4() {
        let mut g = port("stm32l4r5");
        let mut h = Rig::new(1);
        wr(&mut g, &mut h, 0x14, 0x3, u32::MAX);
        wr(&mut g, &mut h, 0x28, 0x1, u32::MAX);
        assert_eq!(h.read(&mut g, 0x14), 0x2);
        assert_eq!(port("stm32f407").register_name(0x28), None);
    }

    #[test]
    fn f1_port() {
        let s = spec(
            "GPIOC",
            PeripheralKind::Stm32f1Gpio,
            &[],
            BusClock::Apb2,
            &[],
        );
        let mut g = Gpio::new(&s, &target("stm32f103"));
        let mut h = Rig::new(1);
        // PC13 as a 2 MHz push-pull output.
        wr(&mut g, &mut h, 0x04, 0x4424_4444, u32::MAX);
        wr(&mut g, &mut h, 0x10, 1 << 13, u32::MAX);
        assert_eq!(h.read(&mut g, 0x08), 1 << 13);
        wr(&mut g, &mut h, 0x14, 1 << 13, u32::MAX);
        assert_eq!(h.read(&mut g, 0x0C), 0);
        assert_eq!(h.read(&mut g, 0x08), 0);
    }
}
