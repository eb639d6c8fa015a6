//! Regions the firmware marks with `mb_region_begin`/`mb_region_end`: nesting,
//! interrupts at the markers, bad names and unbalanced markers (fixtures/src/marked_regions.c), and the
//! per-layer profile every model workload gets from its runtime.

use mcubench::machine::RunOptions;
use mcubench::run::run_image;

use crate::{root, run, target};

#[test]
fn marked_regions_nest_and_survive_bad_names_and_unbalanced_markers() {
    let r = run("marked_regions.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    let rows: Vec<(&str, u32, u64, u64)> = r
        .marked_regions
        .iter()
        .map(|m| (m.name.as_str(), m.depth, m.calls, m.macs))
        .collect();
    assert_eq!(
        rows,
        [
            ("outer", 0, 1, 0),
            ("inner", 1, 10, 50),
            // SysTick lands at the markers' entries too: each is still one call.
            ("ticked", 0, 200, 0),
            ("[unnamed]", 0, 1, 0),
            ("[name at 0x3ffffff0]", 0, 1, 0),
            // Terminal escapes never reach a terminal or a report.
            ("bell\u{fffd}\u{fffd}[2J", 0, 1, 0),
            ("left open", 0, 1, 0),
        ]
    );
    let ticks = r.profile.iter().find(|f| f.name == "systick_handler");
    assert!(ticks.is_some_and(|f| f.calls > 100), "{ticks:?}");
    let (outer, inner) = (&r.marked_regions[0], &r.marked_regions[1]);
    assert!(inner.cycles > 0 && inner.cycles < outer.cycles);
    assert_eq!(
        inner.cycles_per_mac,
        Some(inner.cycles as f64 / 10.0 / 50.0)
    );
    assert_eq!(outer.cycles_per_mac, None);
    // Shares are of the outermost regions, so the nested one is not counted twice.
    let outermost: f64 = r
        .marked_regions
        .iter()
        .filter(|m| m.depth == 0)
        .map(|m| m.share)
        .sum();
    assert!((outermost - 1.0).abs() < 1e-9);
    assert_eq!(
        r.warnings,
        [
            "`mb_region_end` called with no marked region open; ignored",
            "marked region `left open` was still open when the run ended; closed there",
        ]
    );
}

/// The runtime marks every layer of a model with its name and MACs: the
/// layers add up to the MLPerf model's MACs and to nearly all of the
/// inference region's cycles (the rest is the loop around them).
#[test]
fn every_model_layer_is_a_marked_region_with_its_macs() {
    let elf = root().join("workloads/prebuilt/cortex-m4f/kws_dscnn.elf");
    let r = run_image(&elf, &target("stm32l4r5"), &RunOptions::default()).unwrap();
    assert_eq!(r.exit_code, Some(0));
    let names: Vec<&str> = r.marked_regions.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0 conv 10x4/2",
            "1 dwconv 3x3",
            "2 conv 1x1",
            "3 dwconv 3x3",
            "4 conv 1x1",
            "5 dwconv 3x3",
            "6 conv 1x1",
            "7 dwconv 3x3",
            "8 conv 1x1",
            "9 avgpool 25x5",
            "10 fc",
            "11 softmax",
        ]
    );
    let macs: u64 = r.marked_regions.iter().map(|m| m.macs).sum();
    assert_eq!(macs, 2_656_768, "the model's MACs (workloads/suite.toml)");
    let layers: u64 = r.marked_regions.iter().map(|m| m.cycles).sum();
    let inference = r.regions.iter().find(|g| g.name == "inference").unwrap();
    assert!(layers < inference.cycles && layers * 1000 > inference.cycles * 999);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}
