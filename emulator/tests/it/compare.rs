//! `mcubench compare` as CI runs it: the exit code says what was found, bad
//! input names the argument or file, and a single run's record gates as a
//! results file does.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::root;

/// The committed example results, as JSON to change.
fn example() -> Value {
    let path = root().join("reports/schema/example-results.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// Runs `compare BASE NEW ARGS`; returns the exit code, stdout and stderr.
fn compare(base: &Value, new: &Value, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .arg("compare")
        .arg(write(dir.path(), "base.json", base))
        .arg(write(dir.path(), "new.json", new))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Adds `percent` to a run's cycles.
fn slow_down(results: &mut Value, run: usize, percent: u64) {
    let cycles = &mut results["runs"][run]["cycles"];
    *cycles = (cycles.as_u64().unwrap() * (100 + percent) / 100).into();
}

#[test]
fn the_exit_code_tells_passed_regressed_and_broken_apart() {
    let base = example();
    assert_eq!(compare(&base, &base, &[]).0, 0);
    let mut slower = base.clone();
    slow_down(&mut slower, 0, 2);
    let (code, stdout, stderr) = compare(&base, &slower, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("🔴 regressed"), "{stdout}");
    assert_eq!(compare(&base, &slower, &["--limit", "cycles=3%"]).0, 0);
    assert_eq!(
        compare(
            &base,
            &slower,
            &["--max-regression", "5%", "--limit", "cycles=1%"]
        )
        .0,
        1
    );
    let mut missing = slower.clone();
    missing["runs"].as_array_mut().unwrap().remove(1);
    let (code, _, stderr) = compare(&base, &missing, &[]);
    assert_eq!(code, 3, "a missing run outranks a slower one: {stderr}");
    assert!(stderr.contains("kws-dscnn@stm32h743: missing from the new results"));
    let mut failing = base.clone();
    failing["runs"][1]["status"] = "failed".into();
    assert_eq!(compare(&base, &failing, &[]).0, 3);
}

#[test]
fn help_lists_the_exit_codes() {
    let help = Command::cargo_bin("mcubench")
        .unwrap()
        .args(["compare", "--help"])
        .output()
        .unwrap()
        .stdout;
    let help = String::from_utf8(help).unwrap();
    assert!(
        help.contains("Exit status:") && help.contains("3  a run of BASE is missing"),
        "{help}"
    );
}

#[test]
fn bad_limits_are_bad_input_naming_the_argument() {
    let base = example();
    for (args, want) in [
        (
            ["--limit", "cycels=1%"],
            "--limit cycels=1%: unknown metric \"cycels\"",
        ),
        (["--limit", "cycles"], "--limit cycles: bad limit"),
        (["--limit", "cycles=lots"], "--limit cycles=lots: bad limit"),
        (
            ["--max-regression=-1%", "--metric=cycles"],
            "--max-regression -1%: bad limit",
        ),
        (
            ["--max", "stack_peak_bytes"],
            "--max stack_peak_bytes: bad limit",
        ),
    ] {
        let (code, _, stderr) = compare(&base, &base, &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    let neither = dir.path().join("neither.json");
    std::fs::write(&neither, "{\"runs\": 3}").unwrap();
    Command::cargo_bin("mcubench")
        .unwrap()
        .arg("compare")
        .arg(&neither)
        .arg(&neither)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("neither.json"));
}

#[test]
fn another_configuration_is_refused_unless_allowed() {
    let base = example();
    let mut rebuilt = base.clone();
    let image = rebuilt["runs"][0]["image"].clone();
    for digest in rebuilt["provenance"]["images"].as_array_mut().unwrap() {
        if digest["path"] == image {
            digest["sha256"] = "0".repeat(64).into();
        }
    }
    let (code, stdout, stderr) = compare(&base, &rebuilt, &[]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("kws-dscnn@stm32f407: image sha256 differs")
            && stderr.contains("--allow-config-change"),
        "{stderr}"
    );
    let (code, stdout, _) = compare(&base, &rebuilt, &["--allow-config-change"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("| kws-dscnn @ stm32f407 ⚠️ |"), "{stdout}");
    let mut slower_clock = base.clone();
    slower_clock["runs"][1]["clock_mhz"] = 400.0.into();
    let (code, _, stderr) = compare(&base, &slower_clock, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("kws-dscnn@stm32h743: clock_mhz differs (480 vs 400)"),
        "{stderr}"
    );
}

#[test]
fn another_mcubench_version_is_a_warning() {
    let base = example();
    let mut newer = base.clone();
    newer["tool"]["version"] = "9.9.9".into();
    let (code, stdout, stderr) = compare(&base, &newer, &["--format", "json"]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("warning: mcubench version differs (0.1.0 vs 9.9.9)"),
        "{stderr}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["outcome"], "passed");
    assert_eq!(doc["differences"][0]["new"], "9.9.9");
    assert_eq!(doc["runs"][0]["metrics"][0]["verdict"], "unchanged");
    assert_eq!(doc["runs"][0]["metrics"][0]["limit_pct"], 1.0);
}

/// The record of one fixture run, as `run --format json` prints it.
fn record() -> Value {
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "emulator/tests/fixtures/systick.elf",
            "--target",
            "stm32f407",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn one_run_record_gates_against_another() {
    let base = record();
    assert_eq!(base["tool"]["name"], "mcubench");
    assert_eq!(base["image_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(base["target_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(compare(&base, &base, &[]).0, 0);
    let mut slower = base.clone();
    slower["cycles"] = (base["cycles"].as_u64().unwrap() * 2).into();
    let (code, stdout, _) = compare(&base, &slower, &["--format", "json"]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["runs"][0]["run"], "systick@stm32f407");
    assert_eq!(doc["runs"][0]["metrics"][0]["change_pct"], 100.0);
    let mut rebuilt = base.clone();
    rebuilt["image"] = "build/systick-v2.elf".into();
    rebuilt["image_sha256"] = "0".repeat(64).into();
    let (code, _, stderr) = compare(&base, &rebuilt, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("systick@stm32f407: image sha256 differs"),
        "{stderr}"
    );
    let mut failed = base.clone();
    failed["exit_code"] = 1.into();
    assert_eq!(compare(&base, &failed, &[]).0, 3);
}

/// `compare base.json new.json ARGS` in a fresh directory, so the labels in the
/// output are the same on every machine; the colour variables are set as asked.
fn compare_named(new: &Value, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.json", &example());
    write(dir.path(), "new.json", new);
    let mut command = Command::cargo_bin("mcubench").unwrap();
    command
        .current_dir(dir.path())
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR")
        .args(["compare", "base.json", "new.json"])
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// One run 2% slower (over the default limit), one 1% faster.
fn mixed() -> Value {
    let mut new = example();
    slow_down(&mut new, 0, 2);
    let cycles = &mut new["runs"][1]["cycles"];
    *cycles = (cycles.as_u64().unwrap() * 99 / 100).into();
    new
}

#[test]
fn the_comparison_reads_well_as_markdown_and_as_a_table() {
    let metrics = ["--metric", "cycles,time_us,stack_peak_bytes"];
    let (markdown, _) = compare_named(&mixed(), &metrics, &[]);
    insta::assert_snapshot!("compare_markdown", markdown);
    let (table, stderr) = compare_named(
        &mixed(),
        &[&metrics[..], &["--format", "table"]].concat(),
        &[],
    );
    insta::assert_snapshot!("compare_table", table);
    assert!(stderr.contains("regression: "), "{stderr}");
}

/// Colour only on request of the terminal: none into a pipe or under NO_COLOR,
/// and CLICOLOR_FORCE=1 gives it to a pipe too; JSON and markdown never have any.
#[test]
fn colour_follows_the_terminal_and_the_environment() {
    let table = ["--format", "table"];
    let escape = |text: &str| text.contains('\u{1b}');
    let (stdout, stderr) = compare_named(&mixed(), &table, &[]);
    assert!(!escape(&stdout) && !escape(&stderr), "{stdout:?}");
    let (stdout, _) = compare_named(
        &mixed(),
        &table,
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    );
    assert!(!escape(&stdout), "{stdout:?}");
    let (stdout, _) = compare_named(&mixed(), &table, &[("CLICOLOR_FORCE", "1")]);
    assert!(
        stdout.contains("\u{1b}[31mregressed\u{1b}[0m"),
        "{stdout:?}"
    );
    assert!(stdout.contains("\u{1b}[32mimproved\u{1b}[0m"), "{stdout:?}");
    for format in ["markdown", "json"] {
        let (stdout, _) =
            compare_named(&mixed(), &["--format", format], &[("CLICOLOR_FORCE", "1")]);
        assert!(!escape(&stdout), "{format}: {stdout:?}");
    }
    let (_, stderr) = compare_named(
        &mixed(),
        &["--max", "cycles=oops"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(
        stderr.starts_with("\u{1b}[1m\u{1b}[31merror:\u{1b}[0m"),
        "{stderr:?}"
    );
}
