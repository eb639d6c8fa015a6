//! Trace once, cost many: a recorded run re-priced for its own target gives
//! the emulated figures exactly (totals, regions, profile), and so does any
//! clock of the same target and another core over a memory map without wait
//! states. The trace stands on its own: the image may be gone.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use mcubench::machine::RunOptions;
use mcubench::run::{run_image, RunRecord};
use mcubench::target::{Core, StopMode};
use mcubench::trace::{Repriced, Trace};

use crate::{root, target};

fn recording() -> RunOptions {
    RunOptions {
        record_trace: true,
        ..RunOptions::default()
    }
}

/// Re-priced figures must be the emulated ones: cycles, instructions,
/// each region's calls and cycles, each function's self cycles.
fn assert_same(priced: &Repriced, run: &RunRecord, what: &str) {
    assert_eq!(priced.cycles, run.cycles, "{what}: cycles");
    assert_eq!(
        priced.instructions, run.instructions,
        "{what}: instructions"
    );
    assert_eq!(
        priced.flash_stall_cycles, run.flash_stall_cycles,
        "{what}: flash stalls"
    );
    assert!(
        (priced.energy_uj - run.energy_uj).abs() <= 1e-6 * run.energy_uj,
        "{what}: {} µJ vs {} µJ",
        priced.energy_uj,
        run.energy_uj
    );
    let regions = |rs: &[mcubench_reports::results::Region]| -> Vec<(String, u64, u64)> {
        rs.iter()
            .map(|r| (r.name.clone(), r.calls, r.cycles))
            .collect()
    };
    assert_eq!(
        regions(&priced.regions),
        regions(&run.regions),
        "{what}: regions"
    );
    for (p, r) in priced.regions.iter().zip(&run.regions) {
        assert!(
            (p.energy_uj - r.energy_uj).abs() <= 1e-6 * r.energy_uj,
            "{what}: region {}",
            r.name
        );
    }
    let profile: Vec<(String, u64)> = run
        .profile
        .iter()
        .filter(|f| f.self_cycles > 0)
        .map(|f| (f.name.clone(), f.self_cycles))
        .collect();
    let repriced: Vec<(String, u64)> = priced
        .profile
        .iter()
        .map(|f| (f.name.clone(), f.self_cycles))
        .collect();
    assert_eq!(repriced, profile, "{what}: profile");
}

#[test]
fn repricing_matches_emulation_for_the_same_caches_at_any_clock() {
    let image = root().join("workloads/prebuilt/cortex-m4f/ad_autoencoder.elf");
    let slow = target("stm32f407").with_clock(24.0).unwrap();
    let recorded = run_image(&image, &slow, &recording()).unwrap();
    assert!(
        !recorded.regions.is_empty(),
        "the workload marks its inference"
    );
    let trace: Trace = recorded.trace.clone().expect("trace recorded");
    let again = run_image(&image, &slow, &recording()).unwrap().trace;
    assert_eq!(again.as_ref(), Some(&trace), "the same run, the same trace");
    assert_same(&trace.reprice(&slow, None).unwrap(), &recorded, "24 MHz");
    for mhz in [60.0, 168.0] {
        let t = target("stm32f407").with_clock(mhz).unwrap();
        let emulated = run_image(&image, &t, &RunOptions::default()).unwrap();
        assert_same(
            &trace.reprice(&t, None).unwrap(),
            &emulated,
            &format!("{mhz} MHz"),
        );
    }
    // Another core over the same memory map: the M7's dual issue needs fewer cycles.
    let m7 = trace.reprice(&slow, Some(Core::CortexM7f)).unwrap();
    assert!(
        m7.cycles < recorded.cycles,
        "{} vs {}",
        m7.cycles,
        recorded.cycles
    );
}

/// Without wait states nothing depends on the recorded target's caches: an
/// M3 build recorded on the Cortex-M4F board prices exactly as it runs on
/// the Cortex-M3 board, and as it runs on a Cortex-M7 over the same map.
#[test]
fn another_core_without_wait_states_reprices_exactly() {
    let image = root().join("workloads/prebuilt/cortex-m3/ad_autoencoder.elf");
    let an386 = target("mps2-an386");
    let recorded = run_image(&image, &an386, &recording()).unwrap();
    let trace = recorded.trace.clone().unwrap();
    let an385 = target("mps2-an385");
    let m3 = run_image(&image, &an385, &RunOptions::default()).unwrap();
    assert_ne!(m3.cycles, recorded.cycles, "the cores differ");
    assert_same(&trace.reprice(&an385, None).unwrap(), &m3, "cortex-m3");
    let mut m7_board = target("mps2-an386");
    m7_board.core = Core::CortexM7f;
    let m7 = run_image(&image, &m7_board, &RunOptions::default()).unwrap();
    assert_same(
        &trace.reprice(&an386, Some(Core::CortexM7f)).unwrap(),
        &m7,
        "cortex-m7f",
    );
}

#[test]
fn sleep_and_exceptions_carry_over_and_firmware_that_sets_its_clocks_is_refused() {
    let an386 = target("mps2-an386");
    let image = crate::fixture("exceptions/wfi_systick.elf");
    let recorded = run_image(&image, &an386, &recording()).unwrap();
    assert!(recorded.sleep_cycles > recorded.cycles, "mostly asleep");
    let priced = recorded
        .trace
        .clone()
        .unwrap()
        .reprice(&an386, None)
        .unwrap();
    assert_same(&priced, &recorded, "wfi_systick");
    assert_eq!(priced.time_us, recorded.time_us);

    let image = crate::fixture("devices/cubemx_f407.elf");
    let recorded = run_image(&image, &target("stm32f407"), &recording()).unwrap();
    let err = recorded
        .trace
        .unwrap()
        .reprice(&target("stm32f407"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("programmed its own clock"), "{err}");
}

/// Deep sleep is re-priced at the stop mode the trace names, and a trace
/// whose modes do not add up is refused.
#[test]
fn deep_sleep_carries_over_in_the_stop_mode_the_trace_names() {
    let an386 = target("mps2-an386");
    let image = crate::fixture("exceptions/wfi_systick.elf");
    let recorded = run_image(&image, &an386, &recording()).unwrap();
    let mut trace = recorded.trace.clone().unwrap();
    // The MPS2 has no power controller: its deep sleep names no mode.
    assert_eq!(
        trace.deep_sleep_modes.len(),
        1,
        "{:?}",
        trace.deep_sleep_modes
    );
    let deep = trace.deep_sleep_modes[0].clone();
    assert_eq!((deep.mode.as_str(), deep.wakeups), ("", 1));
    assert!(deep.cycles > 0);
    let at_default = trace.reprice(&an386, None).unwrap();
    assert_same(&at_default, &recorded, "wfi_systick");
    // Named as a mode the target lists, it draws that mode's current and
    // wake-up time in place of the default.
    trace.deep_sleep_modes[0].mode = "stop-test".into();
    let mut listed = an386.clone();
    listed.energy.stop_modes = vec![StopMode {
        mode: "stop-test".into(),
        ua: an386.energy.stop_ua + 1000.0,
        wakeup_us: Some(0.0),
    }];
    let priced = trace.reprice(&listed, None).unwrap();
    let seconds = deep.cycles as f64 / an386.clock_mhz * 1e-6;
    let expected = at_default.energy_uj + seconds * 1000.0 * an386.energy.vdd_v
        - an386.energy.wakeup_uj(1, an386.clock_mhz);
    assert!(
        (priced.energy_uj - expected).abs() <= 1e-9 * expected,
        "{} against {expected} uJ",
        priced.energy_uj
    );

    let mut broken = trace;
    broken.deep_sleep_modes[0].cycles -= 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    std::fs::write(&path, serde_json::to_string(&broken).unwrap()).unwrap();
    let err = Trace::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("trace.json") && err.contains("deep_sleep_modes"),
        "{err}"
    );
}

fn mcubench(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("mcubench")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .assert()
}

/// Records `image` on `target` through the command line from a copy named
/// `fw.elf` in `dir`, deletes the copy and returns the run's JSON record
/// and the trace's path.
fn record_and_delete(dir: &Path, image: &Path, target: &str) -> (serde_json::Value, PathBuf) {
    std::fs::copy(image, dir.join("fw.elf")).unwrap();
    let out = mcubench(
        dir,
        &[
            "run",
            "fw.elf",
            "--target",
            target,
            "--record-trace",
            "trace.json",
            "--format",
            "json",
        ],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    std::fs::remove_file(dir.join("fw.elf")).unwrap();
    (
        serde_json::from_slice(&out).unwrap(),
        dir.join("trace.json"),
    )
}

#[test]
fn a_trace_reprices_with_its_image_gone() {
    let dir = tempfile::tempdir().unwrap();
    let image = root().join("workloads/prebuilt/cortex-m4f/ad_autoencoder.elf");
    let (run, _) = record_and_delete(dir.path(), &image, "stm32f407");
    let out = mcubench(
        dir.path(),
        &[
            "reprice",
            "trace.json",
            "--target",
            "stm32f407",
            "--format",
            "json",
            "--top",
            "1000",
        ],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    let priced: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for key in ["cycles", "instructions", "flash_stall_cycles"] {
        assert_eq!(priced[key], run[key], "{key}");
    }
    let regions = |v: &serde_json::Value| -> Vec<(String, u64, u64)> {
        v["regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["calls"].as_u64().unwrap(),
                    r["cycles"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(regions(&priced), regions(&run));
    assert!(!regions(&run).is_empty());
    let profile = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["profile"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["self_cycles"].as_u64().unwrap(),
                )
            })
            .filter(|f| f.1 > 0)
            .collect()
    };
    assert_eq!(profile(&priced), profile(&run));
}

#[test]
fn the_reprice_table_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    record_and_delete(dir.path(), &crate::fixture("roi_ddiv.elf"), "stm32f407");
    let out = mcubench(
        dir.path(),
        &[
            "reprice",
            "trace.json",
            "--target",
            "stm32f407",
            "--core",
            "cortex-m7f",
            "--clock-mhz",
            "84",
            "--top",
            "5",
        ],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
    // Its stack starts at the top of the F4's 128 KiB SRAM, past the F103's 64 KiB.
    let err = mcubench(
        dir.path(),
        &["reprice", "trace.json", "--target", "stm32f103"],
    )
    .code(2)
    .get_output()
    .stderr
    .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("trace.json")
            && err.contains("does not fit")
            && err.contains("initial stack pointer 0x20020000"),
        "{err}"
    );
}

/// A trace of the semihost fixture, as its JSON.
fn semihost_trace() -> serde_json::Value {
    let record = run_image(
        &crate::fixture("semihost.elf"),
        &target("mps2-an386"),
        &recording(),
    )
    .unwrap();
    serde_json::to_value(record.trace.unwrap()).unwrap()
}

/// A hand-made or damaged trace is refused with one line naming the file
/// and what is wrong, exit 2: never a panic, a wrapped figure or a price
/// made from bytes the run never ran.
#[test]
fn hostile_traces_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = semihost_trace();
    assert!(good["blocks"].as_array().unwrap().len() > 2);
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 14] = [
        ("trace format 1", |t| {
            t.as_object_mut().unwrap().remove("version");
        }),
        ("trace format 7", |t| t["version"] = 7.into()),
        ("not a trace", |t| t["blocks"] = "none".into()),
        ("size 8192", |t| {
            t["blocks"][0]["size"] = 8192.into();
            t["blocks"][0]["code"] = "00bf".repeat(4096).into();
        }),
        ("size 3", |t| t["blocks"][0]["size"] = 3.into()),
        ("bytes of code for a size", |t| {
            t["blocks"][0]["code"] = "00bf00bf".into()
        }),
        ("not hex", |t| {
            let size = t["blocks"][0]["size"].as_u64().unwrap() as usize;
            t["blocks"][0]["code"] = "zz".repeat(size).into();
        }),
        ("disagree", |t| {
            // A second block at the first one's address, shorter, other bytes.
            let mut other = t["blocks"][0].clone();
            other["size"] = 2.into();
            other["code"] = "ffff".into();
            t["blocks"].as_array_mut().unwrap().insert(0, other);
        }),
        ("listed once each", |t| {
            let first = t["blocks"][0].clone();
            t["blocks"].as_array_mut().unwrap().insert(0, first);
        }),
        ("does not list", |t| {
            t["runs"][0]["block"] = 1_000_000.into()
        }),
        ("taken exits", |t| {
            t["runs"][0]["taken_exits"] = u64::MAX.into()
        }),
        ("deep-sleep", |t| t["deep_sleep_cycles"] = 5.into()),
        ("overflow", |t| {
            t["runs"][0]["executions"] = u64::MAX.into();
            t["runs"][0]["fall_exits"] = 0.into();
            t["runs"][0]["taken_exits"] = 0.into();
        }),
        ("undefined instruction", |t| {
            // The first half of a 32-bit BL and nothing after it.
            let size = t["blocks"][0]["size"].as_u64().unwrap() as usize;
            t["blocks"][0]["code"] = "00f0".repeat(size / 2).into();
        }),
    ];
    let path = dir.path().join("forged.json");
    for (needle, edit) in edits {
        let mut trace = good.clone();
        edit(&mut trace);
        std::fs::write(&path, trace.to_string()).unwrap();
        let out = mcubench(
            dir.path(),
            &["reprice", "forged.json", "--target", "mps2-an386"],
        )
        .code(2)
        .get_output()
        .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("forged.json") && err.contains(needle) && err.lines().count() == 1,
            "{needle}: {err}"
        );
        assert!(out.stdout.is_empty(), "{needle}");
    }
}
