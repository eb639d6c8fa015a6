//! Targets are data: one TOML file per MCU under `targets/`, deserialized into
//! these structs and checked once by named validations before anything runs.
//!
//! A target says which core executes the firmware, at what clock, which memory
//! regions exist, what the flash costs to read (wait states, prefetch, caches)
//! and to program, and what the part draws per MHz. The field meanings and
//! units are documented in `targets/README.md`.

use std::path::{Path, PathBuf};

use mcubench_reports::input::read_text;

use serde::Deserialize;

/// The processor core of a target, which selects the CPU model and the cost model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Core {
    /// ARMv7-M, no DSP extension, no FPU.
    CortexM3,
    /// ARMv7E-M without an FPU.
    CortexM4,
    /// ARMv7E-M with the single-precision FPv4-SP.
    CortexM4f,
    /// ARMv7E-M dual-issue core without an FPU.
    CortexM7,
    /// ARMv7E-M dual-issue core with an FPv5 FPU.
    CortexM7f,
}

/// On a command line, a core is spelled as in target files.
impl clap::ValueEnum for Core {
    fn value_variants<'a>() -> &'a [Self] {
        &Core::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

impl Core {
    /// Every core, in the order users see them listed.
    pub const ALL: [Core; 5] = [
        Core::CortexM3,
        Core::CortexM4,
        Core::CortexM4f,
        Core::CortexM7,
        Core::CortexM7f,
    ];

    /// The name used in target files, manifests and results.
    pub fn name(self) -> &'static str {
        match self {
            Core::CortexM3 => "cortex-m3",
            Core::CortexM4 => "cortex-m4",
            Core::CortexM4f => "cortex-m4f",
            Core::CortexM7 => "cortex-m7",
            Core::CortexM7f => "cortex-m7f",
        }
    }

    /// Parses a core name as written in target files.
    pub fn from_name(name: &str) -> Option<Core> {
        Core::ALL.into_iter().find(|core| core.name() == name)
    }

    /// Whether the core is a Cortex-M7 (dual issue, L1 caches, no bit-band).
    pub fn is_m7(self) -> bool {
        matches!(self, Core::CortexM7 | Core::CortexM7f)
    }

    /// Whether the core has a floating-point unit.
    pub fn has_fpu(self) -> bool {
        matches!(self, Core::CortexM4f | Core::CortexM7f)
    }

    /// Whether the core implements the DSP extension (SIMD, saturating, SMLAD...).
    pub fn has_dsp(self) -> bool {
        !matches!(self, Core::CortexM3)
    }

    /// Whether an image built for `image_core` runs on this core unchanged.
    pub fn runs_image_for(self, image_core: Core) -> bool {
        let rank = |core: Core| match core {
            Core::CortexM3 => 0,
            Core::CortexM4 | Core::CortexM7 => 1,
            Core::CortexM4f | Core::CortexM7f => 2,
        };
        rank(image_core) <= rank(self) && (image_core.has_fpu() <= self.has_fpu())
    }
}

impl std::fmt::Display for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of memory a region is; it decides its timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryKind {
    /// Embedded flash: read through wait states, prefetch and caches.
    Flash,
    /// On-chip SRAM: zero wait states.
    Sram,
    /// Tightly coupled memory of a Cortex-M7: zero wait states.
    Tcm,
    /// Core-coupled memory of STM32F4 parts: zero wait states, data only.
    Ccm,
}

/// Access rights of a region, as the firmware sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Read only.
    R,
    /// Read and write.
    Rw,
    /// Read and execute.
    Rx,
    /// Read, write and execute.
    Rwx,
}

impl Access {
    /// Whether the firmware may write the region with plain stores.
    pub fn writable(self) -> bool {
        matches!(self, Access::Rw | Access::Rwx)
    }

    /// Whether code may be fetched from the region.
    pub fn executable(self) -> bool {
        matches!(self, Access::Rx | Access::Rwx)
    }
}

/// One memory region of the target's address map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRegion {
    /// Name shown in reports, e.g. `flash`, `dtcm`.
    pub name: String,
    /// Kind of memory, which decides its timing.
    pub kind: MemoryKind,
    /// First address.
    pub base: u32,
    /// Size in bytes.
    pub size: u32,
    /// Access rights.
    pub access: Access,
    /// Other addresses at which the same contents are visible (boot remap).
    #[serde(default)]
    pub aliases: Vec<u32>,
    /// Run current with code fetched from this region, as a fraction of
    /// `energy.run_ua_per_mhz` (a figure for code in flash); 1 when absent.
    #[serde(default)]
    pub code_current: Option<f64>,
}

impl MemoryRegion {
    /// [`Self::code_current`] in thousandths, the unit block energies use.
    pub fn code_current_permille(&self) -> u64 {
        self.code_current
            .map_or(1000, |c| (c * 1000.0).round() as u64)
    }

    /// One past the last address, as u64 so a region ending at 4 GiB is expressible.
    pub fn end(&self) -> u64 {
        u64::from(self.base) + u64::from(self.size)
    }

    /// Every base address at which this region is visible: its own and its aliases.
    pub fn bases(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.base).chain(self.aliases.iter().copied())
    }

    /// Whether `[addr, addr + len)` lies in this region at any of its bases.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        self.bases().any(|base| {
            addr >= u64::from(base) && addr + len <= u64::from(base) + u64::from(self.size)
        })
    }
}

/// One step of the flash wait-state table.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStateStep {
    /// Highest clock in MHz at which `ws` wait states suffice.
    pub max_mhz: f64,
    /// Wait states needed up to that clock.
    pub ws: u32,
}

/// Geometry of a cache in front of flash.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheGeometry {
    /// Number of lines.
    pub lines: u32,
    /// Bytes per line.
    pub line_bytes: u32,
    /// Associativity.
    pub ways: u32,
}

/// How reading the flash costs time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashTiming {
    /// Wait states by clock, ascending.
    pub wait_states: Vec<WaitStateStep>,
    /// Bytes one flash read delivers.
    pub line_bytes: u32,
    /// Whether sequential instruction fetches are prefetched.
    pub prefetch: bool,
    /// Instruction cache in front of flash fetches.
    pub icache: Option<CacheGeometry>,
    /// Data cache in front of flash data reads.
    pub dcache: Option<CacheGeometry>,
    /// Where these figures come from.
    pub source: String,
}

/// The flash controller register interface that mcubench emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashController {
    /// No controller is emulated: the firmware cannot program flash.
    None,
    /// The STM32F4/F7 FLASH interface (KEYR, SR, CR).
    Stm32f4,
}

/// Sector erase time for one sector size.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseTime {
    /// Sector size in KiB.
    pub sector_kib: u32,
    /// Typical erase time in milliseconds.
    pub ms: f64,
}

/// What programming and erasing the flash costs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashProgram {
    /// Register interface emulated for the firmware.
    pub controller: FlashController,
    /// Base address of that interface.
    pub controller_base: Option<u32>,
    /// Erase units in KiB, in order from the flash base.
    pub sector_kib: Vec<u32>,
    /// Bytes programmed at once.
    pub write_unit_bytes: u32,
    /// Typical time to program one write unit, in microseconds.
    pub write_us: f64,
    /// Typical erase time by sector size.
    pub erase_ms: Vec<EraseTime>,
    /// Supply current while programming or erasing, in mA.
    pub current_ma: Option<f64>,
    /// Where these figures come from.
    pub source: String,
}

/// How the part makes its core supply from Vdd, which decides how the supply
/// current follows Vdd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Regulator {
    /// A linear regulator: the supply current is the core's current plus a small
    /// quiescent current, whatever Vdd is, so power grows with Vdd.
    Ldo,
    /// A step-down converter: it delivers the core's power at the core voltage
    /// with a roughly constant efficiency, so the supply power stays the same
    /// and the supply current falls as Vdd rises.
    Smps,
}

impl std::fmt::Display for Regulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Regulator::Ldo => "LDO",
            Regulator::Smps => "SMPS",
        })
    }
}

/// Electrical figures the energy model needs. Currents are supply currents at
/// `vdd_v`, as the datasheet gives them; [`EnergyFigures::at_vdd`] moves them
/// to another supply by the regulator's rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyFigures {
    /// Supply voltage in volts.
    pub vdd_v: f64,
    /// The supply range the part is specified for, in volts.
    pub vdd_range_v: [f64; 2],
    /// How the core supply is made.
    pub regulator: Regulator,
    /// Run-mode current per MHz with code in flash at the target's clock, in
    /// µA/MHz.
    pub run_ua_per_mhz: f64,
    /// How the run current follows the clock: the datasheet's run-mode
    /// currents at several clocks, by voltage range. Only their shape is
    /// used; `run_ua_per_mhz` sets the level. Empty: the current per MHz
    /// is the same at every clock.
    #[serde(default)]
    pub run_curve: Vec<RunPoint>,
    /// Where `run_curve` comes from; required with a curve.
    #[serde(default)]
    pub run_curve_source: Option<String>,
    /// Current in the lowest retention mode, in µA.
    pub sleep_ua: f64,
    /// Current with the core halted in WFI/WFE and the clocks running (Sleep
    /// mode, the peripherals the run current counts), per MHz of the core
    /// clock, in µA/MHz.
    pub sleep_mode_ua_per_mhz: f64,
    /// Current in deep sleep (SCR.SLEEPDEEP: the part's Stop mode), in µA.
    pub stop_ua: f64,
    /// Time from a wake-up event in deep sleep to the first instruction, in µs;
    /// charged at the run current. `None` where the datasheet figure is missing.
    #[serde(default)]
    pub stop_wakeup_us: Option<f64>,
    /// Deep-sleep currents and wake-up times by the low-power mode the
    /// firmware chose (the power controller's setting, e.g. Stop 0/1/2 on
    /// the STM32L4). A mode not listed draws `stop_ua`.
    #[serde(default)]
    pub stop_modes: Vec<StopMode>,
    /// Where the sleep-mode, stop and wake-up figures come from.
    pub sleep_source: String,
    /// Where these figures come from.
    pub source: String,
}

/// One datasheet run-mode current: `ma` at `mhz` in voltage range `range`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPoint {
    /// The voltage range (VOS scale) as the datasheet names it; points
    /// without one form a single range.
    #[serde(default)]
    pub range: String,
    /// Core clock in MHz.
    pub mhz: f64,
    /// Supply current in mA.
    pub ma: f64,
}

/// One low-power mode's figures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopMode {
    /// The mode as the power controller model names it (`stop0`, `stop2`,
    /// `stop-lpr-fpd`, ...).
    pub mode: String,
    /// Supply current in the mode, in µA.
    pub ua: f64,
    /// Wake-up time to the first instruction, in µs; `stop_wakeup_us` when
    /// absent.
    #[serde(default)]
    pub wakeup_us: Option<f64>,
}

/// At most this many points in a run curve.
const MAX_RUN_POINTS: usize = 64;

impl EnergyFigures {
    /// The run current at `mhz` in voltage range `range` by `run_curve`, in
    /// mA, or `None` without a curve. Without a range the curve has, the
    /// clock runs in the lowest range that reaches it (the range whose
    /// fastest point is the slowest at or above `mhz`), or in the fastest
    /// range above them all, as clock set-up code picks the range for its
    /// clock. Within a range the current is interpolated between its points
    /// and extrapolated along its end segments; a range of one point draws in
    /// proportion to the clock.
    pub fn run_current_ma(&self, mhz: f64, range: Option<&str>) -> Option<f64> {
        let top = |range: &str| {
            self.run_curve
                .iter()
                .filter(|p| p.range == range)
                .map(|p| p.mhz)
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let tops = || {
            self.run_curve
                .iter()
                .map(|p| (top(&p.range), p.range.as_str()))
        };
        let by_top = |a: &(f64, &str), b: &(f64, &str)| a.0.total_cmp(&b.0);
        let given = range.filter(|r| self.run_curve.iter().any(|p| p.range == *r));
        let range = match given {
            Some(range) => range,
            None => {
                tops()
                    .filter(|&(t, _)| t >= mhz)
                    .min_by(by_top)
                    .or_else(|| tops().max_by(by_top))?
                    .1
            }
        };
        let mut points: Vec<(f64, f64)> = self
            .run_curve
            .iter()
            .filter(|p| p.range == range)
            .map(|p| (p.mhz, p.ma))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let ma = match points[..] {
            [(f, ma)] => ma * mhz / f,
            _ => {
                let i = points
                    .iter()
                    .position(|&(f, _)| f >= mhz)
                    .unwrap_or(points.len() - 1)
                    .max(1);
                let ((f0, i0), (f1, i1)) = (points[i - 1], points[i]);
                i0 + (i1 - i0) * (mhz - f0) / (f1 - f0)
            }
        };
        Some(ma.max(0.0))
    }

    /// The run current per MHz at `to_mhz` in voltage range `range` (the
    /// range that clock needs when `None`) over that at `from_mhz` in the
    /// range it needs, by `run_curve`; 1 without one.
    pub fn run_scale(&self, from_mhz: f64, to_mhz: f64, range: Option<&str>) -> f64 {
        match (
            self.run_current_ma(from_mhz, None),
            self.run_current_ma(to_mhz, range),
        ) {
            (Some(from), Some(to)) if from > 0.0 && to_mhz > 0.0 => {
                (to / to_mhz) / (from / from_mhz)
            }
            _ => 1.0,
        }
    }

    /// Energy of one reference cycle (an average cycle of the program the run
    /// current was measured on), in pJ (V × µA/MHz = pJ).
    pub fn run_pj_per_cycle(&self) -> f64 {
        self.vdd_v * self.run_ua_per_mhz
    }

    /// Energy of one cycle asleep with the clocks running, in pJ.
    pub fn sleep_mode_pj_per_cycle(&self) -> f64 {
        self.vdd_v * self.sleep_mode_ua_per_mhz
    }

    /// Power in deep sleep, in µW.
    pub fn stop_uw(&self) -> f64 {
        self.vdd_v * self.stop_ua
    }

    /// The figures of deep sleep in `mode`: those `stop_modes` lists for it,
    /// else `stop_ua` and `stop_wakeup_us`.
    pub fn in_mode(&self, mode: Option<&str>) -> EnergyFigures {
        match self
            .stop_modes
            .iter()
            .find(|m| Some(m.mode.as_str()) == mode)
        {
            Some(m) => EnergyFigures {
                stop_ua: m.ua,
                stop_wakeup_us: m.wakeup_us.or(self.stop_wakeup_us),
                ..self.clone()
            },
            None => self.clone(),
        }
    }

    /// Extra energy of `wakeups` wake-ups from deep sleep, in µJ: for the
    /// datasheet's wake-up time the part draws about its run current at
    /// `clock_mhz` instead of its stop current (an upper bound: it restarts
    /// on a slower internal oscillator), while the timeline, kept by the wake
    /// source's timer, counts that time as asleep.
    pub fn wakeup_uj(&self, wakeups: u64, clock_mhz: f64) -> f64 {
        let run_uw = self.vdd_v * self.run_ua_per_mhz * clock_mhz;
        // µW × µs = pJ.
        wakeups as f64 * self.stop_wakeup_us.unwrap_or(0.0) * (run_uw - self.stop_uw()) * 1e-6
    }

    /// The same part supplied at `vdd` volts. With an LDO the currents stay (the
    /// supply current is the core's); with an SMPS the run and sleep-mode
    /// currents scale by `vdd_v / vdd` (constant power through a converter of
    /// constant efficiency). Stop and standby currents stay: in those modes the
    /// core is fed by a low-power regulator and the datasheets give them at one
    /// supply.
    pub fn at_vdd(&self, vdd: f64) -> EnergyFigures {
        let scale = match self.regulator {
            Regulator::Ldo => 1.0,
            Regulator::Smps => self.vdd_v / vdd,
        };
        EnergyFigures {
            vdd_v: vdd,
            run_ua_per_mhz: self.run_ua_per_mhz * scale,
            sleep_mode_ua_per_mhz: self.sleep_mode_ua_per_mhz * scale,
            ..self.clone()
        }
    }

    /// The run curve's points are datasheet-like: a bounded number of them,
    /// each a clock and a current an MCU can have, no two for one clock in
    /// one range, and a source named.
    fn check_run_curve(&self) -> Result<(), (&'static str, String)> {
        let fail = |message: String| Err(("run-curve-physical", message));
        if self.run_curve.is_empty() {
            return Ok(());
        }
        if self.run_curve.len() > MAX_RUN_POINTS {
            return fail(format!(
                "energy.run_curve has {} points, more than {MAX_RUN_POINTS}",
                self.run_curve.len()
            ));
        }
        if self
            .run_curve_source
            .as_deref()
            .unwrap_or("")
            .trim()
            .is_empty()
        {
            return fail("energy.run_curve needs energy.run_curve_source".into());
        }
        for (i, p) in self.run_curve.iter().enumerate() {
            // Currents of MCUs in Run mode are tens of µA to a few hundred mA.
            if !(p.mhz > 0.0 && p.mhz <= MAX_CLOCK_MHZ && p.ma > 0.0 && p.ma <= 2000.0)
                || p.range.len() > 32
            {
                return fail(format!(
                    "energy.run_curve[{i}] ({} MHz, {} mA, range {:?}) must have 0 < mhz <= {MAX_CLOCK_MHZ}, 0 < ma <= 2000 and a range name of at most 32 bytes",
                    p.mhz, p.ma, p.range
                ));
            }
            if self.run_curve[..i]
                .iter()
                .any(|q| q.range == p.range && q.mhz == p.mhz)
            {
                return fail(format!(
                    "energy.run_curve[{i}] repeats {} MHz in range {:?}",
                    p.mhz, p.range
                ));
            }
        }
        Ok(())
    }

    /// Each listed low-power mode draws a current an MCU can (0..100 mA) and
    /// wakes within 10 ms, once per name; at most 16 modes.
    fn check_stop_modes(&self) -> Result<(), (&'static str, String)> {
        if self.stop_modes.len() > 16 {
            return Err((
                "stop-modes-physical",
                format!(
                    "energy.stop_modes lists {} modes, more than 16",
                    self.stop_modes.len()
                ),
            ));
        }
        for (i, m) in self.stop_modes.iter().enumerate() {
            let wakeup = m.wakeup_us.unwrap_or(0.0);
            let physical = (0.0..=100_000.0).contains(&m.ua) && (0.0..=10_000.0).contains(&wakeup);
            if !physical
                || m.mode.is_empty()
                || m.mode.len() > 32
                || self.stop_modes[..i].iter().any(|n| n.mode == m.mode)
            {
                return Err((
                    "stop-modes-physical",
                    format!(
                        "energy.stop_modes[{i}] ({:?}, {} uA, wake-up {wakeup} us) must name a mode once, in at most 32 bytes, with 0..=100000 uA and 0..=10000 us",
                        m.mode, m.ua
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Named checks that the figures are physical: the first failure as
    /// (check, message naming the field).
    fn check(&self) -> Result<(), (&'static str, String)> {
        let fields = [
            ("vdd_v", self.vdd_v),
            ("vdd_range_v[0]", self.vdd_range_v[0]),
            ("vdd_range_v[1]", self.vdd_range_v[1]),
            ("run_ua_per_mhz", self.run_ua_per_mhz),
            ("sleep_ua", self.sleep_ua),
            ("sleep_mode_ua_per_mhz", self.sleep_mode_ua_per_mhz),
            ("stop_ua", self.stop_ua),
            ("stop_wakeup_us", self.stop_wakeup_us.unwrap_or(0.0)),
        ];
        if let Some((field, value)) = fields.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err((
                "energy-finite",
                format!("energy.{field} = {value} must be a finite, non-negative number"),
            ));
        }
        let [low, high] = self.vdd_range_v;
        // MCU supplies are specified within 1.6..5.5 V (1.71 V for the lowest
        // STM32L4 and nRF52 figures, 5.5 V for 5 V parts).
        if !(1.6 <= low && low <= self.vdd_v && self.vdd_v <= high && high <= 5.5) {
            return Err((
                "vdd-in-range",
                format!(
                    "energy.vdd_v = {} V must lie in energy.vdd_range_v [{low}, {high}] V, itself within [1.6, 5.5] V",
                    self.vdd_v
                ),
            ));
        }
        // Cortex-M parts run at a few µA/MHz (Ambiq) to a few hundred (large H7s
        // at 3.3 V); 1..1000 catches a unit slip (mA for µA) either way.
        if !(1.0..=1000.0).contains(&self.run_ua_per_mhz) {
            return Err((
                "run-current-physical",
                format!(
                    "energy.run_ua_per_mhz = {} is outside 1..1000 uA/MHz",
                    self.run_ua_per_mhz
                ),
            ));
        }
        // Halting the core only saves power: Sleep draws less than Run.
        if self.sleep_mode_ua_per_mhz > self.run_ua_per_mhz {
            return Err((
                "sleep-below-run",
                format!(
                    "energy.sleep_mode_ua_per_mhz = {} exceeds energy.run_ua_per_mhz = {}",
                    self.sleep_mode_ua_per_mhz, self.run_ua_per_mhz
                ),
            ));
        }
        // The lowest retention mode keeps no more than stop mode does, and both
        // stay below 100 mA (any MCU's stop current is in µA to a few mA).
        if self.sleep_ua > self.stop_ua || self.stop_ua > 100_000.0 {
            return Err((
                "retention-below-stop",
                format!(
                    "energy.sleep_ua = {} must not exceed energy.stop_ua = {} (itself at most 100000 uA)",
                    self.sleep_ua, self.stop_ua
                ),
            ));
        }
        self.check_run_curve()?;
        self.check_stop_modes()?;
        // Datasheet wake-up times from Stop are µs to a few ms (H7 from
        // SVOS5 with the flash off is the slow end).
        if self.stop_wakeup_us.is_some_and(|us| us > 10_000.0) {
            return Err((
                "wakeup-physical",
                "energy.stop_wakeup_us exceeds 10000 us".into(),
            ));
        }
        Ok(())
    }
}

/// The part's interrupt controller: how many external IRQs its NVIC has and
/// how many priority bits it implements (the rest of each 8-bit field reads 0).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interrupts {
    /// External interrupt lines (exception numbers 16 and up).
    pub irqs: u32,
    /// Implemented priority bits, 3..=8.
    pub priority_bits: u8,
    /// Where these figures come from.
    pub source: String,
}

/// Which register layout and behaviour a peripheral block has: one model each
/// in `machine::bus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeripheralKind {
    /// Registers that keep what is written and read their reset values, named
    /// in the access record but with no behaviour.
    Registers,
    /// STM32F1 reset and clock control.
    Stm32f1Rcc,
    /// STM32F2/F4/F7 reset and clock control.
    Stm32f4Rcc,
    /// STM32H7 reset and clock control.
    Stm32h7Rcc,
    /// STM32L4/L4+ reset and clock control.
    Stm32l4Rcc,
    /// STM32F4/F7 power controller (VOS, overdrive).
    Stm32f4Pwr,
    /// STM32H7 power controller (supply configuration, VOS).
    Stm32h7Pwr,
    /// STM32L4 power controller (VOS, range 1 boost).
    Stm32l4Pwr,
    /// STM32F1 flash interface (ACR latency and prefetch).
    Stm32f1Flash,
    /// STM32F4/F7 flash interface: ACR (latency, prefetch, ART) and programming.
    Stm32f4Flash,
    /// STM32H7 flash interface (ACR latency and WRHIGHFREQ).
    Stm32h7Flash,
    /// STM32L4 flash interface (ACR latency, prefetch, caches).
    Stm32l4Flash,
    /// STM32F2+ GPIO port (MODER..AFR, IDR/ODR/BSRR).
    Stm32Gpio,
    /// STM32F1 GPIO port (CRL/CRH, IDR/ODR/BSRR/BRR).
    Stm32f1Gpio,
    /// STM32F1/F4 USART (SR/DR).
    Stm32Usart,
    /// STM32F7/H7/L4 USART (ISR/TDR/RDR).
    Stm32UsartV2,
    /// STM32 CRC unit (CRC-32/MPEG-2).
    Stm32Crc,
    /// STM32 debug MCU block (IDCODE).
    Stm32Dbgmcu,
    /// STM32 basic and general-purpose timer (TIM2..TIM7 behaviour).
    Stm32Timer,
    /// STM32 real-time clock (F4/F7/H7/L4): calendar and wake-up timer.
    Stm32Rtc,
    /// Arm CMSDK APB UART.
    CmsdkUart,
    /// Arm CMSDK APB timer.
    CmsdkTimer,
    /// nRF52 CLOCK (HFCLK/LFCLK start tasks and events).
    NrfClock,
    /// nRF52 UARTE with EasyDMA.
    NrfUarte,
    /// nRF52 RTC (32.768 kHz counter, compare events).
    NrfRtc,
    /// nRF52 TIMER.
    NrfTimer,
}

/// The bus clock a peripheral runs from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusClock {
    /// The core/AHB clock.
    #[default]
    Ahb,
    /// The first APB bus (timers there run at twice it when it is divided).
    Apb1,
    /// The second APB bus.
    Apb2,
}

/// The value a register holds at reset, when it is not 0.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetValue {
    /// Byte offset from the block's base.
    pub offset: u32,
    /// Value at reset.
    pub value: u32,
}

/// One peripheral block on the bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeripheralSpec {
    /// Name as the reference manual gives it, e.g. `RCC`, `USART2`.
    pub name: String,
    /// Which model serves it.
    pub kind: PeripheralKind,
    /// First address.
    pub base: u32,
    /// Size of its register block in bytes.
    pub size: u32,
    /// External interrupt numbers it raises (NVIC IRQn), in the model's order.
    #[serde(default)]
    pub irqs: Vec<u32>,
    /// The bus clock it runs from.
    #[serde(default)]
    pub clock: BusClock,
    /// Registers whose reset value is not 0.
    #[serde(default)]
    pub reset: Vec<ResetValue>,
}

/// An address range holding peripherals: registers there that no model covers
/// read their reset value (0) and keep what is written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeripheralSpace {
    /// First address.
    pub base: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A modeled MCU, as read from its target file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Short name, equal to the file stem.
    pub name: String,
    /// Part number.
    pub part: String,
    /// Vendor.
    pub vendor: String,
    /// One-line description.
    pub description: String,
    /// The core.
    pub core: Core,
    /// Default clock in MHz.
    pub clock_mhz: f64,
    /// Highest clock the part is specified for, in MHz.
    pub max_clock_mhz: f64,
    /// Where the core, clock and memory figures come from.
    pub source: String,
    /// The address map.
    pub memory: Vec<MemoryRegion>,
    /// Flash read timing.
    pub flash: FlashTiming,
    /// Flash programming and erasing.
    pub flash_program: FlashProgram,
    /// Energy figures.
    pub energy: EnergyFigures,
    /// The NVIC as implemented.
    pub interrupts: Interrupts,
    /// Whether the part has the Cortex-M3/M4 bit-band aliases of SRAM and peripherals.
    #[serde(default)]
    pub bitband: bool,
    /// Ranges of the address map that hold peripheral registers.
    #[serde(default)]
    pub peripheral_space: Vec<PeripheralSpace>,
    /// The peripherals modeled or named in those ranges.
    #[serde(default, rename = "peripheral")]
    pub peripherals: Vec<PeripheralSpec>,
    /// SHA-256 of the target file, recorded in results as provenance.
    #[serde(skip)]
    pub sha256: String,
    /// Where it was read from.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where a target's description came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// Built into the binary from the shipped `targets/`.
    #[default]
    Shipped,
    /// A file on disk.
    File(PathBuf),
}

/// Why a target could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// No target of that name exists.
    #[error("unknown target `{name}` (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// A directory of target files that was asked for does not exist.
    #[error("{path}: no such directory of target files")]
    Dir {
        /// The directory.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("{path}: cannot read: {error}")]
    Io {
        /// The target file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file is not valid TOML for the schema.
    #[error("{path}: {message}")]
    Parse {
        /// The target file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A named validation failed.
    #[error("{path}: {check}: {message}")]
    Invalid {
        /// The target file.
        path: PathBuf,
        /// The validation that failed.
        check: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A supply outside what the part is specified for was asked for.
    #[error("{name}: supply {vdd} V is outside the part's {low}..{high} V")]
    Vdd {
        /// The target.
        name: String,
        /// The supply asked for.
        vdd: f64,
        /// The lowest specified supply.
        low: f64,
        /// The highest specified supply.
        high: f64,
    },
    /// A clock outside what the part supports was asked for.
    #[error("{name}: clock {clock_mhz} MHz is outside 0 < f <= {max_mhz} MHz")]
    Clock {
        /// The target.
        name: String,
        /// The clock asked for.
        clock_mhz: f64,
        /// The part's maximum.
        max_mhz: f64,
    },
}

/// Largest target file read.
const MAX_TARGET_BYTES: u64 = 1 << 20;
/// Fastest core clock accepted: above any Cortex-M part, below what would
/// make time figures meaningless.
const MAX_CLOCK_MHZ: f64 = 2000.0;
/// Bounds on the memory map, so a target file cannot make the host map or
/// allocate more than a large MCU board could hold (external SDRAM included).
const MAX_REGIONS: usize = 64;
const MAX_ALIASES: usize = 8;
const MAX_MAPPED_BYTES: u64 = 1 << 30;
/// Bounds on a region's code current against flash's: datasheets give 0.68
/// (STM32H743 ITCM) to 1.01; outside this band a figure is a typing error.
const MIN_CODE_CURRENT: f64 = 0.25;
const MAX_CODE_CURRENT: f64 = 2.0;
/// Bounds on flash timing and cache models.
const MAX_WAIT_STATES: usize = 32;
const MAX_LINE_BYTES: u32 = 256;
const MAX_CACHE_LINES: u32 = 1 << 16;
/// Bounds on the peripheral list.
const MAX_PERIPHERALS: usize = 512;
const MAX_RESET_VALUES: usize = 4096;

impl Target {
    /// Loads and validates a target file.
    pub fn load(path: &Path) -> Result<Target, TargetError> {
        let text = read_text(path, MAX_TARGET_BYTES).map_err(|error| TargetError::Io {
            path: path.to_owned(),
            error,
        })?;
        Target::parse(&text, path, Origin::File(path.to_owned()))
    }

    /// Parses and validates target text; `path` names it in errors and must
    /// end in `<name>.toml`.
    fn parse(text: &str, path: &Path, origin: Origin) -> Result<Target, TargetError> {
        let mut target: Target = toml::from_str(text).map_err(|e| TargetError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
        target.sha256 = crate::suite::sha256_hex(text.as_bytes());
        target.origin = origin;
        target.validate(path)?;
        Ok(target)
    }

    /// The shipped target `name`, as built into the binary.
    pub fn shipped(name: &str) -> Option<Result<Target, TargetError>> {
        let text = crate::shipped::target(name)?;
        let label = PathBuf::from(format!("<shipped>/{name}.toml"));
        Some(Target::parse(text, &label, Origin::Shipped))
    }

    /// Names of all target files in `dir`, sorted.
    pub fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                (path.extension()? == "toml")
                    .then(|| path.file_stem()?.to_str().map(str::to_owned))?
            })
            .collect();
        names.sort();
        names
    }

    /// Returns this target running at another clock, with wait states re-derived.
    pub fn with_clock(mut self, clock_mhz: f64) -> Result<Target, TargetError> {
        if !(clock_mhz > 0.0 && clock_mhz <= self.max_clock_mhz) {
            return Err(TargetError::Clock {
                name: self.name.clone(),
                clock_mhz,
                max_mhz: self.max_clock_mhz,
            });
        }
        // `run_ua_per_mhz` is the figure at the clock in force.
        self.energy.run_ua_per_mhz *= self.energy.run_scale(self.clock_mhz, clock_mhz, None);
        self.clock_mhz = clock_mhz;
        Ok(self)
    }

    /// Returns this target supplied at `vdd` volts (`EnergyFigures::at_vdd`).
    pub fn with_vdd(mut self, vdd: f64) -> Result<Target, TargetError> {
        let [low, high] = self.energy.vdd_range_v;
        if !(vdd >= low && vdd <= high) {
            return Err(TargetError::Vdd {
                name: self.name.clone(),
                vdd,
                low,
                high,
            });
        }
        self.energy = self.energy.at_vdd(vdd);
        Ok(self)
    }

    /// Flash wait states at the target's current clock.
    pub fn wait_states(&self) -> u32 {
        self.flash
            .wait_states
            .iter()
            .find(|step| self.clock_mhz <= step.max_mhz + 1e-9)
            .or(self.flash.wait_states.last())
            .map_or(0, |step| step.ws)
    }

    /// The region holding `[addr, addr + len)`, at its own base or an alias.
    pub fn region_of(&self, addr: u64, len: u64) -> Option<&MemoryRegion> {
        self.memory.iter().find(|region| region.contains(addr, len))
    }

    /// Total bytes of regions of the given kinds.
    pub fn capacity(&self, kinds: &[MemoryKind]) -> u64 {
        self.memory
            .iter()
            .filter(|region| kinds.contains(&region.kind))
            .map(|region| u64::from(region.size))
            .sum()
    }

    fn validate(&self, path: &Path) -> Result<(), TargetError> {
        let fail = |check: &'static str, message: String| {
            Err(TargetError::Invalid {
                path: path.to_owned(),
                check,
                message,
            })
        };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if self.name != stem {
            return fail(
                "name-matches-file",
                format!("name `{}` but file `{stem}.toml`", self.name),
            );
        }
        if !(self.max_clock_mhz > 0.0 && self.max_clock_mhz <= MAX_CLOCK_MHZ) {
            return fail(
                "max-clock-physical",
                format!(
                    "max_clock_mhz {} not in (0, {MAX_CLOCK_MHZ}]",
                    self.max_clock_mhz
                ),
            );
        }
        if !(self.clock_mhz > 0.0 && self.clock_mhz <= self.max_clock_mhz) {
            return fail(
                "clock-in-range",
                format!(
                    "clock_mhz {} not in (0, max_clock_mhz {}]",
                    self.clock_mhz, self.max_clock_mhz
                ),
            );
        }
        let mapped: u64 = self
            .memory
            .iter()
            .map(|r| u64::from(r.size) * (1 + r.aliases.len() as u64))
            .sum();
        if self.memory.len() > MAX_REGIONS
            || self.memory.iter().any(|r| r.aliases.len() > MAX_ALIASES)
            || mapped > MAX_MAPPED_BYTES
        {
            return fail(
                "memory-bounded",
                format!(
                    "at most {MAX_REGIONS} regions of {MAX_ALIASES} aliases each, \
                     mapping at most {} MiB in all ({} MiB here)",
                    MAX_MAPPED_BYTES >> 20,
                    mapped >> 20
                ),
            );
        }
        let mut spans: Vec<(u64, u64, &str)> = Vec::new();
        for region in &self.memory {
            if region.size == 0 || region.base % 4096 != 0 || region.size % 4096 != 0 {
                return fail(
                    "region-4k-aligned",
                    format!(
                        "region `{}` must start and end on 4 KiB boundaries",
                        region.name
                    ),
                );
            }
            if region
                .code_current
                .is_some_and(|c| !(MIN_CODE_CURRENT..=MAX_CODE_CURRENT).contains(&c))
            {
                return fail(
                    "code-current-physical",
                    format!(
                        "region `{}`: code_current must be in \
                         {MIN_CODE_CURRENT}..={MAX_CODE_CURRENT}",
                        region.name
                    ),
                );
            }
            for base in region.bases() {
                let end = u64::from(base) + u64::from(region.size);
                if end > 0xE000_0000 {
                    return fail(
                        "region-below-system-space",
                        format!(
                            "region `{}` reaches into the system space at 0xE0000000",
                            region.name
                        ),
                    );
                }
                spans.push((u64::from(base), end, &region.name));
            }
        }
        spans.sort();
        for pair in spans.windows(2) {
            if pair[1].0 < pair[0].1 {
                return fail(
                    "regions-disjoint",
                    format!(
                        "regions `{}` and `{}` overlap at {:#010x}",
                        pair[0].2, pair[1].2, pair[1].0
                    ),
                );
            }
        }
        if !self
            .memory
            .iter()
            .any(|r| r.kind == MemoryKind::Flash || r.access.executable())
        {
            return fail("has-code-memory", "no executable region".into());
        }
        if !self.memory.iter().any(|r| r.access.writable()) {
            return fail("has-ram", "no writable region".into());
        }
        if self
            .memory
            .iter()
            .filter(|r| r.kind == MemoryKind::Flash)
            .count()
            > 1
        {
            return fail("one-flash", "more than one flash region".into());
        }
        let steps = &self.flash.wait_states;
        if steps.is_empty()
            || steps.len() > MAX_WAIT_STATES
            || steps
                .iter()
                .any(|s| !s.max_mhz.is_finite() || s.ws > MAX_WAIT_STATES as u32)
            || steps
                .windows(2)
                .any(|w| w[1].max_mhz <= w[0].max_mhz || w[1].ws < w[0].ws)
        {
            return fail(
                "wait-states-ascending",
                format!(
                    "wait_states must be non-empty, ascending, finite and at most \
                     {MAX_WAIT_STATES} steps of at most {MAX_WAIT_STATES} wait states"
                ),
            );
        }
        if steps
            .last()
            .is_some_and(|s| s.max_mhz + 1e-9 < self.max_clock_mhz)
        {
            return fail(
                "wait-states-cover-clock",
                format!("wait_states end below max_clock_mhz {}", self.max_clock_mhz),
            );
        }
        if !self.flash.line_bytes.is_power_of_two() || self.flash.line_bytes > MAX_LINE_BYTES {
            return fail(
                "flash-line-power-of-two",
                format!("line_bytes {}", self.flash.line_bytes),
            );
        }
        for cache in [self.flash.icache, self.flash.dcache].into_iter().flatten() {
            if cache.lines == 0
                || cache.ways == 0
                || cache.lines % cache.ways != 0
                || cache.lines > MAX_CACHE_LINES
                || !cache.line_bytes.is_power_of_two()
                || cache.line_bytes > MAX_LINE_BYTES
            {
                return fail("cache-geometry", format!("{cache:?}"));
            }
        }
        let program = &self.flash_program;
        if program.controller != FlashController::None && program.controller_base.is_none() {
            return fail(
                "controller-has-base",
                "controller_base is required with a controller".into(),
            );
        }
        let times_physical = program.write_us.is_finite()
            && (0.0..=1e6).contains(&program.write_us)
            && program.write_unit_bytes.is_power_of_two()
            && program.write_unit_bytes <= 4096
            && program
                .current_ma
                .is_none_or(|ma| ma.is_finite() && (0.0..=1000.0).contains(&ma))
            && program
                .sector_kib
                .iter()
                .all(|&kib| (1..=1 << 16).contains(&kib))
            && program
                .erase_ms
                .iter()
                .all(|e| e.ms.is_finite() && e.ms > 0.0 && e.ms <= 1e6);
        if !times_physical {
            return fail(
                "flash-program-physical",
                "write_us must be in 0..=1e6 and erase_ms in (0, 1e6]; \
                 write_unit_bytes a power of two up to 4096; current_ma finite, 0..=1000 mA; \
                 sector_kib 1..=65536"
                    .into(),
            );
        }
        for kib in &program.sector_kib {
            if !program.erase_ms.iter().any(|e| e.sector_kib == *kib) {
                return fail(
                    "erase-time-per-sector-size",
                    format!("no erase_ms for {kib} KiB sectors"),
                );
            }
        }
        let sources = [
            ("source", &self.source),
            ("flash.source", &self.flash.source),
            ("flash_program.source", &self.flash_program.source),
            ("energy.source", &self.energy.source),
            ("energy.sleep_source", &self.energy.sleep_source),
        ];
        for (field, text) in sources {
            if text.trim().is_empty() {
                return fail("figures-have-sources", format!("{field} is empty"));
            }
        }
        if let Err((check, message)) = self.energy.check() {
            return fail(check, message);
        }
        if !(3..=8).contains(&self.interrupts.priority_bits) || self.interrupts.irqs > 240 {
            return fail(
                "nvic-in-range",
                "interrupts: priority_bits must be 3..=8 and irqs at most 240".into(),
            );
        }
        if self.peripherals.len() > MAX_PERIPHERALS
            || self
                .peripherals
                .iter()
                .any(|p| p.reset.len() > MAX_RESET_VALUES)
        {
            return fail(
                "peripherals-bounded",
                format!(
                    "at most {MAX_PERIPHERALS} peripherals of {MAX_RESET_VALUES} reset values each"
                ),
            );
        }
        let mut blocks: Vec<(u64, u64, &str)> = Vec::new();
        for p in &self.peripherals {
            if let Some(irq) = p.irqs.iter().find(|&&irq| irq >= self.interrupts.irqs) {
                return fail(
                    "peripheral-irqs-exist",
                    format!(
                        "peripheral `{}` raises IRQ {irq}, but the part has {}",
                        p.name, self.interrupts.irqs
                    ),
                );
            }
            let (begin, end) = (u64::from(p.base), u64::from(p.base) + u64::from(p.size));
            if p.size == 0 || spans.iter().any(|&(b, e, _)| begin < e && b < end) {
                return fail(
                    "peripherals-outside-memory",
                    format!(
                        "peripheral `{}` is empty or overlaps a memory region",
                        p.name
                    ),
                );
            }
            blocks.push((begin, end, &p.name));
        }
        blocks.sort();
        if let Some(pair) = blocks.windows(2).find(|w| w[1].0 < w[0].1) {
            return fail(
                "peripherals-disjoint",
                format!("peripherals `{}` and `{}` overlap", pair[0].2, pair[1].2),
            );
        }
        Ok(())
    }
}

/// The targets a command can name: the shipped ones built into the binary,
/// and the files of an optional directory, which add targets or replace
/// shipped ones of the same name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    dir: Option<PathBuf>,
}

impl Catalog {
    /// The shipped targets alone.
    pub fn shipped() -> Catalog {
        Catalog::default()
    }

    /// The shipped targets, added to and overridden by the files in `dir`,
    /// which must exist: a mistyped directory is an error, not an empty one.
    pub fn with_dir(dir: &Path) -> Result<Catalog, TargetError> {
        if !dir.is_dir() {
            return Err(TargetError::Dir {
                path: dir.to_owned(),
            });
        }
        Ok(Catalog {
            dir: Some(dir.to_owned()),
        })
    }

    /// Every target name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = crate::shipped::TARGETS
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .chain(self.dir.iter().flat_map(|d| Target::names(d)))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Finds a target by name (the directory's file first, then the shipped
    /// one), or loads a path to a `.toml` file.
    pub fn find(&self, name: &str) -> Result<Target, TargetError> {
        if name.ends_with(".toml") {
            return Target::load(Path::new(name));
        }
        if let Some(path) = self
            .dir
            .as_ref()
            .map(|d| d.join(format!("{name}.toml")))
            .filter(|p| p.is_file())
        {
            return Target::load(&path);
        }
        Target::shipped(name).unwrap_or_else(|| {
            Err(TargetError::Unknown {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
        })
    }

    /// Loads every target, sorted by name.
    pub fn load_all(&self) -> Result<Vec<Target>, TargetError> {
        self.names().iter().map(|name| self.find(name)).collect()
    }
}
