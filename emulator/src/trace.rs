//! Trace once, cost many: a run can record how often each block ran and how
//! it was left and entered; re-pricing that record for another core, clock or
//! wait-state setting of a compatible memory map decodes each distinct block
//! once and multiplies, instead of emulating again.
//!
//! A trace stands on its own: it carries the bytes of every block that ran
//! and the symbols of the functions that ran, so re-pricing needs neither the
//! image nor its path. Every charge the run made is filed under the function
//! the run's profile gave it and the set of regions (`roi_` functions) running
//! at the time, so re-pricing gives the regions and the flat profile as well
//! as the totals.
//!
//! What carries over exactly: static block costs, branch penalties (taken
//! and not-taken exits, mispredicted conditional exits, whose predictor runs on every core,
//! refills on taken entries), divides (their cycles are
//! recorded per core family), exception entry and return. What is carried
//! over approximately: flash wait states, because the cache misses are those
//! the recorded target's caches saw; the new wait states are charged per
//! recorded miss. Interrupt timing is the recorded run's, and so is sleep:
//! the cycles asleep carry over (timers wake the core after a number of
//! cycles) and are charged at the new target's sleep currents, deep sleep at
//! those of the stop mode the firmware chose. A run whose
//! firmware programmed its own clock tree or flash settings cannot be
//! re-priced for another clock: its clocks are its own, and its energy is
//! re-priced at the run current of the target's clock, not of the clocks it
//! set (a trace keeps no per-clock counts). A region's figures
//! hold the entry cycles of an exception handler that is itself a region,
//! which the run leaves out of that handler's own figures.

use std::collections::BTreeMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::cost::decode::Decoder;
use crate::cost::{weight, BlockCost, CostModel, EnergySplit};
use crate::image::{Function, Layout, Symbols};
use crate::machine::blocks::{BlockInfo, NO_FUNCTION};
use crate::profile::Profiler;
use crate::target::{Core, Target};
use mcubench_reports::results::Region;

/// The trace format this build writes and reads. Format 1 (no version
/// field) named the image instead of carrying the blocks' bytes.
pub const TRACE_VERSION: u32 = 2;

/// Largest trace file read: block counts and bytes of a large image.
const MAX_TRACE_BYTES: u64 = 256 << 20;
/// Largest block a trace may name: QEMU ends a block after 512 instructions
/// (at most 2 KiB of Thumb-2).
pub const MAX_BLOCK_BYTES: u32 = 4096;
/// Regions a trace follows; the regions of an image past these are not
/// re-priced (a region set is one 64-bit mask).
pub const MAX_REGIONS: usize = 64;

/// One block that ran, with the bytes it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedBlock {
    /// Start address.
    pub addr: u32,
    /// Size in bytes.
    pub size: u32,
    /// Its bytes, as lowercase hex.
    #[serde(with = "hex_bytes")]
    pub code: Vec<u8>,
}

/// A function that ran or was charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedFunction {
    /// Name as the profile shows it.
    pub name: String,
    /// Start address.
    pub addr: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A region of interest the run called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedRegion {
    /// Index of its function in [`Trace::functions`].
    pub function: u32,
    /// Times it was called.
    pub calls: u64,
}

/// How often a block ran in full while a set of regions was running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRuns {
    /// Index in [`Trace::blocks`].
    pub block: u32,
    /// The regions running: bit i for [`Trace::regions`]`[i]`.
    pub regions: u64,
    /// Times it ran to its end.
    pub executions: u64,
    /// Of those, times it was left by a taken branch.
    pub taken_exits: u64,
    /// Times it was left by falling through.
    pub fall_exits: u64,
    /// Times its closing conditional branch went against the prediction
    /// (see [`crate::cost::Prediction`]).
    pub mispredicted: u64,
}

/// How often a block was left after its first `instructions` (a fault, a
/// flash store, a split after a control-register write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialRuns {
    /// Index in [`Trace::blocks`].
    pub block: u32,
    /// The regions running.
    pub regions: u64,
    /// Instructions that ran.
    pub instructions: u32,
    /// Times.
    pub times: u64,
}

/// Taken branches onto a block, whose refill the run charges to the
/// function branching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refills {
    /// Index in [`Trace::blocks`] of the block branched to.
    pub block: u32,
    /// Index in [`Trace::functions`] of the function charged; `None` for code
    /// without a symbol.
    pub function: Option<u32>,
    /// The regions running.
    pub regions: u64,
    /// Times.
    pub times: u64,
}

/// Dynamic costs: what the machine charges from what happened, not from
/// the blocks' bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Dynamic {
    /// Flash lines missed on taken-branch fetches.
    pub fetch_misses_jumped: u64,
    /// Flash lines missed on sequential fetches.
    pub fetch_misses_sequential: u64,
    /// Flash data words missed in the data cache.
    pub data_misses: u64,
    /// Integer divides.
    pub divides: u64,
    /// Their cycles as a Cortex-M3/M4 would take them.
    pub divide_cycles_m4: u64,
    /// Their cycles as a Cortex-M7 would take them.
    pub divide_cycles_m7: u64,
    /// Cycles of exception entries and returns.
    pub exception_cycles: u64,
    /// Time spent programming and erasing flash, in µs.
    pub flash_program_us: f64,
}

impl Dynamic {
    /// What happened since `earlier`, both totals of one run.
    fn since(&self, earlier: &Dynamic) -> Dynamic {
        Dynamic {
            fetch_misses_jumped: self.fetch_misses_jumped - earlier.fetch_misses_jumped,
            fetch_misses_sequential: self.fetch_misses_sequential - earlier.fetch_misses_sequential,
            data_misses: self.data_misses - earlier.data_misses,
            divides: self.divides - earlier.divides,
            divide_cycles_m4: self.divide_cycles_m4 - earlier.divide_cycles_m4,
            divide_cycles_m7: self.divide_cycles_m7 - earlier.divide_cycles_m7,
            exception_cycles: self.exception_cycles - earlier.exception_cycles,
            flash_program_us: self.flash_program_us - earlier.flash_program_us,
        }
    }

    fn add(&mut self, more: &Dynamic) {
        self.fetch_misses_jumped += more.fetch_misses_jumped;
        self.fetch_misses_sequential += more.fetch_misses_sequential;
        self.data_misses += more.data_misses;
        self.divides += more.divides;
        self.divide_cycles_m4 += more.divide_cycles_m4;
        self.divide_cycles_m7 += more.divide_cycles_m7;
        self.exception_cycles += more.exception_cycles;
        self.flash_program_us += more.flash_program_us;
    }
}

/// Dynamic costs charged to one function while a set of regions ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charges {
    /// Index in [`Trace::functions`]; `None` for code without a symbol.
    pub function: Option<u32>,
    /// The regions running.
    pub regions: u64,
    /// The costs.
    pub counts: Dynamic,
}

/// The record of one run, independent of the core's timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Format version, [`TRACE_VERSION`].
    pub version: u32,
    /// The image file the run loaded (for the reader: re-pricing does not read it).
    pub image: String,
    /// SHA-256 of the image.
    pub image_sha256: String,
    /// Target the run was recorded on.
    pub target: String,
    /// Where the image lies in memory, checked against the target priced for.
    pub layout: Layout,
    /// Blocks that ran, by address and size.
    pub blocks: Vec<TracedBlock>,
    /// Functions that ran, by address.
    pub functions: Vec<TracedFunction>,
    /// Regions the run called.
    pub regions: Vec<TracedRegion>,
    /// Blocks run in full.
    pub runs: Vec<BlockRuns>,
    /// Blocks left part way.
    pub partial_runs: Vec<PartialRuns>,
    /// Refills of taken branches.
    pub refills: Vec<Refills>,
    /// Dynamic costs.
    pub charges: Vec<Charges>,
    /// Cycles asleep, deep sleep included.
    pub sleep_cycles: u64,
    /// Cycles in deep sleep.
    pub deep_sleep_cycles: u64,
    /// Times the core woke from deep sleep.
    pub deep_sleep_wakeups: u64,
    /// Deep sleep by the stop mode the firmware chose; empty in traces
    /// written before it was kept, whose deep sleep is priced at `stop_ua`.
    #[serde(default)]
    pub deep_sleep_modes: Vec<TracedDeepSleep>,
    /// Whether the firmware programmed its clock tree or flash settings.
    pub programmed_clocks: bool,
}

/// Deep sleep in one stop mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedDeepSleep {
    /// The mode as the power controller named it; empty where it named none.
    pub mode: String,
    /// Cycles in it.
    pub cycles: u64,
    /// Wake-ups from it.
    pub wakeups: u64,
}

/// At most this many stop modes in a trace (a part has a handful).
const MAX_DEEP_SLEEP_MODES: usize = 16;

/// Why a trace could not be read or re-priced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The trace file could not be read, parsed or trusted.
    #[error("{path}: {message}")]
    Read {
        /// The trace file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The recorded firmware set its own clocks, which a re-pricing cannot change.
    #[error("{image}: the firmware programmed its own clock tree or flash settings; run it again on the other target instead of re-pricing")]
    ClocksProgrammed {
        /// The image file.
        image: String,
    },
    /// The trace cannot be priced for this target or core.
    #[error("cannot be priced for {target}: {message}")]
    Unpriceable {
        /// The target (and core) priced for.
        target: String,
        /// Why.
        message: String,
    },
}

/// Self cycles of one function on the target priced for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionCost {
    /// Function name (`[unknown]` for code without a symbol).
    pub name: String,
    /// Cycles charged to it, callees not included.
    pub self_cycles: u64,
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
    /// Regions of interest, as `run` reports them.
    pub regions: Vec<Region>,
    /// Functions by self cycles, most first.
    pub profile: Vec<FunctionCost>,
}

/// The machine's dynamic totals so far, for [`Recorder::charge`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MachineTotals {
    pub fetch_misses_jumped: u64,
    pub fetch_misses_sequential: u64,
    pub data_misses: u64,
    pub exception_cycles: u64,
    pub flash_program_us: f64,
}

/// How a run ended, for [`Recorder::finish`].
#[derive(Debug, Clone)]
pub(crate) struct RunEnd {
    pub totals: MachineTotals,
    pub sleep_cycles: u64,
    pub deep_sleep_modes: Vec<TracedDeepSleep>,
    pub programmed_clocks: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Exits {
    executions: u64,
    taken: u64,
    falls: u64,
    mispredicted: u64,
}

/// The counts a run keeps while it records a trace. Each charge is filed
/// when the machine hands it to the profile, under the same function and
/// the regions running then, so the profile and regions re-price as well.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    /// Symbol indices of the region functions followed (bit i is `regions[i]`).
    regions: Vec<u32>,
    /// Bytes of each block as decoded, by block id.
    code: Vec<Vec<u8>>,
    runs: FxHashMap<(u32, u64), Exits>,
    partial: FxHashMap<(u32, u64, u32), u64>,
    refills: FxHashMap<(u32, u32, u64), u64>,
    charges: FxHashMap<(u32, u64), Dynamic>,
    /// Divides so far: count, M3/M4 cycles, M7 cycles.
    divides: (u64, u64, u64),
    /// Dynamic totals when last charged.
    charged: Dynamic,
}

impl Recorder {
    /// A recorder following the region functions of `symbols`.
    pub(crate) fn new(symbols: &Symbols) -> Recorder {
        Recorder {
            regions: symbols
                .functions()
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    crate::demangle::leaf(&f.name).starts_with(crate::run::REGION_PREFIX)
                })
                .map(|(i, _)| i as u32)
                .take(MAX_REGIONS)
                .collect(),
            ..Recorder::default()
        }
    }

    /// The regions running now, as a mask.
    fn running(&self, profiler: &Profiler) -> u64 {
        self.regions
            .iter()
            .enumerate()
            .filter(|&(_, &f)| profiler.is_active(f))
            .fold(0, |mask, (i, _)| mask | 1 << i)
    }

    /// Keeps the bytes block `id` was decoded from.
    pub(crate) fn note_code(&mut self, id: u32, bytes: &[u8]) {
        let id = id as usize;
        if self.code.len() <= id {
            self.code.resize(id + 1, Vec::new());
        }
        self.code[id] = bytes.to_vec();
    }

    /// A block ran to its end and was left as `block.exit` says.
    pub(crate) fn close(&mut self, profiler: &Profiler, block: Closed) {
        if block.id == 0 {
            return;
        }
        let regions = self.running(profiler);
        let exits = self.runs.entry((block.id, regions)).or_default();
        exits.executions += 1;
        match block.exit {
            Exit::None => {}
            Exit::Taken { into, mispredicted } => {
                exits.taken += 1;
                exits.mispredicted += u64::from(mispredicted);
                *self.refills.entry((into, block.func, regions)).or_default() += 1;
            }
            Exit::Fall { mispredicted } => {
                exits.falls += 1;
                exits.mispredicted += u64::from(mispredicted);
            }
        }
    }

    /// Block `id` was left after its first `instructions`; none is no run.
    pub(crate) fn close_part(&mut self, profiler: &Profiler, id: u32, instructions: u32) {
        if id != 0 && instructions > 0 {
            let regions = self.running(profiler);
            *self.partial.entry((id, regions, instructions)).or_default() += 1;
        }
    }

    /// A divide ran, taking `m4` cycles on a Cortex-M3/M4 and `m7` on a Cortex-M7.
    pub(crate) fn divide(&mut self, m4: u64, m7: u64) {
        self.divides.0 += 1;
        self.divides.1 += m4;
        self.divides.2 += m7;
    }

    /// The machine charged what happened since the last charge to `func`.
    pub(crate) fn charge(&mut self, profiler: &Profiler, func: u32, totals: MachineTotals) {
        let now = Dynamic {
            fetch_misses_jumped: totals.fetch_misses_jumped,
            fetch_misses_sequential: totals.fetch_misses_sequential,
            data_misses: totals.data_misses,
            divides: self.divides.0,
            divide_cycles_m4: self.divides.1,
            divide_cycles_m7: self.divides.2,
            exception_cycles: totals.exception_cycles,
            flash_program_us: totals.flash_program_us,
        };
        let delta = now.since(&self.charged);
        if delta != Dynamic::default() {
            let regions = self.running(profiler);
            self.charges.entry((func, regions)).or_default().add(&delta);
        }
        self.charged = now;
    }

    /// The trace: what was charged after the last block closed (nothing when
    /// the firmware exits) is filed without a function.
    pub(crate) fn finish(
        mut self,
        blocks: &[BlockInfo],
        symbols: &Symbols,
        profiler: &Profiler,
        end: RunEnd,
    ) -> Trace {
        self.charge(profiler, NO_FUNCTION, end.totals);
        let ids: Vec<u32> = {
            let mut ids: Vec<u32> = self
                .runs
                .keys()
                .map(|k| k.0)
                .chain(self.partial.keys().map(|k| k.0))
                .chain(self.refills.keys().map(|k| k.0))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        // One entry per distinct block: the same bytes at the same place
        // translated twice are one block.
        let mut distinct: BTreeMap<(u32, u32, &[u8]), u32> = BTreeMap::new();
        for &id in &ids {
            let b = &blocks[id as usize];
            let code = self.code.get(id as usize).map_or(&[][..], Vec::as_slice);
            distinct.insert((b.addr, b.size, code), 0);
        }
        for (index, slot) in distinct.values_mut().enumerate() {
            *slot = index as u32;
        }
        let block_index = |id: u32| {
            let b = &blocks[id as usize];
            let code = self.code.get(id as usize).map_or(&[][..], Vec::as_slice);
            distinct[&(b.addr, b.size, code)]
        };
        // Regions that were called (a region running was called), and each
        // recorded mask in their bits.
        let called: Vec<(usize, u64)> = self
            .regions
            .iter()
            .enumerate()
            .map(|(bit, &f)| (bit, profiler.totals(f as usize).2))
            .filter(|&(_, calls)| calls > 0)
            .collect();
        let remap = |mask: u64| {
            called
                .iter()
                .enumerate()
                .filter(|&(_, &(bit, _))| mask & 1 << bit != 0)
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        // Functions named anywhere, in symbol (address) order.
        let mut used: Vec<u32> = ids
            .iter()
            .map(|&id| blocks[id as usize].func)
            .chain(self.refills.keys().map(|k| k.1))
            .chain(self.charges.keys().map(|k| k.0))
            .chain(called.iter().map(|&(bit, _)| self.regions[bit]))
            .filter(|&f| f != NO_FUNCTION)
            .collect();
        used.sort_unstable();
        used.dedup();
        let function =
            |f: u32| (f != NO_FUNCTION).then(|| used.binary_search(&f).map_or(0, |i| i as u32));
        // Rows keyed in the trace's terms: blocks translated twice merge, and
        // the file reads the same for the same run whatever the hash order.
        let mut runs: BTreeMap<(u32, u64), Exits> = BTreeMap::new();
        for (&(id, regions), e) in &self.runs {
            let row = runs.entry((block_index(id), remap(regions))).or_default();
            row.executions += e.executions;
            row.taken += e.taken;
            row.falls += e.falls;
            row.mispredicted += e.mispredicted;
        }
        let mut partial: BTreeMap<(u32, u64, u32), u64> = BTreeMap::new();
        for (&(id, regions, instructions), &times) in &self.partial {
            *partial
                .entry((block_index(id), remap(regions), instructions))
                .or_default() += times;
        }
        let mut refills: BTreeMap<(u32, Option<u32>, u64), u64> = BTreeMap::new();
        for (&(id, func, regions), &times) in &self.refills {
            *refills
                .entry((block_index(id), function(func), remap(regions)))
                .or_default() += times;
        }
        let mut charges: BTreeMap<(Option<u32>, u64), Dynamic> = BTreeMap::new();
        for (&(func, regions), counts) in &self.charges {
            charges
                .entry((function(func), remap(regions)))
                .or_default()
                .add(counts);
        }
        Trace {
            version: TRACE_VERSION,
            image: String::new(),
            image_sha256: String::new(),
            target: String::new(),
            layout: Layout::default(),
            blocks: distinct
                .keys()
                .map(|&(addr, size, code)| TracedBlock {
                    addr,
                    size,
                    code: code.to_vec(),
                })
                .collect(),
            functions: used
                .iter()
                .map(|&f| {
                    let Function { name, addr, size } = &symbols.functions()[f as usize];
                    TracedFunction {
                        name: name.clone(),
                        addr: *addr,
                        size: *size,
                    }
                })
                .collect(),
            regions: called
                .iter()
                .map(|&(bit, calls)| TracedRegion {
                    function: function(self.regions[bit]).unwrap_or(0),
                    calls,
                })
                .collect(),
            runs: runs
                .into_iter()
                .map(|((block, regions), e)| BlockRuns {
                    block,
                    regions,
                    executions: e.executions,
                    taken_exits: e.taken,
                    fall_exits: e.falls,
                    mispredicted: e.mispredicted,
                })
                .collect(),
            partial_runs: partial
                .into_iter()
                .map(|((block, regions, instructions), times)| PartialRuns {
                    block,
                    regions,
                    instructions,
                    times,
                })
                .collect(),
            refills: refills
                .into_iter()
                .map(|((block, function, regions), times)| Refills {
                    block,
                    function,
                    regions,
                    times,
                })
                .collect(),
            charges: charges
                .into_iter()
                .map(|((function, regions), counts)| Charges {
                    function,
                    regions,
                    counts,
                })
                .collect(),
            sleep_cycles: end.sleep_cycles,
            deep_sleep_cycles: end.deep_sleep_modes.iter().map(|m| m.cycles).sum(),
            deep_sleep_wakeups: end.deep_sleep_modes.iter().map(|m| m.wakeups).sum(),
            deep_sleep_modes: end.deep_sleep_modes,
            programmed_clocks: end.programmed_clocks,
        }
    }
}

/// Which way a block was left, for [`Recorder::close`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exit {
    /// No exit was charged (exception entry or return, the run's end).
    None,
    /// By a taken branch into block `into`.
    Taken { into: u32, mispredicted: bool },
    /// By falling through.
    Fall { mispredicted: bool },
}

/// A block that ran to its end, for [`Recorder::close`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closed {
    /// Its id in the machine's block table (0, the empty block, is no block).
    pub id: u32,
    /// Its function's symbol index: a refill on leaving it is charged there.
    pub func: u32,
    /// How it was left.
    pub exit: Exit,
}

/// Hex text for the blocks' bytes.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        let digit = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom(
                "block code: odd number of hex digits",
            ));
        }
        text.as_bytes()
            .chunks(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| serde::de::Error::custom("block code: not hex"))
    }
}

/// Cycles, energy weight and instructions of some charges.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    cycles: u64,
    weighted: u64,
    instructions: u64,
    stalls: u64,
}

impl Tally {
    fn add(&mut self, more: &Tally) -> Option<()> {
        self.cycles = self.cycles.checked_add(more.cycles)?;
        self.weighted = self.weighted.checked_add(more.weighted)?;
        self.instructions = self.instructions.checked_add(more.instructions)?;
        self.stalls = self.stalls.checked_add(more.stalls)?;
        Some(())
    }
}

/// A block priced for the core.
struct PricedBlock {
    cost: BlockCost,
    /// Energy weight of a full run, SRAM fetches discounted.
    energy: u64,
    /// Profile slot of its function: 0 without a symbol, else index + 1.
    slot: usize,
}

/// Sums of charges over the whole run, per function and per region.
struct Books {
    total: Tally,
    functions: Vec<Tally>,
    regions: Vec<Tally>,
}

impl Books {
    fn book(&mut self, slot: usize, regions: u64, tally: Tally) -> Option<()> {
        self.total.add(&tally)?;
        self.functions[slot].add(&tally)?;
        for (bit, region) in self.regions.iter_mut().enumerate() {
            if regions & 1 << bit != 0 {
                region.add(&tally)?;
            }
        }
        Some(())
    }
}

impl Trace {
    /// Reads a trace file, refusing one of another format or one no run
    /// could have written.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let read = |message: String| TraceError::Read {
            path: path.display().to_string(),
            message,
        };
        let text = mcubench_reports::input::read_text(path, MAX_TRACE_BYTES)
            .map_err(|e| read(e.to_string()))?;
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            version: u32,
        }
        let version = serde_json::from_str::<Version>(&text)
            .map_err(|e| read(format!("not a trace: {e}")))?
            .version;
        if version != TRACE_VERSION {
            return Err(read(format!(
                "trace format {} where this mcubench reads format {TRACE_VERSION}; \
                 record it again with `mcubench run ELF --target T --record-trace FILE`",
                version.max(1)
            )));
        }
        let trace: Trace =
            serde_json::from_str(&text).map_err(|e| read(format!("not a trace: {e}")))?;
        trace.check().map_err(read)?;
        Ok(trace)
    }

    /// Refuses what no run writes, so re-pricing never indexes out of
    /// bounds, wraps or goes negative: blocks that are too large, whose bytes
    /// are not as long as their size, or that disagree on the bytes where
    /// they overlap; functions out of order; rows naming blocks, functions
    /// or regions the trace does not have; counts no run produces.
    fn check(&self) -> Result<(), String> {
        for pair in self.blocks.windows(2) {
            if (pair[0].addr, pair[0].size) >= (pair[1].addr, pair[1].size) {
                return Err(format!(
                    "block at {:#010x}: blocks must be listed once each, by address",
                    pair[1].addr
                ));
            }
        }
        for b in &self.blocks {
            if b.size == 0 || b.size % 2 != 0 || b.size > MAX_BLOCK_BYTES {
                return Err(format!(
                    "block at {:#010x}: size {} is not an even number of bytes from 2 to {MAX_BLOCK_BYTES}",
                    b.addr, b.size
                ));
            }
            if b.code.len() != b.size as usize {
                return Err(format!(
                    "block at {:#010x}: {} bytes of code for a size of {}",
                    b.addr,
                    b.code.len(),
                    b.size
                ));
            }
            if b.addr.checked_add(b.size).is_none() {
                return Err(format!("block at {:#010x}: ends past 4 GiB", b.addr));
            }
        }
        self.check_overlaps()?;
        let functions: Vec<Function> = self
            .functions
            .iter()
            .map(|f| Function {
                name: f.name.clone(),
                addr: f.addr,
                size: f.size,
            })
            .collect();
        if Symbols::new(functions.clone()).functions() != functions.as_slice()
            || self.functions.iter().any(|f| {
                f.name.len() > crate::demangle::MAX_NAME_BYTES
                    || f.addr.checked_add(f.size).is_none()
            })
        {
            return Err(
                "functions must be listed by address, without overlaps, names within bounds".into(),
            );
        }
        if self.regions.len() > MAX_REGIONS {
            return Err(format!("more than {MAX_REGIONS} regions"));
        }
        for r in &self.regions {
            let f = self
                .functions
                .get(r.function as usize)
                .ok_or_else(|| format!("region names function {}, not in the trace", r.function))?;
            if !crate::demangle::leaf(&f.name).starts_with(crate::run::REGION_PREFIX) {
                return Err(format!("region `{}` is not a `roi_` function", f.name));
            }
        }
        let blocks = self.blocks.len();
        let functions = self.functions.len();
        let region_bits = |mask: u64| mask.checked_shr(self.regions.len() as u32).unwrap_or(0);
        let row = |what: &str, block: Option<u32>, function: Option<u32>, regions: u64| {
            let bad_block = block.is_some_and(|b| b as usize >= blocks);
            let bad_function = function.is_some_and(|f| f as usize >= functions);
            if bad_block || bad_function || region_bits(regions) != 0 {
                Err(format!(
                    "{what} names a block, function or region the trace does not list"
                ))
            } else {
                Ok(())
            }
        };
        for r in &self.runs {
            row("a block run", Some(r.block), None, r.regions)?;
            let exits = r.taken_exits.checked_add(r.fall_exits);
            if exits.is_none_or(|e| e > r.executions) || r.mispredicted > r.executions {
                return Err(format!(
                    "block at {:#010x}: {} runs, {} taken exits, {} fall-through exits, {} mispredicted",
                    self.blocks[r.block as usize].addr,
                    r.executions,
                    r.taken_exits,
                    r.fall_exits,
                    r.mispredicted
                ));
            }
        }
        for r in &self.partial_runs {
            row("a partial block run", Some(r.block), None, r.regions)?;
        }
        for r in &self.refills {
            row("a refill", Some(r.block), r.function, r.regions)?;
        }
        for c in &self.charges {
            row("a charge", None, c.function, c.regions)?;
            let d = &c.counts;
            if d.divide_cycles_m4 < d.divides || d.divide_cycles_m7 < d.divides {
                return Err("fewer divide cycles than divides".into());
            }
            if !(d.flash_program_us.is_finite() && d.flash_program_us >= 0.0) {
                return Err(format!("flash_program_us {}", d.flash_program_us));
            }
        }
        if self.deep_sleep_cycles > self.sleep_cycles {
            return Err("more deep-sleep cycles than sleep cycles".into());
        }
        if !self.deep_sleep_modes.is_empty() {
            let modes = &self.deep_sleep_modes;
            if modes.len() > MAX_DEEP_SLEEP_MODES || modes.iter().any(|m| m.mode.len() > 32) {
                return Err(format!(
                    "deep_sleep_modes: at most {MAX_DEEP_SLEEP_MODES} modes of at most 32 bytes each"
                ));
            }
            let sum = |f: fn(&TracedDeepSleep) -> u64| {
                modes
                    .iter()
                    .try_fold(0u64, |total, m| total.checked_add(f(m)))
            };
            if sum(|m| m.cycles) != Some(self.deep_sleep_cycles)
                || sum(|m| m.wakeups) != Some(self.deep_sleep_wakeups)
            {
                return Err(
                    "deep_sleep_modes do not add up to deep_sleep_cycles and deep_sleep_wakeups"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// Blocks may overlap (a branch into the middle of straight-line code
    /// starts a block there), but they came from one memory: where two
    /// overlap their bytes must agree.
    fn check_overlaps(&self) -> Result<(), String> {
        let mut start = 0u32;
        let mut seen: Vec<u8> = Vec::new();
        for b in &self.blocks {
            let end = u64::from(start) + seen.len() as u64;
            if u64::from(b.addr) >= end {
                start = b.addr;
                seen.clear();
                seen.extend_from_slice(&b.code);
                continue;
            }
            let offset = (b.addr - start) as usize;
            let shared = (seen.len() - offset).min(b.code.len());
            if seen[offset..offset + shared] != b.code[..shared] {
                return Err(format!(
                    "block at {:#010x}: its bytes disagree with another block's where they overlap",
                    b.addr
                ));
            }
            seen.extend_from_slice(&b.code[shared..]);
        }
        Ok(())
    }

    /// Decodes and prices each block for `core`, refusing bytes that do not
    /// decode to instructions the core runs, and blocks outside `target`'s memory.
    fn price_blocks(
        &self,
        target: &Target,
        model: CostModel,
        symbols: &Symbols,
    ) -> Result<Vec<PricedBlock>, String> {
        let decoder = Decoder::new();
        self.blocks
            .iter()
            .map(|b| {
                let region = target
                    .region_of(u64::from(b.addr), u64::from(b.size))
                    .ok_or_else(|| {
                        format!(
                            "block at {:#010x} ({} bytes) is outside its memory map",
                            b.addr, b.size
                        )
                    })?;
                let insns = decoder.decode(b.addr, &b.code);
                if let Some(u) = model.unsupported(&insns) {
                    return Err(format!(
                        "block at {:#010x}: `{}` at {:#010x}: {}",
                        b.addr, u.mnemonic, u.addr, u.reason
                    ));
                }
                let cost = model.price(&insns);
                let energy = cost.energy * region.code_current_permille() / 1000;
                Ok(PricedBlock {
                    cost,
                    energy,
                    slot: symbols.index_of(b.addr).map_or(0, |i| i + 1),
                })
            })
            .collect()
    }

    /// Prices the recorded run on `target`, optionally with another core.
    pub fn reprice(&self, target: &Target, core: Option<Core>) -> Result<Repriced, TraceError> {
        if self.programmed_clocks {
            return Err(TraceError::ClocksProgrammed {
                image: self.image.clone(),
            });
        }
        let core = core.unwrap_or(target.core);
        let unpriceable = |message: String| TraceError::Unpriceable {
            target: format!("{} ({})", target.name, core.name()),
            message,
        };
        let overflow = || unpriceable("the traced counts overflow 64-bit figures".into());
        let symbols = Symbols::new(
            self.functions
                .iter()
                .map(|f| Function {
                    name: f.name.clone(),
                    addr: f.addr,
                    size: f.size,
                })
                .collect(),
        );
        self.layout
            .check_fits(target, &symbols)
            .map_err(|e| unpriceable(format!("the image does not fit: {e}")))?;
        let model = CostModel::new(core);
        let split = EnergySplit::of(core);
        let blocks = self
            .price_blocks(target, model, &symbols)
            .map_err(unpriceable)?;
        let mut timing = crate::machine::flash::FlashTiming::new(target);
        timing.configure(crate::machine::starting_flash(target, core));
        let mut books = Books {
            total: Tally::default(),
            functions: vec![Tally::default(); self.functions.len() + 1],
            regions: vec![Tally::default(); self.regions.len()],
        };
        let slot = |function: Option<u32>| function.map_or(0, |f| f as usize + 1);
        for r in &self.runs {
            let b = &blocks[r.block as usize];
            let tally = || -> Option<Tally> {
                let exits = r
                    .taken_exits
                    .checked_mul(u64::from(b.cost.taken))?
                    .checked_add(r.fall_exits.checked_mul(u64::from(b.cost.not_taken))?)?
                    .checked_add(r.mispredicted.checked_mul(u64::from(b.cost.mispredict))?)?;
                Some(Tally {
                    cycles: r
                        .executions
                        .checked_mul(u64::from(b.cost.cycles))?
                        .checked_add(exits)?,
                    weighted: r
                        .executions
                        .checked_mul(b.energy)?
                        .checked_add(exits.checked_mul(split.cycle)?)?,
                    instructions: r.executions.checked_mul(u64::from(b.cost.instructions))?,
                    stalls: 0,
                })
            };
            books
                .book(b.slot, r.regions, tally().ok_or_else(overflow)?)
                .ok_or_else(overflow)?;
        }
        for r in &self.partial_runs {
            let b = &blocks[r.block as usize];
            if r.instructions > b.cost.instructions {
                return Err(unpriceable(format!(
                    "block at {:#010x} left after {} of its {} instructions",
                    self.blocks[r.block as usize].addr, r.instructions, b.cost.instructions
                )));
            }
            let before = b
                .cost
                .prefix
                .get(r.instructions as usize)
                .copied()
                .unwrap_or(b.cost.cycles);
            let tally = || -> Option<Tally> {
                let cycles = r.times.checked_mul(u64::from(before))?;
                Some(Tally {
                    cycles,
                    weighted: cycles.checked_mul(weight::REFERENCE)?,
                    instructions: r.times.checked_mul(u64::from(r.instructions))?,
                    stalls: 0,
                })
            };
            books
                .book(b.slot, r.regions, tally().ok_or_else(overflow)?)
                .ok_or_else(overflow)?;
        }
        for r in &self.refills {
            let refill = u64::from(blocks[r.block as usize].cost.refill);
            let tally = || -> Option<Tally> {
                let cycles = r.times.checked_mul(refill)?;
                Some(Tally {
                    cycles,
                    weighted: cycles.checked_mul(split.cycle)?,
                    ..Tally::default()
                })
            };
            books
                .book(slot(r.function), r.regions, tally().ok_or_else(overflow)?)
                .ok_or_else(overflow)?;
        }
        let mut program_us = 0.0;
        for c in &self.charges {
            let d = &c.counts;
            program_us += d.flash_program_us;
            let divides = if core.is_m7() {
                d.divide_cycles_m7
            } else {
                d.divide_cycles_m4
            };
            let program = (d.flash_program_us * target.clock_mhz).round() as u64;
            let tally = || -> Option<Tally> {
                let ws = u64::from(timing.ws);
                let stalls = d
                    .fetch_misses_jumped
                    .checked_mul(ws)?
                    .checked_add(
                        d.fetch_misses_sequential
                            .checked_mul(u64::from(timing.sequential_stall()))?,
                    )?
                    .checked_add(d.data_misses.checked_mul(ws)?)?;
                Some(Tally {
                    cycles: stalls
                        .checked_add(divides)?
                        .checked_add(d.exception_cycles)?
                        .checked_add(program)?,
                    weighted: stalls
                        .checked_add(program)?
                        .checked_add(divides)?
                        .checked_mul(split.cycle)?
                        .checked_add(d.exception_cycles.checked_mul(weight::REFERENCE)?)?,
                    instructions: 0,
                    stalls,
                })
            };
            books
                .book(slot(c.function), c.regions, tally().ok_or_else(overflow)?)
                .ok_or_else(overflow)?;
        }
        let pj_per_cycle = target.energy.run_pj_per_cycle();
        let uj = |weighted: u64| weighted as f64 / 1000.0 * pj_per_cycle * 1e-6;
        let total = books.total;
        let time_us = (total.cycles as f64 + self.sleep_cycles as f64) / target.clock_mhz;
        // Sleep as in `run`: V × µA/MHz per cycle (pJ) with the clocks
        // running, V × µA × s in deep sleep.
        let light_sleep = self.sleep_cycles - self.deep_sleep_cycles;
        let mut sleep_uj = light_sleep as f64 * target.energy.sleep_mode_pj_per_cycle() * 1e-6;
        let untold = [TracedDeepSleep {
            mode: String::new(),
            cycles: self.deep_sleep_cycles,
            wakeups: self.deep_sleep_wakeups,
        }];
        let modes = match &self.deep_sleep_modes[..] {
            [] => &untold[..],
            modes => modes,
        };
        for m in modes {
            let figures = target.energy.in_mode(Some(m.mode.as_str()));
            sleep_uj += m.cycles as f64 / target.clock_mhz * 1e-6 * figures.stop_uw()
                + figures.wakeup_uj(m.wakeups, target.clock_mhz);
        }
        let program_uj = target.energy.vdd_v
            * target.flash_program.current_ma.unwrap_or(0.0)
            * program_us
            * 1e-3;
        let regions = self
            .regions
            .iter()
            .zip(&books.regions)
            .map(|(r, t)| Region {
                name: crate::demangle::leaf(&self.functions[r.function as usize].name)
                    .strip_prefix(crate::run::REGION_PREFIX)
                    .unwrap_or_default()
                    .to_owned(),
                calls: r.calls,
                cycles: t.cycles,
                time_us: t.cycles as f64 / target.clock_mhz,
                energy_uj: uj(t.weighted),
            })
            .collect();
        let mut profile: Vec<FunctionCost> = books
            .functions
            .iter()
            .enumerate()
            .filter(|(_, t)| t.cycles > 0)
            .map(|(slot, t)| FunctionCost {
                name: match slot {
                    0 => "[unknown]".to_owned(),
                    s => symbols.functions()[s - 1].name.clone(),
                },
                self_cycles: t.cycles,
            })
            .collect();
        profile.sort_by(|a, b| {
            b.self_cycles
                .cmp(&a.self_cycles)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(Repriced {
            target: target.name.clone(),
            core: core.name().to_owned(),
            clock_mhz: target.clock_mhz,
            cycles: total.cycles,
            instructions: total.instructions,
            flash_stall_cycles: total.stalls,
            time_us,
            energy_uj: uj(total.weighted) + program_uj + sleep_uj,
            regions,
            profile,
        })
    }
}
