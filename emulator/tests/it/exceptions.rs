//! The exception-model fixtures (emulator/tests/fixtures/exceptions, where
//! the README shows what each prints and how the exc_timing cycles follow
//! from the Cortex-M4 TRM): a preemptive scheduler on the PSP with FP
//! context, priority grouping and masking, WFI, exact entry, return and
//! tail-chain cycles, and firmware whose exception use is wrong, which must
//! end with one clear error.

use mcubench::machine::RunOptions;
use mcubench::run::RunRecord;

use crate::{run, run_with};

const TARGET: &str = "mps2-an386";

fn path(name: &str) -> String {
    format!("exceptions/{name}")
}

/// Runs a fixture that must exit 0 having printed exactly `stdout`.
fn succeeds(name: &str, stdout: &str) {
    let r = run(&path(name), TARGET);
    assert_eq!(r.error, None, "{name} failed; it printed:\n{}", r.stdout);
    assert_eq!(r.stdout, stdout, "{name}: stdout");
    assert_eq!(r.exit_code, Some(0), "{name}: exit code");
}

/// Runs a bad-input fixture: it prints exactly `stdout`, never exits, and
/// the error names the file and contains every needle (case-insensitive).
/// A small cycle budget makes a missing check fail fast instead of spinning.
fn fails(name: &str, stdout: &str, needles: &[&str]) -> RunRecord {
    let options = RunOptions {
        max_cycles: 10_000_000,
        ..RunOptions::default()
    };
    let r = run_with(&path(name), TARGET, &options);
    let error = r
        .error
        .clone()
        .unwrap_or_else(|| panic!("{name} ended without an error; it printed:\n{}", r.stdout));
    assert!(
        error.contains(name),
        "the error does not name the file: {error}"
    );
    let lower = error.to_lowercase();
    for needle in needles {
        assert!(
            lower.contains(&needle.to_lowercase()),
            "`{needle}` missing from: {error}"
        );
    }
    assert_eq!(r.stdout, stdout, "{name}: stdout");
    assert_eq!(r.exit_code, None, "{name}: exit code");
    r
}

#[test]
fn rtos_mini_switches_tasks_on_the_psp_keeping_their_fp_state() {
    succeeds(
        "rtos_mini.elf",
        "rtos_mini start\n\
         ticks 200\n\
         task A count 40\n\
         task B count 40\n\
         shared 80\n\
         task A ok\n\
         task B ok\n\
         fp ok\n\
         switches ok\n\
         preempt 1\n\
         nested ok\n",
    );
}

/// Each line as derived in the fixtures README (zero wait states): LDR 2,
/// SVC 1, MOV/CBNZ not taken/BX/VADD.F32 1 each, entry 12, return 10,
/// tail-chain 6, lazy save or restore of S0-S15 and FPSCR 17.
const EXC_TIMING: &[(&str, &str)] = &[
    ("baseline", "3"),                  // LDR 2 + NOP 1
    ("svc_entry", "15"),                // LDR 2 + SVC 1 + entry 12
    ("svc_return", "15"),               // LDR 2 + MOV 1 + CBNZ 1 + BX 1 + return 10
    ("exc_return_basic", "0xfffffff9"), // thread, MSP, basic frame
    ("tail_chain", "9"),                // LDR 2 + BX 1 + tail-chain 6
    ("tail_chain_order", "ok"),         // IRQ 3 (0x40) before PendSV (0xE0)
    ("fpca_entry", "15"),               // as svc_entry: lazy, no FP state written
    ("fpca_return", "15"),              // as svc_return: LSPACT, no FP state read
    ("exc_return_fp", "0xffffffe9"),    // thread, MSP, extended frame
    ("lazy_entry", "15"),               // LDR 2 + SVC 1 + entry 12
    ("lazy_fp", "20"),                  // LDR 2 + VADD 1 + lazy save 17
    ("lazy_return", "30"),              // LDR 2 + BX 1 + return 10 + restore 17
    ("lazy_restore", "ok"),             // the thread's s0 survives the handler's VADD
];

#[test]
fn exception_entry_return_and_tail_chain_take_the_trm_cycles() {
    let r = run(&path("exc_timing.elf"), TARGET);
    assert_eq!(r.error, None, "it printed:\n{}", r.stdout);
    assert_eq!(r.exit_code, Some(0), "it printed:\n{}", r.stdout);
    let got: Vec<(&str, &str)> = r
        .stdout
        .lines()
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    assert_eq!(
        got.len(),
        EXC_TIMING.len(),
        "one line per case:\n{}",
        r.stdout
    );
    let wrong: Vec<String> = EXC_TIMING
        .iter()
        .zip(&got)
        .filter(|(want, got)| want != got)
        .map(|(want, got)| format!("{}: expected {}, got {} {}", want.0, want.1, got.0, got.1))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn unaligned_doubleword_multiple_and_exclusive_accesses_fault() {
    fails(
        "unaligned.elf",
        "ldrd aligned 3\n\
         ldrd aligned no-fault\n\
         ldrd +2 unaligned-fault\n\
         ldrd computed +2 unaligned-fault\n\
         ldrd literal +2 unaligned-fault\n\
         strd +6 unaligned-fault\n\
         ldrex +1 unaligned-fault\n\
         ldr +1 no-fault\n\
         ldr +1, unalign_trp unaligned-fault\n\
         ldm +2, usagefault disabled\n",
        &["unaligned", "ldm r0!", "0x20000002", "ldm_at"],
    );
}

/// 200,000 exceptions from loops of known length: the block an exception
/// interrupts runs (and is charged) once, after the return.
#[test]
fn an_interrupted_block_is_charged_once() {
    let r = run(&path("exc_storm.elf"), TARGET);
    assert_eq!(
        r.error, None,
        "it printed:
{}",
        r.stdout
    );
    assert_eq!(r.stdout, "pendsv 100000\nsvc 100000\n");
    // 100,000 passes of 3 instructions and handlers of 5, twice; startup,
    // printing and exit add a few hundred. Charging the interrupted block
    // again would add 300,000.
    let storms = 2 * 100_000 * (3 + 5);
    assert!(
        (storms..storms + 1_000).contains(&r.instructions),
        "{} instructions",
        r.instructions
    );
}

#[test]
fn priority_grouping_basepri_and_faultmask_follow_the_architecture() {
    succeeds(
        "priorities.elf",
        "group ok\nsub ok\nbasepri ok\nfaultmask ok\n",
    );
}

#[test]
fn a_pend_is_taken_at_once_even_past_a_peripheral_access() {
    succeeds("pend_then_mmio.elf", "uart_state 0\ntaken_after_pend 1\n");
}

#[test]
fn wfi_sleeps_until_the_next_systick() {
    succeeds("wfi_systick.elf", "ticks 50\nsleepdeep ok\n");
}

#[test]
fn a_fault_in_the_hardfault_handler_is_a_lockup() {
    let r = fails(
        "fault_in_handler.elf",
        "loading from 0x60000000\nin hardfault handler\n",
        &["lockup", "0xf0000000"],
    );
    assert!(
        r.handled_fault.is_some(),
        "the first fault went to the firmware's HardFault handler"
    );
}

#[test]
fn an_irq_the_target_lacks_is_an_error_naming_it() {
    fails("unknown_irq.elf", "enabling IRQ 40\n", &["IRQ 40"]);
}

#[test]
fn a_reserved_exc_return_is_an_error_naming_it() {
    fails(
        "bad_exc_return.elf",
        "returning from svc with EXC_RETURN 0xfffffff5\n",
        &["EXC_RETURN", "0xfffffff5"],
    );
}

#[test]
fn wfi_with_nothing_to_wake_it_is_an_error() {
    fails(
        "sleep_forever.elf",
        "sleeping with no wake source\n",
        &["asleep", "no wake source"],
    );
}

#[test]
fn a_system_reset_request_ends_the_run_with_an_error_naming_it() {
    fails(
        "system_reset.elf",
        "requesting a system reset\n",
        &["system reset", "AIRCR.SYSRESETREQ", "main"],
    );
}

#[test]
fn hints_run_as_hints_and_semihosting_cannot_write_flash() {
    let r = run(&path("hints.elf"), "stm32f407");
    assert_eq!(r.error, None, "it printed:\n{}", r.stdout);
    assert_eq!(r.handled_fault, None);
    assert_eq!(
        r.stdout,
        "hints ran\n\
         get_cmdline into flash returned 0xffffffff\n\
         flash unchanged 1\n"
    );
    assert_eq!(r.exit_code, Some(0));
}

#[test]
fn a_hang_in_a_shared_default_handler_names_the_exception() {
    fails(
        "svc_default.elf",
        "svc into the default handler\n",
        &["`b .` loop", "handling svcall"],
    );
}
