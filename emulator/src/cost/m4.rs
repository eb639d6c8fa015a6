//! Cortex-M4 (and Cortex-M3) pricing from the processor instruction timing
//! tables: Cortex-M4 TRM r0p1 (DDI 0439) section 3.3.1 and the FPU chapter,
//! Cortex-M3 TRM (DDI 0337) section 18.2, summarized in
//! reference/cortex-m-timing.md.
//!
//! What is approximated:
//! - P, the refill after a taken branch, is 1, or 2 when the target is a
//!   32-bit instruction at an address ≡ 2 (mod 4) (it needs two fetches).
//! - Instructions skipped by an IT block are charged as if executed (1 cycle
//!   on silicon for most; longer ones are over-charged).
//! - IT never folds into the previous instruction.
//! - DMB/DSB/ISB/WFI add nothing beyond 1 cycle (no outstanding transfers).
//! - Divides are charged dynamically from their operands (`divide_cycles`).
//! - Cortex-M3 long multiplies take 3..5 cycles by operand size; we charge 4.

use super::decode::{Class, Insn, PC};
use crate::target::Core;

/// Per-instruction cycles for a block, plus the extra cycles of a taken and a
/// not-taken exit (none on this pipeline beyond P, which the target block adds).
pub fn schedule(core: Core, insns: &[Insn]) -> (Vec<u32>, u8, u8) {
    let mut out = Vec::with_capacity(insns.len());
    let mut prev: Option<&Insn> = None;
    for insn in insns {
        out.push(cycles(core, insn, prev));
        prev = Some(insn);
    }
    (out, 0, 0)
}

/// The refill P charged when a taken branch lands on `first`.
pub fn refill(first: &Insn) -> u8 {
    if first.len == 4 && first.addr % 4 == 2 {
        2
    } else {
        1
    }
}

fn cycles(core: Core, insn: &Insn, prev: Option<&Insn>) -> u32 {
    let m3 = core == Core::CortexM3;
    let base = match insn.class {
        Class::Alu | Class::AluShifted | Class::Dsp => 1,
        Class::Mul | Class::MulDsp => 1,
        Class::Mla => {
            if m3 {
                2
            } else {
                1
            }
        }
        Class::MulLong => {
            if m3 {
                4
            } else {
                1
            }
        }
        // Charged from the operands when the divide executes.
        Class::Div => 0,
        Class::Load | Class::Store => {
            if pipelines_after(insn, prev) {
                1
            } else {
                2
            }
        }
        Class::LoadDouble | Class::StoreDouble => 3,
        Class::LoadMultiple | Class::StoreMultiple => 1 + u32::from(insn.transfers),
        Class::Exclusive => 2,
        Class::Branch
        | Class::CondBranch
        | Class::CompareBranch
        | Class::Call
        | Class::BranchIndirect => 1,
        Class::TableBranch => 2,
        Class::It | Class::Nop | Class::Barrier | Class::Sleep | Class::Trap | Class::System => 1,
        Class::FpAlu => 1,
        Class::FpMac => 3,
        Class::FpDivSqrt => 14,
        Class::FpLoad | Class::FpStore => {
            if insn.double {
                3
            } else {
                2
            }
        }
        Class::FpLoadMultiple | Class::FpStoreMultiple => 1 + u32::from(insn.transfers),
        Class::FpMove => {
            if (insn.reads | insn.writes).count_ones() >= 2 || insn.double {
                2
            } else {
                1
            }
        }
        Class::FpSystem => 1,
        Class::Undefined => 1,
    };
    base + address_interlock(insn, prev)
}

/// A single load or store right after a single load pipelines its address
/// phase with the previous data phase (TRM 3.3.2), unless it needs the value
/// being loaded for its address, or the earlier load wrote back its base or
/// loaded the PC.
fn pipelines_after(insn: &Insn, prev: Option<&Insn>) -> bool {
    let Some(prev) = prev else { return false };
    prev.class == Class::Load
        && !prev.writeback
        && prev.writes & PC == 0
        && insn.addr_regs & prev.writes == 0
}

/// An address register written by the immediately preceding data-processing
/// instruction is not ready for address generation: one extra cycle.
fn address_interlock(insn: &Insn, prev: Option<&Insn>) -> u32 {
    let Some(prev) = prev else { return 0 };
    let memory = insn.class.is_memory() && insn.class != Class::Exclusive;
    let data_processing = matches!(
        prev.class,
        Class::Alu
            | Class::AluShifted
            | Class::Dsp
            | Class::Mul
            | Class::Mla
            | Class::MulLong
            | Class::MulDsp
    );
    u32::from(memory && data_processing && insn.addr_regs & prev.writes & !PC != 0)
}
