//! Comparing two results files and gating on the difference.
//!
//! Runs are matched by `workload@target`. For each run that is `ok` on both sides every
//! chosen [`Metric`] gets a three-way answer (improved / unchanged / regressed) and a
//! regression larger than the soft limit (percent) fails the gate. Emulated figures are
//! exact, so the limit can be tight: there is no noise band. Hard limits
//! ([`Ceiling`]) are absolute ceilings on the new figures, e.g. stack peak below RAM
//! capacity. A run that was `ok` and is no longer counts as a regression; runs present on
//! one side only are reported, not dropped, and do not fail the gate.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::numbers::figure;
use crate::results::{Results, Run, Status};
use crate::Error;

/// A numeric run field that can be compared or bounded. Smaller is better for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `per_call.time_us`: one inference or training step.
    TimeUsPerCall,
    /// `per_call.energy_uj`: one inference or training step.
    EnergyUjPerCall,
    /// `cycles`
    Cycles,
    /// `instructions`
    Instructions,
    /// `time_us`
    TimeUs,
    /// `energy_uj`
    EnergyUj,
    /// `avg_power_mw`
    AvgPowerMw,
    /// `cycles_per_mac`
    CyclesPerMac,
    /// `stack_peak_bytes`
    StackPeakBytes,
    /// `flash_bytes`
    FlashBytes,
    /// `ram_bytes`
    RamBytes,
    /// `flash_capacity_bytes`
    FlashCapacityBytes,
    /// `ram_capacity_bytes`
    RamCapacityBytes,
}

impl Metric {
    /// Every metric, in results-file order.
    pub const ALL: [Metric; 13] = [
        Metric::TimeUsPerCall,
        Metric::EnergyUjPerCall,
        Metric::Cycles,
        Metric::Instructions,
        Metric::TimeUs,
        Metric::EnergyUj,
        Metric::AvgPowerMw,
        Metric::CyclesPerMac,
        Metric::StackPeakBytes,
        Metric::FlashBytes,
        Metric::RamBytes,
        Metric::FlashCapacityBytes,
        Metric::RamCapacityBytes,
    ];

    /// The results-file key.
    pub fn name(self) -> &'static str {
        match self {
            Metric::TimeUsPerCall => "per_call.time_us",
            Metric::EnergyUjPerCall => "per_call.energy_uj",
            Metric::Cycles => "cycles",
            Metric::Instructions => "instructions",
            Metric::TimeUs => "time_us",
            Metric::EnergyUj => "energy_uj",
            Metric::AvgPowerMw => "avg_power_mw",
            Metric::CyclesPerMac => "cycles_per_mac",
            Metric::StackPeakBytes => "stack_peak_bytes",
            Metric::FlashBytes => "flash_bytes",
            Metric::RamBytes => "ram_bytes",
            Metric::FlashCapacityBytes => "flash_capacity_bytes",
            Metric::RamCapacityBytes => "ram_capacity_bytes",
        }
    }

    /// All keys, for messages.
    pub fn names() -> Vec<&'static str> {
        Metric::ALL.iter().map(|m| m.name()).collect()
    }

    /// The figure in a run; `None` only where the file holds `null` (cycles per
    /// MAC, per-call figures of a run without a headline region).
    pub fn value(self, run: &Run) -> Option<f64> {
        // u64 -> f64 is exact below 2^53 cycles, far beyond any budget.
        Some(match self {
            Metric::TimeUsPerCall => return run.per_call.as_ref().map(|c| c.time_us),
            Metric::EnergyUjPerCall => return run.per_call.as_ref().map(|c| c.energy_uj),
            Metric::Cycles => run.cycles as f64,
            Metric::Instructions => run.instructions as f64,
            Metric::TimeUs => run.time_us,
            Metric::EnergyUj => run.energy_uj,
            Metric::AvgPowerMw => run.avg_power_mw,
            Metric::CyclesPerMac => return run.cycles_per_mac,
            Metric::StackPeakBytes => run.stack_peak_bytes as f64,
            Metric::FlashBytes => run.flash_bytes as f64,
            Metric::RamBytes => run.ram_bytes as f64,
            Metric::FlashCapacityBytes => run.flash_capacity_bytes as f64,
            Metric::RamCapacityBytes => run.ram_capacity_bytes as f64,
        })
    }

    /// Whether the figure is a count (printed without decimals).
    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            Metric::TimeUsPerCall
                | Metric::EnergyUjPerCall
                | Metric::TimeUs
                | Metric::EnergyUj
                | Metric::AvgPowerMw
                | Metric::CyclesPerMac
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// On a command line, a metric is spelled as its results-file key.
#[cfg(feature = "clap")]
impl clap::ValueEnum for Metric {
    fn value_variants<'a>() -> &'a [Self] {
        &Metric::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

impl FromStr for Metric {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| Error::UnknownMetric(s.to_owned()))
    }
}

/// Parses a percentage such as `1%`, `0.5%` or `2`.
pub fn parse_percent(text: &str) -> Result<f64, Error> {
    let bad = |why| Error::BadLimit {
        text: text.to_owned(),
        why,
    };
    let number = text.trim().trim_end_matches('%').trim();
    let pct: f64 = number
        .parse()
        .map_err(|_| bad("expected a percentage such as 0.5%"))?;
    if !pct.is_finite() || pct < 0.0 {
        return Err(bad("the percentage must be zero or more"));
    }
    Ok(pct)
}

/// The right-hand side of a hard limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// A fixed number in the metric's unit.
    Value(f64),
    /// Another field of the same run, e.g. `ram_capacity_bytes`.
    Field(Metric),
}

/// A hard limit `metric <= bound` on the new results, parsed from `KEY=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    /// The bounded figure.
    pub metric: Metric,
    /// Its ceiling.
    pub bound: Bound,
}

impl FromStr for Ceiling {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (key, value) = text.split_once('=').ok_or_else(|| Error::BadLimit {
            text: text.to_owned(),
            why: "expected KEY=VALUE, e.g. stack_peak_bytes=ram_capacity_bytes",
        })?;
        let metric = key.parse()?;
        let value = value.trim();
        let bound = match value.parse::<f64>() {
            Ok(v) if v.is_finite() => Bound::Value(v),
            Ok(_) => {
                return Err(Error::BadLimit {
                    text: text.to_owned(),
                    why: "the ceiling must be a finite number or a field name",
                })
            }
            Err(_) => Bound::Field(value.parse()?),
        };
        Ok(Ceiling { metric, bound })
    }
}

/// What the gate checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Metrics compared against the base, in the order shown.
    pub metrics: Vec<Metric>,
    /// Largest allowed increase of any compared metric, percent.
    pub max_regression_pct: f64,
    /// Absolute ceilings on the new figures.
    pub ceilings: Vec<Ceiling>,
}

impl Default for Limits {
    /// Cycles only, 1% soft limit, no ceilings.
    fn default() -> Self {
        Limits {
            metrics: vec![Metric::Cycles],
            max_regression_pct: 1.0,
            ceilings: Vec::new(),
        }
    }
}

/// The three-way answer for one metric, with the limit applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Smaller than before.
    Improved,
    /// Exactly the same.
    Unchanged,
    /// Larger, but within the soft limit.
    Regressed,
    /// Larger by more than the soft limit: fails the gate.
    OverLimit,
    /// One side has no figure (e.g. cycles per MAC of a training run).
    NotComparable,
}

/// One metric of one run, base against new.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricChange {
    /// Which figure.
    pub metric: Metric,
    /// The base figure.
    pub base: Option<f64>,
    /// The new figure.
    pub new: Option<f64>,
    /// `(new - base) / base` in percent; `None` when not comparable or base is 0.
    pub delta_pct: Option<f64>,
    /// The verdict.
    pub change: Change,
}

/// One hard limit checked on one new run.
#[derive(Debug, Clone, PartialEq)]
pub struct CeilingCheck {
    /// The limit.
    pub ceiling: Ceiling,
    /// The run's figure.
    pub value: f64,
    /// The ceiling's value for this run.
    pub limit: f64,
}

impl CeilingCheck {
    /// Whether the figure is above its ceiling.
    pub fn exceeded(&self) -> bool {
        self.value > self.limit
    }
}

/// One `workload@target` across the two files.
#[derive(Debug, Clone, PartialEq)]
pub struct RunComparison {
    /// Workload name.
    pub workload: String,
    /// Target name.
    pub target: String,
    /// Status in the base; `None` when the run is new.
    pub base_status: Option<Status>,
    /// Status in the new file; `None` when the run was removed.
    pub new_status: Option<Status>,
    /// Compared metrics; empty unless the run is `ok` on both sides.
    pub metrics: Vec<MetricChange>,
    /// Hard limits checked on the new run (only when it is `ok`).
    pub ceilings: Vec<CeilingCheck>,
}

impl RunComparison {
    /// `workload@target`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.workload, self.target)
    }

    /// The run was `ok` and is now `failed` or `error`.
    pub fn status_regressed(&self) -> bool {
        self.base_status == Some(Status::Ok)
            && matches!(self.new_status, Some(s) if s != Status::Ok)
    }

    /// Why this run fails the gate, one line per reason; empty if it passes.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.base_status.is_some() && self.new_status.is_none() {
            // A run that vanished cannot be shown not to have regressed.
            out.push(format!("{}: missing from the new results", self.key()));
        }
        if let (true, Some(new)) = (self.status_regressed(), self.new_status) {
            out.push(format!("{}: was ok, now {}", self.key(), new.as_str()));
        }
        for m in self
            .metrics
            .iter()
            .filter(|m| m.change == Change::OverLimit)
        {
            let delta = m
                .delta_pct
                .map_or_else(|| "up from 0".to_owned(), |d| format!("{d:+.2}%"));
            out.push(format!("{}: {} {delta}", self.key(), m.metric));
        }
        for c in self.ceilings.iter().filter(|c| c.exceeded()) {
            let bound = match c.ceiling.bound {
                Bound::Value(_) => String::new(),
                Bound::Field(f) => format!(" ({f})"),
            };
            let integer = c.ceiling.metric.is_integer();
            out.push(format!(
                "{}: {} {} exceeds {}{bound}",
                self.key(),
                c.ceiling.metric,
                figure(c.value, integer),
                figure(c.limit, integer)
            ));
        }
        out
    }
}

/// The whole comparison, ready to render or gate on.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The suite both files describe.
    pub suite: String,
    /// The limits applied.
    pub limits: Limits,
    /// Base runs in base order, then runs only in the new file in their order.
    pub runs: Vec<RunComparison>,
}

impl Comparison {
    /// Every reason the gate fails, one line each, naming the run.
    pub fn failures(&self) -> Vec<String> {
        self.runs.iter().flat_map(|r| r.failures()).collect()
    }

    /// True when nothing regressed past the limits.
    pub fn passed(&self) -> bool {
        self.runs.iter().all(|r| r.failures().is_empty())
    }
}

/// Refuses two files that do not describe the same suite.
pub fn check_same_suite(
    base_path: &Path,
    base: &Results,
    new_path: &Path,
    new: &Results,
) -> Result<(), Error> {
    if base.provenance.suite != new.provenance.suite {
        return Err(Error::Mismatch {
            left_path: base_path.to_owned(),
            right_path: new_path.to_owned(),
            what: "suite",
            left: base.provenance.suite.clone(),
            right: new.provenance.suite.clone(),
        });
    }
    Ok(())
}

/// Compares `new` against `base` under `limits`. Call [`check_same_suite`] first.
pub fn compare(base: &Results, new: &Results, limits: &Limits) -> Comparison {
    let index = |results: &Results| -> std::collections::HashMap<String, usize> {
        // The first run of a key wins, as a linear search would find it.
        let mut index = std::collections::HashMap::with_capacity(results.runs.len());
        for (i, r) in results.runs.iter().enumerate() {
            index.entry(r.key()).or_insert(i);
        }
        index
    };
    let (base_index, new_index) = (index(base), index(new));
    let mut runs = Vec::new();
    for b in &base.runs {
        let n = new_index.get(&b.key()).map(|&i| &new.runs[i]);
        runs.push(compare_run(Some(b), n, limits));
    }
    for n in new
        .runs
        .iter()
        .filter(|n| !base_index.contains_key(&n.key()))
    {
        runs.push(compare_run(None, Some(n), limits));
    }
    Comparison {
        suite: new.provenance.suite.clone(),
        limits: limits.clone(),
        runs,
    }
}

fn compare_run(base: Option<&Run>, new: Option<&Run>, limits: &Limits) -> RunComparison {
    let either = base.or(new).expect("one side is present");
    fn ok(run: Option<&Run>) -> Option<&Run> {
        run.filter(|r| r.status == Status::Ok)
    }
    let metrics = match (ok(base), ok(new)) {
        (Some(b), Some(n)) => limits
            .metrics
            .iter()
            .map(|&m| compare_metric(m, b, n, limits.max_regression_pct))
            .collect(),
        _ => Vec::new(),
    };
    let ceilings = match ok(new) {
        Some(n) => limits
            .ceilings
            .iter()
            .filter_map(|&ceiling| {
                let value = ceiling.metric.value(n)?;
                let limit = match ceiling.bound {
                    Bound::Value(v) => v,
                    Bound::Field(f) => f.value(n)?,
                };
                Some(CeilingCheck {
                    ceiling,
                    value,
                    limit,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    RunComparison {
        workload: either.workload.clone(),
        target: either.target.clone(),
        base_status: base.map(|r| r.status),
        new_status: new.map(|r| r.status),
        metrics,
        ceilings,
    }
}

fn compare_metric(metric: Metric, base: &Run, new: &Run, max_pct: f64) -> MetricChange {
    let (b, n) = (metric.value(base), metric.value(new));
    let (delta_pct, change) = match (b, n) {
        (Some(b), Some(n)) => {
            let delta = (b != 0.0).then(|| (n - b) / b * 100.0);
            let change = if n < b {
                Change::Improved
            } else if n == b {
                Change::Unchanged
            } else if delta.is_none_or(|d| d > max_pct) {
                // Any growth from zero is unbounded in percent.
                Change::OverLimit
            } else {
                Change::Regressed
            };
            (delta, change)
        }
        _ => (None, Change::NotComparable),
    };
    MetricChange {
        metric,
        base: b,
        new: n,
        delta_pct,
        change,
    }
}
