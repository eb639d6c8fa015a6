//! The gate: three-way answers, soft and hard limits, status changes, one-sided runs,
//! and the markdown people read in a PR.

use std::path::Path;

use mcubench_reports::compare::{
    self, parse_percent, Bound, Ceiling, Change, MetricLimit, Outcome,
};
use mcubench_reports::Status;
use mcubench_reports::{compare_json, json, markdown, record, Error, Limits, Metric, Results};

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
        metric_limits: Vec::new(),
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

#[test]
fn a_vanished_or_broken_run_outranks_a_slower_one() {
    let (base, new) = changed();
    assert_eq!(
        compare::compare(&base, &new, &limits()).outcome(),
        Outcome::RunsBroken
    );
    let mut slower = base.clone();
    slower.runs[0].cycles *= 2;
    let cmp = compare::compare(&base, &slower, &limits());
    assert_eq!(cmp.outcome(), Outcome::Regressed);
    assert!(cmp.runs[0].breakages().is_empty());
    assert_eq!(cmp.runs[0].regressions().len(), 1);
}

#[test]
fn a_metric_limit_replaces_the_default_for_its_metric() {
    let base = sample::results();
    let mut new = base.clone();
    new.runs[0].cycles += base.runs[0].cycles * 3 / 1000; // +0.3%
    new.runs[0].energy_uj *= 1.003;
    let mut limits = Limits {
        metrics: vec![Metric::Cycles, Metric::EnergyUj],
        max_regression_pct: 0.1,
        metric_limits: vec!["energy_uj=0.5%".parse().unwrap()],
        ..Limits::default()
    };
    let cmp = compare::compare(&base, &new, &limits);
    let m = &cmp.runs[0].metrics;
    assert_eq!((m[0].change, m[0].limit_pct), (Change::OverLimit, 0.1));
    assert_eq!((m[1].change, m[1].limit_pct), (Change::Regressed, 0.5));
    limits.metric_limits.push("cycles=1%".parse().unwrap());
    assert!(compare::compare(&base, &new, &limits).passed());
}

#[test]
fn metric_limits_parse_or_name_what_is_wrong() {
    let l: MetricLimit = "per_call.energy_uj=2%".parse().unwrap();
    assert_eq!(
        (l.metric, l.max_regression_pct),
        (Metric::EnergyUjPerCall, 2.0)
    );
    for (text, want) in [
        ("cycles", "expected METRIC=PERCENT"),
        ("cycles=fast", "expected METRIC=PERCENT"),
        ("cycles=-1%", "expected METRIC=PERCENT"),
        ("cycels=1%", "unknown metric \"cycels\""),
    ] {
        let err = text.parse::<MetricLimit>().unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

/// The sample against a copy built another way: a rebuilt image, a changed
/// target file, another clock and a newer mcubench.
fn reconfigured() -> (Results, Results) {
    let base = sample::results();
    let mut new = base.clone();
    new.tool.version = "0.2.0".to_owned();
    let image = new.runs[0].image.clone();
    let digest = new
        .provenance
        .images
        .iter_mut()
        .find(|i| i.path == image)
        .unwrap();
    digest.sha256 = sample::digest("rebuilt");
    new.provenance.targets[2].sha256 = sample::digest("edited nrf52840");
    run_mut(&mut new, "kws-dscnn@stm32h743").clock_mhz = 400.0;
    (base, new)
}

#[test]
fn another_configuration_is_found_and_refused_by_name() {
    let (base, new) = reconfigured();
    let cmp = compare::compare(&base, &new, &Limits::default());
    let changes: Vec<String> = cmp
        .config_changes()
        .map(|(run, d)| format!("{}: {}", run.key(), d.field))
        .collect();
    let image_users: Vec<_> = base
        .runs
        .iter()
        .filter(|r| r.image == base.runs[0].image)
        .map(|r| format!("{}: image sha256", r.key()))
        .collect();
    for want in image_users.iter().map(String::as_str).chain([
        "kws-dscnn@stm32h743: clock_mhz",
        "kws-dscnn@nrf52840: target file sha256",
    ]) {
        assert!(
            changes.iter().any(|c| c == want),
            "{want} not in {changes:?}"
        );
    }
    assert_eq!(cmp.differences.len(), 1);
    assert_eq!(
        cmp.differences[0].to_string(),
        "mcubench version differs (0.1.0 vs 0.2.0)"
    );
    let err = compare::check_same_config(&cmp).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: image sha256 differs", base.runs[0].key()))
            && err.contains("--allow-config-change"),
        "{err}"
    );
    assert!(
        compare::check_same_config(&compare::compare(&base, &base, &Limits::default())).is_ok()
    );
}

#[test]
fn the_table_marks_runs_of_another_configuration() {
    let (base, new) = reconfigured();
    let cmp = compare::compare(&base, &new, &Limits::default());
    insta::assert_snapshot!(
        "reconfigured",
        markdown::render(&cmp, "main/results.json", "pr/results.json")
    );
}

#[test]
fn the_json_gives_every_figure_limit_and_verdict() {
    let (base, new) = changed();
    let mut limits = limits();
    limits.metric_limits.push("energy_uj=3%".parse().unwrap());
    let cmp = compare::compare(&base, &new, &limits);
    let text = compare_json::render(&cmp, "main/results.json", "pr/results.json");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["outcome"], "runs_broken");
    let f407 = &doc["runs"][0];
    assert_eq!(f407["run"], "kws-dscnn@stm32f407");
    assert_eq!(f407["metrics"][0]["verdict"], "regressed");
    assert_eq!(f407["metrics"][1]["limit_pct"], 3.0);
    assert_eq!(f407["metrics"][1]["verdict"], "regressed_within_limit");
    insta::assert_snapshot!("json", text);
    let (base, new) = reconfigured();
    let text = compare_json::render(
        &compare::compare(&base, &new, &Limits::default()),
        "base.json",
        "new.json",
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["differences"][0]["field"], "mcubench version");
    assert_eq!(doc["runs"][1]["config_changes"][0]["field"], "clock_mhz");
}

/// A run record as `mcubench run --format json` writes it, trimmed to what is read.
fn record_text(image: &str, cycles: u64, version: Option<&str>) -> String {
    let tool = version.map_or(String::new(), |v| {
        format!(r#""tool": {{"name": "mcubench", "version": "{v}"}}, "image_sha256": "{}", "target_sha256": "{}","#,
            sample::digest(image), sample::digest("stm32f407"))
    });
    format!(
        r#"{{{tool} "image": "{image}", "target": "stm32f407", "core": "cortex-m4f",
        "clock_mhz": 168.0, "vdd_v": 3.3, "wait_states": 5,
        "per_call": [{{"region": "inference", "cycles": 1000.0, "time_us": 5.9,
          "energy_uj": 0.8, "avg_power_mw": 130.0}}],
        "cycles": {cycles}, "instructions": 900, "time_us": 7.1, "energy_uj": 0.9,
        "avg_power_mw": 130.0, "stack_peak_bytes": 340, "flash_bytes": 4000, "ram_bytes": 2000,
        "flash_capacity_bytes": 1048576, "ram_capacity_bytes": 196608, "exit_code": 0,
        "error": null, "stdout": "PASS\n", "regions": [], "profile": [], "stacks": [],
        "host": {{"wall_ms": 1.0, "mips": 10.0}}}}"#
    )
}

#[test]
fn a_run_record_reads_as_one_run_and_pairs_with_its_counterpart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.json");
    std::fs::write(&path, record_text("build/fw.elf", 1200, Some("0.1.0"))).unwrap();
    let (mut rec, kind) = json::read_results_or_record(&path).unwrap();
    assert_eq!(kind, json::Document::RunRecord);
    assert_eq!(rec.runs[0].key(), "fw@stm32f407");
    assert_eq!(rec.runs[0].status, Status::Ok);
    assert_eq!(rec.runs[0].per_call.as_ref().unwrap().region, "inference");
    // Against a suite's file: the run on the same target built from fw.elf.
    let mut suite = sample::results();
    suite.runs[1].image = "prebuilt/cortex-m4f/fw.elf".to_owned();
    suite.runs[1].target = "stm32f407".to_owned();
    compare::pair_record(&mut rec, &suite);
    assert_eq!(rec.runs[0].workload, suite.runs[1].workload);
    // Two records of images named differently are still the same run.
    let mut other = json::parse_results(
        &serde_json::to_string(&rec).unwrap(),
        std::path::Path::new("x.json"),
    )
    .unwrap();
    other.runs[0].workload = "fw-v2".to_owned();
    compare::pair_record(&mut other, &rec);
    assert_eq!(other.runs[0].key(), rec.runs[0].key());
    // Not a record, not a results file.
    std::fs::write(
        &path,
        r#"{"image": "a.elf", "target": "x", "cycles": "many"}"#,
    )
    .unwrap();
    let err = json::read_results_or_record(&path).unwrap_err().to_string();
    assert!(
        err.contains("not a valid `mcubench run --format json` record"),
        "{err}"
    );
    assert!(record::is_record(
        &serde_json::json!({"image": 1, "target": 2, "cycles": 3})
    ));
}

#[test]
fn two_records_compare_and_an_older_record_warns_of_nothing() {
    let parse = |text: String| record::parse_record(&text, std::path::Path::new("r.json")).unwrap();
    let base = parse(record_text("fw.elf", 1000, None));
    let new = parse(record_text("fw.elf", 1100, None));
    let cmp = compare::compare(&base, &new, &Limits::default());
    assert!(cmp.differences.is_empty());
    assert_eq!(cmp.outcome(), Outcome::Regressed);
    assert!(cmp.config_changes().next().is_none());
    let base = parse(record_text("fw.elf", 1000, Some("0.1.0")));
    let new = parse(record_text("fw2.elf", 1000, Some("0.1.1")));
    let mut new = new;
    compare::pair_record(&mut new, &base);
    let cmp = compare::compare(&base, &new, &Limits::default());
    assert_eq!(cmp.differences[0].field, "mcubench version");
    let (_, d) = cmp.config_changes().next().unwrap();
    assert_eq!(d.field, "image sha256");
}
