use assert_cmd::Command;

use crate::{fixture, targets_dir};

/// What `mcubench ARGS --targets-dir <shipped>` prints, run from the
/// repository root; the command must succeed.
fn stdout_of(args: &[&str]) -> String {
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .current_dir(crate::root())
        .args(args)
        .arg("--targets-dir")
        .arg(targets_dir())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn run_output(format: &str) -> String {
    stdout_of(&[
        "run",
        "emulator/tests/fixtures/systick.elf",
        "--target",
        "stm32f407",
        "--format",
        format,
        "--top",
        "5",
    ])
}

#[test]
fn the_run_table_reads_well() {
    // Host figures vary between machines; everything else is exact.
    let table: String = run_output("table")
        .lines()
        .filter(|l| !l.starts_with("host:"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(table);
}

#[test]
fn the_json_record_has_every_documented_field() {
    let record: serde_json::Value = serde_json::from_str(&run_output("json")).unwrap();
    for key in [
        "tool",
        "image_sha256",
        "target",
        "target_sha256",
        "core",
        "clock_mhz",
        "vdd_v",
        "per_call",
        "cycles",
        "instructions",
        "time_us",
        "energy_uj",
        "avg_power_mw",
        "stack_peak_bytes",
        "flash_bytes",
        "ram_bytes",
        "exit_code",
        "stdout",
        "profile",
        "regions",
        "stacks",
        "host",
    ] {
        assert!(record.get(key).is_some(), "missing {key}");
    }
    assert_eq!(record["exit_code"], 0);
    assert!(record["profile"][0]["self_cycles"].as_u64().unwrap() > 0);
    assert!(fixture("systick.elf").exists());
}

#[test]
fn targets_lists_every_shipped_target() {
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .arg("targets")
        .arg("--targets-dir")
        .arg(targets_dir())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    insta::assert_snapshot!(text);
}

#[test]
fn input_reaches_the_firmwares_console_uart() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("console.txt");
    std::fs::write(&input, "hello uart\n").unwrap();
    let out = stdout_of(&[
        "run",
        "emulator/tests/fixtures/devices/uart_echo.elf",
        "--target",
        "mps2-an385",
        "--format",
        "json",
        "--input",
        input.to_str().unwrap(),
    ]);
    let record: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["stdout"], "echo: HELLO UART (10 bytes)\n");
}

/// A workload that marks its inference leads with one call of it, in the
/// table and the JSON, at the supply asked for.
#[test]
fn one_inference_leads_the_run() {
    let args = [
        "run",
        "workloads/prebuilt/cortex-m4f/ad_autoencoder.elf",
        "--target",
        "stm32l4r5",
        "--vdd",
        "1.8",
    ];
    let table = stdout_of(&args);
    let figures = table.split("-----------------------\n").nth(1).unwrap();
    assert!(figures.starts_with("per call:\n"), "{figures}");
    assert!(table.contains("1.80 V LDO"), "{table}");
    let json = stdout_of(&[&args[..], &["--format", "json"]].concat());
    let record: serde_json::Value = serde_json::from_str(&json).unwrap();
    let call = &record["per_call"][0];
    let region = &record["regions"][0];
    assert_eq!(call["region"], "inference");
    assert_eq!(record["vdd_v"], 1.8);
    let calls = region["calls"].as_f64().unwrap();
    assert_eq!(
        call["energy_uj"].as_f64().unwrap(),
        region["energy_uj"].as_f64().unwrap() / calls
    );
    assert_eq!(
        call["time_us"].as_f64().unwrap(),
        region["time_us"].as_f64().unwrap() / calls
    );
}

/// `--out -` writes the export to stdout, and nothing else goes there.
#[test]
fn export_to_stdout_with_a_dash() {
    let results = crate::root().join("reports/schema/example-results.json");
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .arg("export")
        .arg(&results)
        .args(["--format", "bmf", "--out", "-"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        parsed.as_object().is_some_and(|o| !o.is_empty()),
        "{stdout}"
    );
}

/// Options that take one of a fixed set of values list them in `--help` and
/// refuse anything else before reading a file (exit 2).
#[test]
fn fixed_value_options_list_their_values() {
    for (command, option, bad, listed) in [
        ("run", "--format", "yaml", "table, json"),
        ("export", "--format", "svg", "gab, bmf, folded, speedscope"),
        (
            "compare",
            "--metric",
            "cycels",
            "per_call.time_us, per_call.energy_uj, cycles",
        ),
        (
            "reprice",
            "--core",
            "cortex-m9",
            "cortex-m3, cortex-m4, cortex-m4f",
        ),
    ] {
        let help = Command::cargo_bin("mcubench")
            .unwrap()
            .args([command, "-h"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let help = String::from_utf8(help).unwrap();
        assert!(help.contains(listed), "{command} -h:\n{help}");
        let wrong = Command::cargo_bin("mcubench")
            .unwrap()
            .args([command, option, bad])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let wrong = String::from_utf8(wrong).unwrap();
        assert!(
            wrong.contains(&format!("invalid value '{bad}' for '{option}"))
                && wrong.contains(listed),
            "{command} {option} {bad}:\n{wrong}"
        );
    }
}

/// What `mcubench ARGS` prints on stdout; the command must succeed.
fn plain_stdout(args: &[&str]) -> String {
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// The subcommands `mcubench --help` lists, `help` aside.
fn subcommands() -> Vec<String> {
    plain_stdout(&["--help"])
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_and_the_manual_name_every_subcommand() {
    let names = subcommands();
    assert!(names.len() >= 10, "{names:?}");
    let bash = plain_stdout(&["completions", "bash"]);
    assert!(bash.contains("complete -F _mcubench"), "{bash}");
    let man = plain_stdout(&["man"]);
    assert!(man.contains(".TH mcubench 1"), "{man}");
    for name in &names {
        assert!(
            bash.contains(&format!("mcubench__subcmd__{name}\"")),
            "bash completion lacks {name}"
        );
        let page = format!("mcubench\\-{}(1)", name.replace('-', "\\-"));
        assert!(man.contains(&page), "man page lacks {page}");
        let own = plain_stdout(&["man", name]);
        assert!(
            own.contains(&format!(".TH mcubench-{name} 1")),
            "mcubench man {name}:\n{own}"
        );
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(plain_stdout(&["completions", shell]).contains("mcubench"));
    }
}
