use std::path::Path;

use assert_cmd::Command;

use crate::{fixture, targets_dir};

/// `mcubench` run from the repository root, printing as it does into a pipe
/// whatever the colour variables of the test's environment.
fn mcubench() -> Command {
    let mut command = Command::cargo_bin("mcubench").unwrap();
    command
        .current_dir(crate::root())
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR");
    command
}

/// What `mcubench ARGS --targets-dir <shipped>` prints, run from the
/// repository root; the command must succeed.
fn stdout_of(args: &[&str]) -> String {
    let out = mcubench()
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

/// `run_output` without its `host:` line: host figures vary between
/// machines, everything else is exact.
fn run_output_without_host(format: &str) -> String {
    run_output(format)
        .lines()
        .filter(|l| !l.starts_with("host:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_run_table_reads_well() {
    insta::assert_snapshot!(run_output_without_host("table"));
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
    let out = mcubench()
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

/// A command session: the input waits for the prompt, then arrives at the
/// line's baud rate into an interrupt handler that answers in double
/// precision on the Cortex-M7's FPv5-D16.
#[test]
fn input_after_the_prompt_arrives_at_the_baud_rate() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("session.txt");
    std::fs::write(&input, "2%9%quit%").unwrap();
    let args = [
        "run",
        "emulator/tests/fixtures/devices/uart_session_h743.elf",
        "--target",
        "stm32h743",
        "--format",
        "json",
        "--input",
        input.to_str().unwrap(),
    ];
    let record: serde_json::Value = serde_json::from_str(&stdout_of(
        &[&args[..], &["--input-after", "ready>"]].concat(),
    ))
    .unwrap();
    // A frame is ten bits of 556 kernel clocks (BRR) at the core's clock: the
    // host's first byte comes two frames after the prompt's last was written,
    // which the firmware reads a handful of cycles later, in its handler.
    let frame = 5560;
    let stdout = record["stdout"].as_str().unwrap();
    let timing = stdout
        .lines()
        .find(|l| l.starts_with("first byte"))
        .unwrap();
    let numbers: Vec<u64> = timing.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(
        (2 * frame - 20..2 * frame + 40).contains(&numbers[0]),
        "{timing}"
    );
    assert!((frame - 40..=frame).contains(&numbers[1]), "{timing}");
    assert!(
        stdout.starts_with("ready>\n2 -> 2.121320\n9 -> 4.500000\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("done\n"), "{stdout}");
    assert_eq!(record["exit_code"], 0);

    // Typed before the prompt, the bytes arrive while the handler is not yet
    // armed: they are read at once, without the session's answers.
    let early: serde_json::Value = serde_json::from_str(&stdout_of(&args)).unwrap();
    assert_ne!(early["stdout"], record["stdout"]);

    // --until ends the session at the second answer, as an exit with status 0.
    let until: serde_json::Value = serde_json::from_str(&stdout_of(
        &[&args[..], &["--input-after", "ready>", "--until", "9 -> "]].concat(),
    ))
    .unwrap();
    assert_eq!(until["exit_code"], 0);
    let stdout = until["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("9 -> ") && !stdout.contains("done"),
        "{stdout}"
    );

    // --window measures from one answer to the next, and leads the figures.
    let windowed: serde_json::Value = serde_json::from_str(&stdout_of(
        &[
            &args[..],
            &[
                "--input-after",
                "ready>",
                "--window",
                "2 -> ",
                "9 -> ",
                "--window-calls",
                "2",
            ],
        ]
        .concat(),
    ))
    .unwrap();
    let window = &windowed["marked_regions"][0];
    assert_eq!(
        (window["name"].as_str(), window["calls"].as_u64()),
        (Some("window"), Some(2))
    );
    let call = &windowed["per_call"][0];
    assert_eq!(call["region"], "window");
    assert_eq!(
        call["cycles"].as_f64().unwrap(),
        window["cycles"].as_f64().unwrap() / 2.0
    );
    // A window still open at the end is not measured, and says so.
    let open: serde_json::Value = serde_json::from_str(&stdout_of(
        &[
            &args[..],
            &["--input-after", "ready>", "--window", "2 -> ", "never"],
        ]
        .concat(),
    ))
    .unwrap();
    assert_eq!(open["marked_regions"].as_array().map(Vec::len), Some(0));
    assert!(
        open["warnings"].to_string().contains("still open"),
        "{}",
        open["warnings"]
    );
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
        ("run", "--format", "yaml", "table, json, markdown"),
        ("suite", "--format", "yaml", "table, json, markdown"),
        ("targets", "--format", "yaml", "table, json, markdown"),
        ("compare", "--format", "yaml", "table, json, markdown"),
        ("reprice", "--format", "yaml", "table, json, markdown"),
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

/// The Rust firmware of `fixtures/rust-runner`: it prints its arguments, runs
/// the region `roi_infer` once per argument and exits with their count.
fn rust_runner_elf() -> std::path::PathBuf {
    fixture("rust-runner/rust-runner.elf")
}

/// `mcubench ARGS` with the argument vector exactly as given.
fn mcubench_argv(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::cargo_bin("mcubench")
        .unwrap()
        .env_remove("MCUBENCH_TARGETS_DIR")
        .args(args)
        .output()
        .unwrap()
}

/// What cargo runs for `cargo run -- a -b --c` with
/// `runner = "mcubench run --target stm32f407"`: the runner's words, the
/// image, then the user's arguments, hyphens and all, which reach the
/// firmware; the firmware's output is on stdout and its exit code is ours.
#[test]
fn a_cargo_runner_passes_arguments_and_the_exit_code() {
    let elf = rust_runner_elf();
    let argv = ["run", "--target", "stm32f407"].map(std::ffi::OsStr::new);
    let words = ["a", "-b", "--c"].map(std::ffi::OsStr::new);
    let out = mcubench_argv(&[&argv[..], &[elf.as_os_str()], &words[..]].concat());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    // The digest is that of these exact bytes: the command line arrives whole.
    let expected = "hello from a Rust runner fixture\narg 1: a\narg 2: -b\narg 3: --c\n\
                    3 arguments, digest 0x000000e0\n";
    assert!(stdout.contains(expected), "{stdout}");
    assert!(stderr.contains("firmware exited with status 3"), "{stderr}");
    let bare = mcubench_argv(&[&argv[..], &[elf.as_os_str()]].concat());
    assert_eq!(bare.status.code(), Some(0));
    assert!(String::from_utf8(bare.stdout)
        .unwrap()
        .contains("0 arguments, digest 0x00000000\n"));
}

/// The firmware's status reaches the shell as a host process's would: its
/// low byte, except that a failure never reads as success.
#[test]
fn exit_statuses_map_to_process_exit_codes() {
    let elf = rust_runner_elf();
    for (word, code) in [
        ("exit=0", 0),
        ("exit=7", 7),
        ("exit=-1", 255),
        ("exit=256", 1),
    ] {
        let argv = ["run", "--target", "stm32f407"].map(std::ffi::OsStr::new);
        let out = mcubench_argv(&[&argv[..], &[elf.as_os_str(), word.as_ref()]].concat());
        assert_eq!(out.status.code(), Some(code), "{word}");
    }
}

/// mcubench's options still parse before the image and between it and the
/// first firmware argument; `--` hands the firmware words that spell them.
#[test]
fn options_around_the_image_and_the_double_dash_form() {
    let elf = rust_runner_elf();
    let elf = elf.to_str().unwrap();
    let out = stdout_of_code(
        &[
            "run",
            "--format",
            "json",
            elf,
            "--target",
            "stm32f407",
            "--",
            "--format",
            "json",
            "x",
        ],
        3,
    );
    let record: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["exit_code"], 3);
    let stdout = record["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("arg 1: --format\narg 2: json\narg 3: x\n"),
        "{stdout}"
    );
    // `roi_infer` is a mangled Rust name; its last path segment makes it a
    // region, entered once per argument.
    let region = &record["regions"][0];
    assert_eq!(
        (&region["name"], &region["calls"]),
        (&"infer".into(), &3.into())
    );
    assert_eq!(record["per_call"][0]["region"], "infer");
    assert!(record["profile"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "rust_runner::roi_infer"));
}

/// What `mcubench ARGS` prints on stdout; the command must exit with `code`.
fn stdout_of_code(args: &[&str], code: i32) -> String {
    let out = Command::cargo_bin("mcubench")
        .unwrap()
        .env_remove("MCUBENCH_TARGETS_DIR")
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// The firmware's output reaches a piped stdout while it still runs, as a
/// test runner shows a long run's progress: the first line arrives while the
/// process is alive, then the test ends the process.
#[test]
fn firmware_output_streams_through_a_pipe() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcubench"))
        .env_remove("MCUBENCH_TARGETS_DIR")
        .args(["run", "--target", "stm32f407", "--wall-limit-s", "120"])
        .args(["--max-cycles", "1000000000000"])
        .arg(fixture("endless_loop.elf"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let seen = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l == "spinning");
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen.as_deref(), Some("spinning"));
    assert!(running, "the output came only when the run had ended");
}

/// The cross target `cargo run` in `fixtures/rust-runner` builds for.
const RUST_CROSS_TARGET: &str = "thumbv7em-none-eabihf";

/// Whether rustc has the standard library for the fixture's target; if not,
/// the `cargo run` test is skipped, or fails when `MCUBENCH_REQUIRE_RUST_TARGET`
/// is set. `make test`'s setup adds the target, but from rustup's servers,
/// which a machine may not reach: then the test says so and skips.
fn rust_cross_target() -> bool {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let installed = sysroot.is_some_and(|root| {
        std::path::Path::new(&root)
            .join("lib/rustlib")
            .join(RUST_CROSS_TARGET)
            .is_dir()
    });
    if installed {
        return true;
    }
    let required = std::env::var_os("MCUBENCH_REQUIRE_RUST_TARGET").is_some_and(|v| v != "0");
    assert!(
        !required,
        "the {RUST_CROSS_TARGET} target is not installed and MCUBENCH_REQUIRE_RUST_TARGET is set"
    );
    eprintln!(
        "the {RUST_CROSS_TARGET} target is not installed \
         (rustup target add {RUST_CROSS_TARGET}): `cargo run` through mcubench skipped"
    );
    false
}

/// `cargo run` in the fixture's own project, with its runner pointed at this
/// build of mcubench: cargo builds the firmware, mcubench runs it with the
/// arguments after `--`, and cargo's exit code is the firmware's.
#[test]
fn cargo_run_uses_mcubench_as_its_runner() {
    if !rust_cross_target() {
        return;
    }
    let runner = format!(
        "{} run --target stm32f407",
        assert_cmd::cargo::cargo_bin("mcubench").display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(fixture("rust-runner"))
        .env("CARGO_TARGET_THUMBV7EM_NONE_EABIHF_RUNNER", runner)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-runner"),
        )
        .env_remove("MCUBENCH_TARGETS_DIR")
        .args(["run", "--release", "--locked", "--quiet", "--"])
        .args(["one", "--two", "-3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("arg 1: one\narg 2: --two\narg 3: -3\n3 arguments, digest"),
        "{stdout}"
    );
}

/// The table's sections as markdown: a heading, then GitHub tables.
#[test]
fn the_run_reads_well_as_markdown() {
    let markdown = run_output_without_host("markdown");
    assert!(!markdown.contains('\u{1b}'));
    insta::assert_snapshot!(markdown);
}

#[test]
fn targets_as_json_and_markdown() {
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["targets", "--format", "json"])).unwrap();
    let f407 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "stm32f407")
        .unwrap();
    assert_eq!(f407["flash_bytes"], 1024 * 1024);
    assert_eq!(f407["clock_mhz"], 168.0);
    let markdown = stdout_of(&["targets", "--format", "markdown"]);
    assert!(markdown.starts_with("| name | core | MHz |"), "{markdown}");
    assert!(
        markdown.contains("| stm32f407 | cortex-m4f | 168 | 5 | 1.000 MiB |"),
        "{markdown}"
    );
}

/// A run recorded on the F407 and priced at half its clock.
#[test]
fn the_reprice_table_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.json");
    stdout_of(&[
        "run",
        "emulator/tests/fixtures/systick.elf",
        "--target",
        "stm32f407",
        "--format",
        "json",
        "--record-trace",
        trace.to_str().unwrap(),
    ]);
    let reprice = |format: &str| {
        stdout_of(&[
            "reprice",
            trace.to_str().unwrap(),
            "--target",
            "stm32f407",
            "--clock-mhz",
            "84",
            "--format",
            format,
        ])
    };
    insta::assert_snapshot!(reprice("table"));
    let json: serde_json::Value = serde_json::from_str(&reprice("json")).unwrap();
    assert!(json["cycles"].as_u64().unwrap() > 0);
}

/// `--quiet` leaves the firmware's own output, or what --format asks for, and
/// says nothing on stderr when all is well; an error still shows.
#[test]
fn quiet_leaves_the_firmware_output_and_errors() {
    let run = |args: &[&str]| {
        let out = mcubench()
            .args([
                "run",
                "emulator/tests/fixtures/systick.elf",
                "-t",
                "stm32f407",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, stdout, stderr) = run(&["-q", "--targets-dir", "targets"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "cpuid 0x410fc241\nloop_iterations 100000\nticks 841\ncycles 841235\n"
    );
    assert_eq!(stderr, "");
    let (_, stdout, _) = run(&["--quiet", "--format", "json"]);
    let record: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(record["exit_code"], 0);
    let (code, _, stderr) = run(&["-q", "--max-cycles", "1000"]);
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("error: "), "{stderr}");
}

/// `mcubench ... | head` closes stdout early: the command stops writing without
/// a panic and keeps its own exit status.
#[test]
fn a_reader_that_goes_away_is_no_error() {
    let elf = fixture("exit_nonzero.elf");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mcubench"))
        .args(["run", "--target", "mps2-an386", "--format", "json"])
        .arg(&elf)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(5), "the firmware's own status");
}

/// `--version` names the engine, which `make test` requires to be the patched one.
#[test]
fn the_version_names_the_engine() {
    let out = mcubench()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let line = String::from_utf8(out).unwrap();
    let expected = format!("mcubench {}, engine: unicorn", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected), "{line}");
    let patched = line.contains("with mcubench's patch");
    if std::env::var_os("MCUBENCH_REQUIRE_PATCHED_ENGINE").is_some() {
        assert!(patched, "{line}");
    }
    assert_eq!(patched, mcubench::machine::engine_is_patched(), "{line}");
}
