//! Counting a peripheral clock in core clock cycles without stepping: a
//! counter that runs at `num / den` ticks per core cycle is anchored at a
//! core cycle, and the ticks it has seen by any later cycle, or the cycle at
//! which it reaches a given tick, follow by integer arithmetic (u128, so no
//! product of a cycle count and a frequency can overflow).

use super::super::clock::Clocks;
use crate::target::BusClock;

/// A counter clock anchored at a core cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ticker {
    /// Core cycle at which tick 0 began.
    anchor: u64,
    /// Ticks per `den` core cycles (a frequency in Hz, or a multiple of one).
    num: u64,
    /// Core cycles per `num` ticks (the core clock in Hz times any divider).
    den: u64,
}

impl Ticker {
    /// A counter that starts at core cycle `anchor` and advances `num` ticks
    /// every `den` core cycles; `num = 0` never ticks.
    pub(super) fn new(anchor: u64, num: u64, den: u64) -> Ticker {
        Ticker { anchor, num, den }
    }

    /// Whole ticks elapsed from the anchor up to core cycle `now`.
    pub(super) fn ticks_at(&self, now: u64) -> u64 {
        if self.den == 0 {
            return 0;
        }
        let cycles = u128::from(now.saturating_sub(self.anchor));
        let ticks = cycles * u128::from(self.num) / u128::from(self.den);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }

    /// The first core cycle at which `ticks` have elapsed, or None if the
    /// counter never gets there (it does not tick, or the cycle overflows).
    pub(super) fn cycle_of(&self, ticks: u64) -> Option<u64> {
        if self.num == 0 {
            return None;
        }
        let cycles = (u128::from(ticks) * u128::from(self.den)).div_ceil(u128::from(self.num));
        self.anchor.checked_add(u64::try_from(cycles).ok()?)
    }

    /// Moves the anchor to the cycle at which the tick in progress at `now`
    /// began and returns the ticks elapsed up to it. The phase of the counter
    /// clock is kept, so firmware that rewrites a compare value in every
    /// interrupt does not lose a fraction of a tick each time.
    pub(super) fn rebase(&mut self, now: u64) -> u64 {
        let ticks = self.ticks_at(now);
        self.anchor = self.cycle_of(ticks).map_or(now, |c| c.min(now));
        ticks
    }

    /// Runs at `num / den` ticks per core cycle from `now` on: a new rate
    /// starts a new tick grid at `now`, the same rate keeps the old one.
    pub(super) fn set_rate(&mut self, now: u64, num: u64, den: u64) {
        if (self.num, self.den) != (num, den) {
            *self = Ticker::new(now, num, den);
        }
    }
}

/// The frequency in Hz of the bus clock a peripheral runs from.
pub(super) fn bus_hz(clock: BusClock, clocks: &Clocks) -> u64 {
    match clock {
        BusClock::Ahb => clocks.hclk_hz,
        BusClock::Apb1 => clocks.apb1_hz,
        BusClock::Apb2 => clocks.apb2_hz,
    }
}

/// The first member greater than `after` of the progression `first`,
/// `first + period`, `first + 2 * period`, ... (`period` > 0), saturating.
pub(super) fn next_in_progression(first: u64, period: u64, after: u64) -> u64 {
    if after < first || period == 0 {
        return first;
    }
    let steps = (after - first) / period + 1;
    first.saturating_add(steps.saturating_mul(period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_cycles_are_inverse_at_a_fractional_ratio() {
        // 32768 Hz counted against a 64 MHz core: 1953.125 cycles per tick.
        let t = Ticker::new(1000, 32_768, 64_000_000);
        assert_eq!(t.ticks_at(1000 + 1953), 0);
        assert_eq!(t.ticks_at(1000 + 1954), 1);
        assert_eq!(t.cycle_of(1), Some(1000 + 1954));
        assert_eq!(t.cycle_of(8), Some(1000 + 15_625));
        assert_eq!(t.ticks_at(500), 0, "before the anchor nothing has elapsed");
    }

    #[test]
    fn a_counter_that_never_ticks_has_no_cycle() {
        assert_eq!(Ticker::new(0, 0, 1).cycle_of(1), None);
        assert_eq!(Ticker::new(0, 1, 0).ticks_at(99), 0);
        assert_eq!(Ticker::new(u64::MAX - 1, 1, 4).cycle_of(1), None);
    }

    #[test]
    fn rebase_keeps_the_phase() {
        let mut t = Ticker::new(0, 1, 64);
        assert_eq!(t.rebase(130), 2);
        assert_eq!(
            t.cycle_of(1),
            Some(192),
            "the next tick stays on the 64-cycle grid"
        );
    }

    #[test]
    fn a_new_rate_starts_a_new_grid() {
        let mut t = Ticker::new(0, 1, 64);
        t.set_rate(100, 1, 64);
        assert_eq!(t.cycle_of(2), Some(128));
        t.set_rate(100, 1, 32);
        assert_eq!(t.cycle_of(2), Some(164));
    }

    #[test]
    fn progression_finds_the_next_member() {
        assert_eq!(next_in_progression(5, 10, 0), 5);
        assert_eq!(next_in_progression(5, 10, 5), 15);
        assert_eq!(next_in_progression(5, 10, 24), 25);
        assert_eq!(next_in_progression(5, 10, u64::MAX - 1), u64::MAX);
    }
}
