use std::path::Path;

use mcubench::machine::RunOptions;
use std::time::Duration;

use mcubench::suite::{jobs, run_suite, Filter, Manifest, Shard, SuiteOptions, Worker};
use mcubench_reports::Status;

use crate::{fixture, target};

/// The reports crate's validator for the committed JSON Schema, shared so that
/// real suite output is checked against the same rules as the samples there.
#[path = "../../../reports/tests/it/validator.rs"]
mod validator;

const MANIFEST: &str = r#"
[suite]
name = "fixtures"
default_targets = ["stm32f407"]

[[workload]]
name = "semihost"
kind = "training"
description = "prints and exits 0"
images = { cortex-m4f = "semihost.elf" }
roi = "nothing"
expect_stdout = "cmdline semihost.elf"

[[workload]]
name = "exit-nonzero"
kind = "inference"
description = "exits 5"
images = { cortex-m4f = "exit_nonzero.elf" }
macs = 10

[[workload]]
name = "fpu-only"
kind = "inference"
description = "needs an FPU"
images = { cortex-m4f = "fpu_on_m3.elf" }
macs = 10
"#;

fn manifest_in(dir: &Path) -> std::path::PathBuf {
    for f in ["semihost.elf", "exit_nonzero.elf", "fpu_on_m3.elf"] {
        std::fs::copy(fixture(f), dir.join(f)).unwrap();
    }
    let path = dir.join("suite.toml");
    std::fs::write(&path, MANIFEST).unwrap();
    path
}

fn worker(exe: &Path) -> Worker {
    Worker {
        exe: exe.to_owned(),
        memory_limit_mib: 4096,
        grace: Duration::from_secs(1),
    }
}

/// A stand-in worker executable that behaves as `script` says.
fn fake_worker(dir: &Path, script: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("worker.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs the fixture manifest's `semihost` workload with `worker` and returns its record.
fn run_with(dir: &Path, worker: Worker, wall_limit: Duration) -> mcubench_reports::Run {
    let path = manifest_in(dir);
    let manifest = Manifest::load(&path).unwrap();
    let options = SuiteOptions {
        targets: vec![target("stm32f407")],
        filter: Filter::default(),
        shard: Some(Shard { index: 1, count: 3 }),
        run: RunOptions {
            wall_limit,
            ..RunOptions::default()
        },
        worker: Some(worker),
    };
    let mut results = run_suite(&manifest, &path, &options, &|_| {});
    assert_eq!(results.runs.len(), 1);
    results.runs.remove(0)
}

#[test]
fn a_worker_that_aborts_is_a_failed_run_naming_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let exe = fake_worker(
        dir.path(),
        "echo 'memory allocation failed' >&2; kill -ABRT $$",
    );
    let run = run_with(dir.path(), worker(&exe), Duration::from_secs(5));
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.workload, "semihost");
    assert_eq!(run.image, "semihost.elf");
    let error = run.error.unwrap();
    assert!(error.contains("signal 6 (SIGABRT"), "{error}");
    assert!(error.ends_with(": memory allocation failed"), "{error}");
}

#[test]
fn a_worker_that_hangs_is_killed_after_its_wall_limit_and_grace() {
    let dir = tempfile::tempdir().unwrap();
    let exe = fake_worker(dir.path(), "exec sleep 60");
    let started = std::time::Instant::now();
    let run = run_with(dir.path(), worker(&exe), Duration::from_secs(1));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(run.status, Status::Failed);
    let error = run.error.unwrap();
    assert!(
        error.contains("did not finish within 2 s of host time and was killed"),
        "{error}"
    );
}

#[test]
fn a_worker_past_its_memory_limit_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut worker = worker(env!("CARGO_BIN_EXE_mcubench").as_ref());
    worker.memory_limit_mib = 256;
    let run = run_with(dir.path(), worker, Duration::from_secs(20));
    assert_eq!(run.status, Status::Failed);
    let error = run.error.unwrap();
    assert!(error.starts_with("the worker"), "{error}");
}

#[test]
fn a_failing_workload_is_recorded_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    let manifest = Manifest::load(&path).unwrap();
    let options = SuiteOptions {
        targets: vec![target("stm32f407"), target("mps2-an385")],
        filter: Filter::default(),
        shard: None,
        run: RunOptions::default(),
        worker: Some(worker(env!("CARGO_BIN_EXE_mcubench").as_ref())),
    };
    let results = run_suite(&manifest, &path, &options, &|_| {});
    let status: Vec<(String, Status)> = results.runs.iter().map(|r| (r.key(), r.status)).collect();
    assert_eq!(results.runs.len(), 6);
    let get = |w: &str, t: &str| {
        results
            .runs
            .iter()
            .find(|r| r.workload == w && r.target == t)
            .unwrap()
    };
    assert_eq!(
        get("semihost", "stm32f407").status,
        Status::Ok,
        "{status:?}"
    );
    assert_eq!(get("exit-nonzero", "stm32f407").status, Status::Failed);
    assert!(get("exit-nonzero", "stm32f407")
        .error
        .as_deref()
        .unwrap()
        .contains("status 5"));
    let skipped = get("fpu-only", "mps2-an385");
    assert_eq!(skipped.status, Status::Skipped);
    assert!(
        skipped
            .error
            .as_deref()
            .unwrap()
            .starts_with("needs an FPU"),
        "{:?}",
        skipped.error
    );
    assert_eq!(results.provenance.targets.len(), 2);
    assert!(results
        .provenance
        .images
        .iter()
        .all(|i| i.sha256.len() == 64));
    // The written file matches the committed schema and reads back through the versioned reader.
    let out = dir.path().join("results.json");
    mcubench_reports::json::write_results(&out, &results).unwrap();
    let schema_text =
        std::fs::read_to_string(crate::root().join("reports/schema/results.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let violations = validator::validate(&schema, &written);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert_eq!(
        mcubench_reports::json::read_results(&out)
            .unwrap()
            .runs
            .len(),
        6
    );
}

#[test]
fn shards_partition_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Manifest::load(&manifest_in(dir.path())).unwrap();
    let targets = [
        target("stm32f407"),
        target("mps2-an385"),
        target("nrf52840"),
    ];
    let all = jobs(&manifest, &targets, &Filter::default(), None).len();
    let parts: usize = (1..=4)
        .map(|k| {
            let shard = Some(Shard { index: k, count: 4 });
            jobs(&manifest, &targets, &Filter::default(), shard).len()
        })
        .sum();
    assert_eq!((all, parts), (9, 9));
    assert!(
        "0/2".parse::<Shard>().is_err()
            && "3/2".parse::<Shard>().is_err()
            && "x".parse::<Shard>().is_err()
    );
}

#[test]
fn bad_manifests_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suite.toml");
    std::fs::write(&path, MANIFEST.replace("macs = 10\n", "")).unwrap();
    let err = Manifest::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("suite.toml") && err.contains("needs `macs`"),
        "{err}"
    );
    std::fs::write(
        &path,
        MANIFEST.replace(
            "cortex-m4f = \"semihost.elf\"",
            "cortex-m9 = \"semihost.elf\"",
        ),
    )
    .unwrap();
    assert!(Manifest::load(&path)
        .unwrap_err()
        .to_string()
        .contains("unknown core `cortex-m9`"));
}

#[test]
fn the_shipped_suite_manifest_loads() {
    let manifest = Manifest::load(&crate::root().join("workloads/suite.toml")).unwrap();
    assert!(
        manifest
            .workload
            .iter()
            .filter(|w| w.kind == mcubench_reports::Kind::Inference)
            .count()
            >= 5
    );
    assert!(
        manifest
            .workload
            .iter()
            .filter(|w| w.kind == mcubench_reports::Kind::Training)
            .count()
            >= 6
    );
}

/// A target supplied at another voltage reaches the worker process, and the
/// results record the supply.
#[test]
fn the_supply_reaches_the_worker_and_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    let manifest = Manifest::load(&path).unwrap();
    let l4r5 = target("stm32l4r5");
    let options = SuiteOptions {
        targets: vec![l4r5.clone(), l4r5.with_vdd(1.8).unwrap()],
        filter: Filter::default(),
        shard: None,
        run: RunOptions::default(),
        worker: Some(worker(&assert_cmd::cargo::cargo_bin("mcubench"))),
    };
    let results = run_suite(&manifest, &path, &options, &|_| {});
    let runs: Vec<_> = results
        .runs
        .iter()
        .filter(|r| r.workload == "semihost")
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].vdd_v, runs[1].vdd_v), (3.0, 1.8));
    assert_eq!(runs[0].status, Status::Ok, "{:?}", runs[0].error);
    // The LDO part draws the same current at 1.8 V: energy scales with the supply.
    let ratio = runs[1].energy_uj / runs[0].energy_uj;
    assert!((ratio - 0.6).abs() < 1e-9, "{ratio}");
}

/// The shipped suite, run three times with different numbers of parallel
/// runs, gives the same modeled figures to the last bit (host time aside).
#[test]
fn the_default_suite_gives_identical_figures_whatever_the_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let figures = |jobs: &str| {
        let out = dir.path().join(format!("jobs-{jobs}"));
        assert_cmd::Command::cargo_bin("mcubench")
            .unwrap()
            .current_dir(crate::root())
            .args(["suite", "--no-report", "--jobs", jobs, "--out"])
            .arg(&out)
            .assert()
            .success();
        let text = std::fs::read_to_string(out.join("results.json")).unwrap();
        let mut results: serde_json::Value = serde_json::from_str(&text).unwrap();
        let runs = results["runs"].as_array_mut().unwrap();
        assert!(runs.len() > 30);
        for run in runs.iter_mut() {
            run.as_object_mut().unwrap().remove("host");
        }
        results["runs"].take()
    };
    let first = figures("2");
    for jobs in ["3", "4"] {
        assert!(first == figures(jobs), "figures differ with --jobs {jobs}");
    }
}

/// A missing image and a target given twice are bad input, reported before
/// anything runs.
#[test]
fn a_missing_image_or_a_repeated_target_stops_the_suite_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    std::fs::remove_file(dir.path().join("exit_nonzero.elf")).unwrap();
    let suite = |targets: &str| {
        assert_cmd::Command::cargo_bin("mcubench")
            .unwrap()
            .arg("suite")
            .arg(&path)
            .args(["--targets", targets, "--targets-dir"])
            .arg(crate::targets_dir())
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .get_output()
            .clone()
    };
    let out = suite("stm32f407");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exit_nonzero.elf is missing") && stderr.contains("exit-nonzero"),
        "{stderr}"
    );
    assert!(!dir.path().join("out/results.json").exists());
    let out = suite("stm32f407,mps2-an385,stm32f407");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("target `stm32f407` is listed twice"),
        "{stderr}"
    );
}

#[test]
fn filters_keep_runs_by_workload_target_or_both() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Manifest::load(&manifest_in(dir.path())).unwrap();
    let targets = [
        target("stm32f407"),
        target("mps2-an385"),
        target("nrf52840"),
    ];
    let kept = |patterns: &[&str]| {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        let filter = Filter::new(&patterns).unwrap();
        let mut keys: Vec<String> = jobs(&manifest, &targets, &filter, None)
            .iter()
            .map(|j| {
                format!(
                    "{}@{}",
                    manifest.workload[j.workload].name, targets[j.target].name
                )
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(kept(&[]).len(), 9);
    assert_eq!(
        kept(&["semi*"]),
        [
            "semihost@mps2-an385",
            "semihost@nrf52840",
            "semihost@stm32f407"
        ]
    );
    assert_eq!(kept(&["mps2-*"]).len(), 3);
    assert_eq!(kept(&["exit-nonzero@nrf?????"]), ["exit-nonzero@nrf52840"]);
    assert_eq!(kept(&["semihost", "*@stm32f407"]).len(), 5);

    let filter = Filter::new(&["semihost".into(), "semihots".into()]).unwrap();
    assert_eq!(filter.unmatched(&manifest, &targets), Some("semihots"));
    let err = Filter::new(&["[oops".into()]).unwrap_err().to_string();
    assert!(err.contains("`[oops`"), "{err}");
}

/// `mcubench suite` on the fixture manifest in `dir` with these arguments.
fn suite_cli(dir: &Path, manifest: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("mcubench")
        .unwrap()
        .arg("suite")
        .arg(manifest)
        .args(["--no-report", "--out"])
        .arg(dir.join("out"))
        .args(args)
        .assert()
}

fn results_in(dir: &Path) -> mcubench_reports::Results {
    mcubench_reports::json::read_results(&dir.join("out/results.json")).unwrap()
}

#[test]
fn the_suite_runs_what_the_filters_keep_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    suite_cli(
        dir.path(),
        &path,
        &["--filter", "semihost", "--targets", "stm32f407,nrf52840"],
    )
    .success();
    let keys: Vec<String> = results_in(dir.path())
        .runs
        .iter()
        .map(|r| r.key())
        .collect();
    assert_eq!(keys, ["semihost@stm32f407", "semihost@nrf52840"]);

    for (filter, said) in [
        (
            "semihots",
            "--filter `semihots` matches no workload or target",
        ),
        ("[x", "bad filter `[x`"),
    ] {
        let out = suite_cli(dir.path(), &path, &["--filter", filter]).code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(said), "{stderr}");
    }
}

/// A target list entry may carry its own clock; the run is priced at it, and a
/// clock the part is not specified for, or an unknown target, is bad input
/// naming the manifest and the entry.
#[test]
fn targets_of_a_manifest_may_run_at_their_own_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    let with_targets = |list: &str| {
        let text = MANIFEST.replace(
            "default_targets = [\"stm32f407\"]",
            &format!("default_targets = [{list}]"),
        );
        std::fs::write(&path, text).unwrap();
    };
    with_targets("\"stm32f407@84MHz\", \"nrf52840\"");
    suite_cli(dir.path(), &path, &["--filter", "semihost"]).success();
    let clocks: Vec<(String, f64)> = results_in(dir.path())
        .runs
        .iter()
        .map(|r| (r.target.clone(), r.clock_mhz))
        .collect();
    assert_eq!(
        clocks,
        [
            ("stm32f407".to_owned(), 84.0),
            ("nrf52840".to_owned(), 64.0)
        ]
    );
    suite_cli(
        dir.path(),
        &path,
        &["--filter", "semihost", "--targets", "stm32f407@24MHz"],
    )
    .success();
    assert_eq!(results_in(dir.path()).runs[0].clock_mhz, 24.0);

    for (entry, said) in [
        ("stm32f407@900MHz", "clock 900 MHz is outside"),
        ("stm32f999@84MHz", "unknown target `stm32f999`"),
    ] {
        with_targets(&format!("\"{entry}\""));
        let out = suite_cli(dir.path(), &path, &[]).code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("suite.toml: default_targets")
                && stderr.contains(&format!("`{entry}`"))
                && stderr.contains(said),
            "{stderr}"
        );
    }
    for (entry, said) in [
        ("stm32f407@fast", "expected a clock such as @84MHz"),
        ("stm32f407@-5MHz", "finite and above 0"),
        (
            "stm32f407@84MHz\", \"stm32f407",
            "`stm32f407` is listed twice",
        ),
    ] {
        with_targets(&format!("\"{entry}\""));
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(err.contains("suite.toml") && err.contains(said), "{err}");
    }
    let out = suite_cli(dir.path(), &path, &["--targets", "stm32f407@0MHz"]).code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("stm32f407@0MHz"), "{stderr}");
}

/// The summary on stdout, as a table and as markdown; progress and where the
/// results went on stderr, silenced by --quiet.
#[test]
fn the_suite_summary_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    let summary = |args: &[&str]| {
        let out = suite_cli(dir.path(), &path, args)
            .code(1)
            .get_output()
            .clone();
        let dir_name = dir.path().display().to_string();
        (
            String::from_utf8(out.stdout)
                .unwrap()
                .replace(&dir_name, "[DIR]"),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (table, stderr) = summary(&["--jobs", "1"]);
    insta::assert_snapshot!("suite_summary_table", table);
    assert!(
        stderr.contains("[3/3] ") && stderr.contains("results: "),
        "{stderr}"
    );
    let (markdown, _) = summary(&["--format", "markdown"]);
    insta::assert_snapshot!("suite_summary_markdown", markdown);
    let (json, stderr) = summary(&["--quiet", "--format", "json"]);
    assert_eq!(stderr, "");
    let results = mcubench_reports::json::parse_results(&json, Path::new("stdout")).unwrap();
    assert_eq!(results.runs.len(), 3);
}

/// A long workload name wraps within its column: the columns beside it stay put.
#[test]
fn a_long_workload_name_keeps_the_columns_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest_in(dir.path());
    let long = "semihost-with-a-name-far-longer-than-any-column-should-be-wide";
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"semihost\"", &format!("\"{long}\""))).unwrap();
    let out = suite_cli(dir.path(), &path, &["--filter", long])
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    let column = |line: &str, word: &str| line.find(word).map(|i| line[..i].chars().count());
    let target = column(lines[0], "target").unwrap();
    assert!(target <= 34, "{table}");
    let row = lines.iter().find(|l| l.contains("stm32f407")).unwrap();
    assert_eq!(column(row, "stm32f407"), Some(target), "{table}");
    let width = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() <= width), "{table}");
    let name: String = lines[2..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(name.starts_with(long), "{table}");
}

const SESSION_MANIFEST: &str = r#"
[suite]
name = "sessions"
default_targets = ["stm32h743"]

[[workload]]
name = "session"
kind = "training"
description = "answers commands after its prompt"
images = { cortex-m7f = "uart_session_h743.elf" }
roi = "window"
expect_stdout = "9 -> 4.500000"

[workload.session]
input = "session.txt"
input_after = "ready>"
window = ["2 -> ", "9 -> "]
window_calls = 2
"#;

/// A workload driven through a console session: the input after the
/// prompt, and the headline call measured between two printed lines.
#[test]
fn a_session_workload_is_driven_and_measured_by_its_console() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("devices/uart_session_h743.elf"),
        dir.path().join("uart_session_h743.elf"),
    )
    .unwrap();
    std::fs::write(dir.path().join("session.txt"), "2%9%quit%").unwrap();
    let path = dir.path().join("suite.toml");
    std::fs::write(&path, SESSION_MANIFEST).unwrap();
    let manifest = Manifest::load(&path).unwrap();
    let options = on_one_target(
        "stm32h743",
        Some(worker(env!("CARGO_BIN_EXE_mcubench").as_ref())),
    );
    let run = run_suite(&manifest, &path, &options, &|_| {})
        .runs
        .remove(0);
    assert_eq!(run.status, Status::Ok, "{:?}", run.error);
    let call = run.per_call.as_ref().expect("the window's call");
    assert_eq!(call.region, "window");
    assert!(call.cycles > 0.0 && call.energy_uj > 0.0, "{call:?}");

    // Without its input file the run fails alone, naming the file.
    std::fs::remove_file(dir.path().join("session.txt")).unwrap();
    let run = run_suite(&manifest, &path, &options, &|_| {})
        .runs
        .remove(0);
    assert_eq!(run.status, Status::Error);
    assert!(
        run.error.as_deref().unwrap().contains("session.txt"),
        "{:?}",
        run.error
    );
}

#[test]
fn bad_sessions_are_refused_with_the_workload_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suite.toml");
    for (broken, says) in [
        ("window_calls = 2", "window_calls = 0"),
        ("input = \"session.txt\"\n", ""),
        ("input_after = \"ready>\"", "input_after = \"\""),
    ] {
        std::fs::write(&path, SESSION_MANIFEST.replace(broken, says)).unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("suite.toml") && err.contains("workload `session`"),
            "{err}"
        );
    }
}

/// A raw flash image: a vector table and SYS_EXIT(0) through semihosting
/// (`movs r0, #0x18; ldr r1, =0x20026; bkpt 0xab; b .`), at the flash base.
const EXIT_BIN: [u8; 20] = [
    0x00, 0x00, 0x01, 0x20, 0x09, 0x00, 0x00, 0x08, 0x18, 0x20, 0x01, 0x49, 0xab, 0xbe, 0xfe, 0xe7,
    0x26, 0x00, 0x02, 0x00,
];

#[test]
fn a_raw_image_runs_from_its_load_address() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("exit.bin"), EXIT_BIN).unwrap();
    let path = dir.path().join("suite.toml");
    let manifest = r#"
[suite]
name = "raw"
default_targets = ["stm32f407"]

[[workload]]
name = "raw-exit"
kind = "training"
description = "a .bin that exits 0"
images = { cortex-m4f = "exit.bin" }
load_address = 0x0800_0000
"#;
    std::fs::write(&path, manifest).unwrap();
    let manifest = Manifest::load(&path).unwrap();
    let run = run_suite(&manifest, &path, &on_one_target("stm32f407", None), &|_| {})
        .runs
        .remove(0);
    assert_eq!(run.status, Status::Ok, "{:?}", run.error);
}

/// Every run of a suite on one target, in `worker` processes or in this one.
fn on_one_target(name: &str, worker: Option<Worker>) -> SuiteOptions {
    SuiteOptions {
        targets: vec![target(name)],
        filter: Filter::default(),
        shard: None,
        run: RunOptions::default(),
        worker,
    }
}
