//! Basic and general-purpose timers (TIM2..TIM7) as time bases: an
//! up-counter clocked by its APB bus's timer clock through a 16-bit
//! prescaler, reloaded from ARR, raising an update event (UIF, and the
//! block's first IRQ with UIE) on each overflow (RM0090 chapters 18/20,
//! section 18.3.1 "Time-base unit").
//!
//! The counter is never stepped: its position is computed from core cycles,
//! ticks = elapsed cycles x timer clock / core clock, in integers, from an
//! anchor set when the counter starts or the clocks change. PSC is always
//! preloaded and ARR when ARPE is set: the new values take effect at the
//! next update event or UG. Capture/compare, slave mode, DMA requests,
//! down- and center-aligned counting are not modeled: their registers keep
//! what is written and the counter counts up.

use super::{clear_w0, drive_irq, name_in, reset_value, Family, RegDef};
use crate::machine::bus::{merge, BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::Clocks;
use crate::target::{BusClock, PeripheralSpec, Target};

/// The registers this model gives behaviour (RM0090 18.4.21 register map).
const REGS: &[RegDef] = &[
    (0x00, "CR1", 0),
    (0x0C, "DIER", 0),
    (0x10, "SR", 0),
    (0x14, "EGR", 0),
    (0x24, "CNT", 0),
    (0x28, "PSC", 0),
    (0x2C, "ARR", 0),
];

/// CR1 bits: CEN, UDIS, URS, OPM, ARPE, UIFREMAP (F7/H7/L4; RM0385 23.4.1).
const CEN: u32 = 1;
const UDIS: u32 = 1 << 1;
const URS: u32 = 1 << 2;
const OPM: u32 = 1 << 3;
const ARPE: u32 = 1 << 7;
const UIFREMAP: u32 = 1 << 11;
/// DIER UIE and SR UIF, both bit 0.
const UIE: u32 = 1;
const UIF: u32 = 1;

/// A TIM2..TIM7 time base.
pub struct Timer {
    clock: BusClock,
    irq: Option<u32>,
    /// Largest counter value: 0xFFFF, or 0xFFFFFFFF for a 32-bit counter.
    max: u32,
    /// CR1 bits software can write.
    cr1_writable: u32,
    cr1: u32,
    dier: u32,
    sr: u32,
    /// PSC and ARR as written (preload registers).
    psc: u32,
    arr: u32,
    /// PSC and ARR in force (shadow registers).
    psc_active: u32,
    arr_active: u32,
    /// Registers without behaviour (CR2, SMCR, CCMRx, CCER, CCRx, ...).
    plain: RegisterFile,
    /// Whether the counter runs (CEN).
    running: bool,
    /// Core cycle from which `ticks` counts.
    anchor: u64,
    /// Timer clock and core clock in Hz since the anchor.
    tim_hz: u64,
    core_hz: u64,
    /// Position in timer ticks since the current period began (counter 0,
    /// prescaler 0) is `base + ticks(now)` while running, `base` when
    /// stopped; negative while counting from above ARR up to the wrap.
    base: i128,
    /// Interrupt line level after the last access.
    level: bool,
    /// An update happened where no interrupt could be raised (clock change).
    irq_due: bool,
}

impl Timer {
    /// The timer of `target` as `spec` describes it: TIM2 and TIM5 have
    /// 32-bit counters except on the F1 (RM0090 18.1, RM0008 15.1); reset
    /// values come from the target file (ARR resets to 0 on the F1/F4, to
    /// its maximum on the F7/H7/L4).
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Timer {
        let family = Family::of(target);
        let wide = family != Family::F1 && matches!(spec.name.as_str(), "TIM2" | "TIM5");
        let max = if wide { u32::MAX } else { 0xFFFF };
        let reset = |offset| reset_value(spec, offset).unwrap_or(0);
        let cr1_writable = if matches!(family, Family::F1 | Family::F4) {
            0x3FF
        } else {
            0x3FF | UIFREMAP
        };
        let psc = reset(0x28) & 0xFFFF;
        let arr = reset(0x2C) & max;
        Timer {
            clock: spec.clock,
            irq: spec.irqs.first().copied(),
            max,
            cr1_writable,
            cr1: 0,
            dier: reset(0x0C),
            sr: 0,
            psc,
            arr,
            psc_active: psc,
            arr_active: arr,
            plain: RegisterFile::new(&spec.reset),
            running: false,
            anchor: 0,
            tim_hz: 0,
            core_hz: 0,
            base: i128::from(reset(0x24) & max) * i128::from(psc + 1),
            level: false,
            irq_due: false,
        }
    }

    /// The timer clock of this block's bus, in Hz.
    fn timer_clock(&self, clocks: &Clocks) -> u64 {
        match self.clock {
            BusClock::Ahb => clocks.hclk_hz,
            BusClock::Apb1 => clocks.apb1_timer_hz,
            BusClock::Apb2 => clocks.apb2_timer_hz,
        }
    }

    /// Timer ticks from the anchor to `now`.
    fn ticks(&self, now: u64) -> i128 {
        if self.core_hz == 0 {
            return 0;
        }
        let elapsed = u128::from(now.saturating_sub(self.anchor));
        let ticks = elapsed * u128::from(self.tim_hz) / u128::from(self.core_hz);
        i128::try_from(ticks).unwrap_or(i128::MAX)
    }

    fn pos(&self, now: u64) -> i128 {
        if self.running {
            self.base + self.ticks(now)
        } else {
            self.base
        }
    }

    fn set_pos(&mut self, now: u64, pos: i128) {
        self.base = if self.running {
            pos - self.ticks(now)
        } else {
            pos
        };
    }

    /// Timer ticks per count.
    fn div(&self) -> i128 {
        i128::from(self.psc_active) + 1
    }

    /// Timer ticks per period, 0 while ARR is 0 (the counter is blocked).
    fn period(&self) -> i128 {
        if self.arr_active == 0 {
            0
        } else {
            (i128::from(self.arr_active) + 1) * self.div()
        }
    }

    /// The counter value at `now`.
    fn cnt(&self, now: u64) -> u32 {
        let count = self
            .pos(now)
            .div_euclid(self.div())
            .rem_euclid(i128::from(self.max) + 1);
        u32::try_from(count).unwrap_or(0)
    }

    /// The position at which the counter shows `cnt`: above ARR it counts
    /// up to its maximum and wraps to 0 before the next update.
    fn pos_of(&self, cnt: u32) -> i128 {
        if cnt <= self.arr_active {
            i128::from(cnt) * self.div()
        } else {
            -(i128::from(self.max) + 1 - i128::from(cnt)) * self.div()
        }
    }

    /// Update event: the preloaded PSC and ARR take effect.
    fn load_shadows(&mut self) {
        self.psc_active = self.psc;
        self.arr_active = self.arr;
    }

    /// Runs the counter up to `now`; returns the update events that happened.
    fn catch_up(&mut self, now: u64) -> u64 {
        if !self.running {
            return 0;
        }
        let period = self.period();
        if period == 0 {
            self.set_pos(now, 0);
            return 0;
        }
        let pos = self.pos(now);
        if pos < period {
            return 0;
        }
        if self.cr1 & UDIS != 0 {
            // The counter wraps but no update event is generated.
            self.base -= pos / period * period;
            return 0;
        }
        self.base -= period;
        self.load_shadows();
        if self.cr1 & OPM != 0 {
            // One-pulse mode: the counter stops at the update event.
            self.cr1 &= !CEN;
            self.running = false;
            self.base = 0;
            return 1;
        }
        let pos = pos - period;
        let period = self.period();
        if period == 0 {
            self.set_pos(now, 0);
            return 1;
        }
        let more = pos / period;
        self.base -= more * period;
        u64::try_from(more).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// Takes the clocks now in force, keeping the counter's position.
    fn retime(&mut self, now: u64, clocks: &Clocks) {
        let (tim_hz, core_hz) = (self.timer_clock(clocks), clocks.hclk_hz);
        if (tim_hz, core_hz) != (self.tim_hz, self.core_hz) {
            let pos = self.pos(now);
            self.anchor = now;
            self.tim_hz = tim_hz;
            self.core_hz = core_hz;
            self.set_pos(now, pos);
        }
    }

    /// Brings the counter up to `ctx.now`: update flags, clocks, interrupt.
    fn settle(&mut self, ctx: &mut BusContext<'_>) {
        if self.catch_up(ctx.now) > 0 {
            self.sr |= UIF;
            self.irq_due = true;
        }
        self.retime(ctx.now, ctx.clocks);
        self.drive(ctx);
    }

    /// Drives the interrupt line from UIF and UIE.
    fn drive(&mut self, ctx: &mut BusContext<'_>) {
        let asserted = self.dier & UIE != 0 && self.sr & UIF != 0;
        drive_irq(&mut self.level, asserted, self.irq_due, self.irq, ctx);
        self.irq_due = false;
    }
}

impl Peripheral for Timer {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        self.settle(ctx);
        Ok(match offset {
            0x00 => self.cr1,
            0x0C => self.dier,
            0x10 => self.sr,
            0x14 => 0,
            0x24 => {
                // UIFREMAP copies UIF into CNT bit 31.
                let uifcpy = if self.cr1 & UIFREMAP != 0 {
                    (self.sr & UIF) << 31
                } else {
                    0
                };
                self.cnt(ctx.now) | uifcpy
            }
            0x28 => self.psc,
            0x2C => self.arr,
            _ => self.plain.get(offset),
        })
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        self.settle(ctx);
        let now = ctx.now;
        match offset {
            0x00 => {
                let cr1 = merge(self.cr1, value, mask & self.cr1_writable);
                if cr1 & CEN != 0 && !self.running {
                    let pos = self.base;
                    self.running = true;
                    self.anchor = now;
                    self.tim_hz = self.timer_clock(ctx.clocks);
                    self.core_hz = ctx.clocks.hclk_hz;
                    self.set_pos(now, pos);
                } else if cr1 & CEN == 0 && self.running {
                    self.base = self.pos(now);
                    self.running = false;
                }
                self.cr1 = cr1;
            }
            0x0C => self.dier = merge(self.dier, value, mask) & 0x5F5F,
            0x10 => self.sr = clear_w0(self.sr, value, mask) & 0x1E5F,
            0x14 => {
                if value & mask & 1 != 0 {
                    // UG: counter and prescaler restart; unless UDIS, the
                    // shadows load, and unless URS, UIF is set.
                    self.set_pos(now, 0);
                    if self.cr1 & UDIS == 0 {
                        self.load_shadows();
                        if self.cr1 & URS == 0 {
                            self.sr |= UIF;
                            self.irq_due = true;
                        }
                    }
                }
            }
            0x24 => {
                let cnt = merge(self.cnt(now), value, mask) & self.max;
                let pos = self.pos_of(cnt);
                self.set_pos(now, pos);
            }
            0x28 => self.psc = merge(self.psc, value, mask) & 0xFFFF,
            0x2C => {
                self.arr = merge(self.arr, value, mask) & self.max;
                if self.cr1 & ARPE == 0 {
                    // ARPE clear: ARR takes effect at once.
                    let cnt = self.cnt(now);
                    let within = self.pos(now).rem_euclid(self.div());
                    self.arr_active = self.arr;
                    let pos = self.pos_of(cnt) + within;
                    self.set_pos(now, pos);
                }
            }
            _ => self.plain.set(offset, value, mask),
        }
        self.drive(ctx);
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(REGS, offset)
    }

    fn next_event(&self, now: u64, _clocks: &Clocks) -> Option<u64> {
        let period = self.period();
        if !self.running
            || self.dier & UIE == 0
            || self.cr1 & UDIS != 0
            || period == 0
            || self.tim_hz == 0
        {
            return None;
        }
        // The first cycle c with ticks(c) >= period - base:
        // c = anchor + ceil((period - base) x core / timer).
        let due = u128::try_from(period - self.base).unwrap_or(0);
        let cycles = (due * u128::from(self.core_hz)).div_ceil(u128::from(self.tim_hz));
        let at = u64::try_from(cycles).map_or(u64::MAX, |c| self.anchor.saturating_add(c));
        Some(at.max(now))
    }

    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.settle(ctx);
    }

    fn clock_paused(&mut self, cycles: u64) {
        if self.running {
            self.anchor = self.anchor.saturating_add(cycles);
        }
    }

    fn clocks_changed(&mut self, now: u64, _before: &Clocks, after: &Clocks) {
        if self.catch_up(now) > 0 {
            self.sr |= UIF;
            self.irq_due = true;
        }
        self.retime(now, after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::PeripheralKind;

    fn timer(name: &str, irq: u32, target_name: &str) -> Timer {
        let s = spec(
            name,
            PeripheralKind::Stm32Timer,
            &[irq],
            BusClock::Apb1,
            &[],
        );
        Timer::new(&s, &target(target_name))
    }

    fn wr(t: &mut Timer, h: &mut Rig, now: u64, offset: u32, value: u32) {
        assert_eq!(t.write(offset, value, u32::MAX, &mut h.ctx_at(now)), Ok(()));
    }

    fn rd(t: &mut Timer, h: &mut Rig, now: u64, offset: u32) -> u32 {
        match t.read(offset, &mut h.ctx_at(now)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn update_period_and_interrupt() {
        let mut t = timer("TIM3", 29, "stm32f407");
        let mut h = Rig::new(16_000_000);
        // 16 MHz / 16 = 1 MHz counter, 1000 counts: 1 kHz updates.
        wr(&mut t, &mut h, 0, 0x28, 15);
        wr(&mut t, &mut h, 0, 0x2C, 999);
        wr(&mut t, &mut h, 0, 0x14, 1);
        wr(&mut t, &mut h, 0, 0x10, 0);
        wr(&mut t, &mut h, 0, 0x0C, UIE);
        wr(&mut t, &mut h, 0, 0x00, CEN);
        assert!(h.raised.is_empty());
        assert_eq!(t.next_event(0, &h.clocks), Some(16_000));
        assert_eq!(rd(&mut t, &mut h, 8_000, 0x24), 500);
        t.advance(&mut h.ctx_at(16_000));
        assert_eq!(h.raised, [29]);
        assert_eq!(rd(&mut t, &mut h, 16_000, 0x10) & UIF, UIF);
        wr(&mut t, &mut h, 16_000, 0x10, !UIF);
        assert_eq!(t.next_event(16_000, &h.clocks), Some(32_000));
        // Three periods pass unseen: the interrupt pends once, UIF is set.
        t.advance(&mut h.ctx_at(50_000));
        assert_eq!(h.raised, [29, 29]);
        assert_eq!(rd(&mut t, &mut h, 50_000, 0x24), 125);
        assert_eq!(t.next_event(50_000, &h.clocks), Some(64_000));
    }

    #[test]
    fn counts_at_the_apb_timer_clock() {
        let mut t = timer("TIM2", 28, "stm32f407");
        let mut h = Rig::new(168_000_000);
        h.clocks.apb1_hz = 42_000_000;
        h.clocks.apb1_timer_hz = 84_000_000;
        // 84 MHz / 84 = 1 MHz, 1000 counts: 1 ms = 168000 core cycles.
        wr(&mut t, &mut h, 0, 0x28, 83);
        wr(&mut t, &mut h, 0, 0x2C, 999);
        wr(&mut t, &mut h, 0, 0x14, 1);
        wr(&mut t, &mut h, 0, 0x0C, UIE);
        wr(&mut t, &mut h, 0, 0x00, CEN);
        assert_eq!(t.next_event(0, &h.clocks), Some(168_000));
        // TIM2 is 32 bits wide on the F4.
        wr(&mut t, &mut h, 0, 0x2C, 0xFFFF_FFFF);
        assert_eq!(rd(&mut t, &mut h, 0, 0x2C), 0xFFFF_FFFF);
    }

    #[test]
    fn ug_loads_shadows_and_urs_hides_it() {
        let mut t = timer("TIM6", 54, "stm32f407");
        let mut h = Rig::new(1_000_000);
        wr(&mut t, &mut h, 0, 0x2C, 99);
        wr(&mut t, &mut h, 0, 0x00, URS);
        wr(&mut t, &mut h, 0, 0x0C, UIE);
        wr(&mut t, &mut h, 0, 0x14, 1);
        assert_eq!(rd(&mut t, &mut h, 0, 0x10), 0, "URS: UG sets no UIF");
        wr(&mut t, &mut h, 0, 0x00, CEN);
        assert_eq!(rd(&mut t, &mut h, 50, 0x24), 50);
        // PSC is preloaded: the new divider waits for the update at 100.
        wr(&mut t, &mut h, 50, 0x28, 1);
        assert_eq!(rd(&mut t, &mut h, 90, 0x24), 90);
        assert_eq!(rd(&mut t, &mut h, 120, 0x24), 10);
        assert_eq!(h.raised, [54]);
        // UG without URS sets UIF, restarts the counter and pends the IRQ.
        wr(&mut t, &mut h, 120, 0x10, 0);
        wr(&mut t, &mut h, 120, 0x00, CEN);
        wr(&mut t, &mut h, 120, 0x14, 1);
        assert_eq!(rd(&mut t, &mut h, 120, 0x10), UIF);
        assert_eq!(rd(&mut t, &mut h, 130, 0x24), 5);
        assert_eq!(h.raised, [54, 54]);
    }

    #[test]
    fn one_pulse_mode_stops_at_the_update() {
        let mut t = timer("TIM7", 55, "stm32f407");
        let mut h = Rig::new(1_000_000);
        wr(&mut t, &mut h, 0, 0x2C, 9);
        wr(&mut t, &mut h, 0, 0x00, CEN | OPM);
        assert_eq!(rd(&mut t, &mut h, 25, 0x24), 0);
        assert_eq!(rd(&mut t, &mut h, 25, 0x00) & CEN, 0);
        assert_eq!(rd(&mut t, &mut h, 25, 0x10), UIF);
    }

    #[test]
    fn a_clock_change_reanchors_the_counter() {
        let mut t = timer("TIM4", 30, "stm32f407");
        let mut h = Rig::new(16_000_000);
        wr(&mut t, &mut h, 0, 0x2C, 0xFFFF);
        wr(&mut t, &mut h, 0, 0x00, CEN);
        assert_eq!(rd(&mut t, &mut h, 1_000, 0x24), 1_000);
        let before = h.clocks;
        h.clocks = Clocks {
            hclk_hz: 32_000_000,
            ahb_hz: 32_000_000,
            apb1_hz: 8_000_000,
            apb2_hz: 16_000_000,
            apb1_timer_hz: 16_000_000,
            apb2_timer_hz: 32_000_000,
        };
        t.clocks_changed(1_000, &before, &h.clocks);
        assert_eq!(rd(&mut t, &mut h, 3_000, 0x24), 2_000);
    }

    #[test]
    fn counter_written_above_arr_wraps_before_the_update() {
        let mut t = timer("TIM3", 29, "stm32f407");
        let mut h = Rig::new(1_000_000);
        wr(&mut t, &mut h, 0, 0x2C, 100);
        wr(&mut t, &mut h, 0, 0x00, CEN);
        wr(&mut t, &mut h, 0, 0x24, 0xFFF0);
        assert_eq!(rd(&mut t, &mut h, 0x20, 0x24), 0x10);
        assert_eq!(rd(&mut t, &mut h, 0x20, 0x10), 0, "no update at the wrap");
        assert_eq!(rd(&mut t, &mut h, 0x10 + 101, 0x10), UIF);
    }
}
