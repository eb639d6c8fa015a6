//! The cost model: turns a decoded block into a static price once, so that the
//! machine's block hook only adds precomputed numbers.
//!
//! A [`BlockCost`] holds the block's cycles at zero wait states when it falls
//! through, what a taken exit adds, what a mispredicted conditional exit adds,
//! the refill cycles P charged when a taken branch lands on the block, and an
//! energy weight. The per-core pricing lives
//! in [`m4`] (Cortex-M3 and M4, from the TRM tables and measurements) and
//! [`m7`] (dual issue and branch prediction, from measurements).
//! Dynamic parts (branch direction, flash wait states, divides) are charged by
//! the machine from cheap signals; see `machine`.

pub mod decode;
pub mod m4;
pub mod m7;

use crate::target::Core;
use decode::{Class, Insn};

/// Energy weights relative to one active cycle at the target's µA/MHz, in
/// thousandths. The datasheet run current is measured on ordinary code, so
/// ordinary ALU work is the reference (1000). Measured MLPerf Tiny power stays
/// within about ±10% across models and software stacks (reference/energy.md),
/// so classes differ by at most 10%; stalled cycles (wait states, divider and
/// FP divide iterations) draw about half: on an Apollo3 an FP divide costs about
/// 7× the energy of an FP multiply while taking 14× the cycles (same source).
pub mod weight {
    /// Data processing, branches, system instructions.
    pub const ALU: u64 = 1000;
    /// Multipliers and the MAC unit: the widest datapath, upper end of the ±10% band.
    pub const MUL: u64 = 1100;
    /// Loads and stores: bus activity, midway.
    pub const MEMORY: u64 = 1050;
    /// FPU arithmetic: upper end of the band.
    pub const FPU: u64 = 1100;
    /// Stalled cycles: wait states, divide iterations (Apollo3 FP divide figure).
    pub const STALL: u64 = 500;
    /// Code fetched from SRAM instead of flash draws 15..22% less (nRF52840: 2.8 vs
    /// 3.3 mA, reference/energy.md); applied as a factor of 850/1000 to such blocks.
    pub const SRAM_FETCH_PERMILLE: u64 = 850;
}

/// The static price of one translated block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockCost {
    /// Cycles at zero wait states when the block exits by falling through.
    pub cycles: u32,
    /// Extra cycles when the block exits by a taken branch (before the target's refill).
    pub taken: u8,
    /// Extra cycles when the block falls through its closing conditional branch
    /// (Cortex-M3/M4: the fetch lags behind 32-bit instructions).
    pub not_taken: u8,
    /// How the conditional branch ending the block is first predicted, if it ends in one.
    pub prediction: Prediction,
    /// Extra cycles when that branch goes the other way than predicted (Cortex-M7).
    pub mispredict: u8,
    /// Pipeline refill P charged when a taken branch lands on this block.
    pub refill: u8,
    /// Instructions in the block.
    pub instructions: u32,
    /// Energy weight: Σ cycles × class weight, in thousandths of a cycle.
    pub energy: u64,
    /// Cycles charged before each instruction starts, for reads of DWT_CYCCNT mid-block.
    pub prefix: Vec<u32>,
}

/// The first prediction for a block's closing conditional branch: the static
/// rule the Cortex-M7 falls back on (TRM DDI 0489 1.2.3), backward taken,
/// forward not taken. Later exits go through a 2-bit saturating counter per
/// branch (`machine::blocks`), standing for its branch target address cache,
/// whose organization Arm does not publish: an assumption, not a measurement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Prediction {
    /// The block does not end in a conditional direct branch.
    #[default]
    None,
    /// A forward branch: first predicted not taken.
    NotTaken,
    /// A backward branch: first predicted taken.
    Taken,
}

impl Prediction {
    /// The prediction for a block ending in `last`.
    pub fn of(last: Option<&Insn>) -> Prediction {
        match last {
            Some(i) if matches!(i.class, Class::CondBranch | Class::CompareBranch) => {
                match i.target {
                    Some(t) if t <= i.addr => Prediction::Taken,
                    _ => Prediction::NotTaken,
                }
            }
            _ => Prediction::None,
        }
    }
}

/// Something the core cannot execute, found while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Address of the instruction.
    pub addr: u32,
    /// The instruction as disassembled.
    pub mnemonic: String,
    /// Why the core rejects it.
    pub reason: &'static str,
}

/// A per-core pricing of decoded blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostModel {
    core: Core,
}

impl CostModel {
    /// The model for a core.
    pub fn new(core: Core) -> CostModel {
        CostModel { core }
    }

    /// The core it prices.
    pub fn core(self) -> Core {
        self.core
    }

    /// Prices a block of decoded instructions.
    pub fn price(self, insns: &[Insn]) -> BlockCost {
        let (per_insn, taken, mispredict) = match self.core {
            Core::CortexM3 | Core::CortexM4 | Core::CortexM4f => {
                (m4::schedule(self.core, insns), 0, 0)
            }
            Core::CortexM7 | Core::CortexM7f => m7::schedule(insns),
        };
        let mut prefix = Vec::with_capacity(insns.len());
        let mut cycles = 0u32;
        let mut energy = 0u64;
        for (insn, &c) in insns.iter().zip(&per_insn) {
            prefix.push(cycles);
            cycles += c;
            energy += u64::from(c) * class_weight(insn.class);
        }
        let refill = match self.core {
            Core::CortexM7 | Core::CortexM7f => 0,
            _ => insns.first().map_or(1, m4::refill),
        };
        BlockCost {
            cycles,
            taken,
            not_taken: match self.core {
                Core::CortexM7 | Core::CortexM7f => 0,
                _ => m4::not_taken(insns),
            },
            prediction: Prediction::of(insns.last()),
            mispredict,
            refill,
            instructions: insns.len() as u32,
            energy,
            prefix,
        }
    }

    /// The first instruction this core cannot execute, if any.
    pub fn unsupported(self, insns: &[Insn]) -> Option<Unsupported> {
        insns.iter().find_map(|insn| {
            let reason = if insn.class == Class::Undefined {
                "undefined instruction"
            } else if insn.class.is_fp() && !self.core.has_fpu() {
                "floating-point instruction on a core without an FPU"
            } else if matches!(insn.class, Class::FpAlu | Class::FpMac | Class::FpDivSqrt)
                && insn.double
                && self.core == Core::CortexM4f
            {
                "double-precision instruction on the single-precision FPv4-SP"
            } else if insn.class.is_dsp() && !self.core.has_dsp() {
                "DSP-extension instruction on a core without it (ARMv7-M)"
            } else {
                return None;
            };
            Some(Unsupported {
                addr: insn.addr,
                mnemonic: insn.mnemonic.clone(),
                reason,
            })
        })
    }
}

/// Energy weight of one cycle of an instruction class, in thousandths.
pub fn class_weight(class: Class) -> u64 {
    match class {
        Class::Mul | Class::Mla | Class::MulLong | Class::MulDsp => weight::MUL,
        c if c.is_memory() => weight::MEMORY,
        Class::FpAlu | Class::FpMac | Class::FpMove | Class::FpSystem => weight::FPU,
        Class::FpDivSqrt | Class::Div => weight::STALL,
        _ => weight::ALU,
    }
}

/// Cycles of an integer divide with early termination, from its operands.
///
/// The Cortex-M3/M4 TRMs give SDIV/UDIV 2..12 cycles depending on the number
/// of leading zeros/ones of the operands. We model the divider as retiring
/// about three quotient bits per cycle after two setup cycles: q quotient bits
/// cost 2 + ⌈q/3⌉, clamped to 2..12; division by zero takes 2. Cortex-M7
/// divides take 3..~20 by the LLVM model's average; we use the same shape
/// scaled to the "about 7" of reference/cortex-m-timing.md: 3 + ⌈q/8⌉.
pub fn divide_cycles(core: Core, signed: bool, dividend: u32, divisor: u32) -> u32 {
    let magnitude = |x: u32| if signed { (x as i32).unsigned_abs() } else { x };
    let (n, d) = (magnitude(dividend), magnitude(divisor));
    if d == 0 {
        return 2;
    }
    let bits = |x: u32| 32 - x.leading_zeros();
    let q = (bits(n) + 1).saturating_sub(bits(d));
    match core {
        Core::CortexM7 | Core::CortexM7f => 3 + q.div_ceil(8),
        _ => (2 + q.div_ceil(3)).clamp(2, 12),
    }
}
