use mcubench::target::{Catalog, Core, Regulator, Target, TargetError};

use crate::{target, targets_dir};

#[test]
fn every_shipped_target_loads_and_validates() {
    let names = Target::names(&targets_dir());
    for expected in [
        "mps2-an385",
        "mps2-an386",
        "nrf52840",
        "stm32f103",
        "stm32f407",
        "stm32f746",
        "stm32h743",
        "stm32h7a3",
        "stm32l4r5",
        "stm32l4r5-smps",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} is shipped");
    }
    for t in Catalog::shipped().load_all().expect("all targets load") {
        assert!(
            !t.energy.source.is_empty() && !t.flash.source.is_empty(),
            "{} cites sources",
            t.name
        );
        assert_eq!(t.sha256.len(), 64);
    }
}

#[test]
fn clock_override_rederives_wait_states() {
    let f407 = target("stm32f407");
    assert_eq!(f407.wait_states(), 5);
    assert_eq!(f407.clone().with_clock(24.0).unwrap().wait_states(), 0);
    assert_eq!(f407.clone().with_clock(84.0).unwrap().wait_states(), 2);
    assert!(matches!(
        f407.with_clock(500.0),
        Err(TargetError::Clock { .. })
    ));
    assert_eq!(target("stm32f103").core, Core::CortexM3);
}

#[test]
fn broken_target_files_fail_a_named_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(targets_dir().join("stm32f407.toml")).unwrap();
    let overlapping = text.replacen("base = 0x2000_0000", "base = 0x0800_0000", 1);
    assert_ne!(overlapping, text, "the fixture edit applies");
    let path = dir.path().join("stm32f407.toml");
    std::fs::write(&path, overlapping).unwrap();
    let err = Target::load(&path).unwrap_err().to_string();
    assert!(err.contains("regions-disjoint"), "{err}");

    let renamed = dir.path().join("other.toml");
    std::fs::write(&renamed, &text).unwrap();
    let err = Target::load(&renamed).unwrap_err().to_string();
    assert!(err.contains("name-matches-file"), "{err}");

    let err = Catalog::shipped()
        .find("stm32f999")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown target `stm32f999`") && err.contains("stm32f407"),
        "{err}"
    );
}

/// Hostile geometry and timing in the F407's file, each refused by a named
/// check before anything is mapped or allocated.
#[test]
fn hostile_target_figures_fail_a_named_check() {
    let text = std::fs::read_to_string(targets_dir().join("stm32f407.toml")).unwrap();
    let cases = [
        (
            "max_clock_mhz = 168.0",
            "max_clock_mhz = inf",
            "max-clock-physical",
        ),
        (
            "max_clock_mhz = 168.0",
            "max_clock_mhz = nan",
            "max-clock-physical",
        ),
        ("size = 0x10_0000", "size = 0xE000_0000", "memory-bounded"),
        (
            "{ max_mhz = 168.0, ws = 5 }",
            "{ max_mhz = nan, ws = 5 }",
            "wait-states-ascending",
        ),
        (
            "{ max_mhz = 168.0, ws = 5 }",
            "{ max_mhz = 168.0, ws = 4000000000 }",
            "wait-states-ascending",
        ),
        (
            "lines = 64, line_bytes = 16, ways = 64",
            "lines = 2147483648, line_bytes = 16, ways = 1",
            "cache-geometry",
        ),
        (
            "write_us = 16.0",
            "write_us = -1.0",
            "flash-program-physical",
        ),
        ("ms = 250.0", "ms = inf", "flash-program-physical"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stm32f407.toml");
    for (from, to, check) in cases {
        let edited = text.replacen(from, to, 1);
        assert_ne!(edited, text, "{from} is in the file");
        std::fs::write(&path, edited).unwrap();
        let err = Target::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("stm32f407.toml") && err.contains(check),
            "{to}: {err}"
        );
    }
}

/// Each edit of the L4R5's energy figures and the check it must fail, naming the field.
#[test]
fn unphysical_energy_figures_fail_a_named_check() {
    let text = std::fs::read_to_string(targets_dir().join("stm32l4r5.toml")).unwrap();
    let cases = [
        (
            "run_ua_per_mhz = 201.0",
            "run_ua_per_mhz = nan",
            "energy-finite",
            "energy.run_ua_per_mhz",
        ),
        (
            "stop_ua = 3.18",
            "stop_ua = -3.18",
            "energy-finite",
            "energy.stop_ua",
        ),
        ("vdd_v = 3.0", "vdd_v = 3.9", "vdd-in-range", "energy.vdd_v"),
        (
            "vdd_range_v = [1.71, 3.6]",
            "vdd_range_v = [0.5, 3.6]",
            "vdd-in-range",
            "energy.vdd_range_v",
        ),
        (
            "run_ua_per_mhz = 201.0",
            "run_ua_per_mhz = 0.2",
            "run-current-physical",
            "energy.run_ua_per_mhz",
        ),
        (
            "run_ua_per_mhz = 201.0",
            "run_ua_per_mhz = 20.0",
            "sleep-below-run",
            "energy.sleep_mode_ua_per_mhz",
        ),
        (
            "sleep_ua = 2.0",
            "sleep_ua = 20.0",
            "retention-below-stop",
            "energy.sleep_ua",
        ),
        (
            "stop_wakeup_us = 8.9",
            "stop_wakeup_us = 5e6",
            "wakeup-physical",
            "energy.stop_wakeup_us",
        ),
        (
            "code_current = 0.910",
            "code_current = nan",
            "code-current-physical",
            "region `sram`: code_current",
        ),
        (
            "code_current = 0.910",
            "code_current = 91.0",
            "code-current-physical",
            "region `sram`: code_current",
        ),
        (
            "mhz = 72.0, ma = 8.52",
            "mhz = 72.0, ma = -8.52",
            "run-curve-physical",
            "energy.run_curve[1]",
        ),
        (
            "mhz = 72.0, ma = 8.52",
            "mhz = 80.0, ma = 8.52",
            "run-curve-physical",
            "repeats 80 MHz",
        ),
        (
            "mhz = 72.0, ma = 8.52",
            "mhz = inf, ma = 8.52",
            "run-curve-physical",
            "energy.run_curve[1]",
        ),
        (
            "ua = 12.0, wakeup_us = 8.4",
            "ua = 12.0, wakeup_us = 8.4e6",
            "stop-modes-physical",
            "energy.stop_modes[1]",
        ),
        (
            "mode = \"stop1\"",
            "mode = \"stop0\"",
            "stop-modes-physical",
            "energy.stop_modes[1]",
        ),
        (
            "run_curve_source = ",
            "run_curve_sources = ",
            "unknown field",
            "run_curve_sources",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stm32l4r5.toml");
    for (from, to, check, field) in cases {
        let edited = text.replacen(from, to, 1);
        assert_ne!(edited, text, "{from} is in the file");
        std::fs::write(&path, edited).unwrap();
        let err = Target::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("stm32l4r5.toml") && err.contains(check) && err.contains(field),
            "{to}: {err}"
        );
    }
}

/// The run current follows the datasheet's points in the voltage range a
/// clock needs: interpolated inside a range, never across ranges.
#[test]
fn run_current_follows_the_clock_and_its_voltage_range() {
    let h7 = target("stm32h7a3");
    let ma = |mhz| h7.energy.run_current_ma(mhz, None).unwrap();
    // DS13195 Table 35 points, each in the lowest range that reaches it.
    assert_eq!(ma(280.0), 33.5);
    assert_eq!(ma(225.0), 23.5);
    assert_eq!(ma(160.0), 14.5);
    assert_eq!(ma(88.0), 7.5);
    // Between points of VOS0 and below the slowest of VOS3.
    assert!((ma(250.0) - (27.0 + 6.5 * 25.0 / 55.0)).abs() < 1e-9);
    assert!((ma(100.0) - (8.5 + 4.5 * 12.0 / 56.0)).abs() < 1e-9);
    assert!((ma(10.0) - (2.5 - 2.5 * 15.0 / 35.0)).abs() < 1e-9);
    // The scale is the current per MHz over the target clock's.
    let scale = h7.energy.run_scale(280.0, 25.0, None);
    assert!((scale - (2.5 / 25.0) / (33.5 / 280.0)).abs() < 1e-12);
    assert_eq!(h7.energy.run_scale(280.0, 280.0, None), 1.0);
    // A range the firmware set wins over the one the clock needs: 160 MHz
    // kept in VOS1 draws VOS1's 17.0 mA, not VOS2's 14.5.
    assert_eq!(h7.energy.run_current_ma(160.0, Some("VOS1")), Some(17.0));
    assert_eq!(h7.energy.run_current_ma(160.0, Some("VOS9")), Some(14.5));
    // `--clock-mhz` moves the run current per MHz with it.
    let slow = h7.clone().with_clock(25.0).unwrap();
    assert!((slow.energy.run_ua_per_mhz - 125.0 * scale).abs() < 1e-9);
    // A range of one point draws in proportion to the clock; no curve, no change.
    let mut single = target("stm32f407");
    single.energy.run_curve.truncate(1);
    assert_eq!(single.energy.run_current_ma(84.0, None), Some(20.0));
    assert_eq!(target("nrf52840").energy.run_scale(64.0, 16.0, None), 1.0);
}

#[test]
fn supply_override_follows_the_regulator() {
    // LDO: the current stays, the energy per cycle follows Vdd.
    let ldo = target("stm32l4r5");
    assert_eq!(ldo.energy.regulator, Regulator::Ldo);
    let at_1v8 = ldo.clone().with_vdd(1.8).unwrap();
    assert_eq!(at_1v8.energy.run_ua_per_mhz, 201.0);
    assert!((at_1v8.energy.run_pj_per_cycle() - 1.8 * 201.0).abs() < 1e-9);
    // SMPS: the power stays, the current falls as Vdd rises.
    let smps = target("stm32l4r5-smps");
    assert_eq!(smps.energy.regulator, Regulator::Smps);
    let at_3v3 = smps.clone().with_vdd(3.3).unwrap();
    assert!((at_3v3.energy.run_pj_per_cycle() - smps.energy.run_pj_per_cycle()).abs() < 1e-9);
    assert!((at_3v3.energy.run_ua_per_mhz - 86.2 * 3.0 / 3.3).abs() < 1e-9);
    assert_eq!(at_3v3.energy.stop_ua, smps.energy.stop_ua);
    assert!(matches!(ldo.with_vdd(1.2), Err(TargetError::Vdd { .. })));
}
