//! Published cycles-per-MAC ranges of int8 inference, so an emulated figure
//! reads against what silicon and other kernel libraries reach on the same
//! MLPerf Tiny models.

/// A range of cycles per MAC one kind of kernel library reaches on one core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// The kernels and how they were measured.
    pub label: &'static str,
    /// Core names it applies to start with this (`cortex-m4` covers `cortex-m4f`).
    pub core: &'static str,
    /// Lowest and highest cycles per MAC across the models.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// Where the figures come from.
    pub source: &'static str,
}

impl Band {
    /// `1.4–2.4`: the figures as published, no digits added.
    pub fn range(&self) -> String {
        format!("{}–{}", self.low, self.high)
    }
}

/// Every band, fastest kernels first per core.
pub const BANDS: &[Band] = &[
    Band {
        label: "vendor-optimized kernels, silicon",
        core: "cortex-m4",
        low: 1.4,
        high: 2.4,
        source: "MLPerf Tiny inference v1.1-v1.3 results, closed division, ST X-CUBE-AI on \
                 NUCLEO-L4R5ZI (Cortex-M4): cycles per inference over each model's MACs, \
                 across KWS, VWW, IC and AD (recalled summary of the published tables)",
    },
    Band {
        label: "TFLM + CMSIS-NN, emulated here",
        core: "cortex-m4",
        low: 3.13,
        high: 4.06,
        source: "TensorFlow Lite Micro with CMSIS-NN kernels built for Cortex-M4 with the \
                 MLPerf Tiny models, run on mcubench's stm32l4r5 (IC 3.13, KWS 3.59, VWW 4.06): \
                 the same cost model as these runs, not silicon",
    },
    Band {
        label: "TFLM reference kernels, silicon",
        core: "cortex-m4",
        low: 4.6,
        high: 9.6,
        source: "TensorFlow Lite Micro's portable reference kernels on Cortex-M4 boards, the \
                 same models (recalled from published MLPerf Tiny and TFLM benchmark figures)",
    },
    Band {
        label: "vendor-optimized kernels, silicon",
        core: "cortex-m7",
        low: 0.9,
        high: 1.4,
        source: "MLPerf Tiny inference v1.1-v1.3 results, closed division, ST X-CUBE-AI on \
                 STM32H7 Nucleo boards (Cortex-M7): cycles per inference over each model's \
                 MACs (recalled summary of the published tables)",
    },
];

/// The bands for a core, fastest first.
pub fn for_core(core: &str) -> impl Iterator<Item = &'static Band> + '_ {
    BANDS.iter().filter(move |b| core.starts_with(b.core))
}

/// Where `cycles_per_mac` falls against `band`: `within`, or how many times
/// above or below it.
pub fn position(cycles_per_mac: f64, band: &Band) -> String {
    if cycles_per_mac < band.low {
        format!("{:.2}× below", band.low / cycles_per_mac)
    } else if cycles_per_mac > band.high {
        format!("{:.2}× above", cycles_per_mac / band.high)
    } else {
        "within".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_match_their_core_family_and_place_a_figure() {
        assert_eq!(for_core("cortex-m4f").count(), 3);
        assert_eq!(for_core("cortex-m7f").count(), 1);
        assert_eq!(for_core("cortex-m3").count(), 0);
        let vendor = for_core("cortex-m4f").next().unwrap();
        assert_eq!(position(2.0, vendor), "within");
        assert_eq!(position(3.6, vendor), "1.50× above");
        assert_eq!(position(0.7, vendor), "2.00× below");
        assert_eq!(vendor.range(), "1.4–2.4");
        assert!(BANDS.iter().all(|b| b.low < b.high && !b.source.is_empty()));
    }
}
