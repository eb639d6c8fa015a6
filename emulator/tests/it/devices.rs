//! Device fixtures (emulator/tests/fixtures/devices): firmware that drives the
//! peripherals of real parts as vendor code does — RCC and flash bring-up,
//! SysTick and timer interrupts around WFI, output through USART, UARTE, CMSDK
//! UART, SEGGER RTT and the ITM — and bad inputs that must stop with a clear
//! error. The expected output of each is in that directory's README.

use mcubench::run::RunRecord;

use crate::run;

/// The lines, each ended by `\n`, as the firmware prints them.
fn lines(text: &[&str]) -> String {
    text.iter().map(|l| format!("{l}\n")).collect()
}

/// Asserts a clean exit with status 0 and exactly `want` on the console.
fn exits_cleanly_with(r: &RunRecord, want: &str) {
    assert!(
        r.error.is_none(),
        "error: {:?}\nstdout:\n{}",
        r.error,
        r.stdout
    );
    assert_eq!(r.stdout, want);
    assert_eq!(r.exit_code, Some(0), "stdout:\n{}", r.stdout);
}

/// Asserts the run stopped with an error naming every one of `needles`.
fn stops_with(r: &RunRecord, needles: &[&str]) -> String {
    let error = r
        .error
        .clone()
        .unwrap_or_else(|| panic!("no error; exit {:?}, stdout:\n{}", r.exit_code, r.stdout));
    for needle in needles {
        assert!(error.contains(needle), "`{needle}` missing from: {error}");
    }
    error
}

#[test]
fn cubemx_style_bring_up_reaches_168_mhz_and_drives_the_stm32f407_peripherals() {
    let r = run("devices/cubemx_f407.elf", "stm32f407");
    exits_cleanly_with(
        &r,
        &lines(&[
            "SystemCoreClock 168000000",
            "APB1 42000000 APB2 84000000",
            "IDCODE 0x413",
            "LED ODR 0xf000 0x0000",
            "CRC 0xdf8a8a2b PASS",
            "TIM6 10",
            "TIM6 vs SysTick PASS",
            "HAL_Delay 5",
            "done",
        ]),
    );
    // The run ends on the PLL at 168 MHz with the FLASH_ACR it wrote:
    // LATENCY 5, prefetch, instruction and data caches.
    let last = r.clocks.last().expect("a clock span");
    assert_eq!(last.hclk_hz, 168_000_000, "{:?}", r.clocks);
    assert_eq!(last.flash.wait_states, 5, "{:?}", r.clocks);
    assert!(
        last.flash.prefetch && last.flash.icache && last.flash.dcache,
        "{:?}",
        r.clocks
    );
}

#[test]
fn wfi_idle_does_one_slice_of_work_per_systick_and_sleeps_between() {
    let r = run("devices/wfi_idle_f407.elf", "stm32f407");
    exits_cleanly_with(&r, "ticks 100 work 100\n");
    let work = r
        .regions
        .iter()
        .find(|g| g.name == "tick_work")
        .expect("roi_tick_work is a region");
    assert_eq!(work.calls, 100);
    // 5600 passes of SUBS + taken BNE, 3 cycles each, and 5 wait states to
    // fetch the loop again (FLASH_ACR untouched: prefetch and ART off): about
    // 44800 per call.
    assert!(
        (4_300_000..=4_700_000).contains(&work.cycles),
        "{} cycles in 100 calls",
        work.cycles
    );
    // RCC untouched: one span at the target's 168 MHz.
    assert_eq!(r.clocks.len(), 1, "{:?}", r.clocks);
    assert_eq!(r.clocks[0].hclk_hz, 168_000_000);
    // About 73% asleep (README).
    let share = r.sleep_cycles as f64 / (r.cycles + r.sleep_cycles) as f64;
    assert!(
        (0.70..=0.76).contains(&share),
        "asleep {} of {} cycles",
        r.sleep_cycles,
        r.cycles + r.sleep_cycles
    );
}

#[test]
fn rtt_printf_blocks_on_a_full_up_buffer_until_the_host_drains_it() {
    let r = run("devices/rtt_printf.elf", "stm32f407");
    let want: String = (1..=40).map(|i| format!("rtt line {i}\n")).collect();
    exits_cleanly_with(&r, &want);
}

#[test]
fn rtt_output_is_found_without_the_control_block_symbol() {
    // The same firmware with its `_SEGGER_RTT` symbol renamed, as a build
    // that drops or mangles it would leave it: the host finds the control
    // block by its id in the image's RAM sections.
    let mut elf = std::fs::read(crate::fixture("devices/rtt_printf.elf")).unwrap();
    let name = b"_SEGGER_RTT\0";
    let at = elf
        .windows(name.len())
        .position(|w| w == name)
        .expect("the fixture names its control block");
    elf[at..at + name.len()].copy_from_slice(b"_SEGGER_XYZ\0");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtt_unnamed.elf");
    std::fs::write(&path, elf).unwrap();
    let image = mcubench::image::Image::load(&path).unwrap();
    assert_eq!(image.rtt_control_block, None);
    let r =
        mcubench::run::run_image(&path, &crate::target("stm32f407"), &Default::default()).unwrap();
    let want: String = (1..=40).map(|i| format!("rtt line {i}\n")).collect();
    exits_cleanly_with(&r, &want);
}

#[test]
fn itm_printf_writes_through_stimulus_port_0_as_if_a_probe_enabled_it() {
    let r = run("devices/itm_printf.elf", "stm32f407");
    exits_cleanly_with(&r, &lines(&["itm hello 42", "itm second line"]));
}

#[test]
fn cmsdk_uart_and_timer0_on_the_an385_end_with_semihosting_exit() {
    let r = run("devices/cmsdk_uart.elf", "mps2-an385");
    exits_cleanly_with(&r, &lines(&["cmsdk uart0 hello", "bauddiv 16", "timer 5"]));
    // Five 1 ms periods at 25 MHz, mostly in WFI.
    assert!(
        r.sleep_cycles > 100_000,
        "asleep {} cycles, awake {}",
        r.sleep_cycles,
        r.cycles
    );
}

#[test]
fn nrf_uarte_prints_by_easydma_and_rtc0_compares_wake_the_core() {
    let r = run("devices/nrf_uarte.elf", "nrf52840");
    exits_cleanly_with(&r, &lines(&["nrf uarte hello", "rtc 3"]));
    // Three compares 327 ticks of 32768 Hz apart: about 30 ms, 1.9 M cycles
    // at 64 MHz, spent in WFI.
    assert!(
        r.sleep_cycles > 1_500_000,
        "asleep {} cycles, awake {}",
        r.sleep_cycles,
        r.cycles
    );
}

#[test]
fn an_rtt_up_buffer_with_wroff_past_its_end_is_an_error() {
    let r = run("devices/bad_rtt_ring.elf", "stm32f407");
    stops_with(&r, &["RTT", "WrOff"]);
}

#[test]
fn a_byte_store_to_an_nrf_register_is_an_access_width_error() {
    let r = run("devices/bad_width_nrf.elf", "nrf52840");
    let error = stops_with(&r, &["UARTE0", "ENABLE"]);
    assert!(
        error.contains("width") || error.contains("1-byte"),
        "no access width in: {error}"
    );
    assert_eq!(r.exit_code, None);
}

#[test]
fn deep_sleep_set_for_standby_ends_the_run_naming_the_place() {
    let r = run("devices/bad_standby_l4r5.elf", "stm32l4r5");
    stops_with(&r, &["standby", "enter_standby", "resets the part"]);
    assert_eq!(r.exit_code, None);
}

#[test]
fn a_read_outside_every_region_and_the_peripheral_space_is_an_error() {
    let r = run("devices/bad_unmapped_periph.elf", "stm32f407");
    stops_with(&r, &["0x60000000"]);
    assert_eq!(r.stdout, "reading 0x60000000\n");
    assert_eq!(r.exit_code, None);
}

#[test]
fn h7_bring_up_reaches_400_mhz_on_pll1_with_the_l1_caches_on() {
    let r = run("devices/h7_bringup.elf", "stm32h743");
    exits_cleanly_with(
        &r,
        &lines(&[
            "SystemCoreClock 400000000",
            "HCLK 200000000 APB1 100000000",
            "L1 I-cache on D-cache on",
            "done",
        ]),
    );
    // The run ends on PLL1 at 400 MHz (HSE 8 MHz / 4 x 400 / 2), with the
    // Cortex-M7 L1 caches that CCR.IC and CCR.DC turned on.
    let last = r.clocks.last().expect("a clock span");
    assert_eq!(last.hclk_hz, 400_000_000, "{:?}", r.clocks);
    assert!(last.flash.icache && last.flash.dcache, "{:?}", r.clocks);
    // FLASH_ACR LATENCY 2 at AXI = 200 MHz: 3 AXI cycles = 6 core cycles a
    // read, 5 wait states in core cycles (targets/stm32h743.toml [flash]).
    assert_eq!(last.flash.wait_states, 5, "{:?}", r.clocks);
}

#[test]
fn tickless_idle_keeps_its_tick_count_through_countflag() {
    let r = run("devices/tickless_f407.elf", "stm32f407");
    // Every sleep ends on its long tick, and the count the firmware keeps
    // matches the modeled time: 100 ticks of 1 ms.
    exits_cleanly_with(&r, "ticks 100 woken by the tick 10\n");
    let ms = (r.cycles + r.sleep_cycles) as f64 / 168_000.0;
    assert!((100.0..100.5).contains(&ms), "{ms} ms");
}

#[test]
fn l4_bring_up_goes_from_msi_to_120_mhz_in_range_1_boost() {
    let r = run("devices/l4_bringup.elf", "stm32l4r5");
    exits_cleanly_with(
        &r,
        &lines(&[
            "SystemCoreClock 120000000",
            "PCLK1 120000000",
            "range 1 boost, flash latency 5",
            "done",
        ]),
    );
    // MSI 4 MHz / 1 x 60 / 2 on the main PLL, AHB back at /1 after the
    // switch at /2: the run ends at 120 MHz with the 5 wait states it wrote.
    let last = r.clocks.last().expect("a clock span");
    assert_eq!(last.hclk_hz, 120_000_000, "{:?}", r.clocks);
    assert_eq!(last.flash.wait_states, 5, "{:?}", r.clocks);
    // The switch happened with HCLK at /2: a 60 MHz span precedes the last.
    assert!(
        r.clocks.iter().any(|s| s.hclk_hz == 60_000_000),
        "{:?}",
        r.clocks
    );
    // The cycles before 120 MHz draw the run current of their own clocks,
    // higher per MHz (static current) than at 120 MHz: without the run
    // curve the same run costs less, cycle for cycle.
    let mut flat = crate::target("stm32l4r5");
    flat.energy.run_curve.clear();
    let fixture = crate::fixture("devices/l4_bringup.elf");
    let without = mcubench::run::run_image(&fixture, &flat, &Default::default()).unwrap();
    assert_eq!(without.cycles, r.cycles);
    assert!(
        r.energy_uj > without.energy_uj * 1.0001,
        "{} against {} uJ",
        r.energy_uj,
        without.energy_uj
    );
}

#[test]
fn sleep_on_exit_runs_everything_in_the_timer0_handler_and_sleeps_between() {
    let r = run("devices/sleep_on_exit.elf", "mps2-an385");
    // "thread resumed 0": with SCR.SLEEPONEXIT main never runs again after
    // its WFI (QEMU 7.2, which does not sleep on exit, prints 1; README).
    exits_cleanly_with(
        &r,
        &lines(&[
            "sleep-on-exit: work in TIMER0 interrupts",
            "irqs 20 work 20 thread resumed 0",
        ]),
    );
    let work = r
        .regions
        .iter()
        .find(|g| g.name == "isr_work")
        .expect("roi_isr_work is a region");
    assert_eq!(work.calls, 20);
    // 833 passes of SUBS + taken BNE, 3 cycles each: about 2500 per call.
    assert!(
        (45_000..=55_000).contains(&work.cycles),
        "{} cycles in 20 calls",
        work.cycles
    );
    // README: asleep 89.8% of each 25000-cycle period (2539 awake), 88.6% of
    // the whole run once start-up and the two printf lines (about 10k cycles
    // awake) are counted. 86% still holds if the UART were paced at its
    // programmed 1.5625 Mbaud (about 12k more cycles); above 91% the
    // handler's work would be charged at least 10% short.
    let share = r.sleep_cycles as f64 / (r.cycles + r.sleep_cycles) as f64;
    assert!(
        (0.86..=0.91).contains(&share),
        "asleep {} of {} cycles",
        r.sleep_cycles,
        r.cycles + r.sleep_cycles
    );
}

#[test]
fn f7_l1_caches_make_the_flash_table_loop_faster() {
    let r = run("devices/f7_caches.elf", "stm32f746");
    assert!(
        r.error.is_none(),
        "error: {:?}\nstdout:\n{}",
        r.error,
        r.stdout
    );
    assert!(r.stdout.contains("faster ok\n"), "stdout:\n{}", r.stdout);
    // Both runs sum the same table (4 passes over 256 words i x 0x9E3779B1,
    // each rotated left by i mod 32).
    assert!(
        r.stdout.contains("sum 0xb46ab88c 0xb46ab88c\n"),
        "stdout:\n{}",
        r.stdout
    );
    assert_eq!(r.exit_code, Some(0), "stdout:\n{}", r.stdout);
    // CCR decides: the uncached run is in a span with both L1 caches off,
    // and the run ends with both on; the clock is the target's throughout.
    assert!(
        r.clocks.iter().any(|s| !s.flash.icache && !s.flash.dcache),
        "{:?}",
        r.clocks
    );
    let last = r.clocks.last().expect("a clock span");
    assert!(last.flash.icache && last.flash.dcache, "{:?}", r.clocks);
    assert!(
        r.clocks.iter().all(|s| s.hclk_hz == 216_000_000),
        "{:?}",
        r.clocks
    );
}

/// The relative difference of two figures computed along different paths.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// An STM32H7 in Stop draws what its Stop voltage scale and flash mode
/// (PWR_CR1 SVOS, FLPS) draw: here SVOS5 with the flash in low-power mode.
#[test]
fn h7_stop_is_charged_at_the_voltage_scale_the_firmware_set() {
    let r = run("devices/rtc_stop_h743.elf", "stm32h743");
    exits_cleanly_with(&r, &lines(&["wakeups 3 at 12:00:03"]));
    assert_eq!(r.deep_sleep_cycles, r.sleep_cycles);
    assert_eq!(r.deep_sleep_wakeups, 3);
    // STM32H753 Table 25: 1.4 mA at SVOS5 with the flash in low-power mode,
    // at 3.3 V; Table 30: 38 us to wake, at the run current (278 uA/MHz at
    // 480 MHz) in place of the stop current.
    assert!(close(
        r.sleep_energy_uj,
        r.sleep_time_us * 1e-6 * 1400.0 * 3.3
    ));
    let wakeup_uw = 3.3 * 278.0 * 480.0 - 3.3 * 1400.0;
    assert!(close(r.wakeup_energy_uj, 3.0 * 38.0 * wakeup_uw * 1e-6));
}

#[test]
fn rtc_paced_firmware_is_charged_for_the_stop_mode_it_chose() {
    let r = run("devices/rtc_stop_l4r5.elf", "stm32l4r5");
    // The calendar set to 12:00:00 reads five seconds later after five
    // wake-ups of the 1 Hz timer. SysTick, left running at 1 kHz, stops with
    // the core clock in Stop mode: it counts the 15 ms awake and wakes
    // nothing. Each wake-up starts on MSI, the PLL having stopped.
    exits_cleanly_with(
        &r,
        &lines(&[
            "wakeups 5 inferences 5 at 2026-11-30 12:00:05",
            "ticks awake 15",
            "woke on MSI 5",
        ]),
    );
    assert!(
        r.clocks.iter().any(|s| s.hclk_hz == 4_000_000),
        "{:?}",
        r.clocks
    );
    let inference = &r.regions[0];
    assert_eq!((inference.name.as_str(), inference.calls), ("inference", 5));
    // 120000 passes of SUBS + taken BNE, 3 cycles each: 360000 per call.
    assert!(
        (1_800_000..=1_801_000).contains(&inference.cycles),
        "{} cycles in 5 calls",
        inference.cycles
    );
    assert_eq!(r.deep_sleep_cycles, r.sleep_cycles);
    assert_eq!(r.deep_sleep_wakeups, 5);
    // Five seconds of 120 MHz cycles, the last inference and the print after
    // the fifth wake-up included.
    let span = r.cycles + r.sleep_cycles;
    assert!(
        (600_000_000..600_000_000 + 2_000_000).contains(&span),
        "{span} cycles"
    );
    // Asleep in Stop 2 (PWR_CR1.LPMS = 010) at 3.18 uA and 3.0 V, and each
    // wake-up 8.9 us at the run current (201 uA/MHz x 120 MHz) in place of
    // the stop current, as the target file says.
    assert!(close(
        r.sleep_energy_uj,
        r.sleep_time_us * 1e-6 * 3.18 * 3.0
    ));
    let wakeup_uw = 3.0 * 201.0 * 120.0 - 3.0 * 3.18;
    assert!(close(r.wakeup_energy_uj, 5.0 * 8.9 * wakeup_uw * 1e-6));
    // The firmware's own cycle: the run averaged, one period per inference.
    let own = r.own_duty_cycle(Some(220.0)).expect("the firmware slept");
    assert!(close(own.period_ms, r.time_us / 1000.0 / 5.0));
    assert!(close(own.avg_power_mw, r.energy_uj / r.time_us * 1000.0));
    assert!(close(own.avg_current_ma, own.avg_power_mw / 3.0));
    assert!(close(
        own.battery_life_h.unwrap(),
        220.0 / own.avg_current_ma
    ));
    assert_eq!(
        r.firmware_duty_cycle.as_ref().map(|d| d.period_ms),
        Some(own.period_ms)
    );
    // 3 ms awake in each second: about 0.22 mW.
    assert!((0.20..0.25).contains(&own.avg_power_mw), "{own:?}");
}
