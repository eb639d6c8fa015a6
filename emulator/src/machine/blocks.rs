//! The block table: every translated block decoded and priced once, found
//! again by address through flat per-region arrays (no hashing on the hot path).

use crate::cost::decode::{Class, Decoder, Insn, Operand, SP};
use crate::cost::{BlockCost, CostModel, Prediction, Unsupported};
use crate::image::Symbols;
use crate::marks::Marker;

/// Function index used when no symbol covers a block.
pub const NO_FUNCTION: u32 = u32::MAX;

/// Everything the hot path needs about one block.
#[derive(Debug, Clone, Default)]
pub struct BlockInfo {
    /// Start address.
    pub addr: u32,
    /// Size in bytes.
    pub size: u32,
    /// Static price.
    pub cost: BlockCost,
    /// Address after the block: entering it next means the exit fell through.
    pub fallthrough: u32,
    /// Function (index into the symbols) holding the block.
    pub func: u32,
    /// Whether the block ends in a call (BL/BLX), returning to `fallthrough`.
    pub calls: bool,
    /// Bytes pushed before any pop, so the lowest SP inside is entry SP minus this.
    pub push_bytes: u32,
    /// Whether the block moves SP by an amount only a register read can tell.
    pub moves_sp: bool,
    /// The first FP instruction, which faults while the FPU is disabled.
    pub first_fp: Option<u32>,
    /// Whether the block is a `b .` loop: firmware that can never leave it.
    pub dead_loop: bool,
    /// Whether the block ends in WFI or WFE: the core sleeps after it.
    pub sleeps: bool,
    /// Whether that is WFE, which returns at once when the event register is set.
    pub ends_in_wfe: bool,
    /// Whether the block ends in YIELD or WFE, after which unicorn stops with
    /// "invalid instruction" (its ARM port counts QEMU's vCPU-yield exit as
    /// one) with PC already past the hint.
    pub ends_in_yield_exit: bool,
    /// Whether the block holds a SEV, which sets the event register.
    pub sends_event: bool,
    /// Whether the block changes PRIMASK, FAULTMASK or BASEPRI (CPS, MSR),
    /// after which a pending exception may be taken.
    pub changes_masks: bool,
    /// The first instruction the core cannot execute.
    pub unsupported: Option<Unsupported>,
    /// The flash lines its fetch reads, 0 outside flash: a property of its
    /// address, size and the flash's line width, counted once.
    pub fetch_lines: u32,
    /// Addresses of the instructions, to find the one that read a register mid-block.
    pub insn_addrs: Vec<u32>,
    /// The block's loads and stores, for finding which one touched a device register.
    pub accesses: Vec<Access>,
    /// Literal-pool loads from flash: their addresses are known statically.
    pub flash_literals: Vec<u32>,
    /// Loads through registers that hold a pointer at block entry, one
    /// entry per register.
    pub pointer_loads: Vec<PointerLoads>,
    /// Accesses that fault when unaligned, checked before the block runs.
    pub aligned: Vec<AlignedAccess>,
    /// The marker function the block is the entry of (`crate::marks`).
    pub marker: Option<Marker>,
    /// Whether the block belongs to `_sbrk`, whose return settles the heap.
    pub in_sbrk: bool,
    /// Run current with code fetched where the block lies, in thousandths of
    /// the target's (`MemoryRegion::code_current`).
    pub code_current_permille: u64,
}

/// An access the architecture requires aligned whatever CCR.UNALIGN_TRP
/// says: LDRD/STRD, LDM/STM, LDREX/STREX (halfword for LDREXH/STREXH),
/// VLDR/VSTR and VLDM/VSTM (ARMv7-M ARM A3.2.1, recalled); or a word or
/// halfword LDR/STR, which must be aligned only while CCR.UNALIGN_TRP is set.
/// Unaligned, it is a UsageFault. Those through SP or PC are left out: SP is
/// word aligned and PC-relative offsets are word multiples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlignedAccess {
    /// Address of the instruction.
    pub at: u32,
    /// Its base register.
    pub base: u8,
    /// Displacement of the first word accessed from the base.
    pub disp: i32,
    /// Required alignment in bytes.
    pub align: u32,
    /// How the block hook knows the address before the block runs.
    pub check: AlignmentCheck,
    /// Whether it faults only under CCR.UNALIGN_TRP (a word or halfword
    /// LDR/STR), rather than always.
    pub when_trapping: bool,
    /// The instruction, for the fault's message.
    pub mnemonic: String,
}

impl AlignedAccess {
    /// The register whose entry value must simply be word aligned, when that
    /// is what the check comes to (a word access at a multiple of 4 from it).
    fn word_aligned_entry_reg(&self) -> Option<u8> {
        match self.check {
            AlignmentCheck::AtEntry(reg, offset)
                if self.align == 4 && offset % 4 == 0 && !self.when_trapping =>
            {
                Some(reg)
            }
            _ => None,
        }
    }
}

/// How an [`AlignedAccess`] is checked before its block runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignmentCheck {
    /// The address is this register's value at block entry plus this offset.
    AtEntry(u8, i32),
    /// The address is a constant that is not aligned: it always faults.
    Faults,
}

/// A load or store of a block: where its address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Index of the instruction in the block.
    pub index: u16,
    /// Base register.
    pub base: u8,
    /// Index register.
    pub offset_reg: Option<u8>,
    /// Displacement.
    pub disp: i32,
    /// Whether it reads memory.
    pub load: bool,
}

/// Loads that read at fixed offsets from a register's value at block entry:
/// when that value points into flash, each costs the flash's data wait states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerLoads {
    /// The register.
    pub reg: u8,
    /// Byte offsets from its entry value, one per word read.
    pub offsets: Vec<i32>,
}

impl BlockInfo {
    /// Decodes and prices the block `[addr, addr + bytes.len())`, fetched
    /// in `fetch_lines` flash lines (0 outside flash).
    pub fn analyze(
        decoder: &Decoder,
        model: CostModel,
        symbols: &Symbols,
        addr: u32,
        bytes: &[u8],
        fetch_lines: u32,
        literal: &dyn Fn(u32) -> Option<u32>,
    ) -> BlockInfo {
        let in_flash = fetch_lines != 0;
        let insns = decoder.decode(addr, bytes);
        let cost = model.price(&insns);
        let pointers = pointer_loads(&insns);
        let last = insns.last();
        let mut push_bytes = 0u32;
        let mut popped = false;
        for insn in &insns {
            let pushes_sp = insn.addr_regs & SP != 0
                || insn.mnemonic.starts_with("push")
                || insn.mnemonic.starts_with("vpush");
            match insn.class {
                Class::StoreMultiple | Class::FpStoreMultiple if pushes_sp && !popped => {
                    push_bytes += 4 * u32::from(insn.transfers);
                }
                Class::LoadMultiple | Class::FpLoadMultiple if insn.writes & SP != 0 => {
                    popped = true
                }
                _ => {}
            }
        }
        BlockInfo {
            addr,
            size: bytes.len() as u32,
            fallthrough: addr + bytes.len() as u32,
            func: symbols.index_of(addr).map_or(NO_FUNCTION, |i| i as u32),
            calls: last.is_some_and(|i| i.class == Class::Call),
            push_bytes,
            moves_sp: insns.iter().any(Insn::sp_dynamic),
            first_fp: insns.iter().find(|i| i.class.is_fp()).map(|i| i.addr),
            dead_loop: insns.len() == 1
                && last.is_some_and(|i| i.class == Class::Branch && i.target == Some(addr)),
            sleeps: last
                .is_some_and(|i| i.mnemonic.starts_with("wfi") || i.mnemonic.starts_with("wfe")),
            ends_in_wfe: last.is_some_and(|i| i.mnemonic.starts_with("wfe")),
            ends_in_yield_exit: last
                .is_some_and(|i| i.mnemonic.starts_with("yield") || i.mnemonic.starts_with("wfe")),
            sends_event: insns.iter().any(|i| i.mnemonic.starts_with("sev")),
            changes_masks: insns.iter().any(changes_masks),
            unsupported: model.unsupported(&insns),
            fetch_lines,
            insn_addrs: insns.iter().map(|i| i.addr).collect(),
            accesses: accesses(&insns),
            flash_literals: if in_flash {
                literal_loads(&insns)
            } else {
                Vec::new()
            },
            pointer_loads: pointers,
            aligned: aligned_accesses(&insns, literal),
            marker: None,
            in_sbrk: false,
            code_current_permille: 1000,
            cost,
        }
    }

    /// Cycles charged before the instruction at `pc` starts, within this block.
    pub fn cycles_before(&self, pc: u32) -> u32 {
        let i = self.insn_addrs.partition_point(|&a| a < pc);
        self.cost.prefix.get(i).copied().unwrap_or(self.cost.cycles)
    }
}

/// The block's accesses that must be aligned (see [`AlignedAccess`]) whose
/// address the block shows: a register's entry value plus an offset, or a
/// constant. Left out: those inside IT blocks, where unicorn cannot stop at a
/// single instruction, and those through a base loaded from memory or summed
/// from registers, which only a hook on every execution could check.
fn aligned_accesses(insns: &[Insn], literal: &dyn Fn(u32) -> Option<u32>) -> Vec<AlignedAccess> {
    let mut sites = Vec::new();
    let mut in_it = 0usize;
    for (insn, origin) in insns.iter().zip(origins(insns, true, literal)) {
        let conditional = in_it > 0;
        in_it = in_it.saturating_sub(1);
        if insn.class == Class::It {
            // `it`, `itt`, `itete`...: one instruction per letter after the `i`.
            let letters = insn.mnemonic.split_whitespace().next().unwrap_or("it");
            in_it = letters.len().saturating_sub(1);
        }
        let (align, when_trapping) = match required_alignment(insn) {
            Some(align) => (align, false),
            None => match trapped_alignment(insn) {
                Some(align) => (align, true),
                None => continue,
            },
        };
        let Some((base, None, disp)) = memory_operand(insn) else {
            continue;
        };
        if conditional || matches!(base, 13 | 15) {
            continue;
        }
        let check = match origin[usize::from(base)] {
            Some(Origin::Entry(reg, off)) => AlignmentCheck::AtEntry(reg, disp.wrapping_add(off)),
            Some(Origin::Const(v)) if v.wrapping_add(disp as u32) % align != 0 => {
                AlignmentCheck::Faults
            }
            _ => continue,
        };
        sites.push(AlignedAccess {
            at: insn.addr,
            base,
            disp,
            align,
            check,
            when_trapping,
            mnemonic: insn.mnemonic.clone(),
        });
    }
    sites
}

/// The alignment `insn` needs whatever CCR says, if any (A3.2.1).
fn required_alignment(insn: &Insn) -> Option<u32> {
    match insn.class {
        Class::LoadDouble
        | Class::StoreDouble
        | Class::LoadMultiple
        | Class::StoreMultiple
        | Class::FpLoad
        | Class::FpStore
        | Class::FpLoadMultiple
        | Class::FpStoreMultiple => Some(4),
        Class::Exclusive => {
            let m = insn.mnemonic.split_whitespace().next().unwrap_or_default();
            match m {
                "ldrex" | "strex" => Some(4),
                "ldrexh" | "strexh" => Some(2),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The alignment a single load or store needs under CCR.UNALIGN_TRP: 4 for
/// LDR/STR, 2 for LDRH/LDRSH/STRH (B3.2.8); byte accesses need none.
fn trapped_alignment(insn: &Insn) -> Option<u32> {
    if !matches!(insn.class, Class::Load | Class::Store) {
        return None;
    }
    match insn.mnemonic.split(['.', ' ']).next().unwrap_or_default() {
        "ldr" | "str" => Some(4),
        "ldrh" | "ldrsh" | "strh" => Some(2),
        _ => None,
    }
}

/// Whether `insn` writes PRIMASK, FAULTMASK or BASEPRI.
fn changes_masks(insn: &Insn) -> bool {
    let m = insn.mnemonic.as_str();
    m.starts_with("cpsie")
        || m.starts_with("cpsid")
        || (m.starts_with("msr")
            && ["primask", "faultmask", "basepri"]
                .iter()
                .any(|r| m.contains(r)))
}

/// What the block hook reads for every executed block, in 32 bytes: two
/// blocks, the one ending and the one starting, are read per hook call.
/// Everything else stays in [`BlockInfo`]. unicorn's blocks hold at most 512
/// instructions (TCG_MAX_INSNS), 2 KiB, so size and instruction count fit
/// 16 bits; a block's energy, at most a few thousand cycles' worth in
/// thousandths, fits 32.
#[derive(Debug, Clone, Copy, Default)]
pub struct HotBlock {
    /// Address after the block.
    pub fallthrough: u32,
    /// Function index.
    pub func: u32,
    /// Cycles when falling through.
    pub cycles: u32,
    /// Energy, in thousandths of a reference cycle, at the current of code
    /// where the block lies.
    pub energy: u32,
    /// Flash lines fetched (see [`BlockInfo::fetch_lines`]).
    pub fetch_lines: u16,
    /// Instructions.
    pub instructions: u16,
    /// Bytes pushed before any pop.
    pub push_bytes: u16,
    /// Registers whose block-entry value must be word aligned: the common
    /// form of the block's aligned accesses, checked without its `BlockInfo`.
    pub align_regs: u16,
    /// `HotBlock::*` flags.
    pub flags: u16,
    /// Registers the block loads through at an offset from their entry
    /// value: those that may point into flash.
    pub pointer_regs: u16,
    /// Extra cycles of a taken exit.
    pub taken: u8,
    /// Extra cycles of a fall-through exit.
    pub not_taken: u8,
    /// Extra cycles of a mispredicted conditional exit; nonzero only for a
    /// block ending in a conditional branch on a core that predicts it.
    pub mispredict: u8,
    /// Refill P when entered by a taken branch.
    pub refill: u8,
}

impl HotBlock {
    /// Ends in a call.
    pub const CALLS: u16 = 1;
    /// Moves SP by a register amount.
    pub const MOVES_SP: u16 = 1 << 1;
    /// A `b .` loop.
    pub const DEAD_LOOP: u16 = 1 << 2;
    /// Holds unsupported instructions or a SEV: look before running.
    pub const CHECK: u16 = 1 << 3;
    /// Loads literals from flash (loads through pointers: `pointer_regs`).
    pub const FLASH_LITERALS: u16 = 1 << 4;
    /// Ends in WFI/WFE.
    pub const SLEEPS: u16 = 1 << 5;
    /// Changes PRIMASK, FAULTMASK or BASEPRI.
    pub const MASKS: u16 = 1 << 6;
    /// Holds accesses that must be aligned in a form `align_regs` does not
    /// cover: check them all before it runs.
    pub const ALIGNED: u16 = 1 << 7;
    /// Holds word or halfword LDR/STR, which must be aligned while
    /// CCR.UNALIGN_TRP is set.
    pub const TRAPPABLE: u16 = 1 << 8;
    /// Begins or ends a marked region.
    pub const MARKS: u16 = 1 << 9;
    /// Belongs to `_sbrk`: the block after it may be its return.
    pub const IN_SBRK: u16 = 1 << 10;
    /// Entered with nothing to check or read: no alignment check, SP move,
    /// push, FP instruction, look before running, `b .` loop or marker (see
    /// `hooks::enter_quick`).
    pub const QUICK_ENTRY: u16 = 1 << 11;
    /// Left with nothing to settle: no call, mask change, SP moved by a
    /// register amount (checked at the next entry), `_sbrk` or sleep.
    pub const QUICK_EXIT: u16 = 1 << 12;
    /// Holds FP instructions: with the FPU off, or an FP context a handler
    /// must stack first, the block is looked at before it runs.
    pub const FP: u16 = 1 << 13;
    /// Entered as quickly as a `QUICK_ENTRY` block once its FPU and
    /// alignment checks find nothing due.
    pub const QUICK_AFTER_LOOKS: u16 = 1 << 14;

    fn new(info: &BlockInfo) -> HotBlock {
        let mut hot = HotBlock::priced(info);
        let entry_work =
            Self::ALIGNED | Self::MOVES_SP | Self::CHECK | Self::DEAD_LOOP | Self::MARKS;
        let looks = Self::FP | Self::TRAPPABLE;
        if hot.flags & entry_work == 0 && hot.push_bytes == 0 {
            hot.flags |= if hot.flags & looks == 0 && hot.align_regs == 0 {
                Self::QUICK_ENTRY
            } else {
                Self::QUICK_AFTER_LOOKS
            };
        }
        let exit_work = Self::CALLS | Self::MASKS | Self::MOVES_SP | Self::IN_SBRK | Self::SLEEPS;
        if hot.flags & exit_work == 0 {
            hot.flags |= Self::QUICK_EXIT;
        }
        hot
    }

    fn without(mut self, flags: u16) -> HotBlock {
        self.flags &= !flags;
        self
    }

    fn priced(info: &BlockInfo) -> HotBlock {
        let flag = |on: bool, bit: u16| if on { bit } else { 0 };
        let energy = info.cost.energy * info.code_current_permille / 1000;
        HotBlock {
            fallthrough: info.fallthrough,
            func: info.func,
            cycles: info.cost.cycles,
            energy: u32::try_from(energy).unwrap_or(u32::MAX),
            fetch_lines: u16::try_from(info.fetch_lines).unwrap_or(u16::MAX),
            instructions: u16::try_from(info.cost.instructions).unwrap_or(u16::MAX),
            push_bytes: info.push_bytes.min(u32::from(u16::MAX)) as u16,
            pointer_regs: info
                .pointer_loads
                .iter()
                .fold(0, |mask, group| mask | 1 << group.reg),
            align_regs: info
                .aligned
                .iter()
                .filter_map(|site| site.word_aligned_entry_reg())
                .fold(0, |mask, reg| mask | 1 << reg),
            taken: info.cost.taken,
            mispredict: info.cost.mispredict,
            not_taken: info.cost.not_taken,
            refill: info.cost.refill,
            flags: flag(info.calls, Self::CALLS)
                | flag(info.moves_sp, Self::MOVES_SP)
                | flag(info.dead_loop, Self::DEAD_LOOP)
                | flag(info.unsupported.is_some() || info.sends_event, Self::CHECK)
                | flag(info.first_fp.is_some(), Self::FP)
                | flag(!info.flash_literals.is_empty(), Self::FLASH_LITERALS)
                | flag(info.sleeps, Self::SLEEPS)
                | flag(info.marker.is_some(), Self::MARKS)
                | flag(info.in_sbrk, Self::IN_SBRK)
                | flag(info.changes_masks, Self::MASKS)
                | flag(
                    info.aligned
                        .iter()
                        .any(|site| !site.when_trapping && site.word_aligned_entry_reg().is_none()),
                    Self::ALIGNED,
                )
                | flag(
                    info.aligned.iter().any(|site| site.when_trapping),
                    Self::TRAPPABLE,
                ),
        }
    }

    /// Whether a flag is set.
    #[inline]
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// The predictor's counter for a new block: weakly taken where the static
/// rule predicts taken, else weakly not taken.
fn initial_counter(info: &BlockInfo) -> u8 {
    if info.cost.prediction == Prediction::Taken {
        2
    } else {
        1
    }
}

/// Executable address ranges with one slot per halfword holding a block id.
#[derive(Debug, Default)]
pub struct BlockTable {
    ranges: Vec<(u32, u32, Vec<u32>)>,
    hot: Vec<HotBlock>,
    /// The 2-bit saturating counter predicting the conditional branch that
    /// ends each block: 2 and 3 predict taken; it starts weakly towards the
    /// static rule's direction.
    counters: Vec<u8>,
    flash_words: Vec<FlashWords>,
    /// Per block, the instruction cache's clock when the block last found
    /// all its lines most recently used in their sets (see
    /// `FlashTiming::fetch_stall`); `u64::MAX` before that.
    fetch_seen: Vec<u64>,
    blocks: Vec<BlockInfo>,
    /// Whether blocks may be left the quick way: not while a trace is kept,
    /// which records every exit.
    quick_exits: bool,
}

/// A block's data reads from flash as counts, for flash without a data
/// cache, where each word read costs the same: read beside the hot record,
/// so the block's [`BlockInfo`] is not walked.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlashWords {
    /// Literal-pool words read from flash.
    pub literals: u16,
    /// Words read through each register, counted when it points into flash.
    pub through: [u16; 16],
}

impl FlashWords {
    fn of(info: &BlockInfo) -> FlashWords {
        let mut words = FlashWords {
            literals: u16::try_from(info.flash_literals.len()).unwrap_or(u16::MAX),
            through: [0; 16],
        };
        for group in &info.pointer_loads {
            let count = u16::try_from(group.offsets.len()).unwrap_or(u16::MAX);
            let slot = &mut words.through[usize::from(group.reg & 15)];
            *slot = slot.saturating_add(count);
        }
        words
    }
}

impl BlockTable {
    /// A table covering the given `[base, base + size)` ranges, for a run
    /// that keeps a trace (`traced`) or not. Block 0 is the empty block the
    /// machine starts from and returns to at exceptions; it is never left
    /// the quick way.
    pub fn new(ranges: impl IntoIterator<Item = (u32, u32)>, traced: bool) -> BlockTable {
        let empty = BlockInfo {
            fallthrough: u32::MAX,
            func: NO_FUNCTION,
            ..BlockInfo::default()
        };
        BlockTable {
            ranges: ranges
                .into_iter()
                .map(|(base, size)| (base, size, vec![0; (size / 2) as usize]))
                .collect(),
            hot: vec![HotBlock::new(&empty).without(HotBlock::QUICK_EXIT)],
            counters: vec![initial_counter(&empty)],
            flash_words: vec![FlashWords::of(&empty)],
            fetch_seen: vec![u64::MAX],
            blocks: vec![empty],
            quick_exits: !traced,
        }
    }

    /// The id of the block starting at `addr` with `size` bytes, if priced already.
    #[inline]
    pub fn lookup(&self, addr: u32, size: u32) -> Option<u32> {
        for (base, len, slots) in &self.ranges {
            let offset = addr.wrapping_sub(*base);
            if offset < *len {
                let id = slots[(offset / 2) as usize];
                let priced = id != 0 && self.blocks[id as usize].size == size;
                return priced.then_some(id);
            }
        }
        None
    }

    /// Stores a priced block and returns its id.
    pub fn insert(&mut self, info: BlockInfo) -> u32 {
        let id = self.blocks.len() as u32;
        for (base, len, slots) in &mut self.ranges {
            let offset = info.addr.wrapping_sub(*base);
            if offset < *len {
                slots[(offset / 2) as usize] = id;
            }
        }
        let hot = HotBlock::new(&info);
        self.hot.push(if self.quick_exits {
            hot
        } else {
            hot.without(HotBlock::QUICK_EXIT)
        });
        self.counters.push(initial_counter(&info));
        self.flash_words.push(FlashWords::of(&info));
        self.fetch_seen.push(u64::MAX);
        self.blocks.push(info);
        id
    }

    /// Records that the conditional branch ending block `id` went `taken`;
    /// returns whether its counter predicted the other way.
    #[inline(always)]
    pub fn mispredicted(&mut self, id: u32, taken: bool) -> bool {
        let counter = &mut self.counters[id as usize];
        let missed = (*counter >= 2) != taken;
        *counter = if taken {
            (*counter + 1).min(3)
        } else {
            counter.saturating_sub(1)
        };
        missed
    }

    /// The hot-path figures of the block with this id.
    #[inline]
    pub fn hot(&self, id: u32) -> &HotBlock {
        &self.hot[id as usize]
    }

    /// Where the block with this id notes when its fetch last needed
    /// nothing of the instruction cache.
    #[inline]
    pub fn fetch_seen(&mut self, id: u32) -> &mut u64 {
        &mut self.fetch_seen[id as usize]
    }

    /// The counts of the flash reads of the block with this id.
    #[inline]
    pub fn flash_words(&self, id: u32) -> &FlashWords {
        &self.flash_words[id as usize]
    }

    /// The block with this id.
    #[inline]
    pub fn get(&self, id: u32) -> &BlockInfo {
        &self.blocks[id as usize]
    }

    /// All blocks priced so far (index = id).
    pub fn blocks(&self) -> &[BlockInfo] {
        &self.blocks
    }
}

/// The memory operand of a load or store: base, index, displacement. LDM/STM
/// name their base as the first register operand; PUSH/POP and VPUSH/VPOP
/// list only registers, their base being SP.
pub fn memory_operand(insn: &Insn) -> Option<(u8, Option<u8>, i32)> {
    insn.operands
        .iter()
        .find_map(|op| match *op {
            Operand::Mem { base, index, disp } => Some((base, index, disp)),
            _ => None,
        })
        .or_else(|| {
            if !insn.class.is_multiple() {
                return None;
            }
            if ["push", "pop", "vpush", "vpop"]
                .iter()
                .any(|m| insn.mnemonic.starts_with(m))
            {
                return Some((13, None, 0));
            }
            match insn.operands.first() {
                Some(&Operand::Core(base)) => Some((base, None, 0)),
                _ => None,
            }
        })
}

fn accesses(insns: &[Insn]) -> Vec<Access> {
    insns
        .iter()
        .enumerate()
        .filter(|(_, i)| i.class.is_memory())
        .filter_map(|(index, insn)| {
            let (base, offset_reg, disp) = memory_operand(insn)?;
            Some(Access {
                index: index as u16,
                base,
                offset_reg,
                disp,
                load: insn.class.is_load(),
            })
        })
        .collect()
}

/// Addresses of PC-relative loads (literal pools), which live with the code.
fn literal_loads(insns: &[Insn]) -> Vec<u32> {
    insns
        .iter()
        .filter(|i| i.class.is_load())
        .filter_map(|insn| match memory_operand(insn)? {
            (15, None, disp) => Some(((insn.addr + 4) & !3).wrapping_add(disp as u32)),
            _ => None,
        })
        .collect()
}

/// Words each load reads.
fn words_read(insn: &Insn) -> u32 {
    match insn.class {
        Class::LoadDouble => 2,
        Class::LoadMultiple | Class::FpLoadMultiple => u32::from(insn.transfers.max(1)),
        Class::FpLoad if insn.double => 2,
        _ => 1,
    }
}

/// Follows pointers through the block: a register still holds its entry value
/// plus a known offset after writeback, `add/sub #imm` and `mov`; any other
/// write makes it unknown. Loads through a register with a known origin are
/// grouped by that origin, so the machine reads one register per group at
/// block entry to tell whether those loads read flash.
fn pointer_loads(insns: &[Insn]) -> Vec<PointerLoads> {
    let mut groups: Vec<PointerLoads> = Vec::new();
    for (insn, origin) in insns.iter().zip(origins(insns, false, &|_| None)) {
        let Some((base, _, disp)) = memory_operand(insn).filter(|_| insn.class.is_load()) else {
            continue;
        };
        if let Some(Origin::Entry(reg, off)) = origin[usize::from(base)] {
            let at = off.wrapping_add(disp);
            let offsets = (0..words_read(insn) as i32).map(|w| at.wrapping_add(4 * w));
            match groups.iter_mut().find(|g| g.reg == reg) {
                Some(g) => g.offsets.extend(offsets),
                None => groups.push(PointerLoads {
                    reg,
                    offsets: offsets.collect(),
                }),
            }
        }
    }
    groups
}

/// Where a register's value comes from, as far as the block itself shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A register's value at block entry plus an offset.
    Entry(u8, i32),
    /// A constant: a literal-pool word, MOVW/MOVT, or MOV of an immediate.
    Const(u32),
}

impl Origin {
    fn plus(self, i: i32) -> Origin {
        match self {
            Origin::Entry(reg, off) => Origin::Entry(reg, off.wrapping_add(i)),
            Origin::Const(v) => Origin::Const(v.wrapping_add(i as u32)),
        }
    }
}

/// Where each register's value comes from before each instruction (SP and
/// PC never tracked). `literal` reads a literal-pool word. With `exact`, a
/// pointer plus an index register is unknown; without, it keeps the pointer
/// (the region is the pointer's, the offset stale), which is what
/// flash-region questions need.
fn origins(
    insns: &[Insn],
    exact: bool,
    literal: &dyn Fn(u32) -> Option<u32>,
) -> Vec<[Option<Origin>; 16]> {
    let mut origin: [Option<Origin>; 16] = std::array::from_fn(|r| Some(Origin::Entry(r as u8, 0)));
    origin[13] = None;
    origin[15] = None;
    let mut before = Vec::with_capacity(insns.len());
    for insn in insns {
        before.push(origin);
        let mut next = origin;
        for (r, slot) in next.iter_mut().enumerate() {
            if insn.writes & (1 << r) != 0 {
                *slot = None;
            }
        }
        let set = match (memory_operand(insn), insn.operands.first()) {
            _ if !insn.class.is_memory() => derived(insn, &origin, exact),
            (Some((15, None, disp)), Some(&Operand::Core(d)))
                if insn.mnemonic.starts_with("ldr ") || insn.mnemonic.starts_with("ldr.w ") =>
            {
                let pool = ((insn.addr + 4) & !3).wrapping_add(disp as u32);
                Some((d, literal(pool).map(Origin::Const)))
            }
            _ => None,
        };
        if let Some((d, o)) = set.filter(|&(d, _)| usize::from(d) < 16 && d != 13 && d != 15) {
            next[usize::from(d)] = o;
        }
        if let Some((base, _, disp)) =
            memory_operand(insn).filter(|_| insn.class.is_memory() && insn.writeback)
        {
            let step = match insn.operands.last() {
                Some(&Operand::Imm(imm)) => imm,
                _ if insn.class.is_multiple() => {
                    let words = 4 * i32::from(insn.transfers);
                    if insn.mnemonic.contains("db") {
                        -words
                    } else {
                        words
                    }
                }
                _ => disp,
            };
            let base = usize::from(base);
            next[base] = origin[base].map(|o| o.plus(step));
        }
        origin = next;
    }
    before
}

/// The register a data-processing `insn` sets, and its origin (see `origins`).
fn derived(
    insn: &Insn,
    origin: &[Option<Origin>; 16],
    exact: bool,
) -> Option<(u8, Option<Origin>)> {
    let of = |r: u8| origin[usize::from(r)];
    let plus = |r: u8, i: i32| of(r).map(|o| o.plus(i));
    let name = insn.mnemonic.split(['.', ' ']).next().unwrap_or_default();
    match (name, insn.operands.as_slice()) {
        ("mov" | "movs", [Operand::Core(d), Operand::Core(n)]) => Some((*d, of(*n))),
        ("mov" | "movs" | "movw", [Operand::Core(d), Operand::Imm(i)]) => {
            Some((*d, Some(Origin::Const(*i as u32))))
        }
        ("movt", [Operand::Core(d), Operand::Imm(i)]) => Some((
            *d,
            match of(*d) {
                Some(Origin::Const(v)) => Some(Origin::Const(v & 0xFFFF | (*i as u32) << 16)),
                _ => None,
            },
        )),
        ("add" | "adds" | "addw", [Operand::Core(d), Operand::Core(n), Operand::Imm(i)]) => {
            Some((*d, plus(*n, *i)))
        }
        ("sub" | "subs" | "subw", [Operand::Core(d), Operand::Core(n), Operand::Imm(i)]) => {
            Some((*d, plus(*n, i.wrapping_neg())))
        }
        ("add" | "adds", [Operand::Core(d), Operand::Imm(i)]) => Some((*d, plus(*d, *i))),
        ("sub" | "subs", [Operand::Core(d), Operand::Imm(i)]) => {
            Some((*d, plus(*d, i.wrapping_neg())))
        }
        ("add" | "adds", [Operand::Core(d), Operand::Core(n), Operand::Core(m)]) if !exact => {
            Some((*d, of(*n).or(of(*m))))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::HotBlock;

    /// Two records are read per executed block: they stay one 32-byte load each.
    #[test]
    fn a_hot_block_takes_32_bytes() {
        assert_eq!(std::mem::size_of::<HotBlock>(), 32);
    }
}
