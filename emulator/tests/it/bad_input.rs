//! Every kind of bad input ends with one clear message naming the file (and
//! where it applies the PC, function and address) and exit code 1 or 2.

use assert_cmd::Command;

use crate::{fixture, targets_dir};

fn mcubench(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("mcubench")
        .unwrap()
        .args(args)
        .arg("--targets-dir")
        .arg(targets_dir())
        .assert()
}

fn fails(image: &str, target: &str, extra: &[&str], code: i32, needles: &[&str]) {
    let path = fixture(image);
    let path = path.to_str().unwrap();
    let mut args = vec!["run", path, "--target", target];
    args.extend_from_slice(extra);
    let out = mcubench(&args).code(code).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
}

#[test]
fn unreadable_and_malformed_files_are_bad_input() {
    fails(
        "no_such_file.elf",
        "stm32f407",
        &[],
        2,
        &["no_such_file.elf", "cannot read"],
    );
    fails(
        "empty.elf",
        "stm32f407",
        &[],
        2,
        &["empty.elf", "empty file"],
    );
    fails(
        "random.elf",
        "stm32f407",
        &[],
        2,
        &["random.elf", "not an ELF"],
    );
    fails(
        "truncated.elf",
        "stm32f407",
        &[],
        2,
        &["truncated.elf", "truncated"],
    );
    fails(
        "x86.elf",
        "stm32f407",
        &[],
        2,
        &["x86.elf", "not a 32-bit ARM ELF"],
    );
}

#[test]
fn images_that_do_not_fit_and_unknown_targets_are_bad_input() {
    fails(
        "too_big.elf",
        "stm32f407",
        &[],
        2,
        &["too_big.elf", "does not fit stm32f407"],
    );
    fails(
        "semihost.elf",
        "stm32f999",
        &[],
        2,
        &["unknown target `stm32f999`"],
    );
    fails(
        "semihost.elf",
        "stm32f407",
        &["--clock-mhz", "400"],
        2,
        &["clock 400 MHz"],
    );
}

#[test]
fn faults_name_the_pc_function_and_address() {
    fails(
        "fault_unmapped.elf",
        "stm32f407",
        &[],
        1,
        &[
            "fault_unmapped.elf",
            "write to unmapped memory",
            "poke_unmapped",
            "0x60000000",
        ],
    );
    fails(
        "fpu_disabled.elf",
        "stm32f407",
        &[],
        1,
        &["fpu_disabled.elf", "FPU disabled", "fpu_vadd"],
    );
    fails(
        "fpu_on_m3.elf",
        "mps2-an385",
        &[],
        1,
        &["fpu_on_m3.elf", "without an FPU", "vpush"],
    );
    fails(
        "dsp_on_m3.elf",
        "mps2-an385",
        &[],
        1,
        &[
            "dsp_on_m3.elf",
            "DSP-extension instruction",
            "smlad",
            "run_smlad",
        ],
    );
    fails(
        "stack_overflow.elf",
        "stm32f407",
        &[],
        1,
        &["stack_overflow.elf", "stack overflow", "recurse_deep"],
    );
}

#[test]
fn endless_firmware_stops_with_a_clear_error() {
    fails(
        "dead_loop.elf",
        "stm32f407",
        &[],
        1,
        &["dead_loop.elf", "endless `b .` loop", "hang_here"],
    );
    fails(
        "endless_loop.elf",
        "stm32f407",
        &["--max-cycles", "2000000"],
        1,
        &[
            "endless_loop.elf",
            "cycle budget of 2000000",
            "spin_forever",
        ],
    );
    fails(
        "endless_loop.elf",
        "stm32f407",
        &["--wall-limit-s", "1"],
        1,
        &[
            "endless_loop.elf",
            "wall-clock limit of 1 s",
            "spin_forever",
        ],
    );
}

#[test]
/// `mcubench run` exits with the firmware's own exit code, as probe-rs and QEMU runners do.
fn a_nonzero_exit_fails_the_run() {
    fails(
        "exit_nonzero.elf",
        "stm32f407",
        &[],
        5,
        &["exit_nonzero.elf", "exited with status 5"],
    );
}

/// Corrupting headers and code of a valid image must give an error or a
/// bounded run, never a panic: a fixed-seed sweep of single-byte changes.
#[test]
fn corrupted_images_never_panic() {
    use mcubench::machine::RunOptions;
    let original = std::fs::read(fixture("semihost.elf")).unwrap();
    let target = crate::target("stm32f407");
    let options = RunOptions {
        max_cycles: 200_000,
        ..RunOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.elf");
    // A small linear congruential generator keeps the sweep the same on every run.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for _ in 0..300 {
        let mut bytes = original.clone();
        // Half the changes hit the ELF and program headers, half anywhere.
        let at = if next() % 2 == 0 {
            next() % 0x80
        } else {
            next() % bytes.len()
        };
        bytes[at] = (next() & 0xFF) as u8;
        std::fs::write(&path, &bytes).unwrap();
        let outcome = std::panic::catch_unwind(|| {
            mcubench::run::run_image(&path, &target, &options).map(|r| r.exit_code)
        });
        assert!(outcome.is_ok(), "panic with byte {at:#x} changed");
    }
}

#[test]
fn an_unreadable_console_input_is_bad_input() {
    fails(
        "semihost.elf",
        "mps2-an386",
        &["--input", "/nonexistent/console.txt"],
        2,
        &["console.txt", "cannot read the console input"],
    );
}

/// A device or a directory given as the image would block or never end:
/// only regular files are read.
#[test]
fn inputs_must_be_regular_files() {
    for path in ["/dev/zero", "/dev/stdin"] {
        let out = mcubench(&["run", path, "--target", "stm32f407"])
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(path) && stderr.contains("not a regular file"),
            "{stderr}"
        );
    }
}

/// Numbers that must be finite and positive are refused before the run.
#[test]
fn infinite_or_negative_figures_are_bad_usage() {
    let image = fixture("semihost.elf");
    let image = image.to_str().unwrap();
    for (flag, value) in [
        ("--period-ms", "inf"),
        ("--battery-mah", "-5"),
        ("--clock-mhz", "nan"),
        ("--vdd", "0"),
    ] {
        let out = mcubench(&[
            "run",
            image,
            "--target",
            "stm32f407",
            &format!("{flag}={value}"),
        ])
        .code(2)
        .get_output()
        .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains("not a finite number above 0"),
            "{stderr}"
        );
    }
}
