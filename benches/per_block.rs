//! The cost of the work mcubench does per translated block, apart from
//! emulation itself:
//!
//! - `block_costing`: decoding a block with capstone and pricing it for the
//!   Cortex-M4, done once per block when unicorn first translates it. The
//!   block is the first one of `roi_gemm` in the speed workload: the
//!   function's prologue and its inner multiply-accumulate loop, up to the
//!   loop's branch (16 instructions: STM, ALU, byte loads, SMLABB and the branch).
//! - `profile_path`: the profiler's per-executed-block calls (`charge` for
//!   the block just finished, `enter` for the next one) over a call-shaped
//!   trace: a call into a function, 62 blocks inside it, and the return.

#![allow(
    missing_docs,
    reason = "criterion_main! generates an undocumented main"
)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mcubench::cost::decode::Decoder;
use mcubench::cost::CostModel;
use mcubench::image::Image;
use mcubench::profile::Profiler;
use mcubench::target::Core;

fn configure<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group
}

/// The bytes of `roi_gemm`'s first block: from its entry through the first
/// instruction that can branch.
fn gemm_block() -> (u32, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/matmul_int8_small.elf");
    let image = Image::load(&path).expect("bench image loads");
    let addr = image.symbols.addr_of("roi_gemm").expect("roi_gemm symbol") & !1;
    let func = &image.symbols.functions()[image.symbols.index_of(addr).expect("indexed")];
    let code = image.bytes_at(addr, func.size).expect("roi_gemm is loaded");
    let insns = Decoder::new().decode(addr, code);
    let end = insns
        .iter()
        .find(|i| i.writes_pc())
        .map(|i| i.addr + u32::from(i.len))
        .expect("roi_gemm has a branch");
    (addr, code[..(end - addr) as usize].to_vec())
}

fn block_costing(c: &mut Criterion) {
    let (addr, bytes) = gemm_block();
    let decoder = Decoder::new();
    let model = CostModel::new(Core::CortexM4f);
    let insns = decoder.decode(addr, &bytes).len();
    let mut group = configure(c, "block_costing");
    group.throughput(Throughput::Elements(insns as u64));
    group.bench_function("decode+price/roi_gemm_block", |b| {
        b.iter(|| {
            let decoded = decoder.decode(black_box(addr), black_box(&bytes));
            model.price(&decoded)
        })
    });
    group.finish();
}

fn profile_path(c: &mut Criterion) {
    const BLOCKS: u32 = 64;
    const CALLER: u32 = 0;
    const CALLEE: u32 = 1;
    const RET: u32 = 0x100;
    let mut profiler = Profiler::new(vec![0x80, 0x200]);
    const SP: u32 = 0x2000_1000;
    let mut cycles = 0u64;
    let mut group = configure(c, "profile_path");
    group.throughput(Throughput::Elements(u64::from(BLOCKS)));
    group.bench_function("charge+enter/call_loop_return", |b| {
        b.iter(|| {
            // The call: the caller's block ends in BL, the callee's first block starts.
            cycles += 7;
            profiler.charge(CALLER, 7);
            profiler.enter(0x200, CALLEE, Some(RET), || SP, cycles, cycles * 1000);
            // Blocks inside the callee, alternating between two loop blocks.
            for i in 0..BLOCKS - 2 {
                cycles += 9;
                profiler.charge(CALLEE, black_box(9));
                let addr = 0x210 + (i & 1) * 0x20;
                profiler.enter(black_box(addr), CALLEE, None, || 0, cycles, cycles * 1000);
            }
            // The return to the caller.
            cycles += 5;
            profiler.charge(CALLEE, 5);
            profiler.enter(RET, CALLER, None, || SP, cycles, cycles * 1000);
        })
    });
    group.finish();
    black_box(profiler.totals(0));
}

criterion_group!(benches, block_costing, profile_path);
criterion_main!(benches);
