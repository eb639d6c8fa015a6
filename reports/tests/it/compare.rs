//! The gate: three-way answers, soft and hard limits, status changes, one-sided runs,
//! and the markdown people read in a PR.

use std::path::Path;

use mcubench_reports::compare::{self, parse_percent, Bound, Ceiling, Change};
use mcubench_reports::{markdown, Error, Limits, Metric, Results, Status};

use crate::sample;

fn run_mut<'a>(results: &'a mut Results, key: &str) -> &'a mut mcubench_reports::Run {
    results.runs.iter_mut().find(|r| r.key() == key).unwrap()
}

/// The sample against a changed copy that exercises every row kind.
fn changed() -> (Results, Results) {
    let base = sample::results();
    let mut new = base.clone();
    let r = run_mut(&mut new, "kws-dscnn@stm32f407");
    r.cycles += r.cycles / 50; // +2%: over the 1% limit
    r.energy_uj *= 1.02;
    let r = run_mut(&mut new, "kws-dscnn@stm32h743");
    r.cycles -= r.cycles * 3 / 100; // improved
    r.energy_uj *= 0.97;
    let r = run_mut(&mut new, "kws-dscnn@nrf52840");
    r.cycles += r.cycles / 200; // +0.5%: within the limit
    let r = run_mut(&mut new, "mnist-train@nrf52840");
    r.status = Status::Failed;
    r.error = Some("exit code 1".to_owned());
    let r = run_mut(&mut new, "mnist-train@stm32h743");
    r.stack_peak_bytes = 140_000; // above the 128 KiB RAM ceiling
    new.runs.retain(|r| r.key() != "ad-autoencoder@nrf52840");
    let mut added = sample::run(0, 0);
    added.workload = "vww-mobilenet".to_owned();
    new.runs.push(added);
    (base, new)
}

fn limits() -> Limits {
    Limits {
        metrics: vec![Metric::Cycles, Metric::EnergyUj],
        max_regression_pct: 1.0,
        ceilings: vec![
            "stack_peak_bytes=ram_capacity_bytes".parse().unwrap(),
            "ram_bytes=100000".parse().unwrap(),
        ],
    }
}

#[test]
fn runs_missing_from_the_new_file_fail_the_gate() {
    let (base, _) = changed();
    let mut new = base.clone();
    new.runs.clear();
    let cmp = compare::compare(&base, &new, &limits());
    assert!(!cmp.passed());
    assert_eq!(cmp.failures().len(), base.runs.len());
    assert!(cmp.failures()[0].ends_with("missing from the new results"));
}

#[test]
fn every_kind_of_change_is_reported_and_gated() {
    let (base, new) = changed();
    let cmp = compare::compare(&base, &new, &limits());
    assert!(!cmp.passed());
    assert_eq!(
        cmp.failures(),
        [
            "kws-dscnn@stm32f407: cycles +2.00%",
            "kws-dscnn@stm32f407: energy_uj +2.00%",
            "ad-autoencoder@nrf52840: missing from the new results",
            "mnist-train@stm32h743: stack_peak_bytes 140,000 exceeds 131,072 (ram_capacity_bytes)",
            "mnist-train@nrf52840: was ok, now failed",
        ]
    );
    let change = |key: &str, metric: Metric| {
        let run = cmp.runs.iter().find(|r| r.key() == key).unwrap();
        run.metrics
            .iter()
            .find(|m| m.metric == metric)
            .unwrap()
            .change
    };
    assert_eq!(
        change("kws-dscnn@stm32h743", Metric::Cycles),
        Change::Improved
    );
    assert_eq!(
        change("kws-dscnn@nrf52840", Metric::Cycles),
        Change::Regressed
    );
    assert_eq!(
        change("kws-dscnn@nrf52840", Metric::EnergyUj),
        Change::Unchanged
    );
    // One-sided runs are listed, not dropped, and don't fail the gate by themselves.
    assert!(cmp
        .runs
        .iter()
        .any(|r| r.key() == "ad-autoencoder@nrf52840" && r.new_status.is_none()));
    assert_eq!(cmp.runs.last().unwrap().key(), "vww-mobilenet@stm32f407");
    assert_eq!(cmp.runs.len(), new.runs.len() + 1);
    insta::assert_snapshot!(
        "mixed_changes",
        markdown::render(&cmp, "main/results.json", "pr/results.json")
    );
}

#[test]
fn identical_results_pass() {
    let base = sample::results();
    let cmp = compare::compare(&base, &base, &Limits::default());
    assert!(cmp.passed());
    assert!(cmp
        .runs
        .iter()
        .flat_map(|r| &r.metrics)
        .all(|m| m.change == Change::Unchanged));
    insta::assert_snapshot!("identical", markdown::render(&cmp, "base.json", "new.json"));
}

#[test]
fn the_soft_limit_is_a_strict_bound() {
    let base = sample::results();
    let mut new = base.clone();
    new.runs[0].cycles = base.runs[0].cycles + base.runs[0].cycles / 100; // just under +1%
    let mut limits = Limits::default();
    assert!(compare::compare(&base, &new, &limits).passed());
    limits.max_regression_pct = 0.5;
    assert!(!compare::compare(&base, &new, &limits).passed());
    limits.max_regression_pct = 0.0;
    new.runs[0].cycles = base.runs[0].cycles + 1;
    assert!(
        !compare::compare(&base, &new, &limits).passed(),
        "0% allows nothing"
    );
}

#[test]
fn growth_from_zero_fails_and_a_fixed_run_is_improvement() {
    let mut base = sample::results();
    base.runs[0].stack_peak_bytes = 0;
    base.runs[1].status = Status::Failed;
    let new = sample::results();
    let limits = Limits {
        metrics: vec![Metric::StackPeakBytes],
        ..Limits::default()
    };
    let cmp = compare::compare(&base, &new, &limits);
    assert_eq!(cmp.runs[0].metrics[0].change, Change::OverLimit);
    assert_eq!(cmp.runs[0].metrics[0].delta_pct, None);
    assert!(cmp.runs[1].metrics.is_empty());
    assert!(cmp.runs[1].failures().is_empty());
    assert_eq!(cmp.failures().len(), 1);
}

#[test]
fn missing_cycles_per_mac_is_not_comparable() {
    let base = sample::results();
    let limits = Limits {
        metrics: vec![Metric::CyclesPerMac],
        ..Limits::default()
    };
    let cmp = compare::compare(&base, &base, &limits);
    let train = cmp
        .runs
        .iter()
        .find(|r| r.workload == "mnist-train")
        .unwrap();
    assert_eq!(train.metrics[0].change, Change::NotComparable);
    assert!(cmp.passed());
}

#[test]
fn a_baseline_from_another_suite_is_refused() {
    let base = sample::results();
    let mut new = base.clone();
    new.provenance.suite = "other".to_owned();
    let err = compare::check_same_suite(Path::new("a.json"), &base, Path::new("b.json"), &new)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.json and b.json are not from the same suite: suite differs (tinyml vs other)"
    );
}

#[test]
fn limits_parse_from_the_command_line_forms() {
    assert_eq!(parse_percent("0.5%").unwrap(), 0.5);
    assert_eq!(parse_percent("2").unwrap(), 2.0);
    assert!(matches!(parse_percent("-1%"), Err(Error::BadLimit { .. })));
    assert!(matches!(parse_percent("lots"), Err(Error::BadLimit { .. })));
    let c: Ceiling = "stack_peak_bytes = ram_capacity_bytes".parse().unwrap();
    assert_eq!(c.bound, Bound::Field(Metric::RamCapacityBytes));
    let c: Ceiling = "cycles=5e6".parse().unwrap();
    assert_eq!((c.metric, c.bound), (Metric::Cycles, Bound::Value(5e6)));
    assert!(matches!(
        "cycles".parse::<Ceiling>(),
        Err(Error::BadLimit { .. })
    ));
    let err = "cycels=1".parse::<Ceiling>().unwrap_err().to_string();
    assert!(
        err.contains("unknown metric \"cycels\"") && err.contains("energy_uj"),
        "{err}"
    );
    assert!("stack_peak_bytes=ram".parse::<Ceiling>().is_err());
}

#[test]
fn markdown_escapes_hostile_names() {
    let mut base = sample::results();
    base.runs.truncate(1);
    base.runs[0].workload = "a|b<script>*x*".to_owned();
    let cmp = compare::compare(&base, &base, &Limits::default());
    let md = markdown::render(&cmp, "base.json", "new.json");
    let row = md.lines().find(|l| l.contains("a\\|b")).unwrap();
    assert!(row.contains("a\\|b&lt;script&gt;\\*x\\*"), "{row}");
    assert_eq!(row.matches(" | ").count(), 6, "one cell per column: {row}");
}
