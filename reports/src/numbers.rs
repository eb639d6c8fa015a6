//! How figures are printed for people (terminal tables, markdown and HTML alike): counts
//! with thousands separators, other figures with a precision that suits their size, and
//! times, energies, powers and sizes in the unit that keeps them short.

/// `1234567` -> `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count that may be an average (cycles per call), rounded to a whole number and grouped.
pub fn count(value: f64) -> String {
    let rounded = value.round();
    if (0.0..9.0e15).contains(&rounded) {
        thousands(rounded as u64)
    } else {
        group(&format!("{rounded:.0}"))
    }
}

/// A time kept in µs, in ns, µs, ms or s: `999.9 µs`, `1.000 ms`.
pub fn time_us(us: f64) -> String {
    scaled(us, 1, &["ns", "µs", "ms", "s"], 1000.0)
}

/// An energy kept in µJ, in nJ, µJ, mJ or J.
pub fn energy_uj(uj: f64) -> String {
    scaled(uj, 1, &["nJ", "µJ", "mJ", "J"], 1000.0)
}

/// A power kept in mW, in µW, mW or W.
pub fn power_mw(mw: f64) -> String {
    scaled(mw, 1, &["µW", "mW", "W"], 1000.0)
}

/// A size in bytes: whole bytes below 1 KiB, then KiB, MiB or GiB (steps of 1024).
pub fn bytes(value: u64) -> String {
    if value < 1024 {
        return format!("{} B", thousands(value));
    }
    scaled(value as f64, 0, &["B", "KiB", "MiB", "GiB"], 1024.0)
}

/// `value`, given in `units[base]`, moved to the unit that puts it in 1..step (or as near
/// as the list of units allows) and printed with 4 significant digits. The unit is chosen
/// on the rounded figure, so 999.96 µs reads `1.000 ms`, never `1000.0 µs`.
fn scaled(value: f64, base: usize, units: &[&str], step: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value} {}", units[base]);
    }
    let (mut v, mut unit) = (value, base);
    while v.abs() < 1.0 && unit > 0 {
        v *= step;
        unit -= 1;
    }
    while round_to(v.abs(), 1) >= step && unit + 1 < units.len() {
        v /= step;
        unit += 1;
    }
    let decimals = if round_to(v.abs(), 3) < 10.0 {
        3
    } else if round_to(v.abs(), 2) < 100.0 {
        2
    } else {
        1
    };
    format!("{} {}", group(&format!("{v:.decimals$}")), units[unit])
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// `value` with `decimals` places and thousands separators: `grouped(12345.67, 1)` ->
/// `12,345.7`.
pub fn grouped(value: f64, decimals: usize) -> String {
    group(&format!("{value:.decimals$}"))
}

/// Thousands separators in the whole part of a printed number: `-12345.6` -> `-12,345.6`.
fn group(number: &str) -> String {
    let (sign, rest) = number
        .strip_prefix('-')
        .map_or(("", number), |rest| ("-", rest));
    let (whole, fraction) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
    match whole.parse::<u64>() {
        Ok(w) => format!("{sign}{}{fraction}", thousands(w)),
        Err(_) => number.to_owned(),
    }
}

/// A count or a measured figure: counts without decimals, others with 3 significant
/// digits after the point below 10, 2 below 1000, 1 above.
pub fn figure(value: f64, integer: bool) -> String {
    if integer && value >= 0.0 && value.fract() == 0.0 && value < 9.0e15 {
        return thousands(value as u64);
    }
    let decimals = match value.abs() {
        v if v < 10.0 => 3,
        v if v < 1000.0 => 2,
        _ => 1,
    };
    format!("{value:.decimals$}")
}

/// A signed percentage, `+1.25%`, or `new` for growth from zero.
pub fn delta_pct(delta: Option<f64>) -> String {
    match delta {
        Some(0.0) => "0.00%".to_owned(),
        Some(d) => format!("{d:+.2}%"),
        None => "from 0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn figures_pick_precision_by_size() {
        assert_eq!(figure(2656000.0, true), "2,656,000");
        assert_eq!(figure(1.23456, false), "1.235");
        assert_eq!(figure(123.456, false), "123.46");
        assert_eq!(figure(12345.67, false), "12345.7");
    }

    #[test]
    fn averages_round_to_grouped_counts() {
        assert_eq!(count(1234.4), "1,234");
        assert_eq!(count(999.5), "1,000");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(-1234.0), "-1,234");
    }

    #[test]
    fn times_take_the_unit_that_keeps_them_below_1000() {
        assert_eq!(time_us(999.9), "999.9 µs");
        assert_eq!(time_us(1000.0), "1.000 ms");
        assert_eq!(time_us(999.96), "1.000 ms", "rounding moves it up a unit");
        assert_eq!(time_us(5020.565), "5.021 ms");
        assert_eq!(time_us(12.345), "12.35 µs");
        assert_eq!(time_us(0.5), "500.0 ns");
        assert_eq!(time_us(0.0009999), "1.000 ns");
        assert_eq!(time_us(0.0001), "0.100 ns");
        assert_eq!(time_us(999_999.0), "1.000 s");
        assert_eq!(time_us(12_345_678_900.0), "12,345.7 s");
        assert_eq!(time_us(0.0), "0 µs");
        assert_eq!(time_us(-1500.0), "-1.500 ms");
    }

    #[test]
    fn energies_and_powers_scale_alike() {
        assert_eq!(energy_uj(459.871), "459.9 µJ");
        assert_eq!(energy_uj(0.012), "12.00 nJ");
        assert_eq!(energy_uj(2_500.0), "2.500 mJ");
        assert_eq!(energy_uj(3_000_000.0), "3.000 J");
        assert_eq!(power_mw(91.597), "91.60 mW");
        assert_eq!(power_mw(0.0042), "4.200 µW");
        assert_eq!(power_mw(1_000.0), "1.000 W");
        assert_eq!(power_mw(0.0), "0 mW");
    }

    #[test]
    fn sizes_step_by_1024() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1,023 B");
        assert_eq!(bytes(1024), "1.000 KiB");
        assert_eq!(bytes(196_608), "192.0 KiB");
        assert_eq!(bytes(1_048_575), "1.000 MiB");
        assert_eq!(bytes(1_048_576), "1.000 MiB");
        assert_eq!(bytes(5 << 30), "5.000 GiB");
    }

    #[test]
    fn grouping_keeps_the_sign_and_fraction() {
        assert_eq!(group("-12345.6"), "-12,345.6");
        assert_eq!(group("999"), "999");
        assert_eq!(group("1234567.125"), "1,234,567.125");
        assert_eq!(grouped(12345.67, 1), "12,345.7");
        assert_eq!(grouped(0.5, 3), "0.500");
    }

    #[test]
    fn deltas_are_signed() {
        assert_eq!(delta_pct(Some(1.254)), "+1.25%");
        assert_eq!(delta_pct(Some(-0.5)), "-0.50%");
        assert_eq!(delta_pct(Some(0.0)), "0.00%");
        assert_eq!(delta_pct(None), "from 0");
    }
}
