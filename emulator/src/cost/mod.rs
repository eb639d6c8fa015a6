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

/// Energy in thousandths of the reference cycle: the average cycle of the
/// program a target's run current was measured on (CoreMark for the datasheet
/// figures). A cycle draws a share whatever it does (clock tree, leakage,
/// memories idling) and each retired instruction adds switching activity, so a
/// stalled or refilling cycle costs less than a busy one and a dual-issued
/// instruction is not free. The split comes from the datasheets' currents of
/// one part running programs at different instruction rates; see
/// [`EnergySplit::of`].
pub mod weight {
    /// One reference cycle: work whose instruction mix is not known, such as
    /// exception stacking and a block left part way.
    pub const REFERENCE: u64 = 1000;
    /// Activity of one data-processing, branch or system instruction, and of a
    /// divide, whose iterating cycles are idle ones.
    pub const ALU: u64 = 1000;
    /// Multipliers and the MAC unit, the widest datapath. Measured MLPerf Tiny
    /// power stays within about ±10% across models (reference/energy.md), so the
    /// classes differ by at most 10%; an assumption within that band.
    pub const MUL: u64 = 1100;
    /// Loads and stores: the bus as well as the core; an assumption within the band.
    pub const MEMORY: u64 = 1050;
    /// FPU arithmetic; an assumption within the band.
    pub const FPU: u64 = 1100;
}

/// How one core's energy splits between cycles and instructions, in
/// thousandths of a reference cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnergySplit {
    /// Drawn by every cycle, stalled or not.
    pub cycle: u64,
    /// Added by each retired instruction of activity [`weight::ALU`]; scaled
    /// by the class weight for the others.
    pub insn: u64,
}

impl EnergySplit {
    /// The split for a core. With `a` the share of a reference cycle's energy
    /// that instructions draw and `r` the reference program's instructions per
    /// cycle weighted by class (as this model runs it), `cycle = 1000 (1 - a)`
    /// and `insn = 1000 a / r`, so that the reference program draws exactly the
    /// run current.
    ///
    /// - Cortex-M7: `a` = 0.33. DS13195 (STM32H7A3) Table 37, CoreMark from flash
    ///   at 280 MHz: 1414 CoreMark at 33.4 mA (SMPS) and 69.0 mA (LDO) with the
    ///   caches on, 668 at 28.0 and 56.0 mA with them off. The same instructions
    ///   at 47% of the rate draw 16.2% (SMPS) and 18.8% (LDO) less, so
    ///   instructions draw 0.306 and 0.357 of the current: 0.33, the mean.
    ///   Stalled cycles are taken to draw the cycle share only; the flash reads
    ///   themselves look cheap, since AXI SRAM without caches draws more (30.2 mA)
    ///   at the same rate. `r` = 1.128: the CoreMark of the calibration set
    ///   (GCC 12.2 -O2) on stm32h7a3 in this model, 1.109 instructions per cycle
    ///   at a mean class weight of 1.017.
    /// - Cortex-M3/M4: `a` = 0.44. STM32L496xx datasheet Table 38, code
    ///   in SRAM1, Range 1 at 80 MHz: CoreMark 121 µA/MHz, While(1) 106; Range 2
    ///   at 26 MHz: 105 and 91. While(1) is one branch every two cycles
    ///   (B = 1 + P, P = 1 from SRAM), 0.5 against `r`, so `a` = (1 - 106/121) /
    ///   (1 - 0.5/0.706) = 0.425, and 0.457 at 26 MHz: 0.44, the mean. `r` =
    ///   0.706: that CoreMark at zero wait states (stm32l4r5 at 16 MHz) in this
    ///   model, 0.694 instructions per cycle at a mean class weight of 1.017. The
    ///   flash rows (Table 32, CoreMark 133, While(1) 108) give more, as
    ///   CoreMark's flash reads add to its draw; not modeled. The Cortex-M3 is
    ///   taken as the Cortex-M4, whose pipeline it shares (an assumption).
    ///
    /// The tables were read from a table-by-table extraction of ST's PDFs
    /// (MaleBenAttia/st_datasheets153: stm32h7a3ag table 37, stm32l496ae table
    /// 38). Cross-check: an FP divide (14 cycles) then costs 14 (1 - a) + a FP
    /// multiplies: 9.7 on the Cortex-M7 and 8.3 on the M4, against about 7 on
    /// an Apollo3 (reference/energy.md).
    pub fn of(core: Core) -> EnergySplit {
        let (share_permille, reference_ipc_permille) = if core.is_m7() {
            (330, 1128)
        } else {
            (440, 706)
        };
        EnergySplit {
            cycle: 1000 - share_permille,
            insn: share_permille * 1000 / reference_ipc_permille,
        }
    }

    /// Energy of one instruction of `class`.
    pub fn instruction(self, class: Class) -> u64 {
        self.insn * class_weight(class) / 1000
    }
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
    /// Energy at zero wait states, in thousandths of a reference cycle: its
    /// cycles' share and its instructions' ([`EnergySplit`]).
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
        let split = EnergySplit::of(self.core);
        let mut energy = 0u64;
        for (insn, &c) in insns.iter().zip(&per_insn) {
            prefix.push(cycles);
            cycles += c;
            energy += split.instruction(insn.class);
        }
        energy += u64::from(cycles) * split.cycle;
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

/// Activity of one instruction of a class, in thousandths of an ALU instruction's.
pub fn class_weight(class: Class) -> u64 {
    match class {
        Class::Mul | Class::Mla | Class::MulLong | Class::MulDsp => weight::MUL,
        c if c.is_memory() => weight::MEMORY,
        Class::FpAlu | Class::FpMac | Class::FpMove | Class::FpSystem | Class::FpDivSqrt => {
            weight::FPU
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Energy per cycle, in reference cycles, of code retiring `ipc`
    /// ALU-weight instructions per cycle.
    fn draw(split: EnergySplit, ipc: f64) -> f64 {
        (split.cycle as f64 + split.insn as f64 * ipc) / 1000.0
    }

    #[test]
    fn the_reference_program_draws_the_run_current() {
        for (core, reference_ipc) in [(Core::CortexM4f, 0.706), (Core::CortexM7f, 1.128)] {
            let drawn = draw(EnergySplit::of(core), reference_ipc);
            assert!((drawn - 1.0).abs() < 0.002, "{core:?}: {drawn}");
        }
    }

    #[test]
    fn the_datasheet_rows_the_split_comes_from_are_reproduced() {
        // STM32L496 Table 38 from SRAM1: While(1) against CoreMark at 80 and 26 MHz.
        let m4 = draw(EnergySplit::of(Core::CortexM4), 0.5);
        for measured in [106.0 / 121.0, 91.0 / 105.0] {
            assert!((m4 - measured).abs() < 0.01, "{m4} against {measured}");
        }
        // DS13195 Table 37: CoreMark from flash with the caches off, at 668 of 1414
        // CoreMark, SMPS and LDO.
        let m7 = draw(EnergySplit::of(Core::CortexM7), 1.128 * 668.0 / 1414.0);
        for measured in [28.0 / 33.4, 56.0 / 69.0] {
            assert!((m7 - measured).abs() < 0.015, "{m7} against {measured}");
        }
    }

    #[test]
    fn a_block_pays_its_cycles_share_and_its_instructions() {
        // adds r0, r1, r1; muls r0, r1
        let insns = decode::Decoder::new().decode(0x100, &[0x48, 0x18, 0x48, 0x43]);
        let classes: Vec<Class> = insns.iter().map(|i| i.class).collect();
        assert_eq!(classes, [Class::Alu, Class::Mul]);
        let cost = CostModel::new(Core::CortexM4f).price(&insns);
        assert_eq!(cost.cycles, 2);
        // Two cycles' share (560 each), an ALU and a multiply instruction (623 × 1.1).
        assert_eq!(cost.energy, 2 * 560 + 623 + 685);
    }
}
