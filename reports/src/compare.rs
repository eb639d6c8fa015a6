//! Comparing two results files and gating on the difference.
//!
//! Runs are matched by `workload@target`. For each run that is `ok` on both sides every
//! chosen [`Metric`] gets a three-way answer (improved / unchanged / regressed) and a
//! regression larger than the soft limit (percent) fails the gate. Emulated figures are
//! exact, so the limit can be tight: there is no noise band. Hard limits
//! ([`Ceiling`]) are absolute ceilings on the new figures, e.g. stack peak below RAM
//! capacity. A run that was `ok` and is no longer, or that is missing from the new side,
//! breaks the gate ([`Outcome::RunsBroken`]); runs only in the new side are reported and
//! pass.
//!
//! Figures are only comparable when they were produced the same way, so the comparison
//! also lists how the two sides differ ([`Difference`]): per run the target file, clock,
//! supply, core and image, and per file the manifest and the mcubench version.

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

/// A soft limit for one metric, replacing the default for it, parsed from
/// `METRIC=PERCENT` (e.g. `cycles=0.5%`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricLimit {
    /// The limited figure.
    pub metric: Metric,
    /// Largest allowed increase, percent.
    pub max_regression_pct: f64,
}

impl FromStr for MetricLimit {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (key, pct) = text.split_once('=').ok_or_else(|| Error::BadLimit {
            text: text.to_owned(),
            why: "expected METRIC=PERCENT, e.g. cycles=0.5%",
        })?;
        Ok(MetricLimit {
            metric: key.parse()?,
            max_regression_pct: parse_percent(pct).map_err(|_| Error::BadLimit {
                text: text.to_owned(),
                why: "expected METRIC=PERCENT with a percentage of zero or more, e.g. cycles=0.5%",
            })?,
        })
    }
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
    /// Largest allowed increase of a compared metric without a limit of its own, percent.
    pub max_regression_pct: f64,
    /// Limits of their own for some metrics; the last one given for a metric wins.
    pub metric_limits: Vec<MetricLimit>,
    /// Absolute ceilings on the new figures.
    pub ceilings: Vec<Ceiling>,
}

impl Limits {
    /// The soft limit that applies to `metric`, percent.
    pub fn max_regression_pct(&self, metric: Metric) -> f64 {
        self.metric_limits
            .iter()
            .rev()
            .find(|l| l.metric == metric)
            .map_or(self.max_regression_pct, |l| l.max_regression_pct)
    }

    /// The compared metrics whose soft limit is their own, with it (percent).
    pub fn own_limits(&self) -> impl Iterator<Item = (Metric, f64)> + '_ {
        self.metrics
            .iter()
            .map(|&m| (m, self.max_regression_pct(m)))
            .filter(|&(_, pct)| pct != self.max_regression_pct)
    }

    /// The hard limits: each bounded metric with its bound, a figure written
    /// by `value` or the name of the field it must stay under.
    pub fn hard_limits<'a>(
        &'a self,
        value: impl Fn(Metric, f64) -> String + 'a,
    ) -> impl Iterator<Item = (Metric, String)> + 'a {
        self.ceilings.iter().map(move |c| {
            let bound = match c.bound {
                Bound::Value(v) => value(c.metric, v),
                Bound::Field(f) => f.name().to_owned(),
            };
            (c.metric, bound)
        })
    }
}

impl Default for Limits {
    /// Cycles only, 1% soft limit, no ceilings.
    fn default() -> Self {
        Limits {
            metrics: vec![Metric::Cycles],
            max_regression_pct: 1.0,
            metric_limits: Vec::new(),
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
    /// The soft limit applied, percent.
    pub limit_pct: f64,
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

/// Something the two sides were produced with that is not the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs, e.g. `image sha256` or `mcubench version`.
    pub field: &'static str,
    /// Its value in the base.
    pub base: String,
    /// Its value in the new side.
    pub new: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} differs ({} vs {})", self.field, self.base, self.new)
    }
}

/// How a gate ends, worst first: what the exit code reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A run of the base is missing from the new side or no longer runs.
    RunsBroken,
    /// A figure grew past its soft limit or a hard limit.
    Regressed,
    /// Nothing regressed past a limit.
    Passed,
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
    /// How this run was produced differently (image, target file, clock...):
    /// its figures then measure a different configuration, not a change.
    pub config_changes: Vec<Difference>,
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
        let mut out = self.breakages();
        out.extend(self.regressions());
        out
    }

    /// Why the run is broken: missing from the new side, or no longer `ok`.
    pub fn breakages(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.base_status.is_some() && self.new_status.is_none() {
            // A run that vanished cannot be shown not to have regressed.
            out.push(format!("{}: missing from the new results", self.key()));
        }
        if let (true, Some(new)) = (self.status_regressed(), self.new_status) {
            out.push(format!("{}: was ok, now {}", self.key(), new.as_str()));
        }
        out
    }

    /// Figures past a soft or hard limit, one line each.
    pub fn regressions(&self) -> Vec<String> {
        let mut out = Vec::new();
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
    /// How the two files differ as a whole (manifest, mcubench version); what
    /// differs per run is in [`RunComparison::config_changes`].
    pub differences: Vec<Difference>,
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
        self.outcome() == Outcome::Passed
    }

    /// The worst that happened.
    pub fn outcome(&self) -> Outcome {
        if self.runs.iter().any(|r| !r.breakages().is_empty()) {
            Outcome::RunsBroken
        } else if self.runs.iter().any(|r| !r.regressions().is_empty()) {
            Outcome::Regressed
        } else {
            Outcome::Passed
        }
    }

    /// Runs whose configuration differs, with what differs.
    pub fn config_changes(&self) -> impl Iterator<Item = (&RunComparison, &Difference)> {
        self.runs
            .iter()
            .flat_map(|r| r.config_changes.iter().map(move |d| (r, d)))
    }
}

/// Refuses two files that do not describe the same suite. A single run's
/// record belongs to no suite and goes with any.
pub fn check_same_suite(
    base_path: &Path,
    base: &Results,
    new_path: &Path,
    new: &Results,
) -> Result<(), Error> {
    let (b, n) = (&base.provenance.suite, &new.provenance.suite);
    if !b.is_empty() && !n.is_empty() && b != n {
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

/// Names the one run of a run record ([`crate::record`]) as its counterpart in `other`
/// is named, so the two are compared: the run of `other` on the same target, if there
/// is one, else the one of them built from an image of the same file name.
pub fn pair_record(record: &mut Results, other: &Results) {
    let [run] = record.runs.as_mut_slice() else {
        return;
    };
    let file_name = |path: &str| Path::new(path).file_name().map(|n| n.to_owned());
    let same_target: Vec<&Run> = other
        .runs
        .iter()
        .filter(|o| o.target == run.target)
        .collect();
    let counterpart = match same_target.as_slice() {
        [only] => Some(*only),
        several => {
            let mut same_image = several
                .iter()
                .filter(|o| file_name(&o.image) == file_name(&run.image));
            match (same_image.next(), same_image.next()) {
                (Some(one), None) => Some(*one),
                _ => None,
            }
        }
    };
    if let Some(counterpart) = counterpart {
        run.workload = counterpart.workload.clone();
    }
}

/// Refuses a comparison in which a run was measured in another configuration (image,
/// target file, clock, supply or core), naming the first such run and what differs.
pub fn check_same_config(comparison: &Comparison) -> Result<(), Error> {
    match comparison.config_changes().next() {
        Some((run, difference)) => Err(Error::ConfigChanged {
            run: run.key(),
            difference: difference.clone(),
        }),
        None => Ok(()),
    }
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
        let mut run = compare_run(Some(b), n, limits);
        if let Some(n) = n {
            run.config_changes = config_changes(b, base, n, new);
        }
        runs.push(run);
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
        differences: file_differences(base, new),
        runs,
    }
}

/// Differences of the files as a whole. A side without a manifest (a single
/// run's record) has nothing to differ in there.
fn file_differences(base: &Results, new: &Results) -> Vec<Difference> {
    let (b, n) = (&base.provenance, &new.provenance);
    let manifests = !b.manifest.is_empty() && !n.manifest.is_empty();
    [
        (
            "mcubench version",
            &base.tool.version,
            &new.tool.version,
            // An older run record does not say.
            !base.tool.version.is_empty() && !new.tool.version.is_empty(),
        ),
        ("manifest", &b.manifest, &n.manifest, manifests),
        (
            "manifest sha256",
            &b.manifest_sha256,
            &n.manifest_sha256,
            manifests,
        ),
    ]
    .into_iter()
    .filter(|&(_, base, new, both)| both && base != new)
    .map(|(field, base, new, _)| Difference {
        field,
        base: base.clone(),
        new: new.clone(),
    })
    .collect()
}

/// How the two sides of one run were produced differently. Content hashes
/// are compared where both sides recorded one, else names and values.
fn config_changes(
    base: &Run,
    base_file: &Results,
    new: &Run,
    new_file: &Results,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |field, b: String, n: String| {
        if b != n {
            out.push(Difference {
                field,
                base: b,
                new: n,
            });
        }
    };
    let target = |file: &Results, run: &Run| {
        file.provenance
            .target_sha256(&run.target)
            .map(str::to_owned)
    };
    if let (Some(b), Some(n)) = (target(base_file, base), target(new_file, new)) {
        differ("target file sha256", b, n);
    }
    differ(
        "clock_mhz",
        base.clock_mhz.to_string(),
        new.clock_mhz.to_string(),
    );
    // Files before 1.1 did not record the supply.
    if base.vdd_v > 0.0 && new.vdd_v > 0.0 {
        differ("vdd_v", base.vdd_v.to_string(), new.vdd_v.to_string());
    }
    differ("core", base.core.clone(), new.core.clone());
    let image =
        |file: &Results, run: &Run| file.provenance.image_sha256(&run.image).map(str::to_owned);
    match (image(base_file, base), image(new_file, new)) {
        (Some(b), Some(n)) => differ("image sha256", b, n),
        _ => differ("image", base.image.clone(), new.image.clone()),
    }
    out
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
            .map(|&m| compare_metric(m, b, n, limits.max_regression_pct(m)))
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
        config_changes: Vec::new(),
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
        limit_pct: max_pct,
        change,
    }
}
