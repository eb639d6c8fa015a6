//! Chart axes in a unit chosen for the figures' size (`812 µs`, `2.35 ms`, `41.2 µJ`) with
//! three significant digits, enough to compare at a glance, and the signed changes shown
//! against a baseline. Figures in text and tables use [`crate::numbers`].

/// A unit and how many base units (µs, µJ, bytes) make one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Printed after the number.
    pub unit: &'static str,
    /// Base units per one of `unit`.
    pub divisor: f64,
}

const TIME: [Scale; 3] = [
    Scale {
        unit: "µs",
        divisor: 1.0,
    },
    Scale {
        unit: "ms",
        divisor: 1e3,
    },
    Scale {
        unit: "s",
        divisor: 1e6,
    },
];

const ENERGY: [Scale; 3] = [
    Scale {
        unit: "µJ",
        divisor: 1.0,
    },
    Scale {
        unit: "mJ",
        divisor: 1e3,
    },
    Scale {
        unit: "J",
        divisor: 1e6,
    },
];

/// The largest unit of `ladder` that `value` is at least one of (the first for
/// anything smaller, zero or not finite).
fn pick(ladder: &[Scale], value: f64) -> Scale {
    ladder
        .iter()
        .rev()
        .find(|s| value.abs() >= s.divisor)
        .copied()
        .unwrap_or(ladder[0])
}

/// The unit for a time of `us` microseconds.
pub fn time_scale(us: f64) -> Scale {
    pick(&TIME, us)
}

/// The unit for an energy of `uj` microjoules.
pub fn energy_scale(uj: f64) -> Scale {
    pick(&ENERGY, uj)
}

/// `value` to three significant digits, without an exponent for ordinary sizes:
/// `812`, `81.2`, `8.12`, `0.812`; `1.70e308` for figures no unit can tame.
pub fn significant(value: f64) -> String {
    let a = value.abs();
    match a {
        _ if a == 0.0 => "0".to_owned(),
        _ if !(1e-3..1e6).contains(&a) => format!("{value:.2e}"),
        _ if a >= 99.95 => format!("{value:.0}"),
        _ if a >= 9.995 => format!("{value:.1}"),
        _ if a >= 0.9995 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// The change from `base` to `value` as a signed percentage with two decimals,
/// `+5.26%`; `from 0` when the base was zero.
pub fn change(value: f64, base: f64) -> String {
    if base == 0.0 {
        "from 0".to_owned()
    } else {
        format!("{:+.2}%", (value - base) / base * 100.0)
    }
}

/// [`change`] short enough to sit above a chart bar: one decimal below 100%, none above.
pub fn short_change(value: f64, base: f64) -> String {
    if base == 0.0 {
        return "from 0".to_owned();
    }
    let pct = (value - base) / base * 100.0;
    if pct.abs() < 99.95 {
        format!("{pct:+.1}%")
    } else {
        format!("{pct:+.0}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(significant(812.4), "812");
        assert_eq!(significant(81.24), "81.2");
        assert_eq!(significant(8.124), "8.12");
        assert_eq!(significant(0.8124), "0.812");
        assert_eq!(significant(9.999), "10.0", "rounding moves up a digit");
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(123456.0), "123456");
        assert_eq!(significant(1.7e308), "1.70e308");
        assert_eq!(significant(-2.5), "-2.50");
    }

    #[test]
    fn times_and_energies_pick_their_unit() {
        assert_eq!(time_scale(999.0).unit, "µs");
        assert_eq!(time_scale(1000.0).unit, "ms");
        assert_eq!(time_scale(2.0e6).unit, "s");
        assert_eq!(energy_scale(1200.0).unit, "mJ");
        assert_eq!(time_scale(f64::NAN).unit, "µs");
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(change(105.26, 100.0), "+5.26%");
        assert_eq!(change(90.0, 99.0), "-9.09%");
        assert_eq!(change(1.0, 0.0), "from 0");
        assert_eq!(short_change(105.26, 100.0), "+5.3%");
        assert_eq!(short_change(350.0, 100.0), "+250%");
        assert_eq!(short_change(1.0, 0.0), "from 0");
    }
}
