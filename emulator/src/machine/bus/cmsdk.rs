//! Arm Cortex-M System Design Kit (CMSDK) APB peripherals, as the MPS2 FPGA
//! images AN385/AN386 instantiate them: the UART that carries the firmware's
//! console and the 32-bit down-counting timer.
//!
//! Register maps and ID values: Arm Cortex-M System Design Kit Technical
//! Reference Manual (DDI 0479C), chapter "APB components", as restated in
//! QEMU's models (hw/char/cmsdk-apb-uart.c, hw/timer/cmsdk-apb-timer.c) and
//! in Arm's CMSDK_CM3.h device header for the MPS2. Timer counting follows the
//! CMSDK RTL, cmsdk_apb_timer.v, as published in public repositories.

use super::ticks::{bus_hz, next_in_progression, Ticker};
use super::{merge, BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::Clocks;
use crate::target::{BusClock, PeripheralSpec};

/// Peripheral and component ID registers, PID4..PID7, PID0..PID3, CID0..CID3
/// at 0xFD0..0xFFC (DDI 0479C "APB UART"/"APB timer" ID values; the same
/// numbers in QEMU's `uart_id`/`timer_id` tables and the RTL localparams).
const ID_BASE: u32 = 0xFD0;
/// Part number 0x821 in PID0/PID1 (JEP106 Arm, 0x3B): UART.
const UART_ID: [u32; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x21, 0xB8, 0x1B, 0x00, 0x0D, 0xF0, 0x05, 0xB1,
];
/// Part number 0x822: timer.
const TIMER_ID: [u32; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x22, 0xB8, 0x1B, 0x00, 0x0D, 0xF0, 0x05, 0xB1,
];
const ID_NAMES: [&str; 12] = [
    "PID4", "PID5", "PID6", "PID7", "PID0", "PID1", "PID2", "PID3", "CID0", "CID1", "CID2", "CID3",
];

/// The ID register at `offset`, if it is one.
fn id_index(offset: u32) -> Option<usize> {
    let index = offset.checked_sub(ID_BASE)? / 4;
    usize::try_from(index).ok().filter(|&i| i < ID_NAMES.len())
}

mod uart {
    //! CMSDK APB UART register offsets and bits (DDI 0479C, APB UART
    //! programmers model; CMSDK_CM3.h `CMSDK_UART_*`).
    pub const DATA: u32 = 0x000;
    pub const STATE: u32 = 0x004;
    pub const CTRL: u32 = 0x008;
    /// INTSTATUS on read, INTCLEAR (write 1 to clear) on write.
    pub const INTSTATUS: u32 = 0x00C;
    pub const BAUDDIV: u32 = 0x010;
    /// CTRL: transmitter and receiver enable.
    pub const CTRL_TXEN: u32 = 1 << 0;
    pub const CTRL_RXEN: u32 = 1 << 1;
    /// CTRL: receive interrupt enable.
    pub const CTRL_RXINTEN: u32 = 1 << 3;
    /// STATE: receive buffer full.
    pub const STATE_RXFULL: u32 = 1 << 1;
    /// INTSTATUS: receive interrupt.
    pub const INT_RX: u32 = 1 << 1;
    /// CTRL: TXEN, RXEN, TXINTEN, RXINTEN, TXOINTEN, RXOINTEN, HSTM.
    pub const CTRL_BITS: u32 = 0x7F;
    /// CTRL: transmit interrupt enable.
    pub const CTRL_TXINTEN: u32 = 1 << 2;
    /// INTSTATUS: transmit interrupt (TX, RX, TXO, RXO in bits 0..3).
    pub const INT_TX: u32 = 1 << 0;
    pub const INT_BITS: u32 = 0xF;
    /// BAUDDIV is 20 bits wide.
    pub const BAUDDIV_BITS: u32 = 0xF_FFFF;
}

/// CMSDK APB UART.
///
/// Modeled: transmission into the console, instantly, so STATE never shows
/// TXFULL and no overrun can happen; the TX interrupt (INTSTATUS.TX, raised on
/// `irqs[1]` for every byte sent while CTRL.TXINTEN is set, held until cleared
/// through INTCLEAR); CTRL; BAUDDIV, which times reception only; the ID
/// registers; reception of the host's input (`mcubench run --input`): with
/// RXEN set, STATE.RXFULL while a byte waits, the bytes a frame apart at
/// PCLK / BAUDDIV (ten bits: start, eight data, stop), and the RX interrupt
/// on `irqs[0]` while RXINTEN is set and a byte waits. Not modeled: overrun interrupts, the combined overflow line, and
/// bytes written while TXEN is clear, which are dropped here where the
/// hardware would hold one in its buffer.
#[derive(Debug, Clone)]
pub struct CmsdkUart {
    ctrl: u32,
    intstatus: u32,
    bauddiv: u32,
    /// The TX interrupt line: the second IRQ the target lists, `[rx, tx]`.
    tx_irq: Option<u32>,
    /// The RX interrupt line: the first.
    rx_irq: Option<u32>,
    /// The bus whose clock (PCLK) BAUDDIV divides.
    clock: BusClock,
    /// Offsets this model does not name keep what is written.
    other: RegisterFile,
}

impl CmsdkUart {
    /// The UART at reset: everything 0 (DDI 0479C reset values).
    pub fn new(spec: &PeripheralSpec) -> CmsdkUart {
        CmsdkUart {
            ctrl: 0,
            intstatus: 0,
            bauddiv: 0,
            tx_irq: spec.irqs.get(1).copied(),
            rx_irq: spec.irqs.first().copied(),
            clock: spec.clock,
            other: RegisterFile::new(&spec.reset),
        }
    }

    /// Whether a received byte waits (STATE.RXFULL).
    fn rx_full(&self, ctx: &BusContext<'_>) -> bool {
        self.ctrl & uart::CTRL_RXEN != 0 && ctx.input.waiting(ctx.now)
    }

    /// Core cycles of a ten-bit frame at PCLK / BAUDDIV (0 before BAUDDIV is set).
    fn frame(&self, ctx: &BusContext<'_>) -> u64 {
        ctx.clocks
            .core_cycles(10 * u64::from(self.bauddiv), self.clock)
    }

    /// A DATA read: the waiting byte, now taken; the next one raises the RX
    /// interrupt again.
    fn receive(&mut self, ctx: &mut BusContext<'_>) -> u32 {
        if !self.rx_full(ctx) {
            return 0;
        }
        let frame = self.frame(ctx);
        let byte = ctx.input.receive(ctx.now, frame).map_or(0, u32::from);
        self.signal_rx(ctx);
        byte
    }

    /// Raises the RX interrupt when it is enabled and a byte waits.
    fn signal_rx(&mut self, ctx: &mut BusContext<'_>) {
        if self.ctrl & uart::CTRL_RXINTEN != 0 && self.rx_full(ctx) {
            self.intstatus |= uart::INT_RX;
            if let Some(irq) = self.rx_irq {
                ctx.raise(irq);
            }
        }
    }

    fn transmit(&mut self, byte: u8, ctx: &mut BusContext<'_>) {
        if self.ctrl & uart::CTRL_TXEN == 0 {
            return;
        }
        let frame = self.frame(ctx);
        ctx.send(&[byte], frame);
        if self.ctrl & uart::CTRL_TXINTEN != 0 {
            self.intstatus |= uart::INT_TX;
            if let Some(irq) = self.tx_irq {
                ctx.raise(irq);
            }
        }
    }
}

impl Peripheral for CmsdkUart {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(match offset {
            uart::DATA => self.receive(ctx),
            // The transmit buffer is never full and no overrun happens.
            uart::STATE if self.rx_full(ctx) => uart::STATE_RXFULL,
            uart::STATE => 0,
            uart::CTRL => self.ctrl,
            uart::INTSTATUS => self.intstatus,
            uart::BAUDDIV => self.bauddiv,
            _ => match id_index(offset) {
                Some(i) => UART_ID[i],
                None => self.other.get(offset),
            },
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        match offset {
            uart::DATA => self.transmit((value & mask & 0xFF) as u8, ctx),
            // STATE's overrun bits are write-1-to-clear and never set here.
            uart::STATE => {}
            uart::CTRL => {
                self.ctrl = merge(self.ctrl, value, mask) & uart::CTRL_BITS;
                self.signal_rx(ctx);
            }
            uart::INTSTATUS => self.intstatus &= !(value & mask & uart::INT_BITS),
            uart::BAUDDIV => {
                self.bauddiv = merge(self.bauddiv, value, mask) & uart::BAUDDIV_BITS;
            }
            _ if id_index(offset).is_some() => {}
            _ => self.other.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        match offset {
            uart::DATA => Some("DATA"),
            uart::STATE => Some("STATE"),
            uart::CTRL => Some("CTRL"),
            uart::INTSTATUS => Some("INTSTATUS"),
            uart::BAUDDIV => Some("BAUDDIV"),
            _ => id_index(offset).map(|i| ID_NAMES[i]),
        }
    }

    /// A byte from the host arrived: the RX interrupt rises.
    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        if self.intstatus & uart::INT_RX == 0 {
            self.signal_rx(ctx);
        }
    }
}

mod timer {
    //! CMSDK APB timer register offsets and bits (DDI 0479C, APB timer
    //! programmers model; CMSDK_CM3.h `CMSDK_TIMER_*`).
    pub const CTRL: u32 = 0x0;
    pub const VALUE: u32 = 0x4;
    pub const RELOAD: u32 = 0x8;
    /// INTSTATUS on read, INTCLEAR (write 1 to clear) on write.
    pub const INTSTATUS: u32 = 0xC;
    /// CTRL: enable.
    pub const CTRL_EN: u32 = 1 << 0;
    /// CTRL: count only while the external input EXTIN is high.
    pub const CTRL_SELEXTEN: u32 = 1 << 1;
    /// CTRL: count rising edges of EXTIN instead of PCLK.
    pub const CTRL_SELEXTCLK: u32 = 1 << 2;
    /// CTRL: interrupt enable.
    pub const CTRL_INTEN: u32 = 1 << 3;
    pub const CTRL_BITS: u32 = 0xF;
}

/// CMSDK APB timer: a 32-bit counter that decrements at PCLK.
///
/// As the RTL has it: while enabled, each PCLK tick decrements VALUE; a
/// decrement from 1 to 0 sets INTSTATUS when CTRL.INTEN is set; the tick after
/// VALUE is 0 loads RELOAD, so a period is RELOAD + 1 ticks and RELOAD = 0
/// leaves the counter at 0 with no further interrupt. Writing RELOAD does not
/// change VALUE (QEMU's model loads both; the RTL only loads on reaching 0).
/// EXTIN is not connected to anything modeled and reads low, so with either
/// external-input select bit set the counter stands still. The interrupt is
/// raised on `irqs[0]` when INTSTATUS is set.
///
/// The counter is never stepped: VALUE and the next interrupt follow from the
/// value at an anchor cycle and the PCLK ticks since, converted from core
/// cycles at the clock the target assigns (`clock`, APB1 on the MPS2).
#[derive(Debug, Clone)]
pub struct CmsdkTimer {
    ctrl: u32,
    reload: u32,
    intstatus: u32,
    irq: Option<u32>,
    clock: BusClock,
    /// VALUE at the anchor.
    value0: u32,
    /// PCLK ticks since the anchor.
    ticker: Ticker,
    /// Ticks since the anchor already acted on.
    done: u64,
    /// An interrupt that fell due while the clocks changed, raised at the next advance.
    pending: bool,
    other: RegisterFile,
}

impl CmsdkTimer {
    /// The timer at reset: stopped, VALUE and RELOAD 0.
    pub fn new(spec: &PeripheralSpec) -> CmsdkTimer {
        CmsdkTimer {
            ctrl: 0,
            reload: 0,
            intstatus: 0,
            irq: spec.irqs.first().copied(),
            clock: spec.clock,
            value0: 0,
            ticker: Ticker::new(0, 0, 1),
            done: 0,
            pending: false,
            other: RegisterFile::new(&spec.reset),
        }
    }

    fn running(&self) -> bool {
        self.ctrl & timer::CTRL_EN != 0
            && self.ctrl & (timer::CTRL_SELEXTEN | timer::CTRL_SELEXTCLK) == 0
    }

    /// VALUE `ticks` PCLK ticks after the anchor.
    fn value_after(&self, ticks: u64) -> u32 {
        if !self.running() {
            return self.value0;
        }
        let v0 = u64::from(self.value0);
        if ticks <= v0 {
            return (v0 - ticks) as u32;
        }
        if self.reload == 0 {
            return 0;
        }
        // After reaching 0 at tick v0, the counter reloads at v0 + 1 and then
        // runs through RELOAD..=0 every RELOAD + 1 ticks.
        let period = u64::from(self.reload) + 1;
        let into = (ticks - v0 - 1) % period;
        (u64::from(self.reload) - into) as u32
    }

    /// The first tick after `after` at which VALUE decrements from 1 to 0.
    fn next_zero(&self, after: u64) -> Option<u64> {
        if !self.running() {
            return None;
        }
        let v0 = u64::from(self.value0);
        if v0 > after {
            return Some(v0);
        }
        if self.reload == 0 {
            return None;
        }
        let period = u64::from(self.reload) + 1;
        Some(next_in_progression(v0 + period, period, after))
    }

    /// Whether an interrupt fell due in (done, ticks], then marks them done.
    fn due(&mut self, ticks: u64) -> bool {
        let fired = self.ctrl & timer::CTRL_INTEN != 0
            && self.next_zero(self.done).is_some_and(|t| t <= ticks);
        self.done = self.done.max(ticks);
        fired
    }

    /// Acts on everything up to `ctx.now`.
    fn catch_up(&mut self, ctx: &mut BusContext<'_>) {
        let ticks = self.ticker.ticks_at(ctx.now);
        let due = self.due(ticks);
        if std::mem::take(&mut self.pending) || due {
            self.intstatus |= 1;
            if let Some(irq) = self.irq {
                ctx.raise(irq);
            }
        }
    }

    /// Re-anchors at `now` with the counter as it stands, before a register
    /// change or a new PCLK rate takes effect. PCLK runs on while the timer is
    /// stopped, so its tick grid is kept unless the rate changes.
    fn rebase(&mut self, now: u64, clocks: &Clocks) {
        let ticks = self.ticker.rebase(now);
        self.value0 = self.value_after(ticks);
        self.done = 0;
        self.ticker
            .set_rate(now, bus_hz(self.clock, clocks), clocks.hclk_hz);
    }
}

impl Peripheral for CmsdkTimer {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        self.catch_up(ctx);
        Ok(match offset {
            timer::CTRL => self.ctrl,
            timer::VALUE => self.value_after(self.ticker.ticks_at(ctx.now)),
            timer::RELOAD => self.reload,
            timer::INTSTATUS => self.intstatus,
            _ => match id_index(offset) {
                Some(i) => TIMER_ID[i],
                None => self.other.get(offset),
            },
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        self.catch_up(ctx);
        match offset {
            timer::CTRL => {
                self.rebase(ctx.now, ctx.clocks);
                self.ctrl = merge(self.ctrl, value, mask) & timer::CTRL_BITS;
            }
            timer::VALUE => {
                self.rebase(ctx.now, ctx.clocks);
                self.value0 = merge(self.value0, value, mask);
            }
            timer::RELOAD => {
                self.rebase(ctx.now, ctx.clocks);
                self.reload = merge(self.reload, value, mask);
            }
            timer::INTSTATUS => self.intstatus &= !(value & mask & 1),
            _ if id_index(offset).is_some() => {}
            _ => self.other.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        match offset {
            timer::CTRL => Some("CTRL"),
            timer::VALUE => Some("VALUE"),
            timer::RELOAD => Some("RELOAD"),
            timer::INTSTATUS => Some("INTSTATUS"),
            _ => id_index(offset).map(|i| ID_NAMES[i]),
        }
    }

    fn next_event(&self, now: u64, _clocks: &Clocks) -> Option<u64> {
        if self.pending {
            return Some(now);
        }
        if self.ctrl & timer::CTRL_INTEN == 0 {
            return None;
        }
        self.ticker.cycle_of(self.next_zero(self.done)?)
    }

    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.catch_up(ctx);
    }

    fn clocks_changed(&mut self, now: u64, before: &Clocks, after: &Clocks) {
        let _ = before;
        let ticks = self.ticker.ticks_at(now);
        if self.due(ticks) {
            self.pending = true;
        }
        self.rebase(now, after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::testing::Rig;
    use crate::machine::bus::HostInput;
    use crate::target::{PeripheralKind, ResetValue};

    /// The MPS2's 25 MHz on every bus.
    fn rig() -> Rig {
        Rig::new(25_000_000)
    }

    fn spec(kind: PeripheralKind, irqs: &[u32]) -> PeripheralSpec {
        PeripheralSpec {
            name: "UNDER_TEST".into(),
            kind,
            base: 0x4000_0000,
            size: 0x1000,
            irqs: irqs.to_vec(),
            clock: BusClock::Apb1,
            reset: vec![ResetValue {
                offset: 0x100,
                value: 7,
            }],
        }
    }

    #[test]
    fn uart_sends_only_while_enabled_and_raises_tx() {
        let mut rig = rig();
        let mut u = CmsdkUart::new(&spec(PeripheralKind::CmsdkUart, &[0, 1]));
        rig.write(&mut u, uart::DATA, u32::from(b'x'));
        assert!(rig.console.is_empty(), "TXEN clear: nothing is sent");
        rig.write(&mut u, uart::CTRL, uart::CTRL_TXEN);
        rig.write(&mut u, uart::DATA, u32::from(b'o'));
        assert_eq!(rig.console, b"o");
        assert!(rig.raised.is_empty(), "TXINTEN clear: no interrupt");
        assert_eq!(rig.read(&mut u, uart::INTSTATUS), 0);

        rig.write(&mut u, uart::CTRL, uart::CTRL_TXEN | uart::CTRL_TXINTEN);
        rig.write(&mut u, uart::DATA, u32::from(b'k'));
        assert_eq!(rig.console, b"ok");
        assert_eq!(rig.raised, vec![1], "TX is the second line listed");
        assert_eq!(rig.read(&mut u, uart::INTSTATUS), uart::INT_TX);
        assert_eq!(rig.read(&mut u, uart::STATE), 0, "never TXFULL");
        rig.write(&mut u, uart::INTSTATUS, uart::INT_TX);
        assert_eq!(rig.read(&mut u, uart::INTSTATUS), 0);
    }

    #[test]
    fn uart_receives_the_hosts_input_once_rx_is_enabled() {
        let mut rig = rig();
        let mut u = CmsdkUart::new(&spec(PeripheralKind::CmsdkUart, &[0, 1]));
        rig.input = HostInput::new(b"hi", b"");
        assert_eq!(rig.read(&mut u, uart::STATE), 0, "RXEN clear");
        rig.write(&mut u, uart::CTRL, uart::CTRL_RXEN | uart::CTRL_RXINTEN);
        assert_eq!(rig.raised, vec![0], "RX is the first line listed");
        assert_eq!(rig.read(&mut u, uart::STATE), uart::STATE_RXFULL);
        assert_eq!(rig.read(&mut u, uart::DATA), u32::from(b'h'));
        assert_eq!(rig.read(&mut u, uart::DATA), u32::from(b'i'));
        assert_eq!(rig.read(&mut u, uart::STATE), 0, "all taken");
        assert_eq!(rig.raised, vec![0, 0], "the second byte raised RX again");
    }

    #[test]
    fn uart_byte_store_to_data_sends_that_byte() {
        let mut rig = rig();
        let mut u = CmsdkUart::new(&spec(PeripheralKind::CmsdkUart, &[0, 1]));
        rig.write(&mut u, uart::CTRL, uart::CTRL_TXEN);
        let result = u.write(uart::DATA, 0x0000_0041, 0xFF, &mut rig.ctx());
        assert_eq!(result, Ok(()));
        assert_eq!(rig.console, b"A");
    }

    #[test]
    fn uart_ids_names_and_other_registers() {
        let mut rig = rig();
        let mut u = CmsdkUart::new(&spec(PeripheralKind::CmsdkUart, &[0, 1]));
        assert_eq!(rig.read(&mut u, 0xFE0), 0x21);
        assert_eq!(rig.read(&mut u, 0xFFC), 0xB1);
        rig.write(&mut u, 0xFE0, 0);
        assert_eq!(rig.read(&mut u, 0xFE0), 0x21, "ID registers are read-only");
        assert_eq!(u.register_name(0xFE4), Some("PID1"));
        assert_eq!(u.register_name(uart::BAUDDIV), Some("BAUDDIV"));
        assert_eq!(u.register_name(0x100), None);
        assert_eq!(rig.read(&mut u, 0x100), 7, "target reset value");
        rig.write(&mut u, uart::BAUDDIV, 0xFFFF_FFFF);
        assert_eq!(rig.read(&mut u, uart::BAUDDIV), 0xF_FFFF);
    }

    #[test]
    fn timer_counts_down_and_reloads_each_reload_plus_one_ticks() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::RELOAD, 99);
        assert_eq!(
            rig.read(&mut t, timer::VALUE),
            0,
            "RELOAD leaves VALUE alone"
        );
        rig.write(&mut t, timer::VALUE, 99);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN | timer::CTRL_INTEN);
        assert_eq!(t.next_event(0, &rig.clocks), Some(99));
        rig.run_to(&mut t, 98);
        assert_eq!(rig.read(&mut t, timer::VALUE), 1);
        assert!(rig.raised.is_empty());
        rig.run_to(&mut t, 99);
        assert_eq!(rig.read(&mut t, timer::VALUE), 0);
        assert_eq!(rig.raised, vec![8]);
        assert_eq!(rig.read(&mut t, timer::INTSTATUS), 1);
        rig.run_to(&mut t, 100);
        assert_eq!(
            rig.read(&mut t, timer::VALUE),
            99,
            "reloaded the tick after 0"
        );
        assert_eq!(t.next_event(100, &rig.clocks), Some(199));
        rig.write(&mut t, timer::INTSTATUS, 1);
        assert_eq!(rig.read(&mut t, timer::INTSTATUS), 0);
        rig.run_to(&mut t, 100 + 100 * 1000);
        assert_eq!(rig.raised.len(), 1001, "one interrupt per period");
    }

    #[test]
    fn timer_without_inten_counts_but_stays_quiet() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::VALUE, 10);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN);
        assert_eq!(t.next_event(0, &rig.clocks), None);
        rig.run_to(&mut t, 4);
        assert_eq!(rig.read(&mut t, timer::VALUE), 6);
        rig.run_to(&mut t, 50);
        assert_eq!(rig.read(&mut t, timer::VALUE), 0, "RELOAD 0 holds at 0");
        assert_eq!(rig.read(&mut t, timer::INTSTATUS), 0);
        assert!(rig.raised.is_empty());
    }

    #[test]
    fn timer_stops_and_waits_for_extin() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::VALUE, 1000);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN);
        rig.now = 300;
        rig.write(&mut t, timer::CTRL, 0);
        rig.now = 900;
        assert_eq!(rig.read(&mut t, timer::VALUE), 700, "frozen while disabled");
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN | timer::CTRL_SELEXTCLK);
        rig.now = 1500;
        assert_eq!(rig.read(&mut t, timer::VALUE), 700, "EXTIN never toggles");
    }

    #[test]
    fn timer_counts_at_pclk_and_follows_a_clock_change() {
        let mut rig = rig();
        // PCLK at a quarter of the core clock: one tick every 4 cycles.
        rig.clocks.apb1_hz = rig.clocks.hclk_hz / 4;
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::VALUE, 100);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN | timer::CTRL_INTEN);
        assert_eq!(t.next_event(0, &rig.clocks), Some(400));
        rig.now = 200;
        assert_eq!(rig.read(&mut t, timer::VALUE), 50);
        // PCLK goes to the core clock at cycle 200: 50 ticks to go, 1 cycle each.
        let before = rig.clocks;
        rig.clocks.apb1_hz = rig.clocks.hclk_hz;
        t.clocks_changed(200, &before, &rig.clocks);
        assert_eq!(t.next_event(200, &rig.clocks), Some(250));
        rig.run_to(&mut t, 250);
        assert_eq!(rig.raised, vec![8]);
    }

    #[test]
    fn timer_interrupt_due_across_a_clock_change_is_raised_after_it() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::VALUE, 10);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN | timer::CTRL_INTEN);
        let before = rig.clocks;
        rig.clocks = Clocks::uniform(50_000_000);
        t.clocks_changed(20, &before, &rig.clocks);
        assert_eq!(t.next_event(20, &rig.clocks), Some(20));
        rig.now = 20;
        t.advance(&mut rig.ctx());
        assert_eq!(rig.raised, vec![8]);
        assert_eq!(t.next_event(20, &rig.clocks), None, "RELOAD 0: no more");
    }

    #[test]
    fn an_interrupt_pending_from_a_clock_change_and_one_due_now_raise_once() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        rig.write(&mut t, timer::RELOAD, 9);
        rig.write(&mut t, timer::VALUE, 10);
        rig.write(&mut t, timer::CTRL, timer::CTRL_EN | timer::CTRL_INTEN);
        let before = rig.clocks;
        rig.clocks = Clocks::uniform(50_000_000);
        t.clocks_changed(10, &before, &rig.clocks);
        // Both the pending interrupt and the next period's are due by cycle 25.
        rig.now = 25;
        t.advance(&mut rig.ctx());
        assert_eq!(rig.raised, vec![8]);
        assert_eq!(t.next_event(25, &rig.clocks), Some(30));
    }

    #[test]
    fn timer_ids() {
        let mut rig = rig();
        let mut t = CmsdkTimer::new(&spec(PeripheralKind::CmsdkTimer, &[8]));
        assert_eq!(rig.read(&mut t, 0xFE0), 0x22);
        assert_eq!(t.register_name(0xFF0), Some("CID0"));
        assert_eq!(t.register_name(timer::RELOAD), Some("RELOAD"));
    }

    #[test]
    fn the_mps2_targets_wire_these_models() {
        for (name, scc_id) in [("mps2-an385", 0x4104_3850), ("mps2-an386", 0x4104_3860)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../targets/{name}.toml"));
            let target = crate::target::Target::load(&path).expect("target loads");
            let mut bus = super::super::Bus::new(&target, true);
            let mut rig = rig();
            // UART3 at 0x40007000 raises TX on IRQ 19.
            for (addr, value) in [(0x4000_7008, 0x5), (0x4000_7000, u32::from(b'Z'))] {
                assert_eq!(bus.write(addr, 4, value, &mut rig.ctx()), Ok(()));
            }
            assert_eq!(rig.console, b"Z", "{name}");
            assert_eq!(rig.raised, vec![19], "{name}");
            // TIMER1 at 0x40001000 on IRQ 9.
            for (addr, value) in [(0x4000_1004, 5), (0x4000_1000, 0x9)] {
                assert_eq!(bus.write(addr, 4, value, &mut rig.ctx()), Ok(()));
            }
            rig.now = 5;
            bus.advance(&mut rig.ctx());
            assert_eq!(rig.raised, vec![19, 9], "{name}");
            assert_eq!(
                bus.read(0x4002_FFFC, 4, &mut rig.ctx()),
                Ok(scc_id),
                "{name} SCC_ID"
            );
            assert_eq!(bus.locate(0x4000_4FE0).register, "PID0");
        }
    }
}
