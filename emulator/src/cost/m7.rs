//! Cortex-M7 pricing: an in-order dual-issue schedule of each block, from the
//! facts gathered in reference/cortex-m7-timing.md. Arm publishes no cycle
//! table for this core; the sources are silicon measurements on an STM32H743
//! (jnk0le, github.com/jnk0le/random "pipeline cycle test/doc/cortex_m7.md",
//! "J" below) and Arm's scheduling models for LLVM (`ARMScheduleM7.td`, "L")
//! and GCC (`cortex-m7.md`, "G").
//!
//! The schedule: instructions issue in order, two per cycle at most. The
//! younger of a pair issues with the older unless a rule below forbids it
//! (J "dual issue", summarized in the reference's table): LDM/STM/LDRD/STRD,
//! exclusives, table branches, system instructions, divides and double FP
//! loads issue alone; bitfield and DSP instructions only as the older of a
//! pair and never two together; two inline-shifted operands, two stores, two
//! multiplies, a multiply and a store, two FP data operations do not pair; two
//! loads pair only when they reach different DTCM/cache banks (address bit 2),
//! which we know only for two offsets from one base register.
//!
//! Results: ALU results feed the next cycle. Simple moves, adds and
//! subtractions issued as the older of a pair run in the early ALU and feed
//! the younger one in the same cycle (J "overall"). Sources consumed early (an
//! address, an inline-shifted operand, the sources of the bitfield
//! instructions the early ALU runs) need their value a cycle sooner from
//! anything but the early ALU. Loads: a word is ready for the late ALU the
//! next cycle, a byte or halfword a cycle later (J "loads"). Multiplies:
//! result 2 cycles; factors are read as the late ALU reads, except a load's
//! result, which they take a cycle later; the accumulator is read a stage
//! after the late ALU, so a MAC chains on its own result every cycle (J
//! "multiplication, MAC").
//!
//! Branches: a predicted branch costs its issue slot; a conditional branch is
//! predicted by a 2-bit counter of its own (`cost::Prediction`), and a misprediction
//! costs 8 cycles, 6 when the flags were set at least 3 cycles before the
//! branch (J "branching/cmp"). Returns (BX LR, POP/LDM into PC) are taken as
//! predicted; other indirect jumps and table branches as mispredicted.
//!
//! What stays approximate:
//! - Dependencies are followed within a block, for core registers only; FP
//!   results are ready for the next FP instruction except after VDIV/VSQRT.
//! - A branch that issues alone is taken to pair with the next block's first
//!   instruction whenever the two instructions before it are 16-bit (J's
//!   condition), whatever that instruction is; J finds the pairing "highly
//!   sensitive to alignment", which is not followed further.
//! - The predictor is a 2-bit counter per branch with no capacity limit, and
//!   returns always hit: assumptions, as Arm publishes neither the BTAC's
//!   organization nor a return stack.
//! - Two loads through different base registers are taken to share a bank
//!   (no pair); DCache/TCM bank conflicts across pairs, unaligned accesses,
//!   the store buffer and STM alignment (J "stores") are not modeled; caches
//!   are simulated for flash only (`machine::flash`), TCM and SRAM are zero wait.

use super::decode::{Class, Insn, Operand, PC};

/// Cycles lost to a mispredicted branch (J "branching/cmp": 8).
const MISPREDICT: u8 = 8;
/// The same when the flags were set at least `EARLY_FLAGS` cycles before (J: 6).
const MISPREDICT_EARLY_FLAGS: u8 = 6;
const EARLY_FLAGS: u32 = 3;

/// Where an instruction may issue.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Issue {
    /// Alone: nothing pairs with it.
    Alone,
    /// Only as the older of a pair (bitfield, DSP).
    Older,
    /// In either slot.
    Any,
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

struct Timing {
    issue: Issue,
    unit: Unit,
    /// Cycles until a late-ALU consumer may issue.
    latency: u32,
    /// Cycles the instruction holds the issue stage.
    occupancy: u32,
}

/// Bitfield, reverse, extend and saturate instructions the decoder files as
/// plain data processing: they run in the early ALU's shifter (J "bitfield").
fn bitfield(insn: &Insn) -> bool {
    let base = base(insn);
    matches!(
        base,
        "sbfx"
            | "ubfx"
            | "bfi"
            | "bfc"
            | "rbit"
            | "rev"
            | "rev16"
            | "revsh"
            | "clz"
            | "uxtb"
            | "uxth"
            | "sxtb"
            | "sxth"
            | "ssat"
            | "usat"
    )
}

/// A register move, add or subtract without a shift: what the early ALU runs.
fn simple(insn: &Insn) -> bool {
    let base = base(insn);
    insn.class == Class::Alu
        && matches!(
            base,
            "mov" | "movs" | "movw" | "movt" | "add" | "adds" | "addw" | "sub" | "subs" | "subw"
        )
}

fn narrow_load(insn: &Insn) -> bool {
    ["ldrb", "ldrh", "ldrsb", "ldrsh"]
        .iter()
        .any(|m| insn.mnemonic.starts_with(m))
}

fn timing(insn: &Insn) -> Timing {
    let t = |issue, unit, latency, occupancy| Timing {
        issue,
        unit,
        latency,
        occupancy,
    };
    match insn.class {
        Class::Alu if bitfield(insn) => t(Issue::Older, Unit::Alu, 1, 1),
        Class::Alu | Class::AluShifted => t(Issue::Any, Unit::Alu, 1, 1),
        Class::Dsp => t(Issue::Older, Unit::Alu, 1, 1),
        Class::Mul | Class::Mla | Class::MulLong | Class::MulDsp => t(Issue::Any, Unit::Mac, 2, 1),
        // Charged from the operands when the divide executes (`divide_cycles`).
        Class::Div => t(Issue::Alone, Unit::None, 1, 0),
        Class::Load => t(
            Issue::Any,
            Unit::Load,
            if narrow_load(insn) { 2 } else { 1 },
            1,
        ),
        Class::Store => t(Issue::Any, Unit::Store, 1, 1),
        // J "load/store pair/multiple": ceil(N/2) cycles, never paired.
        Class::LoadDouble | Class::StoreDouble => t(Issue::Alone, Unit::Load, 1, 1),
        Class::LoadMultiple | Class::StoreMultiple => {
            let n = u32::from(insn.transfers).max(1);
            t(Issue::Alone, Unit::Load, 1, n.div_ceil(2))
        }
        // L: table branches take 2 issue cycles; the others are single issue.
        Class::Exclusive
        | Class::TableBranch
        | Class::System
        | Class::Barrier
        | Class::Sleep
        | Class::Trap => t(Issue::Alone, Unit::None, 1, 2),
        Class::Branch
        | Class::CondBranch
        | Class::CompareBranch
        | Class::Call
        | Class::BranchIndirect => t(Issue::Any, Unit::Branch, 1, 1),
        Class::It | Class::Nop => t(Issue::Any, Unit::None, 1, 1),
        Class::FpAlu | Class::FpMove | Class::FpSystem => {
            t(Issue::Any, Unit::Fpu, if insn.double { 4 } else { 3 }, 1)
        }
        Class::FpMac => t(Issue::Any, Unit::Fpu, if insn.double { 11 } else { 6 }, 1),
        Class::FpDivSqrt => t(
            Issue::Alone,
            Unit::Fpu,
            1,
            if insn.double { 30 } else { 16 },
        ),
        // J: VLDR.64/VSTR.64 issue alone; VLDR.32 pairs.
        Class::FpLoad if insn.double => t(Issue::Alone, Unit::Load, 1, 1),
        Class::FpLoad => t(Issue::Any, Unit::Load, 1, 1),
        Class::FpStore if insn.double => t(Issue::Alone, Unit::Store, 1, 1),
        Class::FpStore => t(Issue::Any, Unit::Store, 1, 1),
        Class::FpLoadMultiple | Class::FpStoreMultiple => t(
            Issue::Alone,
            Unit::Load,
            1,
            u32::from(insn.transfers).div_ceil(2).max(1),
        ),
        Class::Undefined => t(Issue::Alone, Unit::None, 1, 1),
    }
}

/// The base mnemonic, without width suffix or condition operands.
fn base(insn: &Insn) -> &str {
    insn.mnemonic.split(['.', ' ']).next().unwrap_or_default()
}

/// The core register operand at `index`, as a mask.
fn operand_reg(insn: &Insn, index: usize) -> u16 {
    match insn.operands.get(index) {
        Some(Operand::Core(r)) => 1 << r,
        _ => 0,
    }
}

/// Registers an instruction needs a cycle early, in the early ALU or the
/// AGU: addresses and inline-shifted operands; every source of the
/// bitfield instructions that execute in the early ALU (SBFX, UBFX, RBIT,
/// REV*); the inserted, packed or extracted register of BFI, PKHBT/PKHTB and
/// the extend-and-add instructions (J "bitfield and DSP"). Plain extends
/// (UXTB, SXTB16), parallel arithmetic and saturation read their sources as
/// the late ALU does (J: UXTB and UADD8 take a previous cycle's result).
fn early_reads(insn: &Insn) -> u16 {
    let operands = insn.addr_regs | insn.shifted_regs;
    match base(insn) {
        "sbfx" | "ubfx" | "rbit" | "rev" | "rev16" | "revsh" => insn.reads,
        // BFI Rd, Rn, #lsb, #width; PKHBT Rd, Rn, Rm, LSL; UXTAB Rd, Rn, Rm.
        "bfi" => operands | operand_reg(insn, 1),
        "pkhbt" | "sxtab" | "sxtah" | "sxtab16" | "uxtab" | "uxtah" | "uxtab16" => {
            operands | operand_reg(insn, 2)
        }
        "pkhtb" => operands | operand_reg(insn, 1) | operand_reg(insn, 2),
        _ => operands,
    }
}

/// The accumulator registers of a multiply-accumulate, which the MAC reads
/// a stage after the late ALU (J "multiplication, MAC": it takes a late-ALU
/// result of the same cycle, a byte load of the previous one, and chains on
/// its own result every cycle): Ra of MLA/MLS and the 32-bit DSP
/// accumulates, RdLo and RdHi of the long ones.
fn accumulators(insn: &Insn) -> u16 {
    match base(insn) {
        "mla" | "mls" | "smlad" | "smladx" | "smlsd" | "smlsdx" | "smmla" | "smmlar" | "smmls"
        | "smmlsr" | "smlabb" | "smlabt" | "smlatb" | "smlatt" | "smlawb" | "smlawt" | "usada8" => {
            operand_reg(insn, 3)
        }
        "smlal" | "umlal" | "umaal" | "smlald" | "smlaldx" | "smlsld" | "smlsldx" | "smlalbb"
        | "smlalbt" | "smlaltb" | "smlaltt" => operand_reg(insn, 0) | operand_reg(insn, 1),
        _ => 0,
    }
}

/// Per-instruction cycles (issue cycle deltas), the extra cycles of a taken
/// exit and of a mispredicted conditional exit.
pub fn schedule(insns: &[Insn]) -> (Vec<u32>, u8, u8) {
    // Cycle from which a register can feed a late and an early consumer,
    // and whether a load wrote it (a multiplier factor then waits a cycle).
    let mut late = [0u32; 16];
    let mut early = [0u32; 16];
    let mut loaded = 0u16;
    let mut starts: Vec<u32> = Vec::with_capacity(insns.len());
    // The group issuing at `group_cycle`: the older instruction's index, if it may take a partner.
    let mut open: Option<usize> = None;
    let mut group_cycle = 0u32;
    let mut next_free = 0u32;
    let mut flags_set_at: Option<u32> = None;
    for (i, insn) in insns.iter().enumerate() {
        let t = timing(insn);
        let early_mask = early_reads(insn);
        let accumulator_mask = accumulators(insn);
        let multiplies = t.unit == Unit::Mac;
        let ready = (0..16)
            .filter(|&r| insn.reads & (1 << r) != 0)
            .map(|r| {
                let bit = 1 << r;
                if early_mask & bit != 0 {
                    early[r]
                } else if accumulator_mask & bit != 0 {
                    late[r].saturating_sub(1)
                } else if multiplies && loaded & bit != 0 {
                    // J "multiplication, MAC": a factor takes any result as
                    // the late ALU does, except a load's of the previous cycle.
                    early[r]
                } else {
                    late[r]
                }
            })
            .max()
            .unwrap_or(0);
        let pairs = open.is_some_and(|older| {
            ready <= group_cycle && t.issue == Issue::Any && pairs_with(&insns[older], insn)
        });
        let start = if pairs {
            open = None;
            group_cycle
        } else {
            let start = next_free.max(ready);
            group_cycle = start;
            open = (t.issue != Issue::Alone).then_some(i);
            start
        };
        next_free = next_free.max(start + t.occupancy);
        if t.issue == Issue::Alone {
            open = None;
        }
        // Simple ALU work issued as the older of a pair runs in the early ALU:
        // the younger may use it at once, an early consumer the next cycle.
        let (late_at, early_at) = if simple(insn) && !pairs {
            (start, start + 1)
        } else {
            let extra = u32::from(matches!(t.unit, Unit::Alu | Unit::Load | Unit::Mac));
            (start + t.latency, start + t.latency + extra)
        };
        for r in 0..16 {
            if insn.writes & (1 << r) != 0 {
                late[r] = late_at;
                early[r] = early_at;
            }
        }
        if t.unit == Unit::Load {
            loaded |= insn.writes;
        } else {
            loaded &= !insn.writes;
        }
        if sets_flags(insn) {
            flags_set_at = Some(start);
        }
        starts.push(start);
    }
    // A branch that issued alone pairs with the first instruction after it
    // (J "branching/cmp": a not-taken branch with the next one, a predicted
    // taken branch with one at its target) when at least two 16-bit
    // instructions ran just before it (J: the fetch needs them to keep up):
    // the next block then starts in the branch's cycle.
    let n = insns.len();
    let branch_alone = n >= 3
        && matches!(
            insns[n - 1].class,
            Class::Branch | Class::CondBranch | Class::CompareBranch | Class::Call
        )
        && open == Some(n - 1)
        && insns[n - 3..n - 1].iter().all(|i| i.len == 2);
    let end = if branch_alone {
        next_free - 1
    } else {
        next_free
    };
    let mut per_insn: Vec<u32> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    if let Some(&last) = starts.last() {
        per_insn.push(end - last);
    }
    let branch_at = starts.last().copied().unwrap_or(0);
    let early_flags = flags_set_at.is_some_and(|at| branch_at >= at + EARLY_FLAGS);
    let (taken, mispredict) = match insns.last() {
        Some(last) => penalties(last, early_flags),
        None => (0, 0),
    };
    (per_insn, taken, mispredict)
}

/// Whether `younger` may issue in the same cycle as `older`, its operands
/// being ready (J "dual issue" and its operand2, MAC, load and store rules).
fn pairs_with(older: &Insn, younger: &Insn) -> bool {
    let (a, b) = (timing(older), timing(younger));
    let shifted = |i: &Insn| i.class == Class::AluShifted;
    let bitfield_like = |i: &Insn| i.class == Class::Dsp || bitfield(i);
    let fp_mac_then_move = older.class == Class::FpMac
        && matches!(
            younger.class,
            Class::FpLoad | Class::FpStore | Class::FpMove
        );
    let conflict = fp_mac_then_move
        || match (a.unit, b.unit) {
            (Unit::Store, Unit::Store) | (Unit::Mac, Unit::Mac) | (Unit::Fpu, Unit::Fpu) => true,
            (Unit::Mac, Unit::Store) | (Unit::Store, Unit::Mac) => true,
            (Unit::Branch, Unit::Branch) => true,
            (Unit::Load, Unit::Load) => !different_banks(older, younger),
            (Unit::Alu, Unit::Alu) => {
                (shifted(older) && shifted(younger))
                    || (bitfield_like(older) && (bitfield_like(younger) || shifted(younger)))
            }
            _ => false,
        };
    // A younger instruction reading the older's result pairs only when the
    // early ALU produced it, which the caller's operand check already tells.
    !conflict
}

/// Whether two loads reach different banks: the same base register with
/// immediate offsets that differ in bit 2.
fn different_banks(a: &Insn, b: &Insn) -> bool {
    let mem = |i: &Insn| {
        i.operands.iter().find_map(|op| match *op {
            Operand::Mem {
                base,
                index: None,
                disp,
            } => Some((base, disp)),
            _ => None,
        })
    };
    match (mem(a), mem(b)) {
        (Some((ba, da)), Some((bb, db))) => {
            ba == bb && a.writes & (1 << ba) == 0 && (da ^ db) & 4 != 0
        }
        _ => false,
    }
}

/// Whether the instruction sets the condition flags.
fn sets_flags(insn: &Insn) -> bool {
    let base = base(insn);
    matches!(insn.class, Class::Alu | Class::AluShifted | Class::Dsp)
        && (matches!(base, "cmp" | "cmn" | "tst" | "teq") || base.ends_with('s'))
}

/// Extra cycles for a taken exit and for a mispredicted conditional exit of a
/// block ending in `last`.
fn penalties(last: &Insn, early_flags: bool) -> (u8, u8) {
    let mispredict = if early_flags && last.class == Class::CondBranch {
        MISPREDICT_EARLY_FLAGS
    } else {
        MISPREDICT
    };
    let returns = (last.class == Class::BranchIndirect && last.reads & (1 << 14) != 0)
        || (last.class == Class::LoadMultiple && last.writes & PC != 0);
    match last.class {
        Class::CondBranch | Class::CompareBranch => (0, mispredict),
        Class::Branch | Class::Call => (0, 0),
        _ if returns => (0, 0),
        _ if last.writes & PC != 0
            || matches!(last.class, Class::BranchIndirect | Class::TableBranch) =>
        {
            (MISPREDICT, 0)
        }
        _ => (0, 0),
    }
}
