//! Cortex-M7 pricing: an in-order dual-issue schedule of each block, with
//! unit limits and latencies from Arm's LLVM scheduling model for the core
//! (`ARMScheduleM7.td`), summarized in reference/cortex-m-timing.md.
//!
//! What is approximated:
//! - Register dependencies are tracked for core registers only, and only
//!   within a block; FP results are taken as ready for the next FP instruction
//!   except after VDIV/VSQRT, whose latency blocks the FPU.
//! - Branches are predicted by a static rule (backward taken, forward not
//!   taken; direct unconditional branches, calls and returns predicted);
//!   a misprediction costs 5 cycles, the middle of the 4..6 the reference gives.
//! - Caches are modeled by the machine for flash accesses only; TCM and the
//!   RAM that firmware uses for data are zero wait.

use super::decode::{Class, Insn, PC};

/// Cycles lost to a mispredicted branch.
const MISPREDICT: u8 = 5;

/// Which execution resources an instruction needs in its issue cycle.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Issue {
    /// Issues alone: nothing pairs with it.
    Alone,
    /// Must be the older of a pair (DSP, CLZ, BFI...).
    Slot0,
    /// May issue in either slot.
    Any,
}

struct Timing {
    issue: Issue,
    /// Cycles until a dependent instruction can use the result.
    latency: u32,
    /// Cycles the instruction occupies its issue slot.
    occupancy: u32,
    unit: Unit,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Alu,
    Load,
    Store,
    Mac,
    Branch,
    Fpu,
    None,
}

fn timing(insn: &Insn) -> Timing {
    let t = |issue, latency, occupancy, unit| Timing {
        issue,
        latency,
        occupancy,
        unit,
    };
    match insn.class {
        Class::Alu => t(Issue::Any, 1, 1, Unit::Alu),
        // Shifted operands are needed a cycle early: modeled as one more cycle of latency.
        Class::AluShifted => t(Issue::Any, 2, 1, Unit::Alu),
        Class::Dsp => t(Issue::Slot0, 1, 1, Unit::Alu),
        Class::Mul | Class::Mla | Class::MulLong | Class::MulDsp => t(Issue::Any, 2, 1, Unit::Mac),
        Class::Div => t(Issue::Alone, 1, 0, Unit::None),
        Class::Load => {
            let narrow = insn.mnemonic.starts_with("ldrb")
                || insn.mnemonic.starts_with("ldrh")
                || insn.mnemonic.starts_with("ldrs");
            t(Issue::Any, if narrow { 3 } else { 2 }, 1, Unit::Load)
        }
        Class::Store => t(Issue::Any, 1, 1, Unit::Store),
        Class::LoadDouble | Class::StoreDouble => t(Issue::Alone, 2, 2, Unit::Load),
        Class::LoadMultiple | Class::StoreMultiple => {
            let n = u32::from(insn.transfers).max(1);
            t(Issue::Alone, 2, n.div_ceil(2) + 1, Unit::Load)
        }
        Class::Exclusive
        | Class::TableBranch
        | Class::System
        | Class::Barrier
        | Class::Sleep
        | Class::Trap => t(Issue::Alone, 1, 2, Unit::None),
        Class::Branch
        | Class::CondBranch
        | Class::CompareBranch
        | Class::Call
        | Class::BranchIndirect => t(Issue::Any, 1, 1, Unit::Branch),
        Class::It | Class::Nop => t(Issue::Any, 1, 1, Unit::None),
        Class::FpAlu | Class::FpMove | Class::FpSystem => {
            t(Issue::Any, if insn.double { 4 } else { 3 }, 1, Unit::Fpu)
        }
        Class::FpMac => t(Issue::Any, if insn.double { 11 } else { 6 }, 1, Unit::Fpu),
        Class::FpDivSqrt => t(
            Issue::Alone,
            1,
            if insn.double { 30 } else { 16 },
            Unit::Fpu,
        ),
        Class::FpLoad => t(Issue::Any, 2, 1, Unit::Load),
        Class::FpStore => t(Issue::Any, 1, 1, Unit::Store),
        Class::FpLoadMultiple | Class::FpStoreMultiple => t(
            Issue::Alone,
            2,
            u32::from(insn.transfers).div_ceil(2) + 1,
            Unit::Load,
        ),
        Class::Undefined => t(Issue::Alone, 1, 1, Unit::None),
    }
}

/// Per-instruction cycles (issue cycle deltas), plus the extra cycles of a
/// taken and a not-taken exit from the static prediction rule.
pub fn schedule(insns: &[Insn]) -> (Vec<u32>, u8, u8) {
    let mut ready = [0u32; 16];
    let mut issue_cycle = 0u32; // cycle the current issue group started
    let mut group: Vec<(Issue, Unit)> = Vec::with_capacity(2);
    let mut next_free = 0u32; // first cycle a new group may start
    let mut starts = Vec::with_capacity(insns.len());
    for insn in insns {
        let t = timing(insn);
        let operands_ready = (0..16)
            .filter(|r| insn.reads & (1 << r) != 0)
            .map(|r| ready[r])
            .max()
            .unwrap_or(0);
        let pairs = group.len() == 1
            && t.issue == Issue::Any
            && group[0].0 != Issue::Alone
            && operands_ready <= issue_cycle
            && unit_free(&group, t.unit)
            && !depends_on_group(insn, insns, starts.len());
        let start = if pairs {
            issue_cycle
        } else {
            let start = next_free.max(operands_ready);
            group.clear();
            issue_cycle = start;
            start
        };
        group.push((t.issue, t.unit));
        next_free = next_free.max(start + t.occupancy.max(1));
        if t.issue == Issue::Alone {
            group.push((Issue::Alone, Unit::None));
        }
        for (r, ready) in ready.iter_mut().enumerate() {
            if insn.writes & (1 << r) != 0 {
                *ready = start + t.latency;
            }
        }
        starts.push(start);
    }
    let end = next_free;
    let mut per_insn: Vec<u32> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    if let Some(&last) = starts.last() {
        per_insn.push(end - last);
    }
    let (taken, not_taken) = match insns.last() {
        Some(last) => prediction_penalties(last),
        None => (0, 0),
    };
    (per_insn, taken, not_taken)
}

fn unit_free(group: &[(Issue, Unit)], unit: Unit) -> bool {
    let used = group.iter().filter(|(_, u)| *u == unit).count();
    let limit = match unit {
        Unit::Alu | Unit::Load => 2,
        Unit::None => 2,
        Unit::Store | Unit::Mac | Unit::Branch | Unit::Fpu => 1,
    };
    used < limit
}

/// Whether `insns[i]` reads a register the instruction before it writes.
fn depends_on_group(insn: &Insn, insns: &[Insn], i: usize) -> bool {
    i > 0 && insns[i - 1].writes & insn.reads != 0
}

/// Extra cycles for a taken and a not-taken exit of a block ending in `last`.
fn prediction_penalties(last: &Insn) -> (u8, u8) {
    let backward = last.target.is_some_and(|t| t <= last.addr);
    match last.class {
        Class::CondBranch | Class::CompareBranch if backward => (0, MISPREDICT),
        Class::CondBranch | Class::CompareBranch => (MISPREDICT, 0),
        Class::Branch | Class::Call => (0, 0),
        // Returns are predicted by the return stack; other indirect jumps are not.
        Class::BranchIndirect if last.reads & (1 << 14) != 0 => (0, 0),
        Class::LoadMultiple if last.writes & PC != 0 => (0, 0),
        _ if last.writes & PC != 0
            || matches!(last.class, Class::BranchIndirect | Class::TableBranch) =>
        {
            (MISPREDICT, 0)
        }
        _ => (0, 0),
    }
}
