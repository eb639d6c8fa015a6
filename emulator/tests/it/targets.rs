use mcubench::target::{Core, Target, TargetError};

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
        "stm32l4r5",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} is shipped");
    }
    for t in Target::load_all(&targets_dir()).expect("all targets load") {
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

    let err = Target::find(&targets_dir(), "stm32f999")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown target `stm32f999`") && err.contains("stm32f407"),
        "{err}"
    );
}
