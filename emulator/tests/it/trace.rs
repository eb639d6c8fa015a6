//! Trace once, cost many: a recorded run re-priced for its own target gives
//! the emulated figures exactly, and so does any clock of the same target.

use mcubench::machine::RunOptions;
use mcubench::run::run_image;
use mcubench::trace::Trace;

use crate::{root, target};

#[test]
fn repricing_matches_emulation_for_the_same_caches_at_any_clock() {
    let image = root().join("workloads/prebuilt/cortex-m4f/ad_autoencoder.elf");
    let options = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let slow = target("stm32f407").with_clock(24.0).unwrap();
    let recorded = run_image(&image, &slow, &options).unwrap();
    let trace: Trace = recorded.trace.clone().expect("trace recorded");
    assert_eq!(trace.reprice(&slow, None).unwrap().cycles, recorded.cycles);
    for mhz in [60.0, 168.0] {
        let t = target("stm32f407").with_clock(mhz).unwrap();
        let emulated = run_image(&image, &t, &RunOptions::default()).unwrap();
        let priced = trace.reprice(&t, None).unwrap();
        assert_eq!(priced.cycles, emulated.cycles, "{mhz} MHz");
        assert_eq!(priced.instructions, emulated.instructions);
        assert!((priced.energy_uj - emulated.energy_uj).abs() < 1e-6 * emulated.energy_uj);
    }
    // Another core over the same memory map: the M7's dual issue needs fewer cycles.
    let m7 = trace
        .reprice(&slow, Some(mcubench::target::Core::CortexM7f))
        .unwrap();
    assert!(
        m7.cycles < recorded.cycles,
        "{} vs {}",
        m7.cycles,
        recorded.cycles
    );
}

/// A trace of the semihost fixture, recorded from a copy of it in `dir`;
/// returns the copy's path and the trace.
fn recorded_copy(dir: &std::path::Path) -> (std::path::PathBuf, Trace) {
    let image = dir.join("fw.elf");
    std::fs::copy(crate::fixture("semihost.elf"), &image).unwrap();
    let options = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let record = run_image(&image, &target("mps2-an386"), &options).unwrap();
    (image, record.trace.unwrap())
}

#[test]
fn a_changed_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (image, trace) = recorded_copy(dir.path());
    std::fs::copy(crate::fixture("exit_nonzero.elf"), &image).unwrap();
    let err = trace
        .reprice(&target("mps2-an386"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("fw.elf") && err.contains("changed"), "{err}");
}

#[test]
fn sleep_carries_over_and_firmware_that_sets_its_clocks_is_refused() {
    let options = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let an386 = target("mps2-an386");
    let image = crate::fixture("exceptions/wfi_systick.elf");
    let recorded = run_image(&image, &an386, &options).unwrap();
    assert!(recorded.sleep_cycles > recorded.cycles, "mostly asleep");
    let priced = recorded
        .trace
        .clone()
        .unwrap()
        .reprice(&an386, None)
        .unwrap();
    assert_eq!(priced.cycles, recorded.cycles);
    assert_eq!(priced.time_us, recorded.time_us);
    assert!((priced.energy_uj - recorded.energy_uj).abs() < 1e-6 * recorded.energy_uj);

    let image = crate::fixture("devices/cubemx_f407.elf");
    let recorded = run_image(&image, &target("stm32f407"), &options).unwrap();
    let err = recorded
        .trace
        .unwrap()
        .reprice(&target("stm32f407"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("programmed its own clock"), "{err}");
}

/// A hand-edited trace whose counts no run produces, or whose products wrap,
/// is refused with the file named instead of giving wrapped figures.
#[test]
fn impossible_or_overflowing_traces_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, trace) = recorded_copy(dir.path());
    let good = serde_json::to_value(trace).unwrap();
    let path = dir.path().join("trace.json");
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 3] = [
        ("taken exits", |t| {
            t["blocks"][0]["taken_exits"] = u64::MAX.into()
        }),
        ("deep-sleep", |t| t["deep_sleep_cycles"] = 5.into()),
        ("overflow", |t| {
            t["blocks"][0]["executions"] = u64::MAX.into()
        }),
    ];
    for (needle, edit) in edits {
        let mut trace = good.clone();
        edit(&mut trace);
        std::fs::write(&path, trace.to_string()).unwrap();
        let err = Trace::load(&path)
            .and_then(|t| t.reprice(&target("mps2-an386"), None))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}
