//! How figures are printed for people (markdown and HTML alike): counts with thousands
//! separators, other figures with a precision that suits their size.

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
    fn deltas_are_signed() {
        assert_eq!(delta_pct(Some(1.254)), "+1.25%");
        assert_eq!(delta_pct(Some(-0.5)), "-0.50%");
        assert_eq!(delta_pct(Some(0.0)), "0.00%");
        assert_eq!(delta_pct(None), "from 0");
    }
}
