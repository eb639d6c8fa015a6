//! The TRM microbenchmarks read DWT_CYCCNT around instruction sequences and
//! must see exactly the cycles of the Cortex-M4/M3 timing tables, and of the
//! measured Cortex-M7 facts.

use mcubench::machine::RunOptions;
use mcubench::run::{run_image, RunRecord};
use mcubench::target::Core;

use crate::{fixture, run, target};

fn expected(name: &str) -> Vec<(String, i64)> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('['))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("name = cycles");
            (
                k.trim().to_owned(),
                v.trim().parse().expect("integer cycles"),
            )
        })
        .collect()
}

fn measured(stdout: &str) -> Vec<(String, i64)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

fn check(image: &str, target: &str, table: &str) {
    compare(run(image, target), table);
}

fn compare(record: RunRecord, table: &str) {
    assert_eq!(record.exit_code, Some(0), "{}", record.stdout);
    let want = expected(table);
    let got = measured(&record.stdout);
    assert_eq!(
        got.len(),
        want.len(),
        "one line per case:\n{}",
        record.stdout
    );
    let wrong: Vec<String> = want
        .iter()
        .zip(&got)
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("{}: expected {}, measured {} ({})", w.0, w.1, g.1, g.0))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cortex_m4_sequences_cost_what_the_trm_table_says() {
    check("trm_m4.elf", "mps2-an386", "trm_m4.expected");
}

#[test]
fn cortex_m3_sequences_cost_what_the_trm_table_says() {
    check("trm_m3.elf", "mps2-an385", "trm_m3.expected");
}

#[test]
fn cortex_m7_sequences_cost_what_the_measurements_say() {
    // The AN386 memory map runs code and data at zero wait, as the M7's TCM.
    let mut m7 = target("mps2-an386");
    m7.core = Core::CortexM7f;
    let record = run_image(&fixture("trm_m7.elf"), &m7, &RunOptions::default()).unwrap();
    compare(record, "trm_m7.expected");
}
