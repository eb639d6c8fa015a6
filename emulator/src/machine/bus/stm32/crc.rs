//! The CRC calculation unit: CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial
//! value 0xFFFFFFFF, no reflection, most significant bit first) over the
//! words written to DR, as RM0090 chapter 4 describes it. On the F7, H7 and
//! L4 the unit also takes byte and halfword writes to DR, a programmable
//! initial value (INIT) and polynomial (POL, of 7, 8, 16 or 32 bits) and bit
//! reversal of the input and output (RM0385 chapter 6).

use super::{name_in, reset_value, Family, RegDef};
use crate::machine::bus::{merge, BusContext, BusError, Peripheral};
use crate::target::{PeripheralSpec, Target};

/// Register map (RM0090 4.4.4, RM0385 6.4.6); INIT and POL on F7/H7/L4 only.
const REGS: &[RegDef] = &[
    (0x00, "DR", 0xFFFF_FFFF),
    (0x04, "IDR", 0),
    (0x08, "CR", 0),
    (0x10, "INIT", 0xFFFF_FFFF),
    (0x14, "POL", 0x04C1_1DB7),
];

/// Reverses the low `bits` bits of `value`.
fn reverse(value: u32, bits: u32) -> u32 {
    value.reverse_bits() >> (32 - bits)
}

/// A CRC unit.
pub struct Crc {
    /// The CRC register: what DR reads (before output reversal).
    crc: u32,
    idr: u32,
    /// CR without the self-clearing RESET bit.
    cr: u32,
    init: u32,
    pol: u32,
    /// Whether the F7+ extras exist (INIT, POL, REV_IN/OUT, narrow writes).
    extended: bool,
    /// IDR width mask: 8 bits on F1/F4/F7, 32 on H7/L4 (CMSIS headers).
    idr_mask: u32,
}

impl Crc {
    /// The CRC unit of `target` as `spec` describes it.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Crc {
        let family = Family::of(target);
        let reset = |offset| reset_value(spec, offset);
        let init = reset(0x10).unwrap_or(0xFFFF_FFFF);
        Crc {
            crc: reset(0x00).unwrap_or(init),
            idr: reset(0x04).unwrap_or(0),
            cr: reset(0x08).unwrap_or(0) & !1,
            init,
            pol: reset(0x14).unwrap_or(0x04C1_1DB7),
            extended: !matches!(family, Family::F1 | Family::F4),
            idr_mask: if matches!(family, Family::H7 | Family::L4) {
                u32::MAX
            } else {
                0xFF
            },
        }
    }

    /// Polynomial width from CR POLYSIZE (bits 4:3): 32, 16, 8 or 7 bits.
    fn width(&self) -> u32 {
        if !self.extended {
            return 32;
        }
        match self.cr >> 3 & 0x3 {
            0 => 32,
            1 => 16,
            2 => 8,
            _ => 7,
        }
    }

    /// Feeds the low `bits` bits of `data`, most significant bit first.
    fn feed(&mut self, data: u32, bits: u32) {
        // REV_IN (bits 6:5): reversal by byte, halfword or word, never wider
        // than the data written.
        let rev_in = if self.extended { self.cr >> 5 & 0x3 } else { 0 };
        let unit = match rev_in {
            0 => 0,
            1 => 8,
            2 => 16,
            _ => 32,
        }
        .min(bits);
        let data = match bits.checked_div(unit) {
            None => data,
            Some(units) => (0..units).fold(0, |acc, i| {
                let shift = i * unit;
                let field = data >> shift & (u32::MAX >> (32 - unit));
                acc | reverse(field, unit) << shift
            }),
        };
        let width = self.width();
        let top = 1u32 << (width - 1);
        let mask = u32::MAX >> (32 - width);
        let mut crc = self.crc & mask;
        for i in (0..bits).rev() {
            let bit = data >> i & 1;
            let feedback = u32::from(crc & top != 0) ^ bit;
            crc = crc << 1 & mask;
            if feedback == 1 {
                crc ^= self.pol & mask;
            }
        }
        self.crc = crc;
    }

    fn dr(&self) -> u32 {
        // REV_OUT (bit 7) reverses the result over the polynomial's width.
        if self.extended && self.cr >> 7 & 1 == 1 {
            reverse(self.crc, self.width())
        } else {
            self.crc
        }
    }
}

impl Peripheral for Crc {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(match offset {
            0x00 => self.dr(),
            0x04 => self.idr,
            0x08 => self.cr,
            0x10 if self.extended => self.init,
            0x14 if self.extended => self.pol,
            _ => 0,
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        _ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        match offset {
            0x00 if self.extended => {
                // A byte or halfword write feeds that many bits (RM0385 6.3.2).
                let bits = mask.count_ones();
                let shift = mask.trailing_zeros();
                self.feed(value >> shift, bits);
            }
            // F1/F4 take words; a narrower write feeds the word with the
            // unwritten lanes at 0.
            0x00 => self.feed(value & mask, 32),
            0x04 => self.idr = merge(self.idr, value, mask) & self.idr_mask,
            0x08 => {
                let writable = if self.extended { 0xF8 } else { 0 };
                self.cr = merge(self.cr, value, mask & writable);
                if value & mask & 1 == 1 {
                    self.crc = if self.extended {
                        self.init
                    } else {
                        0xFFFF_FFFF
                    };
                }
            }
            0x10 if self.extended => self.init = merge(self.init, value, mask),
            0x14 if self.extended => self.pol = merge(self.pol, value, mask),
            _ => {}
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        if offset >= 0x10 && !self.extended {
            return None;
        }
        name_in(REGS, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    fn unit(target_name: &str) -> Crc {
        let s = spec("CRC", PeripheralKind::Stm32Crc, &[], BusClock::Ahb, &[]);
        Crc::new(&s, &target(target_name))
    }

    fn wr(c: &mut Crc, h: &mut Rig, offset: u32, value: u32, mask: u32) {
        assert_eq!(c.write(offset, value & mask, mask, &mut h.ctx()), Ok(()));
    }

    fn dr(c: &mut Crc, h: &mut Rig) -> u32 {
        match c.read(0x00, &mut h.ctx()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn known_answer_after_reset() {
        let mut c = unit("stm32f407");
        let mut h = Rig::new(1);
        assert_eq!(dr(&mut c, &mut h), 0xFFFF_FFFF);
        wr(&mut c, &mut h, 0x00, 0x1234_5678, u32::MAX);
        assert_eq!(dr(&mut c, &mut h), 0xDF8A_8A2B);
        wr(&mut c, &mut h, 0x00, 0x9ABC_DEF0, u32::MAX);
        assert_eq!(dr(&mut c, &mut h), 0x7D24_A31B);
        wr(&mut c, &mut h, 0x08, 1, u32::MAX);
        assert_eq!(dr(&mut c, &mut h), 0xFFFF_FFFF, "RESET reloads");
    }

    #[test]
    fn idr_keeps_a_byte_on_f4() {
        let mut c = unit("stm32f407");
        let mut h = Rig::new(1);
        wr(&mut c, &mut h, 0x04, 0x1234_56AB, u32::MAX);
        assert_eq!(c.read(0x04, &mut h.ctx()), Ok(0xAB));
    }

    #[test]
    fn f7_bytes_with_reversal_give_the_standard_crc32() {
        // CRC-32 (zlib) = this unit with REV_IN by byte, REV_OUT, and the
        // result inverted: "123456789" gives 0xCBF43926.
        let mut c = unit("stm32f746");
        let mut h = Rig::new(1);
        wr(&mut c, &mut h, 0x08, 1 << 5 | 1 << 7 | 1, u32::MAX);
        for (i, b) in b"123456789".iter().enumerate() {
            let lane = (i as u32 % 4) * 8;
            wr(&mut c, &mut h, 0x00, u32::from(*b) << lane, 0xFF << lane);
        }
        assert_eq!(!dr(&mut c, &mut h), 0xCBF4_3926);
    }
}
