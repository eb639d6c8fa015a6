//! The per-layer table: the regions a firmware marked (a model's layers), one
//! row each, per call, as `mcubench run`, the suite's markdown and the HTML
//! report show it.

use crate::numbers::{count, energy_uj, figure, time_us};
use crate::results::MarkedRegion;
use crate::table::{Column, Table};

/// Widest name shown before it wraps.
const NAME_WIDTH: usize = 40;

/// One row per marked region, a nested one led by `· ` per level; figures
/// are per call, shares of the outermost regions' cycles.
pub fn table(regions: &[MarkedRegion]) -> Table {
    let mut table = Table::new(vec![
        Column::left("layer").wrap_at(NAME_WIDTH),
        Column::right("calls"),
        Column::right("cycles/call"),
        Column::right("time/call"),
        Column::right("energy/call"),
        Column::right("MACs"),
        Column::right("cycles/MAC"),
        Column::right("share"),
    ]);
    for r in regions {
        let calls = r.calls.max(1) as f64;
        table.row([
            format!("{}{}", "· ".repeat(r.depth.min(8) as usize), r.name),
            count(r.calls as f64),
            count(r.cycles as f64 / calls),
            time_us(r.time_us / calls),
            energy_uj(r.energy_uj / calls),
            if r.macs > 0 {
                count(r.macs as f64)
            } else {
                String::new()
            },
            r.cycles_per_mac
                .map(|c| figure(c, false))
                .unwrap_or_default(),
            format!("{:.1}%", 100.0 * r.share),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(name: &str, depth: u32, cycles: u64, macs: u64, share: f64) -> MarkedRegion {
        MarkedRegion {
            name: name.to_owned(),
            depth,
            calls: 2,
            cycles,
            time_us: cycles as f64 / 100.0,
            energy_uj: cycles as f64 / 1000.0,
            macs,
            cycles_per_mac: (macs > 0).then(|| cycles as f64 / 2.0 / macs as f64),
            share,
        }
    }

    #[test]
    fn rows_are_per_call_with_nesting_indented() {
        let t = table(&[
            layer("0 conv 3x3", 0, 2_000_000, 400_000, 0.8),
            layer("fft", 1, 100_000, 0, 0.04),
            layer("1 softmax", 0, 500_000, 0, 0.2),
        ]);
        insta::assert_snapshot!(t.markdown(), @r"
        | layer | calls | cycles/call | time/call | energy/call | MACs | cycles/MAC | share |
        | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
        | 0 conv 3x3 | 2 | 1,000,000 | 10.00 ms | 1.000 mJ | 400,000 | 2.500 | 80.0% |
        | · fft | 2 | 50,000 | 500.0 µs | 50.00 µJ |  |  | 4.0% |
        | 1 softmax | 2 | 250,000 | 2.500 ms | 250.0 µJ |  |  | 20.0% |
        ");
    }
}
