//! The clock tree as the firmware has set it: the core clock, the bus clocks
//! peripherals count with, and the flash settings in force. Firmware that
//! never touches RCC or FLASH_ACR runs at the target's configured clock and
//! wait states; once it programs them, the models of those blocks change the
//! settings here and the machine records how long each setting was in force.

use serde::Serialize;

use crate::target::{BusClock, EnergyFigures, Target};

/// Frequencies of the clocks the core and peripherals run from, in Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clocks {
    /// Core clock (HCLK on most parts; on the H7 the core runs at sys_ck / D1CPRE).
    pub hclk_hz: u64,
    /// AHB clock: the core clock, except on the H7, where AHB and AXI (and
    /// with them the flash) run at the core clock / HPRE.
    pub ahb_hz: u64,
    /// First APB bus clock.
    pub apb1_hz: u64,
    /// Second APB bus clock.
    pub apb2_hz: u64,
    /// Clock of the timers on APB1: twice PCLK1 when APB1 is divided (RM0090 6.2).
    pub apb1_timer_hz: u64,
    /// Clock of the timers on APB2.
    pub apb2_timer_hz: u64,
}

impl Clocks {
    /// The clock of `bus`, in Hz.
    pub fn bus_hz(&self, bus: BusClock) -> u64 {
        match bus {
            BusClock::Ahb => self.ahb_hz,
            BusClock::Apb1 => self.apb1_hz,
            BusClock::Apb2 => self.apb2_hz,
        }
    }

    /// Core cycles of `ticks` periods of the `bus` clock, rounded down.
    pub fn core_cycles(&self, ticks: u64, bus: BusClock) -> u64 {
        let bus_hz = self.bus_hz(bus);
        if bus_hz == 0 {
            return 0;
        }
        (u128::from(ticks) * u128::from(self.hclk_hz) / u128::from(bus_hz)) as u64
    }

    /// Every bus at the core clock: the state the target's `clock_mhz` describes.
    pub fn uniform(hz: u64) -> Clocks {
        Clocks {
            hclk_hz: hz,
            ahb_hz: hz,
            apb1_hz: hz,
            apb2_hz: hz,
            apb1_timer_hz: hz,
            apb2_timer_hz: hz,
        }
    }
}

/// How the flash interface is configured: wait states and accelerators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlashSettings {
    /// Wait states per flash read (FLASH_ACR LATENCY).
    pub wait_states: u32,
    /// Prefetch of sequential instruction fetches.
    pub prefetch: bool,
    /// Instruction cache (ART I-cache, L1 I-cache).
    pub icache: bool,
    /// Data cache in front of flash.
    pub dcache: bool,
}

impl FlashSettings {
    /// The settings the target file describes at its configured clock.
    pub fn of(target: &Target) -> FlashSettings {
        FlashSettings {
            wait_states: target.wait_states(),
            prefetch: target.flash.prefetch,
            icache: target.flash.icache.is_some(),
            dcache: target.flash.dcache.is_some(),
        }
    }
}

/// `cycles` at `hz` in µs, computed as cycles / MHz so that a run at one
/// clock gives the very figure `cycles / clock_mhz` gives.
pub fn micros(cycles: u64, hz: u64) -> f64 {
    cycles as f64 / (hz.max(1) as f64 / 1e6)
}

/// Energy-weighted cycles at the run current of the clock in force.
///
/// Blocks are priced once, at the run current of the target's clock, and the
/// hook counts every cycle at that figure. Once the firmware moves the core
/// clock or its voltage range, what it counts from then on is scaled by the
/// run current per MHz at the new clock in the new range over that at the
/// target's (the target's run curve), so the run, its regions and its
/// functions each draw the current of the clock they ran at. Readers take
/// the scaled count at their events; the hook never does.
#[derive(Debug, Clone)]
pub struct RunEnergy {
    figures: EnergyFigures,
    /// The clock the run current (`run_ua_per_mhz`) is given at.
    reference_mhz: f64,
    /// The scale in force, in 1/2^16.
    scale: u64,
    /// The scaled count and the unscaled one when the scale last changed.
    scaled_then: u64,
    weighted_then: u64,
}

/// A scale of 1 in [`RunEnergy`]'s fixed point: 16 fraction bits keep a
/// scaled count within 2^-16 of exact, and 1 keeps it exact.
const SCALE_ONE: u64 = 1 << 16;

impl RunEnergy {
    /// Counting at `target`'s run current at its clock.
    pub fn new(target: &Target) -> RunEnergy {
        RunEnergy {
            figures: target.energy.clone(),
            reference_mhz: target.clock_mhz,
            scale: SCALE_ONE,
            scaled_then: 0,
            weighted_then: 0,
        }
    }

    /// The scaled count when the hook has counted `weighted`.
    pub fn at(&self, weighted: u64) -> u64 {
        let since = (u128::from(weighted - self.weighted_then) * u128::from(self.scale)) >> 16;
        self.scaled_then
            .saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }

    /// The core clock is `hclk_hz` in voltage range `range` (the range that
    /// clock needs when `None`) from when the hook had counted `weighted`.
    pub fn set(&mut self, weighted: u64, hclk_hz: u64, range: Option<&str>) {
        self.scaled_then = self.at(weighted);
        self.weighted_then = weighted;
        let mhz = hclk_hz.max(1) as f64 / 1e6;
        let scale = self.figures.run_scale(self.reference_mhz, mhz, range);
        // A target file's curve is checked to MCU currents and clocks; the
        // bound keeps even a hostile one finite.
        self.scale = (scale.clamp(0.0, 1e6) * SCALE_ONE as f64).round() as u64;
    }
}

/// One span of the run with the same clock and flash settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockSpan {
    /// Core clock in Hz.
    pub hclk_hz: u64,
    /// Flash settings.
    pub flash: FlashSettings,
    /// Cycles the core ran (awake or asleep) under these settings.
    pub cycles: u64,
}

/// The settings in force and the spans recorded so far.
#[derive(Debug, Clone)]
pub struct ClockRecord {
    /// Clocks now in force.
    pub clocks: Clocks,
    /// Flash settings now in force.
    pub flash: FlashSettings,
    /// Cycle at which the current settings took effect.
    since: u64,
    /// Closed spans, oldest first.
    spans: Vec<ClockSpan>,
}

/// At most this many spans are kept; later changes merge into the last one,
/// so firmware that switches clocks in a loop cannot grow the record unbounded.
const MAX_SPANS: usize = 64;

impl ClockRecord {
    /// Starts at `clocks` and `flash` at cycle 0.
    pub fn new(clocks: Clocks, flash: FlashSettings) -> ClockRecord {
        ClockRecord {
            clocks,
            flash,
            since: 0,
            spans: Vec::new(),
        }
    }

    /// Puts new settings in force from cycle `now`.
    pub fn change(&mut self, now: u64, clocks: Clocks, flash: FlashSettings) {
        if clocks == self.clocks && flash == self.flash {
            return;
        }
        self.close(now);
        self.clocks = clocks;
        self.flash = flash;
    }

    fn close(&mut self, now: u64) {
        let cycles = now - self.since;
        self.since = now;
        if cycles == 0 {
            return;
        }
        let span = ClockSpan {
            hclk_hz: self.clocks.hclk_hz,
            flash: self.flash,
            cycles,
        };
        let full = self.spans.len() >= MAX_SPANS;
        match self.spans.last_mut() {
            Some(last) if full || (last.hclk_hz == span.hclk_hz && last.flash == span.flash) => {
                last.cycles += cycles;
            }
            _ => self.spans.push(span),
        }
    }

    /// Every span up to cycle `now`, the current one included.
    pub fn spans(&self, now: u64) -> Vec<ClockSpan> {
        let mut record = self.clone();
        record.close(now);
        record.spans
    }

    /// Microseconds elapsed up to cycle `now`, each span at its own clock.
    pub fn micros(&self, now: u64) -> f64 {
        self.spans(now)
            .iter()
            .map(|s| micros(s.cycles, s.hclk_hz))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLASH: FlashSettings = FlashSettings {
        wait_states: 0,
        prefetch: false,
        icache: false,
        dcache: false,
    };

    #[test]
    fn time_sums_each_span_at_its_own_clock() {
        let mut r = ClockRecord::new(Clocks::uniform(16_000_000), FLASH);
        let fast = FlashSettings {
            wait_states: 5,
            ..FLASH
        };
        r.change(16_000, Clocks::uniform(168_000_000), fast);
        let spans = r.spans(16_000 + 168_000);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].flash.wait_states, 5);
        assert!((r.micros(16_000 + 168_000) - 2000.0).abs() < 1e-9);
    }

    #[test]
    fn run_energy_is_exact_at_the_target_clock_and_scaled_after_a_change() {
        let target = Target::shipped("stm32f407").unwrap().unwrap();
        let mut energy = RunEnergy::new(&target);
        assert_eq!(energy.at(123_456_789), 123_456_789);
        // DS8626 Table 20: 5 mA at 16 MHz against 40 mA at 168 MHz.
        energy.set(1_000_000, 16_000_000, None);
        let scale = (5.0 / 16.0) / (40.0 / 168.0);
        let counted = energy.at(1_000_000 + 160_000) - 1_000_000;
        assert!(
            (counted as f64 - 160_000.0 * scale).abs() <= 1.0,
            "{counted}"
        );
        // Back at the target clock, counting is exact again from there.
        let then = energy.at(2_000_000);
        energy.set(2_000_000, 168_000_000, None);
        assert_eq!(energy.at(2_000_500), then + 500);
    }

    #[test]
    fn an_unchanged_setting_opens_no_span() {
        let mut r = ClockRecord::new(Clocks::uniform(1_000_000), FLASH);
        r.change(10, Clocks::uniform(1_000_000), FLASH);
        assert_eq!(r.spans(20).len(), 1);
    }
}
