//! The board-support package (workloads/runtime, see its bsp.mk) under C++
//! firmware: fixtures/src/cpp_interp.cpp, an interpreter with op classes and
//! virtual Eval(), committed as cpp_interp.elf for stm32f407, and built at test
//! time for every shipped target with the script `mcubench ldscript` writes.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use mcubench::run::RunRecord;
use mcubench::target::Target;

use crate::ldscript::{cross_compiler, ldscript};
use crate::{fixture, root, run, target};

/// The arguments ld/stm32f407.ld was written with (see the fixtures' Makefile).
const FIXTURE_SCRIPT: [&str; 6] = ["--target", "stm32f407", "--stack", "8", "--heap", "4"];

/// Each op's Eval as the profile names it, and its calls: three runs of a
/// graph of two ADD nodes, one MUL and one RELU.
const EVALS: [(&str, &str, u64); 3] = [
    (
        "ADD",
        "Add::Eval(Tensor const&, Tensor const&, Tensor&) const",
        6,
    ),
    (
        "MUL",
        "Mul::Eval(Tensor const&, Tensor const&, Tensor&) const",
        3,
    ),
    (
        "RELU",
        "Relu::Eval(Tensor const&, Tensor const&, Tensor&) const",
        3,
    ),
];

/// What the firmware prints on `target`, but for the ticks lines, which
/// [`check_ticks`] reads. The last word has no newline: it appears only
/// because exit() flushed stdout after main returned.
fn expected_output(target: &Target) -> String {
    format!(
        "ops ADD MUL RELU\n\
         ticks_per_second {}\n\
         64 KiB malloc refused\n\
         run 0 checksum 1644 expected 1644\n\
         run 1 checksum 1624 expected 1624\n\
         run 2 checksum 1547 expected 1547\n\
         PASS",
        (target.clock_mhz * 1e6).round() as u64
    )
}

/// Each op's ticks from TFLM's timer (DWT_CYCCNT through the package) against
/// the profile's cycles in its Eval: the ticks also hold each call's dispatch
/// and the timer calls, so they may exceed the profile, by at most 15%.
fn check_ticks(record: &RunRecord, what: &str) {
    for (op, eval, calls) in EVALS {
        let line = record
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("ticks {op} ")))
            .unwrap_or_else(|| panic!("{what}: no ticks line for {op}:\n{}", record.stdout));
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 5, "{what}: {line}");
        assert_eq!(words[3..], ["calls", &calls.to_string()], "{what}: {line}");
        let ticks: u64 = words[2].parse().unwrap();
        let entry = record
            .profile
            .iter()
            .find(|f| f.name == eval)
            .unwrap_or_else(|| panic!("{what}: {eval} not in the profile"));
        assert_eq!(entry.calls, calls, "{what}: {eval}");
        assert!(
            entry.total_cycles <= ticks && ticks * 100 <= entry.total_cycles * 115,
            "{what}: {op} ticks {ticks}, profile {} cycles",
            entry.total_cycles
        );
    }
}

fn check_run(record: &RunRecord, target: &Target, what: &str) {
    assert_eq!(record.exit_code, Some(0), "{what}:\n{}", record.stdout);
    let printed: String = record
        .stdout
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("ticks "))
        .collect();
    assert_eq!(printed, expected_output(target), "{what}");
    check_ticks(record, what);
}

/// The committed image: output, the demangled Eval methods in the profile, and
/// the static constructor allocating through _sbrk before main.
#[test]
fn cpp_firmware_runs_on_the_board_support_package() {
    let record = run("cpp_interp.elf", "stm32f407");
    check_run(&record, &target("stm32f407"), "cpp_interp.elf");
    let constructor = "Reset_Handler;_GLOBAL__sub_I_main;operator new(unsigned int);malloc;_malloc_r;_sbrk_r;_sbrk";
    assert!(
        record.stacks.iter().any(|s| s.stack == constructor),
        "{:?}",
        record.stacks
    );
    // newlib's memchr is assembly with a symbol of size 0: its cycles are its own.
    assert!(record
        .profile
        .iter()
        .any(|f| f.name == "memchr" && f.self_cycles > 0));
    // The registry's objects, but not the 64 KiB request `_sbrk` refused.
    let heap = record.heap_peak_bytes.unwrap_or(0);
    assert!(heap > 0 && heap < 8 * 1024, "heap peak {heap} B");
}

/// ld/stm32f407.ld is what `mcubench ldscript` writes today, but for the
/// version in its first comment.
#[test]
fn the_fixture_script_is_what_ldscript_writes() {
    let written = ldscript(&FIXTURE_SCRIPT).success().get_output().clone();
    let written = String::from_utf8(written.stdout).unwrap();
    let committed = std::fs::read_to_string(fixture("ld/stm32f407.ld")).unwrap();
    let without_version = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.contains("written by mcubench"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(without_version(&committed), without_version(&written));
}

/// The compiler flags for a core: hard float where there is an FPU (the
/// single-precision one, which every shipped M7 part has at least).
fn core_flags(target: &Target) -> &'static [&'static str] {
    match target.core.name() {
        "cortex-m3" => &["-mcpu=cortex-m3", "-mfloat-abi=soft"],
        "cortex-m4" => &["-mcpu=cortex-m4", "-mfloat-abi=soft"],
        "cortex-m4f" => &["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
        "cortex-m7" => &["-mcpu=cortex-m7", "-mfloat-abi=soft"],
        "cortex-m7f" => &["-mcpu=cortex-m7", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"],
        other => panic!("no compiler flags for core {other}"),
    }
}

fn tool(program: &str, args: &[&str], what: &str) {
    let out = Process::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{what}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles the package and the fixture for one core into `dir`, as the
/// fixtures' Makefile does: C as C, C++ as C++; returns the objects.
fn compile(flags: &[&str], dir: &Path) -> Vec<PathBuf> {
    let bsp = root().join("workloads/runtime");
    let include = format!("-I{}", bsp.display());
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&bsp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c" || x == "cc"))
        .collect();
    sources.push(fixture("src/cpp_interp.cpp"));
    sources.sort();
    let common = ["-mthumb", "-O2", "-Wall", "-Wextra", "-Werror"];
    let sections = ["-ffunction-sections", "-fdata-sections", "-c"];
    let mut objects = Vec::new();
    for source in sources {
        let object = dir.join(format!(
            "{}.o",
            source.file_name().unwrap().to_string_lossy()
        ));
        let (compiler, language): (&str, &[&str]) = if source.extension().is_some_and(|x| x == "c")
        {
            ("arm-none-eabi-gcc", &["-std=c11"])
        } else {
            (
                "arm-none-eabi-g++",
                &["-std=c++17", "-fno-exceptions", "-fno-rtti"],
            )
        };
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(common);
        args.extend(language);
        args.extend(sections);
        args.push(&include);
        let (src, obj) = (source.to_str().unwrap(), object.to_str().unwrap());
        args.extend([src, "-o", obj]);
        tool(compiler, &args, src);
        objects.push(object);
    }
    objects
}

/// Whether g++ finds its C++ library (Debian: libstdc++-arm-none-eabi-newlib);
/// without it the cross build is skipped like a missing compiler.
fn cxx_library() -> bool {
    let found = Process::new("arm-none-eabi-g++")
        .arg("-print-file-name=libstdc++_nano.a")
        .output()
        .is_ok_and(|o| Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_absolute());
    if !found {
        let required = std::env::var_os("MCUBENCH_REQUIRE_CROSS").is_some_and(|v| v != "0");
        assert!(
            !required,
            "arm-none-eabi-g++ has no libstdc++_nano.a (libstdc++-arm-none-eabi-newlib) and MCUBENCH_REQUIRE_CROSS is set"
        );
        eprintln!("no libstdc++ for arm-none-eabi-g++: the C++ build on every target skipped");
    }
    found
}

/// The same firmware, linked with the package and each shipped target's
/// generated script, runs there: the start-up code works with every memory
/// map `mcubench ldscript` lays out, with and without an FPU.
#[test]
fn cpp_firmware_on_the_package_runs_on_every_target() {
    if !cross_compiler() || !cxx_library() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut objects: Vec<(&[&str], Vec<PathBuf>)> = Vec::new();
    for name in mcubench::target::Catalog::shipped().names() {
        let target = target(&name);
        let flags = core_flags(&target);
        if !objects.iter().any(|(f, _)| *f == flags) {
            let core_dir = dir.path().join(target.core.name());
            std::fs::create_dir(&core_dir).unwrap();
            objects.push((flags, compile(flags, &core_dir)));
        }
        let (_, objs) = objects.iter().find(|(f, _)| *f == flags).unwrap();
        let script = dir.path().join(format!("{name}.ld"));
        let mut args = FIXTURE_SCRIPT.to_vec();
        args[1] = &name;
        args.extend(["--out", script.to_str().unwrap()]);
        ldscript(&args).success();
        let elf = dir.path().join(format!("{name}.elf"));
        let mut link: Vec<&str> = flags.to_vec();
        link.extend(["-mthumb", "-nostartfiles", "--specs=nano.specs"]);
        link.extend(["-Wl,--gc-sections", "-T", script.to_str().unwrap()]);
        link.extend(objs.iter().map(|o| o.to_str().unwrap()));
        link.extend(["-o", elf.to_str().unwrap()]);
        tool("arm-none-eabi-g++", &link, &name);
        let record = mcubench::run::run_image(&elf, &target, &Default::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_run(&record, &target, &name);
    }
}
