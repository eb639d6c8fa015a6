//! One run of one image on one target, turned from raw integer counters into
//! the figures users read: time at the clock, energy from the target's energy
//! model, memory, regions of interest and the function profile.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::demangle;
use crate::image::{Image, ImageError};
use crate::machine::bus::RegisterAccess;
use crate::machine::clock::ClockSpan;
use crate::machine::{DeepSleep, Execution, Failure, Machine, RunOptions, WINDOW_REGION};
use crate::marks::Marks;
use crate::target::{MemoryKind, Target};
use crate::trace::Trace;
use mcubench_reports::results::{
    Host, MarkedRegion, PerCall, ProfileEntry, Region, StackSample, Tool,
};

/// Memory kinds counted as RAM.
const RAM_KINDS: [MemoryKind; 3] = [MemoryKind::Sram, MemoryKind::Tcm, MemoryKind::Ccm];

/// Functions whose names start with this are regions of interest; for a
/// Rust or C++ name, its last path segment (`firmware::roi_infer`).
pub const REGION_PREFIX: &str = "roi_";

/// The result of running one image on one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The program that made the record (`compare` warns when two differ).
    pub tool: Tool,
    /// The image file.
    pub image: String,
    /// SHA-256 of the image, lowercase hex.
    pub image_sha256: String,
    /// Target name.
    pub target: String,
    /// SHA-256 of the target file, lowercase hex.
    pub target_sha256: String,
    /// Core name.
    pub core: String,
    /// Clock in MHz.
    pub clock_mhz: f64,
    /// Supply voltage the energy figures are at, in V.
    pub vdd_v: f64,
    /// Flash wait states at that clock.
    pub wait_states: u32,
    /// One call of each region the firmware marked and called (one inference,
    /// one training step): the figures a workload is judged by, ahead of the
    /// whole-run totals below.
    pub per_call: Vec<PerCall>,
    /// Modeled cycles the core was awake.
    pub cycles: u64,
    /// Cycles asleep in WFI/WFE or sleep-on-exit (deep sleep included).
    pub sleep_cycles: u64,
    /// Cycles in deep sleep (SCR.SLEEPDEEP), charged at the stop-mode current.
    pub deep_sleep_cycles: u64,
    /// Times the core woke from deep sleep.
    pub deep_sleep_wakeups: u64,
    /// Executed instructions.
    pub instructions: u64,
    /// Cycles per instruction.
    pub cpi: f64,
    /// Time from reset to the end, awake and asleep, each clock span at its clock, in µs.
    pub time_us: f64,
    /// Of that, the time awake, in µs.
    pub active_time_us: f64,
    /// Of that, the time asleep, in µs.
    pub sleep_time_us: f64,
    /// Energy, awake and asleep, in µJ.
    pub energy_uj: f64,
    /// Of that, the energy asleep, in µJ.
    pub sleep_energy_uj: f64,
    /// Of that, the energy of waking from deep sleep (the target's
    /// `stop_wakeup_us` at the run current, each time), in µJ.
    pub wakeup_energy_uj: f64,
    /// Average power over the run, in mW.
    pub avg_power_mw: f64,
    /// Cycles lost to flash wait states.
    pub flash_stall_cycles: u64,
    /// Energy spent programming and erasing flash, in µJ (included in `energy_uj`).
    pub flash_program_uj: f64,
    /// Deepest stack use, in bytes.
    pub stack_peak_bytes: u64,
    /// Stack the image's linker script reserves, in bytes, where it says.
    pub stack_reserved_bytes: Option<u64>,
    /// Most heap held through `_sbrk`, in bytes; `None` without `_sbrk`.
    pub heap_peak_bytes: Option<u64>,
    /// Flash the image occupies, in bytes.
    pub flash_bytes: u64,
    /// RAM the image reserves, in bytes.
    pub ram_bytes: u64,
    /// Flash the target has, in bytes.
    pub flash_capacity_bytes: u64,
    /// RAM the target has, in bytes.
    pub ram_capacity_bytes: u64,
    /// RAM use per memory region of the target (SRAM, TCM, CCM apart: a full
    /// SRAM does not hide behind an empty CCM).
    pub ram_regions: Vec<RamRegion>,
    /// Exit status the firmware reported; `None` when it did not exit.
    pub exit_code: Option<i32>,
    /// Why it did not exit normally.
    pub error: Option<String>,
    /// Figures past a limit the image or target sets, which silicon may not survive.
    pub warnings: Vec<String>,
    /// A fault the firmware's own handler took over.
    pub handled_fault: Option<String>,
    /// What the firmware printed (semihosting, UART, RTT, ITM), in order.
    pub stdout: String,
    /// The core clock and flash settings in force, and for how many cycles:
    /// one span unless the firmware programmed its clock tree or FLASH_ACR.
    pub clocks: Vec<ClockSpan>,
    /// Every peripheral register the firmware touched, with read and write counts.
    pub peripherals: Vec<RegisterAccess>,
    /// Regions of interest.
    pub regions: Vec<Region>,
    /// Regions the firmware marked (`mb_region_begin`): a model's layers.
    pub marked_regions: Vec<MarkedRegion>,
    /// Per-function figures, most self cycles first.
    pub profile: Vec<ProfileEntry>,
    /// Folded call stacks with self cycles.
    pub stacks: Vec<StackSample>,
    /// The average draw at a duty cycle, when one was asked for.
    pub duty_cycle: Option<DutyCycle>,
    /// The average draw over the firmware's own cycle of work and sleep, when
    /// it slept: the whole run averaged, its period the run's time over the
    /// calls of its first region.
    pub firmware_duty_cycle: Option<DutyCycle>,
    /// Host figures (never compared or gated).
    pub host: Host,
    /// Block counts for re-pricing, when recorded.
    #[serde(skip)]
    pub trace: Option<Trace>,
}

/// What an image reserves in one RAM region of the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RamRegion {
    /// The target's name for the region.
    pub name: String,
    /// Bytes of the image's writable sections that start in it.
    pub used_bytes: u64,
    /// Its size in bytes.
    pub capacity_bytes: u64,
}

/// The run repeated once per period with the part asleep in between: what a
/// battery-powered device doing this work on a schedule draws on average.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyCycle {
    /// The period, in ms.
    pub period_ms: f64,
    /// Average power over a period, in mW.
    pub avg_power_mw: f64,
    /// Average supply current over a period, in mA.
    pub avg_current_ma: f64,
    /// Hours a battery of the given capacity lasts at that current.
    pub battery_life_h: Option<f64>,
}

/// Why a duty cycle cannot be computed.
#[derive(Debug, thiserror::Error)]
#[error("a period of {period_ms} ms is shorter than the run's {active_ms} ms")]
pub struct DutyCycleError {
    /// The period asked for.
    pub period_ms: f64,
    /// The run's active time.
    pub active_ms: f64,
}

impl RunRecord {
    /// The average draw when this run repeats every `period_ms` with the part
    /// in its lowest retention mode in between (I_avg = Σ I·t / T), and the
    /// life of a `battery_mah` battery at that draw.
    pub fn at_period(
        &self,
        target: &Target,
        period_ms: f64,
        battery_mah: Option<f64>,
    ) -> Result<DutyCycle, DutyCycleError> {
        let active_ms = self.time_us / 1000.0;
        if !(period_ms >= active_ms && period_ms > 0.0) {
            return Err(DutyCycleError {
                period_ms,
                active_ms,
            });
        }
        // V × µA = µW; µW × ms = nJ; / 1000 for µJ.
        let sleep_uj =
            target.energy.vdd_v * target.energy.sleep_ua * (period_ms - active_ms) / 1000.0;
        let avg_power_mw = (self.energy_uj + sleep_uj) / period_ms;
        let avg_current_ma = avg_power_mw / target.energy.vdd_v;
        Ok(DutyCycle {
            period_ms,
            avg_power_mw,
            avg_current_ma,
            battery_life_h: battery_mah.map(|mah| mah / avg_current_ma),
        })
    }

    /// The average draw over the run as the firmware paced it, when it slept
    /// (I_avg = E / (Vdd × T) over reset to exit), and the life of a
    /// `battery_mah` battery at that draw. One period is the run's time over
    /// the calls of its first region (one inference and the sleep after it);
    /// without a region the whole run is one period.
    pub fn own_duty_cycle(&self, battery_mah: Option<f64>) -> Option<DutyCycle> {
        if self.sleep_time_us <= 0.0 || self.time_us <= 0.0 {
            return None;
        }
        let periods = self
            .regions
            .iter()
            .find(|r| r.calls > 0)
            .map_or(1, |r| r.calls);
        let avg_power_mw = self.energy_uj / self.time_us * 1000.0;
        let avg_current_ma = avg_power_mw / self.vdd_v;
        Some(DutyCycle {
            period_ms: self.time_us / 1000.0 / periods as f64,
            avg_power_mw,
            avg_current_ma,
            battery_life_h: battery_mah.map(|mah| mah / avg_current_ma),
        })
    }

    /// Whether the firmware exited with status 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && self.error.is_none()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The image is unreadable, malformed or does not fit.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The machine could not be built.
    #[error("{path}: {failure}")]
    Machine {
        /// The image file.
        path: String,
        /// What failed.
        failure: Failure,
    },
}

/// Loads, checks and runs an image.
pub fn run_image(
    path: &Path,
    target: &Target,
    options: &RunOptions,
) -> Result<RunRecord, RunError> {
    let image = Arc::new(Image::load(path)?);
    run_loaded(image, target, options)
}

/// Runs an already loaded image.
pub fn run_loaded(
    image: Arc<Image>,
    target: &Target,
    options: &RunOptions,
) -> Result<RunRecord, RunError> {
    image.check_fits(target)?;
    let mut options = options.clone();
    if options.cmdline.is_empty() {
        // The firmware's argv[0], as a host shell would pass it.
        options.cmdline = image
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    let machine =
        Machine::new(target, image.clone(), options).map_err(|failure| RunError::Machine {
            path: image.path.display().to_string(),
            failure,
        })?;
    let mut execution = machine.run();
    if let Some(trace) = &mut execution.trace {
        trace.image = image.path.display().to_string();
        trace.image_sha256 = image.sha256.clone();
        trace.target = target.name.clone();
        trace.layout = image.layout();
    }
    Ok(record(&image, target, execution))
}

/// A stack past the linker's reservation runs into the heap or static data
/// on silicon, where nothing traps it; unbalanced region markers leave
/// figures that mean less than they seem.
fn warnings(image: &Image, execution: &Execution) -> Vec<String> {
    let stack_peak_bytes = execution.stack_peak_bytes;
    let stack = match image.stack_reserved {
        Some(reserved) if stack_peak_bytes > u64::from(reserved) => Some(format!(
            "stack peak of {stack_peak_bytes} B is past the {reserved} B the image reserves for the stack"
        )),
        _ => None,
    };
    stack
        .into_iter()
        .chain(execution.marks.warnings().iter().cloned())
        .collect()
}

/// One call of the work the console window measured (`run --window`), if
/// a window closed.
fn window_per_call(marked: &[MarkedRegion]) -> Option<PerCall> {
    let window = marked.iter().find(|m| m.name == WINDOW_REGION)?;
    PerCall::over(
        &window.name,
        window.calls,
        window.cycles,
        window.time_us,
        window.energy_uj,
    )
}

/// The marked regions with their figures; shares are of the outermost
/// regions' cycles, so nested ones do not count twice.
fn marked_regions(
    marks: &Marks,
    us: impl Fn(u64) -> f64,
    uj: impl Fn(u64) -> f64,
) -> Vec<MarkedRegion> {
    let outermost: u64 = marks
        .totals()
        .iter()
        .filter(|m| m.depth == 0)
        .map(|m| m.cycles)
        .sum();
    marks
        .totals()
        .iter()
        .map(|m| MarkedRegion {
            name: m.name.clone(),
            depth: m.depth,
            calls: m.calls,
            cycles: m.cycles,
            time_us: us(m.cycles),
            energy_uj: uj(m.weighted),
            macs: m.macs,
            cycles_per_mac: (m.macs > 0 && m.calls > 0)
                .then(|| m.cycles as f64 / m.calls as f64 / m.macs as f64),
            share: if outermost > 0 {
                m.cycles as f64 / outermost as f64
            } else {
                0.0
            },
        })
        .collect()
}

fn record(image: &Image, target: &Target, execution: Execution) -> RunRecord {
    let clock_mhz = target.clock_mhz;
    let us = |cycles: u64| cycles as f64 / clock_mhz;
    // Energy per active cycle: Vdd × I_run/f, with I/f in µA/MHz giving pJ per
    // cycle (V × µA/MHz = pJ); weights are thousandths of a cycle.
    let pj_per_cycle = target.energy.run_pj_per_cycle();
    let uj = |weighted: u64| weighted as f64 / 1000.0 * pj_per_cycle * 1e-6;
    let flash_program_uj = execution.flash_program_pj as f64 * 1e-6;
    let time_us = execution.time_us;
    let sleep_time_us = execution.sleep_us;
    // Sleep: V × µA/MHz per cycle (pJ) while the clocks run, V × µA × s in
    // the stop mode the firmware chose, and its wake-ups.
    let light_sleep = execution.sleep_cycles - execution.deep_sleep_cycles;
    let mut sleep_energy_uj = light_sleep as f64 * target.energy.sleep_mode_pj_per_cycle() * 1e-6;
    let mut wakeup_energy_uj = 0.0;
    for DeepSleep {
        mode, us, wakeups, ..
    } in &execution.deep_sleep_modes
    {
        let figures = target.energy.in_mode(*mode);
        sleep_energy_uj += us * 1e-6 * figures.stop_uw();
        wakeup_energy_uj += figures.wakeup_uj(*wakeups, clock_mhz);
    }
    let energy_uj =
        uj(execution.weighted_cycles) + flash_program_uj + sleep_energy_uj + wakeup_energy_uj;
    let profile = execution.profiler.functions(&image.symbols);
    let marked_regions = marked_regions(&execution.marks, us, uj);
    let regions: Vec<Region> = image
        .symbols
        .functions()
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let name = demangle::leaf(&f.name).strip_prefix(REGION_PREFIX)?;
            let (cycles, weighted, calls) = execution.profiler.totals(i);
            (calls > 0).then(|| Region {
                name: name.to_owned(),
                calls,
                cycles,
                time_us: us(cycles),
                energy_uj: uj(weighted),
            })
        })
        .collect();
    let wall_s = execution.wall.as_secs_f64();
    let mut record = RunRecord {
        tool: Tool {
            name: "mcubench".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        image: image.path.display().to_string(),
        image_sha256: image.sha256.clone(),
        target: target.name.clone(),
        target_sha256: target.sha256.clone(),
        core: target.core.name().to_owned(),
        clock_mhz,
        vdd_v: target.energy.vdd_v,
        wait_states: target.wait_states(),
        per_call: (regions.iter().filter_map(PerCall::of))
            .chain(window_per_call(&marked_regions))
            .collect(),
        cycles: execution.cycles,
        sleep_cycles: execution.sleep_cycles,
        deep_sleep_cycles: execution.deep_sleep_cycles,
        deep_sleep_wakeups: execution.deep_sleep_wakeups,
        instructions: execution.instructions,
        cpi: if execution.instructions > 0 {
            execution.cycles as f64 / execution.instructions as f64
        } else {
            0.0
        },
        time_us,
        active_time_us: time_us - sleep_time_us,
        sleep_time_us,
        energy_uj,
        sleep_energy_uj,
        wakeup_energy_uj,
        avg_power_mw: if time_us > 0.0 {
            energy_uj / time_us * 1000.0
        } else {
            0.0
        },
        flash_stall_cycles: execution.flash_stall_cycles,
        flash_program_uj,
        stack_peak_bytes: execution.stack_peak_bytes,
        stack_reserved_bytes: image.stack_reserved.map(u64::from),
        heap_peak_bytes: execution.heap_peak_bytes,
        flash_bytes: image.flash_bytes,
        ram_bytes: image.ram_bytes,
        flash_capacity_bytes: target.capacity(&[MemoryKind::Flash]),
        ram_capacity_bytes: target.capacity(&RAM_KINDS),
        ram_regions: target
            .memory
            .iter()
            .filter(|m| RAM_KINDS.contains(&m.kind))
            .map(|m| RamRegion {
                name: m.name.clone(),
                used_bytes: image
                    .ram_sections
                    .iter()
                    .filter(|&&(addr, _)| m.bases().any(|b| (b..=b + (m.size - 1)).contains(&addr)))
                    .map(|&(_, size)| size)
                    .sum(),
                capacity_bytes: u64::from(m.size),
            })
            .collect(),
        exit_code: execution.exit_code,
        warnings: warnings(image, &execution),
        marked_regions,
        error: execution
            .failure
            .map(|f| format!("{}: {f}", image.path.display())),
        handled_fault: execution.handled_fault,
        stdout: String::from_utf8_lossy(&execution.stdout).into_owned(),
        clocks: execution.clock_spans,
        peripherals: execution.peripheral_accesses,
        regions,
        profile,
        stacks: execution.profiler.stacks(&image.symbols),
        duty_cycle: None,
        firmware_duty_cycle: None,
        host: Host {
            wall_ms: wall_s * 1000.0,
            mips: if wall_s > 0.0 {
                execution.instructions as f64 / wall_s / 1e6
            } else {
                0.0
            },
        },
        trace: execution.trace,
    };
    record.firmware_duty_cycle = record.own_duty_cycle(None);
    record
}
