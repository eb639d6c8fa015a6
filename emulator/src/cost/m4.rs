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
//! - IT folds into the instruction before it only within a block, and only
//!   onto the 16-bit instructions silicon folds it onto (see `folds`); an IT
//!   that opens a block is charged its cycle.
//! - DMB/DSB/ISB/WFI add nothing beyond 1 cycle (no outstanding transfers).
//! - Divides are charged dynamically from their operands (`divide_cycles`).
//! - Cortex-M3 long multiplies take 3..5 cycles by operand size; we charge 4.
//! - Literal pools are taken to sit in another memory than the data that
//!   loads and stores reach through registers (code in flash, data in SRAM),
//!   which decides whether neighbouring loads pipeline.
//! - A store that ends a block is charged as if no load followed it.

use super::decode::{Class, Insn, Operand, PC, SP};
use crate::target::Core;

/// Per-instruction cycles for a block. A taken exit costs the refill P, which
/// the target block adds; there is no branch predictor to miss.
pub fn schedule(core: Core, insns: &[Insn]) -> Vec<u32> {
    let mut unaligned = UnalignedRun::default();
    // The instruction executed before this one: a folded IT takes no
    // execute cycle, so its neighbours meet in execute (and may pipeline).
    let mut prev: Option<&Insn> = None;
    let out = insns
        .iter()
        .enumerate()
        .map(|(i, insn)| {
            if folds(core, insns, i) {
                // Still a halfword in the fetch stream: it ends a run of
                // unaligned 32-bit instructions.
                unaligned.stall(insn);
                return 0;
            }
            let next = if folds(core, insns, i + 1) {
                insns.get(i + 2)
            } else {
                insns.get(i + 1)
            };
            let c = cycles(core, insn, prev, next) + unaligned.stall(insn);
            prev = Some(insn);
            c
        })
        .collect();
    out
}

/// Whether the instruction at `i` is an IT folded onto the 16-bit instruction
/// before it: "IT instructions can be folded onto a preceding 16-bit Thumb
/// instruction, enabling an execution time of zero cycles" (Cortex-M4 TRM
/// r0p1 3.3.1; Cortex-M3 TRM 18.2). The DWT counts the cycles so saved in
/// DWT_FOLDCNT (Arm knowledge article 103489824, for both cores). The
/// instruction before an IT that opens a block lies in another block, so
/// such an IT is charged its cycle.
///
/// Not every 16-bit instruction takes an IT. DWT_FOLDCNT read on a Cortex-M4
/// (TI CC2652R) and a Cortex-M3 (TI CC2650) by the CMEmu project
/// (github.com/mimuw-distributed-systems-group/cmemu, test
/// `control_flow/it_fold.asm` and the silicon results recorded with it) stays
/// 0 after a load or store (single or multiple, SP-relative too), a CBZ/CBNZ,
/// an instruction writing SP, `CMP SP, Rm`, the last instruction of an IT
/// block, and on the Cortex-M4 a 16-bit MULS; after other data processing,
/// `MOV Rd, SP`, `CMP Rn, SP` and ADR it counts one per IT.
fn folds(core: Core, insns: &[Insn], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|p| insns.get(p)) else {
        return false;
    };
    insns.get(i).is_some_and(|insn| insn.class == Class::It)
        && prev.len == 2
        && takes_a_fold(core, prev)
        && !ends_it_block(insns, i - 1)
}

/// Whether an IT may fold onto `prev`, a 16-bit instruction (see [`folds`]).
fn takes_a_fold(core: Core, prev: &Insn) -> bool {
    let compares_sp =
        prev.mnemonic.starts_with("cmp") && prev.operands.first() == Some(&Operand::Core(13));
    let m4_multiply = core != Core::CortexM3 && prev.class == Class::Mul;
    let refused = prev.class.is_memory() || prev.writes_pc() || m4_multiply || compares_sp;
    !refused && prev.writes & SP == 0
}

/// Whether `insns[j]` is the last instruction of an IT block opened in the
/// same block.
fn ends_it_block(insns: &[Insn], j: usize) -> bool {
    (j.saturating_sub(4)..j).any(|k| insns[k].class == Class::It && k + covered(&insns[k]) == j)
}

/// How many instructions an IT covers: the letters after its I (`ITTE EQ`
/// covers three).
fn covered(it: &Insn) -> usize {
    it.mnemonic
        .split_whitespace()
        .next()
        .map_or(1, |word| word.len().saturating_sub(1))
}

/// A run of consecutive 32-bit instructions at addresses ≡ 2 (mod 4), each
/// straddling two fetch words. Measured on an STM32F4 running from flash
/// (compendium.i-0.nl, "Instruction alignment: rules"): such a run costs one
/// extra cycle once it reaches three instructions, or four when all of them
/// are stores, as the 3-word prefetch buffer (Arm knowledge article 103488664)
/// falls a fetch behind. Runs are followed within a block only.
#[derive(Default)]
struct UnalignedRun {
    length: u32,
    all_stores: bool,
}

impl UnalignedRun {
    fn stall(&mut self, insn: &Insn) -> u32 {
        if insn.len != 4 || insn.addr % 4 != 2 {
            self.length = 0;
            return 0;
        }
        let store = matches!(insn.class, Class::Store | Class::StoreDouble);
        self.all_stores = if self.length == 0 {
            store
        } else {
            self.all_stores && store
        };
        self.length += 1;
        let at = if self.all_stores { 4 } else { 3 };
        u32::from(self.length == at)
    }
}

/// Extra cycles of a conditional branch closing the block when it falls
/// through: 1 unless the two instructions before it are 16-bit. Measured on
/// an STM32F103 (jnk0le, github.com/jnk0le/random "pipeline cycle
/// test/CM3_pipetest_tmpl.S": a not-taken `B<cond>` "will also take 2 cycles if
/// there is less than 2 compressed instructions" before it): the fetch,
/// a word a cycle, has not caught up with the instruction after the branch.
/// The Cortex-M4 shares the M3's fetch unit (Arm knowledge article 103488664
/// applies to both).
pub fn not_taken(insns: &[Insn]) -> u8 {
    let n = insns.len();
    let conditional = insns
        .last()
        .is_some_and(|b| matches!(b.class, Class::CondBranch | Class::CompareBranch));
    let caught_up = n >= 3 && insns[n - 3..n - 1].iter().all(|i| i.len == 2);
    u8::from(conditional && !caught_up)
}

/// The refill P charged when a taken branch lands on `first`.
pub fn refill(first: &Insn) -> u8 {
    if first.len == 4 && first.addr % 4 == 2 {
        2
    } else {
        1
    }
}

fn cycles(core: Core, insn: &Insn, prev: Option<&Insn>, next: Option<&Insn>) -> u32 {
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
        Class::Load => {
            if pipelines_after(core, insn, prev) {
                1
            } else {
                2
            }
        }
        Class::Store => store(core, insn, prev, next),
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
/// being loaded for its address, or the earlier load loaded the PC.
///
/// What the TRM leaves open was measured on an STM32F407 (M4) and an
/// STM32F103 (M3) by jnk0le (github.com/jnk0le/random, "pipeline cycle
/// test/doc/cortex_m3m4.md"): after a load that writes back its base, the
/// Cortex-M4 still pipelines a load or store on another base register, the
/// Cortex-M3 nothing; and loads pipeline only within one memory, so a
/// literal-pool load (flash, over the D-Code bus) and a load or store of
/// data (SRAM, over the system bus) never pipeline with each other.
fn pipelines_after(core: Core, insn: &Insn, prev: Option<&Insn>) -> bool {
    let Some(prev) = prev else { return false };
    let writeback_ok =
        !prev.writeback || (core != Core::CortexM3 && insn.addr_regs & prev.addr_regs == 0);
    prev.class == Class::Load
        && writeback_ok
        && prev.writes & PC == 0
        && insn.addr_regs & prev.writes == 0
        && literal(prev) == literal(insn)
}

/// Whether a load reads the literal pool (addresses relative to the PC).
fn literal(insn: &Insn) -> bool {
    insn.addr_regs & PC != 0
}

/// A single store. TRM 3.3.2: "STR Rx,[Ry,#imm] is always one cycle": the
/// data phase overlaps the next instruction. jnk0le's measurements (see
/// [`pipelines_after`]) complete the picture: on the Cortex-M4 pre- and
/// post-indexed stores take one cycle too (on the M3 only when the
/// instruction before is not a load); a register-offset store takes two
/// unless it pipelines after a load; a store followed by a load (single,
/// double or multiple) takes one cycle more, the load waiting for the data
/// phase; and two writeback stores in a row on one base register do not
/// overlap.
fn store(core: Core, insn: &Insn, prev: Option<&Insn>, next: Option<&Insn>) -> u32 {
    let register_offset = insn
        .operands
        .iter()
        .any(|op| matches!(op, Operand::Mem { index: Some(_), .. }));
    let after_load = pipelines_after(core, insn, prev);
    let m3_writeback_after_load =
        core == Core::CortexM3 && insn.writeback && prev.is_some_and(|p| p.class.is_load());
    let chained_writeback = insn.writeback
        && prev.is_some_and(|p| {
            p.class == Class::Store && p.writeback && p.addr_regs & insn.addr_regs != 0
        });
    let one_cycle =
        after_load || !(register_offset || m3_writeback_after_load || chained_writeback);
    let before_load = next.is_some_and(|n| {
        matches!(
            n.class,
            Class::Load
                | Class::LoadDouble
                | Class::LoadMultiple
                | Class::Exclusive
                | Class::FpLoad
                | Class::FpLoadMultiple
        )
    });
    if one_cycle && !before_load {
        1
    } else {
        2
    }
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
