//! Emulated speed of the whole machine: the small int8 matrix-product image
//! (firmware/matmul_int8_small.elf, about 2e7 instructions) run through
//! `run_image` on the MPS2 AN386 target with the cycle model, profile and
//! every hook on, as `mcubench run` does. Throughput is in emulated
//! instructions, so criterion's elements/s is the emulator's host speed
//! (divide by 1e6 for MIPS). A second group re-prices the recorded run. A
//! third takes 200,000 exceptions (PendSV and SVC from tight loops) and, as
//! its baseline, runs the same loops without them: its elements are loop
//! passes, so the two times per element differ by what an exception entry
//! and return cost the host.

#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use mcubench::machine::RunOptions;
use mcubench::run::run_image;
use mcubench::target::Catalog;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn emulated_mips(c: &mut Criterion) {
    let image = repo().join("benches/firmware/matmul_int8_small.elf");
    let target = Catalog::shipped()
        .find("mps2-an386")
        .expect("shipped target");
    let options = RunOptions::default();
    let first = run_image(&image, &target, &options).expect("image runs");
    assert!(
        first.succeeded() && first.stdout.contains("PASS"),
        "the bench image must pass its own check: {:?} {}",
        first.error,
        first.stdout
    );

    let mut group = c.benchmark_group("emulation");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(first.instructions));
    group.bench_function("matmul_int8_small/mps2-an386", |b| {
        b.iter(|| {
            let record = run_image(&image, &target, &options).expect("image runs");
            assert_eq!(record.instructions, first.instructions);
            record.cycles
        })
    });
    group.finish();
}

/// Re-pricing the same run from its trace, for another clock of the target:
/// compare its time with `emulation` to see what trace-once-cost-many saves.
fn repricing(c: &mut Criterion) {
    let image = repo().join("benches/firmware/matmul_int8_small.elf");
    let target = Catalog::shipped()
        .find("mps2-an386")
        .expect("shipped target");
    let options = RunOptions {
        record_trace: true,
        ..RunOptions::default()
    };
    let record = run_image(&image, &target, &options).expect("image runs");
    let trace = record.trace.expect("trace recorded");
    let f407 = Catalog::shipped()
        .find("stm32f407")
        .expect("shipped target");
    let mut group = c.benchmark_group("reprice");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(record.instructions));
    group.bench_function("matmul_int8_small/mps2-an386->stm32f407", |b| {
        b.iter(|| {
            trace
                .reprice(&f407, None)
                .expect("compatible target")
                .cycles
        })
    });
    group.finish();
}

/// Host time per exception: the exception storm against the same loops
/// without exceptions (emulator/tests/fixtures/exceptions/exc_storm.S).
fn exceptions(c: &mut Criterion) {
    let target = Catalog::shipped()
        .find("mps2-an386")
        .expect("shipped target");
    let options = RunOptions::default();
    let mut group = c.benchmark_group("exceptions");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(200_000));
    for name in ["exc_storm", "exc_quiet"] {
        let image = repo().join(format!("emulator/tests/fixtures/exceptions/{name}.elf"));
        group.bench_function(name, |b| {
            b.iter(|| {
                let record = run_image(&image, &target, &options).expect("image runs");
                assert!(record.succeeded(), "{name}: {:?}", record.error);
                record.cycles
            })
        });
    }
    group.finish();
}

criterion_group!(benches, emulated_mips, repricing, exceptions);
criterion_main!(benches);
