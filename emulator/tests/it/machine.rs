use mcubench::machine::RunOptions;

use crate::{run, run_with};

fn value(stdout: &str, key: &str) -> i64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{stdout}"));
    let text = line[key.len()..].trim();
    match text.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

#[test]
fn semihosting_calls_reach_the_console_and_answer_with_modeled_figures() {
    let r = run("semihost.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0), "{}", r.stdout);
    assert!(r.stdout.starts_with("writec\nwrite0\n"), "{}", r.stdout);
    assert!(r.stdout.contains("cmdline semihost.elf"), "{}", r.stdout);
    // SYS_HEAPINFO: the heap starts after .bss, the stack base is the initial SP.
    assert_eq!(value(&r.stdout, "stack_base"), 0x2002_0000);
    assert!(value(&r.stdout, "heap_base") < value(&r.stdout, "heap_limit"));
    // SYS_ELAPSED reports modeled cycles: below the run's total, never zero.
    let elapsed = value(&r.stdout, "elapsed_lo");
    assert!(
        elapsed > 0 && (elapsed as u64) < r.cycles,
        "{elapsed} vs {}",
        r.cycles
    );
}

/// SRAM starts mapped without execute permission (see `Machine::allow_fetch`):
/// code written there still runs, and a patch of it runs as patched.
#[test]
fn code_written_to_sram_runs_and_runs_again_when_patched() {
    let r = run("ram_code.elf", "stm32f407");
    assert_eq!(r.exit_code, Some(0), "{:?} {}", r.error, r.stdout);
    assert_eq!(value(&r.stdout, "first"), 7);
    assert_eq!(value(&r.stdout, "second"), 42);
}

#[test]
fn newlib_rdimon_runs_unmodified() {
    let r = run("hello_rdimon.elf", "mps2-an386");
    assert_eq!(
        r.stdout,
        "hello from rdimon 42\nputs through newlib\nfputs to stderr\n"
    );
    assert_eq!(r.exit_code, Some(3));
    assert!(r.error.is_none());
    // printf's buffers come from malloc, through newlib's _sbrk.
    assert!(
        r.heap_peak_bytes.is_some_and(|b| b > 0),
        "{:?}",
        r.heap_peak_bytes
    );
    assert_eq!(run("semihost.elf", "mps2-an386").heap_peak_bytes, None);
}

#[test]
fn systick_interrupts_every_period_and_cpuid_names_the_core() {
    let r = run("systick.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(value(&r.stdout, "cpuid"), 0x410F_C241);
    let (ticks, cycles) = (value(&r.stdout, "ticks"), value(&r.stdout, "cycles"));
    // RVR = 999 on the processor clock: one interrupt per 1000 cycles.
    assert!(
        (ticks - cycles / 1000).abs() <= 1,
        "{ticks} ticks in {cycles} cycles"
    );
    let handler = r
        .profile
        .iter()
        .find(|f| f.name == "systick_handler")
        .expect("handler in profile");
    assert_eq!(handler.calls as i64, ticks);
}

#[test]
fn a_firmware_hardfault_handler_takes_over_faults() {
    let r = run("fault_hardfault_handler.elf", "stm32f407");
    assert_eq!(r.exit_code, Some(7));
    assert!(
        r.stdout.contains("cfsr 0x00008200") && r.stdout.contains("hfsr 0x40000000"),
        "{}",
        r.stdout
    );
    let fault = r.handled_fault.expect("fault recorded");
    assert!(fault.contains("0x60000000"), "{fault}");
}

#[test]
fn figures_follow_from_cycles_clock_and_energy_model() {
    let r = run("semihost.elf", "stm32f407");
    assert!((r.time_us - r.cycles as f64 / 168.0).abs() < 1e-9);
    // Energy per cycle is Vdd × µA/MHz (3.3 V × 238 µA/MHz = 785.4 pJ) times what the
    // cycles and instructions draw against the reference program's, within -50..+10%.
    let pj_per_cycle = r.energy_uj * 1e6 / r.cycles as f64;
    assert!(
        (0.5 * 785.4..=1.1 * 785.4).contains(&pj_per_cycle),
        "{pj_per_cycle} pJ/cycle"
    );
    assert!((r.avg_power_mw - r.energy_uj / r.time_us * 1000.0).abs() < 1e-9);
    assert!(r.stack_peak_bytes > 0 && r.stack_peak_bytes < 4096);
    assert_eq!(r.flash_capacity_bytes, 1 << 20);
    let main = r
        .profile
        .iter()
        .find(|f| f.name == "main")
        .expect("main profiled");
    assert_eq!(main.calls, 1);
    assert!(main.total_cycles > main.self_cycles);
    assert!(
        r.stacks
            .iter()
            .any(|s| s.stack.ends_with("main;semihost_print_hex")),
        "{:?}",
        r.stacks
    );
}

#[test]
fn runs_are_deterministic() {
    let strip = |mut r: mcubench::run::RunRecord| {
        r.host.wall_ms = 0.0;
        r.host.mips = 0.0;
        serde_json::to_string(&r).unwrap()
    };
    let a = strip(run("systick.elf", "stm32f407"));
    let b = strip(run("systick.elf", "stm32f407"));
    assert_eq!(a, b);
}

/// Runs on threads of one process keep the figures of a run alone while
/// other engines start beside them. Every engine start rewrites unicorn's
/// process-wide choice of host clock (`use_rt_clock`, cleared then set); an
/// engine timer thread reading it in between saw decades pass and stopped
/// its run at an arbitrary block, which was then charged twice: a few cycles
/// and instructions more in about one run of ten here. Runs therefore watch
/// the wall clock from the block hook and start the engine without a timeout.
#[test]
fn concurrent_runs_in_one_process_give_the_figures_of_a_run_alone() {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Stops the churn however the runs end, so the scope can join it.
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    let image = crate::root().join("workloads/prebuilt/cortex-m4f/fedavg_reptile.elf");
    let target = crate::target("stm32f407");
    let figures = || {
        let mut r = mcubench::run::run_image(&image, &target, &RunOptions::default()).unwrap();
        r.host.wall_ms = 0.0;
        r.host.mips = 0.0;
        r
    };
    let alone = figures();
    assert_eq!(alone.exit_code, Some(0), "{:?}", alone.error);
    let done = AtomicBool::new(false);
    let (first, second) = std::thread::scope(|s| {
        let stop_churn = Done(&done);
        // Engines starting and stopping all the while (short fixture runs).
        let churn = || {
            let mut starts = 0u32;
            while !done.load(Ordering::Relaxed) {
                run("exit_nonzero.elf", "stm32f407");
                starts += 1;
            }
            starts
        };
        let churners = [s.spawn(churn), s.spawn(churn)];
        let runs = || (0..16).map(|_| figures()).collect::<Vec<_>>();
        let other = s.spawn(runs);
        let first = runs();
        let second = other.join();
        drop(stop_churn);
        for churner in churners {
            assert!(churner.join().unwrap() > 0);
        }
        (first, second.unwrap())
    });
    for (i, r) in first.iter().chain(&second).enumerate() {
        assert!(
            *r == alone,
            "run {i}: {} cycles, {} instructions; alone {} and {}",
            r.cycles,
            r.instructions,
            alone.cycles,
            alone.instructions
        );
    }
}

#[test]
fn flash_wait_states_cost_cycles_only_above_zero_wait_clocks() {
    let options = RunOptions::default();
    let fast = run_with("fpu_on_m3.elf", "stm32f407", &options);
    let target = crate::target("stm32f407");
    let mut slow_target = target.clone().with_clock(24.0).unwrap();
    // The run current per MHz of 168 MHz, so that the energies differ by the
    // wait states alone.
    slow_target.energy = target.energy;
    let slow =
        mcubench::run::run_image(&crate::fixture("fpu_on_m3.elf"), &slow_target, &options).unwrap();
    assert_eq!(slow.wait_states, 0);
    assert_eq!(slow.flash_stall_cycles, 0);
    assert!(fast.flash_stall_cycles > 0);
    assert_eq!(fast.cycles - fast.flash_stall_cycles, slow.cycles);
    assert_eq!(fast.instructions, slow.instructions);
    // A wait state draws the Cortex-M4's cycle share, 0.56 of a CoreMark cycle
    // (Vdd × µA/MHz = 3.3 V × 238 µA/MHz = 785.4 pJ), and no instruction's.
    let stall_pj = (fast.energy_uj - slow.energy_uj) * 1e6;
    let expected_pj = fast.flash_stall_cycles as f64 * 0.560 * 785.4;
    assert!(
        (stall_pj / expected_pj - 1.0).abs() < 1e-9,
        "{stall_pj} pJ against {expected_pj}"
    );
}

#[test]
fn a_duty_cycle_adds_the_sleep_current_between_runs() {
    let target = crate::target("nrf52840");
    let r = run("semihost.elf", "nrf52840");
    let d = r.at_period(&target, 1000.0, Some(220.0)).unwrap();
    // Sleep draws Vdd × I_sleep (3.0 V × 1.5 µA from the target file) for the rest of the second.
    let sleep_uj = 3.0 * 1.5 * (1000.0 - r.time_us / 1000.0) / 1000.0;
    assert!((d.avg_power_mw * 1000.0 - (r.energy_uj + sleep_uj)).abs() < 1e-9);
    assert!((d.avg_current_ma - d.avg_power_mw / 3.0).abs() < 1e-12);
    assert!((d.battery_life_h.unwrap() - 220.0 / d.avg_current_ma).abs() < 1e-9);
    assert!(r.at_period(&target, r.time_us / 2000.0, None).is_err());
}

/// The F407 target with its USART2 block taken out of the file: the registers
/// are still in the peripheral space, but no model serves them.
fn f407_without_usart2() -> (tempfile::TempDir, mcubench::target::Target) {
    let text = std::fs::read_to_string(crate::targets_dir().join("stm32f407.toml")).unwrap();
    let block = "[[peripheral]]\nname = \"USART2\"\nkind = \"stm32-usart\"\nbase = 0x4000_4400\nsize = 0x400\nirqs = [38]\nclock = \"apb1\"\n";
    assert!(
        text.contains(block),
        "the test's copy of the USART2 entry is stale"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stm32f407.toml");
    std::fs::write(&path, text.replace(block, "")).unwrap();
    let target = mcubench::target::Target::load(&path).unwrap();
    (dir, target)
}

#[test]
fn unmodeled_registers_keep_writes_and_are_listed_or_with_strict_peripherals_fail() {
    let (_dir, target) = f407_without_usart2();
    let image = crate::fixture("devices/wfi_idle_f407.elf");
    let bounded = RunOptions {
        max_cycles: 30_000_000,
        ..RunOptions::default()
    };
    let r = mcubench::run::run_image(&image, &target, &bounded).unwrap();
    // The registers keep what is written, but the status register reads 0:
    // the firmware waits for TXE, as it would on a part without that block.
    let error = r.error.expect("the wait for TXE never ends");
    assert!(error.contains("cycle budget"), "{error}");
    let status = r
        .peripherals
        .iter()
        .find(|p| p.address == 0x4000_4400)
        .expect("USART2 SR is listed");
    assert!(
        !status.modeled && status.reads > 0 && status.peripheral == "unlisted",
        "{status:?}"
    );

    let strict = RunOptions {
        strict_peripherals: true,
        ..bounded
    };
    let r = mcubench::run::run_image(&image, &target, &strict).unwrap();
    let error = r
        .error
        .expect("strict mode stops at the first unmodeled register");
    assert!(
        error.contains("no model serves") && error.contains("0x4000440"),
        "{error}"
    );
}

#[test]
fn flash_accelerators_start_as_their_register_resets() {
    use mcubench::machine::starting_flash;
    use mcubench::target::Core;
    // FLASH_ACR resets to 0 on an STM32F4 (RM0090 3.9.1): no prefetch, no ART
    // caches; the wait states are those the target's clock needs.
    let f4 = starting_flash(&crate::target("stm32f407"), Core::CortexM4f);
    assert_eq!(
        (f4.wait_states, f4.prefetch, f4.icache, f4.dcache),
        (5, false, false, false)
    );
    // The STM32L4's resets with both caches on.
    let l4 = starting_flash(&crate::target("stm32l4r5"), Core::CortexM4f);
    assert!(l4.icache && l4.dcache && !l4.prefetch, "{l4:?}");
    // A Cortex-M7's caches are its L1, as the target describes them.
    let h7 = starting_flash(&crate::target("stm32h743"), Core::CortexM7f);
    assert!(h7.icache && h7.dcache, "{h7:?}");
}

#[test]
fn a_stack_past_the_linker_reservation_is_warned_about() {
    let r = run("stack_past_reserve.elf", "mps2-an386");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(r.stack_reserved_bytes, Some(1024));
    assert_eq!(
        r.warnings,
        [format!(
            "stack peak of {} B is past the 1024 B the image reserves for the stack",
            r.stack_peak_bytes
        )]
    );
    // The workloads' linker script reserves 8 KiB in a .stack section.
    let w = mcubench::run::run_image(
        &crate::root().join("workloads/prebuilt/cortex-m4f/kernel_selftest.elf"),
        &crate::target("stm32l4r5"),
        &mcubench::machine::RunOptions::default(),
    )
    .unwrap();
    assert_eq!(w.stack_reserved_bytes, Some(8192));
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    assert!(run("semihost.elf", "mps2-an386")
        .stack_reserved_bytes
        .is_none());
}

#[test]
fn ram_use_is_reported_per_region() {
    let r = run("semihost.elf", "stm32f407");
    let regions: Vec<(&str, u64, u64)> = r
        .ram_regions
        .iter()
        .map(|m| (m.name.as_str(), m.used_bytes, m.capacity_bytes))
        .collect();
    assert_eq!(
        regions,
        [("sram", r.ram_bytes, 0x2_0000), ("ccm", 0, 0x1_0000)]
    );
    assert_eq!(r.ram_capacity_bytes, 0x3_0000);
}
