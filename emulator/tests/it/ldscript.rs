//! `mcubench ldscript`: the script users see, its bad input, and firmware
//! linked with it running on the target it describes.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

use crate::{fixture, root, target};

/// The compiler the link test needs; without it the test is skipped unless
/// this variable is set (`make test` sets it, as its setup installs one).
const REQUIRE_CROSS: &str = "MCUBENCH_REQUIRE_CROSS";

pub(crate) fn ldscript(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("mcubench")
        .unwrap()
        .current_dir(root())
        .env_remove("MCUBENCH_TARGETS_DIR")
        .arg("ldscript")
        .args(args)
        .assert()
}

#[test]
fn the_stm32f407_script_reads_well() {
    let out = ldscript(&["--target", "stm32f407"])
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!(text);
}

/// The main RAM is the largest writable region besides the code's.
#[test]
fn every_shipped_target_gets_its_main_ram() {
    for (name, top) in [
        ("stm32f407", "0x20020000"),
        ("stm32f746", "0x20050000"),
        ("stm32h743", "0x24080000"),
        ("mps2-an386", "0x20400000"),
        ("nrf52840", "0x20040000"),
    ] {
        let out = ldscript(&["--target", name, "--out", "-"])
            .success()
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("_estack = {top};")),
            "{name}:\n{text}"
        );
    }
    for name in mcubench::target::Catalog::shipped().names() {
        ldscript(&["--target", &name]).success();
    }
}

fn refused(args: &[&str], needles: &[&str]) {
    let out = ldscript(args).code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.stdout.is_empty(), "{args:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
}

#[test]
fn bad_input_names_the_argument() {
    refused(
        &["--target", "stm32f999"],
        &["--target", "unknown target `stm32f999`"],
    );
    refused(
        &["--target", "stm32f407", "--stack", "0"],
        &["--stack", "0"],
    );
    refused(
        &["--target", "stm32f407", "--stack", "99999999999"],
        &["--stack"],
    );
    refused(
        &["--target", "stm32f407", "--stack", "4000000"],
        &[
            "--stack 4000000 KiB",
            "do not fit in `sram` of stm32f407 (128 KiB)",
        ],
    );
    refused(
        &["--target", "stm32f407", "--stack", "100", "--heap", "40"],
        &["--stack 100 KiB and --heap 40 KiB do not fit"],
    );
}

/// Whether the cross compiler runs; if not, the link test is skipped, or
/// fails when `MCUBENCH_REQUIRE_CROSS` is set.
pub(crate) fn cross_compiler() -> bool {
    if Process::new("arm-none-eabi-gcc")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    let required = std::env::var_os(REQUIRE_CROSS).is_some_and(|v| v != "0");
    assert!(
        !required,
        "arm-none-eabi-gcc not found and {REQUIRE_CROSS} is set"
    );
    eprintln!("arm-none-eabi-gcc not found: linking with a generated script skipped");
    false
}

/// Compiles the fixture sources in `emulator/tests/fixtures/ldscript` into `elf`.
fn compile(script: &Path, cpu: &str, extra: &[&str], elf: &Path) {
    let dir = fixture("ldscript");
    let out = Process::new("arm-none-eabi-gcc")
        .arg(format!("-mcpu={cpu}"))
        .args([
            "-mthumb",
            "-mfloat-abi=soft",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
        ])
        .args([
            "-ffunction-sections",
            "-fdata-sections",
            "-Wl,--gc-sections",
        ])
        .args(extra)
        .arg("-T")
        .arg(script)
        .arg(dir.join("main.c"))
        .arg(dir.join("startup.c"))
        .arg("-o")
        .arg(elf)
        .output()
        .expect("arm-none-eabi-gcc runs");
    assert!(
        out.status.success(),
        "{} did not link:\n{}",
        elf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixture links with the script of every shipped target, with its own
/// start-up loop and with newlib's rdimon crt0, and runs there: .data, .bss, a
/// constructor and the stack and heap symbols as the script lays them out.
#[test]
fn firmware_linked_with_the_script_runs_on_its_target() {
    if !cross_compiler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in mcubench::target::Catalog::shipped().names() {
        let target = target(&name);
        // Soft float: the fixture has no FP code, and one build fits both FPU variants.
        let cpu = target.core.name().trim_end_matches('f');
        let script = dir.path().join(format!("{name}.ld"));
        ldscript(&["--target", &name, "--out", script.to_str().unwrap()]).success();
        for (variant, extra) in [
            ("own", &["-nostartfiles"][..]),
            ("newlib", &["-DNEWLIB_CRT0", "--specs=rdimon.specs"][..]),
        ] {
            let elf = dir.path().join(format!("{name}-{variant}.elf"));
            compile(&script, cpu, extra, &elf);
            let record = mcubench::run::run_image(&elf, &target, &Default::default())
                .expect("the linked image fits and runs");
            assert_eq!(
                record.stdout, "data 40\nbss 0\nconstructor 42\nfailed 0\n",
                "{name} {variant}"
            );
            assert_eq!(record.exit_code, Some(0), "{name} {variant}");
        }
    }
}
