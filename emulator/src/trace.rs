//! Trace once, cost many: a run can record how often each block ran and how
//! it was left and entered; re-pricing that record for another core, clock or
//! wait-state setting of a compatible memory map decodes each distinct block
//! once and multiplies, instead of emulating again.
//!
//! What carries over exactly: static block costs, branch penalties (taken
//! and not-taken exits, mispredicted conditional exits, whose predictor runs on every core,
//! refills on taken entries), divides (their cycles are
//! recorded per core family), exception entry and return. What is carried
//! over approximately: flash wait states, because the cache misses are those
//! the recorded target's caches saw; the new wait states are charged per
//! recorded miss. Interrupt timing is the recorded run's, and so is sleep:
//! the cycles asleep carry over (timers wake the core after a number of
//! cycles) and are charged at the new target's sleep currents. A run whose
//! firmware programmed its own clock tree or flash settings cannot be
//! re-priced for another clock: its clocks are its own.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cost::decode::Decoder;
use crate::cost::{weight, CostModel};
use crate::image::{Image, ImageError};
use crate::target::{Core, Target};

/// Counts for one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedBlock {
    /// Start address.
    pub addr: u32,
    /// Size in bytes.
    pub size: u32,
    /// Times it ran.
    pub executions: u64,
    /// Times it was left by a taken branch.
    pub taken_exits: u64,
    /// Times it was entered by a taken branch.
    pub taken_entries: u64,
    /// Times its closing conditional branch went against the prediction
    /// (see [`crate::cost::Prediction`]).
    #[serde(default)]
    pub mispredicted: u64,
}

/// The record of one run, independent of the core's timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The image file.
    pub image: String,
    /// SHA-256 of the image, checked before re-pricing.
    pub image_sha256: String,
    /// Target the run was recorded on.
    pub target: String,
    /// Blocks that ran, by address.
    pub blocks: Vec<TracedBlock>,
    /// Divide cycles as a Cortex-M3/M4 would take them.
    pub divide_cycles_m4: u64,
    /// Divide cycles as a Cortex-M7 would take them.
    pub divide_cycles_m7: u64,
    /// Cycles of exception entries and returns.
    pub exception_cycles: u64,
    /// Flash lines missed on taken-branch fetches.
    pub fetch_misses_jumped: u64,
    /// Flash lines missed on sequential fetches.
    pub fetch_misses_sequential: u64,
    /// Flash data words missed in the data cache.
    pub data_misses: u64,
    /// Time spent programming and erasing flash, in µs.
    pub flash_program_us: f64,
    /// Cycles asleep, deep sleep included.
    #[serde(default)]
    pub sleep_cycles: u64,
    /// Cycles in deep sleep.
    #[serde(default)]
    pub deep_sleep_cycles: u64,
    /// Times the core woke from deep sleep.
    #[serde(default)]
    pub deep_sleep_wakeups: u64,
    /// Whether the firmware programmed its clock tree or flash settings.
    #[serde(default)]
    pub programmed_clocks: bool,
}

/// Why a trace could not be re-priced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The trace file could not be read or parsed.
    #[error("{path}: {message}")]
    Read {
        /// The trace file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The image changed since the trace was recorded.
    #[error("{image}: changed since the trace was recorded (sha256 differs)")]
    ImageChanged {
        /// The image file.
        image: String,
    },
    /// The image could not be loaded.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The recorded firmware set its own clocks, which a re-pricing cannot change.
    #[error("{image}: the firmware programmed its own clock tree or flash settings; run it again on the other target instead of re-pricing")]
    ClocksProgrammed {
        /// The image file.
        image: String,
    },
    /// A traced block lies outside the image's loaded bytes.
    #[error("{image}: traced block at {addr:#010x} is not in the image")]
    MissingBlock {
        /// The image file.
        image: String,
        /// The block's address.
        addr: u32,
    },
}

/// Figures of a re-priced run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repriced {
    /// Target priced for.
    pub target: String,
    /// Core priced for.
    pub core: String,
    /// Clock in MHz.
    pub clock_mhz: f64,
    /// Modeled cycles.
    pub cycles: u64,
    /// Executed instructions.
    pub instructions: u64,
    /// Cycles lost to flash wait states.
    pub flash_stall_cycles: u64,
    /// Time at the clock, in µs.
    pub time_us: f64,
    /// Energy, in µJ.
    pub energy_uj: f64,
}

/// Largest trace file read: block counts of a large image.
const MAX_TRACE_BYTES: u64 = 256 << 20;
/// Largest block a trace may name: QEMU ends a block after 512 instructions.
const MAX_BLOCK_BYTES: u32 = 4096;

impl Trace {
    /// Reads a trace file.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let read = |message: String| TraceError::Read {
            path: path.display().to_string(),
            message,
        };
        let text = mcubench_reports::input::read_text(path, MAX_TRACE_BYTES)
            .map_err(|e| read(e.to_string()))?;
        let trace: Trace =
            serde_json::from_str(&text).map_err(|e| read(format!("not a trace: {e}")))?;
        trace.check().map_err(read)?;
        Ok(trace)
    }

    /// Refuses counts no run can produce, so re-pricing never wraps or goes
    /// negative: a block taken or entered by a branch more often than it ran,
    /// more deep sleep than sleep, a flash programming time that is not a
    /// finite duration.
    fn check(&self) -> Result<(), String> {
        if let Some(b) = self.blocks.iter().find(|b| {
            b.taken_exits > b.executions
                || b.taken_entries > b.executions
                || b.size > MAX_BLOCK_BYTES
        }) {
            return Err(format!(
                "block at {:#010x}: {} bytes, {} runs, {} taken exits, {} taken entries, \
                 {} mispredicted",
                b.addr, b.size, b.executions, b.taken_exits, b.taken_entries, b.mispredicted
            ));
        }
        if self.deep_sleep_cycles > self.sleep_cycles {
            return Err("more deep-sleep cycles than sleep cycles".into());
        }
        if !(self.flash_program_us.is_finite() && self.flash_program_us >= 0.0) {
            return Err(format!("flash_program_us {}", self.flash_program_us));
        }
        Ok(())
    }

    /// Prices the recorded run on `target`, optionally with another core.
    pub fn reprice(&self, target: &Target, core: Option<Core>) -> Result<Repriced, TraceError> {
        let bytes = mcubench_reports::input::read_bounded(
            Path::new(&self.image),
            crate::image::MAX_IMAGE_BYTES,
        )
        .map_err(|e| TraceError::Read {
            path: self.image.clone(),
            message: e.to_string(),
        })?;
        if crate::suite::sha256_hex(&bytes) != self.image_sha256 {
            return Err(TraceError::ImageChanged {
                image: self.image.clone(),
            });
        }
        if self.programmed_clocks {
            return Err(TraceError::ClocksProgrammed {
                image: self.image.clone(),
            });
        }
        let image = Image::parse(Path::new(&self.image), &bytes)?;
        image.check_fits(target)?;
        let core = core.unwrap_or(target.core);
        let model = CostModel::new(core);
        let decoder = Decoder::new();
        let mut timing = crate::machine::flash::FlashTiming::new(target);
        timing.configure(crate::machine::starting_flash(target, core));
        let in_flash = |addr: u32| {
            target
                .region_of(u64::from(addr), 2)
                .is_some_and(|r| r.kind == crate::target::MemoryKind::Flash)
        };
        let overflow = || TraceError::Read {
            path: self.image.clone(),
            message: "the traced counts overflow 64-bit figures".into(),
        };
        let (mut cycles, mut weighted, mut instructions) = (0u64, 0u64, 0u64);
        for block in &self.blocks {
            let code =
                image
                    .bytes_at(block.addr, block.size)
                    .ok_or_else(|| TraceError::MissingBlock {
                        image: self.image.clone(),
                        addr: block.addr,
                    })?;
            let insns = decoder.decode(block.addr, code);
            let cost = model.price(&insns);
            let falls = block.executions - block.taken_exits;
            let energy = if in_flash(block.addr) {
                cost.energy
            } else {
                cost.energy * weight::SRAM_FETCH_PERMILLE / 1000
            };
            let add = || -> Option<(u64, u64, u64)> {
                let branch = block
                    .taken_exits
                    .checked_mul(u64::from(cost.taken))?
                    .checked_add(falls.checked_mul(u64::from(cost.not_taken))?)?
                    .checked_add(block.mispredicted.checked_mul(u64::from(cost.mispredict))?)?
                    .checked_add(block.taken_entries.checked_mul(u64::from(cost.refill))?)?;
                Some((
                    cycles.checked_add(
                        block
                            .executions
                            .checked_mul(u64::from(cost.cycles))?
                            .checked_add(branch)?,
                    )?,
                    weighted.checked_add(
                        block
                            .executions
                            .checked_mul(energy)?
                            .checked_add(branch.checked_mul(weight::ALU)?)?,
                    )?,
                    instructions
                        .checked_add(block.executions.checked_mul(u64::from(cost.instructions))?)?,
                ))
            };
            (cycles, weighted, instructions) = add().ok_or_else(overflow)?;
        }
        let divides = match core {
            Core::CortexM7 | Core::CortexM7f => self.divide_cycles_m7,
            _ => self.divide_cycles_m4,
        };
        let program = (self.flash_program_us * target.clock_mhz).round() as u64;
        let totals = || -> Option<(u64, u64, u64)> {
            let stalls = self
                .fetch_misses_jumped
                .checked_mul(u64::from(timing.ws))?
                .checked_add(
                    self.fetch_misses_sequential
                        .checked_mul(u64::from(timing.sequential_stall()))?,
                )?
                .checked_add(self.data_misses.checked_mul(u64::from(timing.ws))?)?;
            let extra = divides
                .checked_add(self.exception_cycles)?
                .checked_add(stalls)?
                .checked_add(program)?;
            let extra_weight = divides
                .checked_mul(weight::STALL)?
                .checked_add(self.exception_cycles.checked_mul(weight::MEMORY)?)?
                .checked_add(stalls.checked_add(program)?.checked_mul(weight::STALL)?)?;
            Some((
                stalls,
                cycles.checked_add(extra)?,
                weighted.checked_add(extra_weight)?,
            ))
        };
        let (stalls, total_cycles, total_weighted) = totals().ok_or_else(overflow)?;
        (cycles, weighted) = (total_cycles, total_weighted);
        let time_us = (cycles as f64 + self.sleep_cycles as f64) / target.clock_mhz;
        let pj_per_cycle = target.energy.run_pj_per_cycle();
        // Sleep as in `run`: V × µA/MHz per cycle (pJ) with the clocks
        // running, V × µA × s in deep sleep.
        let light_sleep = self.sleep_cycles - self.deep_sleep_cycles;
        let sleep_uj = light_sleep as f64 * target.energy.sleep_mode_pj_per_cycle() * 1e-6
            + self.deep_sleep_cycles as f64 / target.clock_mhz * 1e-6 * target.energy.stop_uw()
            + target
                .energy
                .wakeup_uj(self.deep_sleep_wakeups, target.clock_mhz);
        let program_uj = target.energy.vdd_v
            * target.flash_program.current_ma.unwrap_or(0.0)
            * self.flash_program_us
            * 1e-3;
        Ok(Repriced {
            target: target.name.clone(),
            core: core.name().to_owned(),
            clock_mhz: target.clock_mhz,
            cycles,
            instructions,
            flash_stall_cycles: stalls,
            time_us,
            energy_uj: weighted as f64 / 1000.0 * pj_per_cycle * 1e-6 + program_uj + sleep_uj,
        })
    }
}
