//! The real-time clock of the F4/F7/H7/L4 parts (RM0090 chapter 26, RM0385
//! chapter 31, RM0433 chapter 46, RM0432 chapter 47; the same register map
//! on all four): a calendar and the periodic wake-up timer that low-power
//! firmware sleeps in Stop mode against.
//!
//! The RTC runs from a 32.768 kHz LSE crystal, whatever RCC_BDCR selects:
//! its time is RTCCLK ticks counted in core cycles (no stepping), re-anchored
//! when the core clock changes. What is modeled:
//! - the write protection (WPR keys 0xCA, 0x53; any other write locks);
//! - initialization mode (ISR.INIT, INITF at once): TR, DR and PRER take
//!   writes only there, and the calendar restarts from TR and DR when it is
//!   left. RSF always reads 1 (the shadow registers are always in step);
//! - the calendar, 24-hour format: TR, DR and SSR advance at ck_spre =
//!   RTCCLK / (PREDIV_A + 1) / (PREDIV_S + 1), the date over month ends and
//!   leap years (2000..2099);
//! - the wake-up timer: WUTR takes writes only while WUTE is clear (WUTWF);
//!   once WUTE is set, WUTF is set every WUT + 1 periods of the clock
//!   WUCKSEL picks (RTCCLK / 16, 8, 4, 2, or ck_spre, or ck_spre with 2^16
//!   added to WUT), and with WUTIE each time raises the block's IRQ (the
//!   RTC_WKUP line, which reaches the NVIC through an EXTI line the firmware
//!   enables; EXTI itself keeps what is written).
//!
//! Not modeled: alarms A and B (their registers keep what is written and
//! ALRAF/ALRBF never set), time stamps, tampers, smooth calibration, the
//! 12-hour format and daylight-saving steps; the backup registers keep what
//! is written.

use super::{clear_w0, name_in, reset_value, RegDef};
use crate::machine::bus::ticks::Ticker;
use crate::machine::bus::{merge, BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::Clocks;
use crate::target::{PeripheralSpec, Target};

/// The register map (RM0090 26.6.21); reset values of the backup domain
/// after power-on: DR 2000-01-01, a Saturday (0x2101); ISR with ALRAWF,
/// ALRBWF, WUTWF; PRER 0x7F/0xFF (1 Hz from 32.768 kHz); WUTR 0xFFFF.
const REGS: &[RegDef] = &[
    (0x00, "TR", 0),
    (0x04, "DR", 0x0000_2101),
    (0x08, "CR", 0),
    (0x0C, "ISR", 0x0000_0007),
    (0x10, "PRER", 0x007F_00FF),
    (0x14, "WUTR", 0x0000_FFFF),
    (0x1C, "ALRMAR", 0),
    (0x20, "ALRMBR", 0),
    (0x24, "WPR", 0),
    (0x28, "SSR", 0),
    (0x2C, "SHIFTR", 0),
    (0x3C, "CALR", 0),
    (0x44, "ALRMASSR", 0),
    (0x48, "ALRMBSSR", 0),
];

/// RTCCLK: the LSE crystal, in Hz.
const RTCCLK_HZ: u64 = 32_768;

/// CR bits: WUCKSEL (2:0), ALRAE, ALRBE, WUTE, WUTIE.
const WUCKSEL: u32 = 0x7;
const ALRAE: u32 = 1 << 8;
const ALRBE: u32 = 1 << 9;
const WUTE: u32 = 1 << 10;
const WUTIE: u32 = 1 << 14;
/// ISR bits: the write flags, INITS, RSF, INITF, INIT, WUTF; the flags
/// software clears by writing 0 (ALRAF to RECALPF, bits 8..16).
const ALRAWF: u32 = 1;
const ALRBWF: u32 = 1 << 1;
const WUTWF: u32 = 1 << 2;
const INITS: u32 = 1 << 4;
const RSF: u32 = 1 << 5;
const INITF: u32 = 1 << 6;
const INIT: u32 = 1 << 7;
const WUTF: u32 = 1 << 10;
const ISR_FLAGS: u32 = 0x1_FF00;

/// TR and DR fields that exist (RM0090 26.6.1, 26.6.2).
const TR_MASK: u32 = 0x007F_7F7F;
const DR_MASK: u32 = 0x00FF_FF3F;

/// An STM32 RTC.
pub struct Rtc {
    irq: Option<u32>,
    regs: RegisterFile,
    /// WPR keys seen in order: 2 means unlocked.
    keys: u8,
    cr: u32,
    /// ISR.INIT and the rc_w0 flags.
    isr: u32,
    prer: u32,
    wutr: u32,
    /// RTCCLK ticks before `clock`'s anchor.
    before: u64,
    clock: Ticker,
    /// TR and DR the calendar last started from, and the tick it started at.
    tr: u32,
    dr: u32,
    started: u64,
    /// The tick of the next wake-up event and the period between events,
    /// while WUTE is set.
    next_wakeup: u64,
    wakeup_period: u64,
    /// Wake-up events that happened where no interrupt could be raised (a
    /// clock change), raised at the next access or advance.
    irq_due: bool,
}

impl Rtc {
    /// The RTC at power-on: calendar at 2000-01-01 00:00:00, running,
    /// counted against `target`'s clock until the firmware changes it.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Rtc {
        let core_hz = (target.clock_mhz * 1e6).round() as u64;
        let value = |offset| {
            reset_value(spec, offset)
                .unwrap_or_else(|| REGS.iter().find(|r| r.0 == offset).map_or(0, |r| r.2))
        };
        Rtc {
            irq: spec.irqs.first().copied(),
            regs: RegisterFile::new(&spec.reset),
            keys: 0,
            cr: value(0x08),
            isr: 0,
            prer: value(0x10) & 0x007F_7FFF,
            wutr: value(0x14) & 0xFFFF,
            before: 0,
            clock: Ticker::new(0, RTCCLK_HZ, core_hz.max(1)),
            tr: value(0x00) & TR_MASK,
            dr: value(0x04) & DR_MASK,
            started: 0,
            next_wakeup: u64::MAX,
            wakeup_period: 0,
            irq_due: false,
        }
    }

    /// RTCCLK ticks since power-on at core cycle `now`.
    fn ticks(&self, now: u64) -> u64 {
        self.before.saturating_add(self.clock.ticks_at(now))
    }

    /// Counts RTCCLK against the core clock in `clocks` from `now` on.
    fn retime(&mut self, now: u64, clocks: &Clocks) {
        self.before = self.ticks(now);
        self.clock = Ticker::new(now, RTCCLK_HZ, clocks.hclk_hz.max(1));
    }

    /// RTCCLK ticks per ck_apre tick and per second of the calendar.
    fn apre(&self) -> u64 {
        u64::from((self.prer >> 16) & 0x7F) + 1
    }

    fn spre(&self) -> u64 {
        self.apre() * (u64::from(self.prer & 0x7FFF) + 1)
    }

    fn unlocked(&self) -> bool {
        self.keys == 2
    }

    fn initializing(&self) -> bool {
        self.isr & INIT != 0
    }

    /// Whole seconds and the ticks into the current one since the calendar
    /// started; none while it is held in initialization mode.
    fn elapsed(&self, now: u64) -> (u64, u64) {
        if self.initializing() {
            return (0, 0);
        }
        let ticks = self.ticks(now).saturating_sub(self.started);
        (ticks / self.spre(), ticks % self.spre())
    }

    /// TR and DR at `now`.
    fn calendar(&self, now: u64) -> (u32, u32) {
        let (seconds, _) = self.elapsed(now);
        let of_day = |tr: u32| {
            let h = u64::from(bcd(tr >> 16 & 0x3F));
            let m = u64::from(bcd(tr >> 8 & 0x7F));
            let s = u64::from(bcd(tr & 0x7F));
            h * 3600 + m * 60 + s
        };
        let total = of_day(self.tr) + seconds;
        let (days, second) = (total / 86_400, total % 86_400);
        let tr =
            (to_bcd(second / 3600) << 16) | (to_bcd(second / 60 % 60) << 8) | to_bcd(second % 60);
        (tr, add_days(self.dr, days))
    }

    /// Sets WUTF for every wake-up event up to `now`; true if any happened.
    fn catch_up(&mut self, now: u64) -> bool {
        let ticks = self.ticks(now);
        if self.cr & WUTE == 0 || ticks < self.next_wakeup {
            return false;
        }
        let missed = (ticks - self.next_wakeup) / self.wakeup_period;
        self.next_wakeup = self
            .next_wakeup
            .saturating_add((missed + 1).saturating_mul(self.wakeup_period));
        self.isr |= WUTF;
        true
    }

    /// Starts the wake-up timer at `now` from WUTR and WUCKSEL.
    fn start_wakeup(&mut self, now: u64) {
        let wut = u64::from(self.wutr);
        self.wakeup_period = match self.cr & WUCKSEL {
            sel @ 0..=3 => (wut + 1) << (4 - sel),
            4 | 5 => (wut + 1) * self.spre(),
            _ => (wut + 1 + (1 << 16)) * self.spre(),
        };
        self.next_wakeup = self.ticks(now).saturating_add(self.wakeup_period);
    }

    /// Brings the wake-up timer up to `ctx.now`, raising its interrupt for
    /// the events that happened.
    fn settle(&mut self, ctx: &mut BusContext<'_>) {
        let happened = self.catch_up(ctx.now) || std::mem::take(&mut self.irq_due);
        if happened && self.cr & WUTIE != 0 {
            if let Some(irq) = self.irq {
                ctx.raise(irq);
            }
        }
    }

    fn isr(&self) -> u32 {
        let mut isr = self.isr | RSF;
        if self.initializing() {
            isr |= INITF;
        }
        if self.dr >> 16 != 0 {
            isr |= INITS;
        }
        for (enable, ready) in [(WUTE, WUTWF), (ALRAE, ALRAWF), (ALRBE, ALRBWF)] {
            if self.cr & enable == 0 {
                isr |= ready;
            }
        }
        isr
    }
}

/// A two-digit BCD field's value.
fn bcd(field: u32) -> u32 {
    (field >> 4) * 10 + (field & 0xF)
}

fn to_bcd(value: u64) -> u32 {
    (((value / 10 % 10) << 4) | (value % 10)) as u32
}

/// DR `days` days later: day, month and year roll over (years 00..99 are
/// 2000..2099, leap every fourth), the weekday (1 Monday .. 7 Sunday) turns.
fn add_days(dr: u32, days: u64) -> u32 {
    let mut year = bcd(dr >> 16 & 0xFF);
    let mut month = bcd(dr >> 8 & 0x1F).clamp(1, 12);
    let mut day = bcd(dr & 0x3F).max(1);
    let weekday = u64::from((dr >> 13 & 0x7).max(1));
    let month_days = |year: u32, month: u32| match month {
        2 if year % 4 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    // Whole 400-year cycles are not needed: a century of days at most
    // (the calendar wraps at 2099), so step a day at a time.
    for _ in 0..days % 36_525 {
        day += 1;
        if day > month_days(year, month) {
            day = 1;
            month += 1;
            if month > 12 {
                month = 1;
                year = (year + 1) % 100;
            }
        }
    }
    let weekday = ((weekday - 1 + days) % 7 + 1) as u32;
    (to_bcd(u64::from(year)) << 16)
        | (weekday << 13)
        | (to_bcd(u64::from(month)) << 8)
        | to_bcd(u64::from(day))
}

impl Peripheral for Rtc {
    fn read(&mut self, offset: u32, ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        self.settle(ctx);
        Ok(match offset {
            0x00 => self.calendar(ctx.now).0,
            0x04 => self.calendar(ctx.now).1,
            0x08 => self.cr,
            0x0C => self.isr(),
            0x10 => self.prer,
            0x14 => self.wutr,
            0x24 => 0,
            0x28 => {
                let (_, into) = self.elapsed(ctx.now);
                let prediv_s = self.prer & 0x7FFF;
                prediv_s - (into / self.apre()) as u32
            }
            _ => self.regs.get(offset),
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
        let unlocked = self.unlocked();
        match offset {
            0x24 => {
                let key = value & mask & 0xFF;
                self.keys = match (self.keys, key) {
                    (_, 0xCA) => 1,
                    (1, 0x53) => 2,
                    _ => 0,
                };
            }
            0x00 if unlocked && self.initializing() => {
                self.tr = merge(self.tr, value, mask) & TR_MASK;
            }
            0x04 if unlocked && self.initializing() => {
                self.dr = merge(self.dr, value, mask) & DR_MASK;
            }
            0x10 if unlocked && self.initializing() => {
                self.prer = merge(self.prer, value, mask) & 0x007F_7FFF;
            }
            0x14 if unlocked && self.cr & WUTE == 0 => {
                self.wutr = merge(self.wutr, value, mask) & 0xFFFF;
            }
            0x08 if unlocked => {
                let cr = merge(self.cr, value, mask) & 0x01FF_FF7F;
                let starting = cr & WUTE != 0 && self.cr & WUTE == 0;
                self.cr = cr;
                if starting {
                    self.start_wakeup(now);
                }
            }
            0x0C => {
                // The flags are cleared by a written 0, unlocked or not;
                // INIT is protected.
                let flags = clear_w0(self.isr & ISR_FLAGS, value, mask);
                let mut init = self.isr & INIT;
                if unlocked && mask & INIT != 0 {
                    let entering = value & INIT != 0;
                    if entering && init == 0 {
                        // The calendar stops where it is.
                        (self.tr, self.dr) = self.calendar(now);
                    } else if !entering && init != 0 {
                        self.started = self.ticks(now);
                    }
                    init = value & INIT;
                }
                self.isr = flags | init;
            }
            // Protected registers take no write while locked.
            0x00 | 0x04 | 0x08 | 0x10 | 0x14 | 0x28 => {}
            _ => self.regs.set(offset, value, mask),
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(REGS, offset).or(match offset {
            0x50..=0xCC => Some("BKPxR"),
            _ => None,
        })
    }

    fn next_event(&self, now: u64, _clocks: &Clocks) -> Option<u64> {
        if self.cr & WUTE == 0 || self.cr & WUTIE == 0 {
            return None;
        }
        let due = self.next_wakeup.checked_sub(self.before)?;
        Some(self.clock.cycle_of(due)?.max(now))
    }

    fn advance(&mut self, ctx: &mut BusContext<'_>) {
        self.settle(ctx);
    }

    fn runs_in_stop(&self) -> bool {
        true
    }

    fn clocks_changed(&mut self, now: u64, _before: &Clocks, after: &Clocks) {
        self.irq_due |= self.catch_up(now);
        self.retime(now, after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    /// Core cycles per second on stm32l4r5 (120 MHz).
    const SECOND: u64 = 120_000_000;

    fn rtc() -> (Rtc, Rig) {
        let s = spec("RTC", PeripheralKind::Stm32Rtc, &[3], BusClock::Apb1, &[]);
        (Rtc::new(&s, &target("stm32l4r5")), Rig::new(SECOND))
    }

    fn wr(r: &mut Rtc, h: &mut Rig, now: u64, offset: u32, value: u32) {
        assert_eq!(r.write(offset, value, u32::MAX, &mut h.ctx_at(now)), Ok(()));
    }

    fn rd(r: &mut Rtc, h: &mut Rig, now: u64, offset: u32) -> u32 {
        r.read(offset, &mut h.ctx_at(now)).unwrap()
    }

    fn unlock(r: &mut Rtc, h: &mut Rig, now: u64) {
        wr(r, h, now, 0x24, 0xCA);
        wr(r, h, now, 0x24, 0x53);
    }

    #[test]
    fn the_calendar_is_set_in_init_mode_and_rolls_over_a_leap_day() {
        let (mut r, mut h) = rtc();
        // Locked: neither INIT nor CR takes the write.
        wr(&mut r, &mut h, 0, 0x0C, INIT);
        wr(&mut r, &mut h, 0, 0x08, WUTE);
        assert_eq!(rd(&mut r, &mut h, 0, 0x0C) & (INITF | WUTWF), WUTWF);
        assert_eq!(rd(&mut r, &mut h, 0, 0x08), 0);
        unlock(&mut r, &mut h, 0);
        wr(&mut r, &mut h, 0, 0x0C, u32::MAX);
        assert_eq!(rd(&mut r, &mut h, 0, 0x0C) & INITF, INITF);
        // 2024-02-28, a Wednesday (weekday 3), 23:59:58.
        wr(&mut r, &mut h, 0, 0x00, 0x23_5958);
        wr(
            &mut r,
            &mut h,
            0,
            0x04,
            0x24 << 16 | 3 << 13 | 0x02 << 8 | 0x28,
        );
        wr(&mut r, &mut h, 10, 0x0C, 0);
        assert_eq!(
            rd(&mut r, &mut h, 10, 0x0C) & (INITF | INITS | RSF),
            INITS | RSF
        );
        assert_eq!(rd(&mut r, &mut h, 10 + SECOND, 0x00), 0x23_5959);
        // Half a second into a second: 128 of PREDIV_S's 256 steps gone.
        assert_eq!(rd(&mut r, &mut h, 10 + SECOND * 3 / 2, 0x28), 127);
        assert_eq!(rd(&mut r, &mut h, 10 + 2 * SECOND, 0x00), 0);
        let leap_day = 0x24 << 16 | 4 << 13 | 0x02 << 8 | 0x29;
        assert_eq!(rd(&mut r, &mut h, 10 + 2 * SECOND, 0x04), leap_day);
        let next_day = 0x24 << 16 | 5 << 13 | 0x03 << 8 | 0x01;
        assert_eq!(rd(&mut r, &mut h, 10 + 86_402 * SECOND, 0x04), next_day);
        // Any other WPR value locks again.
        wr(&mut r, &mut h, 20, 0x24, 0xFF);
        wr(&mut r, &mut h, 20, 0x0C, INIT);
        assert_eq!(rd(&mut r, &mut h, 20, 0x0C) & INITF, 0);
    }

    #[test]
    fn the_wakeup_timer_interrupts_every_period_across_a_clock_change() {
        let (mut r, mut h) = rtc();
        unlock(&mut r, &mut h, 0);
        // RTCCLK / 16 = 2048 Hz, WUT 2047: one event a second.
        wr(&mut r, &mut h, 0, 0x14, 2047);
        wr(&mut r, &mut h, 0, 0x08, WUTE | WUTIE);
        assert_eq!(rd(&mut r, &mut h, 0, 0x0C) & WUTWF, 0);
        wr(&mut r, &mut h, 0, 0x14, 7);
        assert_eq!(
            rd(&mut r, &mut h, 0, 0x14),
            2047,
            "WUTR is locked while WUTE"
        );
        assert_eq!(r.next_event(0, &h.clocks), Some(SECOND));
        r.advance(&mut h.ctx_at(SECOND));
        assert_eq!(h.raised, [3]);
        assert_eq!(rd(&mut r, &mut h, SECOND, 0x0C) & WUTF, WUTF);
        wr(&mut r, &mut h, SECOND, 0x0C, !WUTF);
        assert_eq!(rd(&mut r, &mut h, SECOND, 0x0C) & WUTF, 0);
        // The core drops to 60 MHz half a second later: the next event is
        // half a second on, at the new rate.
        let before = h.clocks;
        h.clocks = Clocks::uniform(SECOND / 2);
        r.clocks_changed(SECOND * 3 / 2, &before, &h.clocks);
        assert_eq!(
            r.next_event(SECOND * 3 / 2, &h.clocks),
            Some(SECOND * 3 / 2 + SECOND / 4)
        );
        // Without WUTIE the flag still sets, but nothing is raised.
        wr(&mut r, &mut h, SECOND * 3 / 2, 0x08, WUTE);
        assert_eq!(r.next_event(SECOND * 3 / 2, &h.clocks), None);
        r.advance(&mut h.ctx_at(SECOND * 2));
        assert_eq!(h.raised, [3]);
        assert_eq!(rd(&mut r, &mut h, SECOND * 2, 0x0C) & WUTF, WUTF);
    }
}
