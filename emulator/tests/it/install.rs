//! An installed binary: run from a directory with no checkout and no
//! environment, it carries the shipped targets and suite itself, and a
//! targets directory adds to them or replaces them by name.

use std::path::Path;

use assert_cmd::Command;
use mcubench::target::{Catalog, Target};

use crate::targets_dir;

/// `mcubench ARGS` with `dir` as working directory and an empty environment.
fn in_bare(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("mcubench").unwrap();
    command.current_dir(dir).env_clear();
    command
}

/// The target names `mcubench targets` lists, each with its line (below the
/// heading and its rule).
fn listed(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .skip(2)
        .map(|line| {
            let name = line.split_whitespace().next().unwrap_or_default();
            (name.to_owned(), line.to_owned())
        })
        .collect()
}

#[test]
fn the_binary_carries_every_file_in_targets() {
    let shipped = Catalog::shipped();
    assert_eq!(shipped.names(), Target::names(&targets_dir()));
    for name in shipped.names() {
        let file = Target::load(&targets_dir().join(format!("{name}.toml"))).unwrap();
        assert_eq!(shipped.find(&name).unwrap().sha256, file.sha256, "{name}");
    }
}

#[test]
fn targets_from_an_empty_directory_lists_every_shipped_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = in_bare(dir.path()).arg("targets").assert().success();
    let names: Vec<String> = listed(&out.get_output().stdout)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, Target::names(&targets_dir()));
}

#[test]
fn a_targets_directory_adds_targets_and_replaces_shipped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    let f407 = std::fs::read_to_string(targets_dir().join("stm32f407.toml")).unwrap();
    let slower = f407.replacen("clock_mhz = 168.0", "clock_mhz = 100.0", 1);
    assert_ne!(slower, f407, "the edit applies");
    std::fs::write(extra.join("stm32f407.toml"), slower).unwrap();
    let board = f407.replacen("name = \"stm32f407\"", "name = \"myboard\"", 1);
    std::fs::write(extra.join("myboard.toml"), board).unwrap();

    let by_flag = in_bare(dir.path())
        .args(["targets", "--targets-dir"])
        .arg(&extra)
        .assert()
        .success();
    let by_env = in_bare(dir.path())
        .env("MCUBENCH_TARGETS_DIR", &extra)
        .arg("targets")
        .assert()
        .success();
    for out in [by_flag, by_env] {
        let lines = listed(&out.get_output().stdout);
        let line = |name: &str| {
            lines
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| panic!("{name} listed"))
        };
        assert!(line("stm32f407").contains(" 100 "), "{}", line("stm32f407"));
        assert!(line("myboard").contains(" 168 "), "{}", line("myboard"));
        assert!(line("stm32h743").contains(" 480 "), "shipped ones stay");
        assert_eq!(lines.len(), Target::names(&targets_dir()).len() + 1);
    }
}

#[test]
fn a_missing_targets_directory_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-targets");
    for command in ["targets", "run"] {
        let out = in_bare(dir.path())
            .arg(command)
            .args(["--targets-dir"])
            .arg(&missing)
            .args(if command == "run" {
                &["x.elf", "--target", "stm32f407"][..]
            } else {
                &[]
            })
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("--targets-dir") && stderr.contains("no-such-targets"),
            "{stderr}"
        );
    }
    let out = in_bare(dir.path())
        .env("MCUBENCH_TARGETS_DIR", &missing)
        .arg("targets")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("MCUBENCH_TARGETS_DIR") && stderr.contains("no-such-targets"),
        "{stderr}"
    );
}

/// With no manifest and no checkout, `suite` runs the shipped suite: its
/// manifest and images are written under the output directory, and a
/// worker runs the shipped target by name.
#[test]
fn the_shipped_suite_runs_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    in_bare(dir.path())
        .args([
            "suite",
            "--targets",
            "stm32f103",
            "--filter",
            "kernel-selftest",
        ])
        .args(["--out", "out", "--no-report"])
        .assert()
        .success();
    let shipped = std::fs::read(dir.path().join("out/shipped-suite/suite.toml")).unwrap();
    let checkout = std::fs::read(crate::root().join("workloads/suite.toml")).unwrap();
    assert_eq!(shipped, checkout);
    let results: mcubench_reports::Results =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/results.json")).unwrap())
            .unwrap();
    assert_eq!(results.provenance.manifest, "out/shipped-suite/suite.toml");
    assert_eq!(results.runs.len(), 1);
    let run = &results.runs[0];
    assert_eq!(
        (run.workload.as_str(), run.target.as_str()),
        ("kernel-selftest", "stm32f103")
    );
    assert_eq!(run.status, mcubench_reports::Status::Ok, "{:?}", run.error);
}
