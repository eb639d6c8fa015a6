//! USARTs as the firmware's console: a byte written to the data register
//! while the USART and its transmitter are enabled goes to the firmware's
//! output stream at once, so the transmit register is always empty and a
//! frame completes as soon as it is written. With the receiver enabled, the
//! bytes the host gives (`mcubench run --input`) arrive a frame apart at the
//! baud rate BRR sets (see [`HostInput`](crate::machine::bus::HostInput)):
//! RXNE is set while one waits. All USARTs share that one input, as one
//! terminal would.
//!
//! The interrupt line is level-sensitive (TXE with TXEIE, TC with TCIE, RXNE
//! with RXNEIE): it pends the block's first IRQ when it rises, and again when
//! a data access re-arms a flag that stays set, as the next byte would on
//! hardware. Transmission is not timed.

use super::{clear_w0, drive_irq, name_in, Family, RegDef};
use crate::machine::bus::{merge, BusContext, BusError, Peripheral};
use crate::machine::clock::Clocks;
use crate::target::{BusClock, PeripheralSpec, Target};

/// Status bits of the F1/F4 SR (RM0090 30.6.1) and the V2 ISR share
/// positions for these three.
const TXE: u32 = 1 << 7;
const TC: u32 = 1 << 6;
const RXNE: u32 = 1 << 5;
/// CR1 RXNEIE (bit 5) and RE (bit 2), at the same places in both layouts.
const RXNEIE: u32 = 1 << 5;
const RE: u32 = 1 << 2;
/// CR1 M (M0 on V2, bit 12: 9 data bits) and OVER8 (bit 15: 8 samples a bit),
/// the same in both layouts; V2's M1 (bit 28) with M0 clear selects 7 bits.
const M0: u32 = 1 << 12;
const OVER8: u32 = 1 << 15;
const M1: u32 = 1 << 28;

/// Core cycles of one frame: a start bit, the data bits CR1 selects (parity,
/// when enabled, is one of them) and CR2's stop bits, at the baud rate BRR
/// sets from `kernel_ticks` kernel clock periods per division step (the
/// prescaler's, 1 without one). The kernel clock is the bus clock, each
/// part's reset selection. With OVER16, baud = clock / BRR; with OVER8 the
/// divider is BRR[15:4] and BRR[2:0] shifted left once and baud = 2 x clock /
/// that (RM0090 30.3.4, RM0433 48.5.7). 0 while BRR is 0: not yet set up.
fn frame_cycles(
    brr: u32,
    cr1: u32,
    cr2: u32,
    kernel_ticks: u64,
    bus: BusClock,
    clocks: &Clocks,
) -> u64 {
    let (divider, per_bit) = if cr1 & OVER8 != 0 {
        ((brr & 0xFFF0) | (brr & 7) << 1, 2)
    } else {
        (brr & 0xFFFF, 1)
    };
    let data_bits = match (cr1 & M1 != 0, cr1 & M0 != 0) {
        (false, false) => 8,
        (_, true) => 9,
        (true, false) => 7,
    };
    // CR2 STOP (bits 13:12): 1, 0.5, 2 or 1.5 stop bits, counted in half bits.
    let stop_halves = [2, 1, 4, 3][(cr2 >> 12 & 3) as usize];
    let halves = 2 * (1 + data_bits) + stop_halves;
    let ticks = halves * u64::from(divider) * kernel_ticks / (2 * per_bit);
    clocks.core_cycles(ticks, bus)
}

/// F1/F4 register map (RM0008 27.6.8, RM0090 30.6.8). SR resets with TXE and
/// TC set, 0xC0 (ST's F407 SVD writes 0x00C00000, a typo the manual's
/// register description does not share).
const REGS: &[RegDef] = &[
    (0x00, "SR", 0xC0),
    (0x04, "DR", 0),
    (0x08, "BRR", 0),
    (0x0C, "CR1", 0),
    (0x10, "CR2", 0),
    (0x14, "CR3", 0),
    (0x18, "GTPR", 0),
];

/// F1/F4 CR1: UE (bit 13), TE (bit 3), TXEIE (bit 7), TCIE (bit 6).
const F4_UE: u32 = 1 << 13;
const TE: u32 = 1 << 3;
const TXEIE: u32 = 1 << 7;
const TCIE: u32 = 1 << 6;

/// What both register layouts share: the transmitter (a data write goes to
/// the console at once, so TXE is always set), the receiver (bytes from the
/// host's input, RXNE while any are left) and the interrupt line, which
/// follows TXE, TC, RXNE and (FIFO parts) TXFE through their CR1 enables.
struct Link {
    /// CR1's UE bit: bit 13 on the F1/F4, bit 0 on V2.
    ue: u32,
    /// Transmission complete flag.
    tc: bool,
    /// TXFIFO empty flag, on parts with a FIFO.
    txfe: bool,
    /// Whether the part has the FIFO and PRESC (H7, L4+).
    fifo: bool,
    irq: Option<u32>,
    /// Interrupt line level after the last access.
    level: bool,
    /// The bus whose clock the USART runs on.
    clock: BusClock,
}

impl Link {
    fn new(ue: u32, fifo: bool, spec: &PeripheralSpec) -> Link {
        Link {
            ue,
            tc: true,
            txfe: fifo,
            fifo,
            irq: spec.irqs.first().copied(),
            level: false,
            clock: spec.clock,
        }
    }

    /// A write to the data register: its low byte goes out, in frames of
    /// `frame` core cycles, while UE and TE are set in `cr1`. Returns whether
    /// it did, which re-arms TXE.
    fn send(
        &mut self,
        value: u32,
        mask: u32,
        cr1: u32,
        frame: u64,
        ctx: &mut BusContext<'_>,
    ) -> bool {
        let enabled = self.ue | TE;
        if mask & 0xFF == 0 || cr1 & enabled != enabled {
            return false;
        }
        ctx.send(&[(value & 0xFF) as u8], frame);
        self.tc = true;
        self.txfe = self.fifo;
        true
    }

    /// Whether a received byte waits in the data register (RXNE) with `cr1` in force.
    fn received(&self, cr1: u32, ctx: &BusContext<'_>) -> bool {
        cr1 & (self.ue | RE) == self.ue | RE && ctx.input.waiting(ctx.now)
    }

    /// A read of the data register: the waiting byte, now taken; the next
    /// comes a `frame` of core cycles later.
    fn receive(&mut self, cr1: u32, frame: u64, ctx: &mut BusContext<'_>) -> u32 {
        if !self.received(cr1, ctx) {
            return 0;
        }
        let byte = ctx.input.receive(ctx.now, frame).map_or(0, u32::from);
        // A byte already waiting re-arms RXNE at once.
        self.drive(cr1, true, ctx);
        byte
    }

    /// Drives the interrupt line after an access, with `cr1` in force;
    /// `rearmed` says a data access re-armed TXE or RXNE.
    fn drive(&mut self, cr1: u32, rearmed: bool, ctx: &mut BusContext<'_>) {
        let asserted = cr1 & self.ue != 0
            && (cr1 & TXEIE != 0
                || cr1 & TCIE != 0 && self.tc
                || cr1 & RXNEIE != 0 && self.received(cr1, ctx)
                || self.fifo && cr1 & TXFEIE != 0 && self.txfe);
        drive_irq(&mut self.level, asserted, rearmed, self.irq, ctx);
    }
}

/// The register at `offset` of those a model keeps as written, by offset / 4.
fn kept(regs: &[u32], offset: u32) -> u32 {
    regs.get(offset as usize / 4).copied().unwrap_or(0)
}

/// Writes the kept register at `offset`, if there is one.
fn keep(regs: &mut [u32], offset: u32, value: u32, mask: u32) {
    if let Some(reg) = regs.get_mut(offset as usize / 4) {
        *reg = merge(*reg, value, mask);
    }
}

/// An STM32F1/F4 USART (SR/DR layout).
pub struct Usart {
    /// BRR, CR1, CR2, CR3, GTPR as written, by offset / 4.
    regs: [u32; 7],
    link: Link,
}

impl Usart {
    /// The USART as `spec` describes it; it raises `spec.irqs[0]`.
    pub fn new(spec: &PeripheralSpec) -> Usart {
        Usart {
            regs: [0; 7],
            link: Link::new(F4_UE, false, spec),
        }
    }

    fn cr1(&self) -> u32 {
        self.regs[3]
    }

    fn frame(&self, clocks: &Clocks) -> u64 {
        frame_cycles(
            self.regs[2],
            self.cr1(),
            self.regs[4],
            1,
            self.link.clock,
            clocks,
        )
    }

    fn sr(&self, ctx: &BusContext<'_>) -> u32 {
        let mut sr = TXE;
        if self.link.tc {
            sr |= TC;
        }
        if self.link.received(self.cr1(), ctx) {
            sr |= RXNE;
        }
        sr
    }
}

impl Peripheral for Usart {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(match offset {
            0x00 => self.sr(ctx),
            0x04 => {
                let frame = self.frame(ctx.clocks);
                self.link.receive(self.cr1(), frame, ctx)
            }
            _ => kept(&self.regs, offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let mut sent = false;
        match offset {
            // TC, RXNE, LBD, CTS are rc_w0; RXNE stands for the input left, so
            // only TC clears here.
            0x00 => self.link.tc = clear_w0(self.sr(ctx), value, mask) & TC != 0,
            0x04 => {
                let frame = self.frame(ctx.clocks);
                sent = self.link.send(value, mask, self.cr1(), frame, ctx);
            }
            _ => keep(&mut self.regs, offset, value, mask),
        }
        self.link.drive(self.cr1(), sent, ctx);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(REGS, offset)
    }

    /// A byte from the host arrived: RXNE rises.
    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.link.drive(self.cr1(), false, ctx);
    }
}

/// F7/H7/L4 register map (RM0385 34.8.12, RM0433 48.7, RM0432 50.8); PRESC
/// only on the H7 and the L4+. ISR resets with TXE and TC set, plus TXFE on
/// the parts with a FIFO (0x008000C0, ST's L4R5 SVD).
const V2_REGS: &[RegDef] = &[
    (0x00, "CR1", 0),
    (0x04, "CR2", 0),
    (0x08, "CR3", 0),
    (0x0C, "BRR", 0),
    (0x10, "GTPR", 0),
    (0x14, "RTOR", 0),
    (0x18, "RQR", 0),
    (0x1C, "ISR", 0xC0),
    (0x20, "ICR", 0),
    (0x24, "RDR", 0),
    (0x28, "TDR", 0),
    (0x2C, "PRESC", 0),
];

/// V2 CR1: UE (bit 0), TE (bit 3), TXFEIE (bit 30, FIFO parts).
const V2_UE: u32 = 1;
const TXFEIE: u32 = 1 << 30;
/// V2 ISR: TEACK, REACK, TXFE.
const TEACK: u32 = 1 << 21;
const REACK: u32 = 1 << 22;
const TXFE: u32 = 1 << 23;

/// An STM32F7/H7/L4 USART (ISR/ICR/TDR/RDR layout).
pub struct UsartV2 {
    /// CR1..PRESC as written, by offset / 4; ISR, ICR, RDR, TDR unused.
    regs: [u32; 12],
    link: Link,
}

impl UsartV2 {
    /// The USART of `target` as `spec` describes it; it raises `spec.irqs[0]`.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> UsartV2 {
        let part = target.part.to_ascii_uppercase();
        let fifo = Family::of(target) == Family::H7
            || ["STM32L4R", "STM32L4S", "STM32L4P", "STM32L4Q"]
                .iter()
                .any(|p| part.starts_with(p));
        UsartV2 {
            regs: [0; 12],
            link: Link::new(V2_UE, fifo, spec),
        }
    }

    fn cr1(&self) -> u32 {
        self.regs[0]
    }

    /// PRESC's division of the kernel clock (RM0433 48.7.13), 1 without one.
    fn prescaler(&self) -> u64 {
        const DIVIDERS: [u64; 12] = [1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256];
        if !self.link.fifo {
            return 1;
        }
        DIVIDERS
            .get((self.regs[11] & 0xF) as usize)
            .copied()
            .unwrap_or(256)
    }

    fn frame(&self, clocks: &Clocks) -> u64 {
        frame_cycles(
            self.regs[3],
            self.cr1(),
            self.regs[1],
            self.prescaler(),
            self.link.clock,
            clocks,
        )
    }

    fn isr(&self, ctx: &BusContext<'_>) -> u32 {
        let cr1 = self.cr1();
        let enabled = cr1 & V2_UE != 0;
        let mut isr = TXE;
        if self.link.received(cr1, ctx) {
            isr |= RXNE;
        }
        if self.link.tc {
            isr |= TC;
        }
        if self.link.txfe {
            isr |= TXFE;
        }
        if enabled && cr1 & TE != 0 {
            isr |= TEACK;
        }
        if enabled && cr1 & RE != 0 {
            isr |= REACK;
        }
        isr
    }
}

impl Peripheral for UsartV2 {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(match offset {
            0x1C => self.isr(ctx),
            0x24 => {
                let frame = self.frame(ctx.clocks);
                self.link.receive(self.cr1(), frame, ctx)
            }
            // RQR and ICR are write-only, TDR reads 0.
            0x18 | 0x20 | 0x28 => 0,
            0x2C if !self.link.fifo => 0,
            _ => kept(&self.regs, offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let mut sent = false;
        match offset {
            // ISR and RDR are read-only; RQR requests have nothing to act on.
            0x18 | 0x1C | 0x24 => {}
            0x20 => {
                // TCCF (bit 6) clears TC, TXFECF (bit 5) clears TXFE.
                let clear = value & mask;
                self.link.tc &= clear & TC == 0;
                self.link.txfe &= !(self.link.fifo && clear & 1 << 5 != 0);
            }
            0x28 => {
                let frame = self.frame(ctx.clocks);
                sent = self.link.send(value, mask, self.cr1(), frame, ctx);
            }
            0x2C if !self.link.fifo => {}
            _ => keep(&mut self.regs, offset, value, mask),
        }
        self.link.drive(self.cr1(), sent, ctx);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        if offset == 0x2C && !self.link.fifo {
            return None;
        }
        name_in(V2_REGS, offset)
    }

    /// A byte from the host arrived: RXNE rises.
    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.link.drive(self.cr1(), false, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::machine::bus::HostInput;
    use crate::target::{BusClock, PeripheralKind};

    #[test]
    fn a_frame_lasts_its_bits_at_the_baud_rate_brr_sets() {
        let clocks = Clocks::uniform(64_000_000);
        let frame = |brr, cr1, cr2| frame_cycles(brr, cr1, cr2, 1, BusClock::Apb1, &clocks);
        // 115200 baud from 64 MHz: BRR 556, ten bits of 556 clocks.
        assert_eq!(frame(556, 0, 0), 5560);
        // OVER8: USARTDIV 1111 is written 0x453 (BRR[2:0] = USARTDIV[3:0] / 2).
        assert_eq!(frame(0x453, OVER8, 0), 5550);
        // A start bit, nine data bits and two stop bits; half a stop bit.
        assert_eq!(frame(556, M0, 2 << 12), 12 * 556);
        assert_eq!(frame(556, 0, 1 << 12), 9 * 556 + 278);
        // Not set up yet: no timing.
        assert_eq!(frame(0, 0, 0), 0);
        // A prescaler of 4 on a bus at half the core clock: eight times as long.
        let mut slow = clocks;
        slow.apb1_hz = 32_000_000;
        assert_eq!(frame_cycles(556, 0, 0, 4, BusClock::Apb1, &slow), 8 * 5560);
    }

    #[test]
    fn f4_dr_writes_reach_the_console_once_enabled() {
        let s = spec(
            "USART2",
            PeripheralKind::Stm32Usart,
            &[38],
            BusClock::Apb1,
            &[],
        );
        let mut u = Usart::new(&s);
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut u, 0x00), 0xC0);
        h.write(&mut u, 0x04, u32::from(b'x'));
        assert!(h.console.is_empty(), "UE and TE off");
        h.write(&mut u, 0x0C, F4_UE | TE);
        for b in b"hi\n" {
            h.write(&mut u, 0x04, u32::from(*b));
        }
        assert_eq!(h.console, b"hi\n");
        assert_eq!(h.read(&mut u, 0x04), 0);
    }

    #[test]
    fn received_bytes_arrive_one_per_data_read_once_the_receiver_is_on() {
        let s = spec(
            "USART2",
            PeripheralKind::Stm32Usart,
            &[38],
            BusClock::Apb1,
            &[],
        );
        let mut u = Usart::new(&s);
        let mut h = Rig::new(1);
        h.input = HostInput::new(b"ok", b"");
        assert_eq!(h.read(&mut u, 0x00) & RXNE, 0, "receiver off");
        h.write(&mut u, 0x0C, F4_UE | RE | RXNEIE);
        assert_eq!(h.raised, [38], "RXNEIE with a byte waiting");
        assert_eq!(h.read(&mut u, 0x00) & RXNE, RXNE);
        assert_eq!(h.read(&mut u, 0x04), u32::from(b'o'));
        assert_eq!(h.raised, [38, 38], "the next byte re-arms RXNE");
        assert_eq!(h.read(&mut u, 0x04), u32::from(b'k'));
        assert_eq!(h.read(&mut u, 0x00) & RXNE, 0, "all taken");

        let v2 = spec(
            "USART1",
            PeripheralKind::Stm32UsartV2,
            &[37],
            BusClock::Apb2,
            &[],
        );
        let mut u = UsartV2::new(&v2, &target("stm32l4r5"));
        h.input = HostInput::new(b"z", b"");
        h.write(&mut u, 0x00, V2_UE | RE);
        assert_eq!(h.read(&mut u, 0x1C) & RXNE, RXNE);
        assert_eq!(h.read(&mut u, 0x24), u32::from(b'z'));
        assert_eq!(h.read(&mut u, 0x1C) & RXNE, 0);
    }

    #[test]
    fn f4_tc_clears_by_writing_0_and_interrupts_follow_the_flags() {
        let s = spec(
            "USART1",
            PeripheralKind::Stm32Usart,
            &[37],
            BusClock::Apb2,
            &[],
        );
        let mut u = Usart::new(&s);
        let mut h = Rig::new(1);
        h.write(&mut u, 0x0C, F4_UE | TE);
        h.write(&mut u, 0x00, !TC);
        assert_eq!(h.read(&mut u, 0x00), TXE);
        // TCIE while TC is clear: no interrupt; a byte sets TC and raises it.
        h.write(&mut u, 0x0C, F4_UE | TE | TCIE);
        assert!(h.raised.is_empty());
        h.write(&mut u, 0x04, u32::from(b'a'));
        assert_eq!(h.raised, [37]);
        // TXEIE with TXE set raises at once, and each refill raises again.
        h.write(&mut u, 0x0C, F4_UE | TE | TXEIE);
        h.write(&mut u, 0x04, u32::from(b'b'));
        assert_eq!(h.raised, [37, 37]);
    }

    #[test]
    fn v2_tdr_teack_and_icr() {
        let s = spec(
            "USART3",
            PeripheralKind::Stm32UsartV2,
            &[39],
            BusClock::Apb1,
            &[],
        );
        let mut u = UsartV2::new(&s, &target("stm32l4r5"));
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut u, 0x1C), 0x0080_00C0);
        h.write(&mut u, 0x00, V2_UE | TE | RE);
        assert_eq!(h.read(&mut u, 0x1C), 0x00E0_00C0);
        h.write(&mut u, 0x20, 1 << 6);
        assert_eq!(h.read(&mut u, 0x1C) & TC, 0);
        h.write(&mut u, 0x28, u32::from(b'z'));
        assert_eq!(h.console, b"z");
        assert_eq!(h.read(&mut u, 0x1C) & TC, TC);
        assert_eq!(h.read(&mut u, 0x24), 0);
    }

    #[test]
    fn v2_on_f7_has_no_fifo_flags() {
        let s = spec(
            "USART1",
            PeripheralKind::Stm32UsartV2,
            &[37],
            BusClock::Apb2,
            &[],
        );
        let mut u = UsartV2::new(&s, &target("stm32f746"));
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut u, 0x1C), 0xC0);
        assert_eq!(u.register_name(0x2C), None);
    }
}
