//! The block table: every translated block decoded and priced once, found
//! again by address through flat per-region arrays (no hashing on the hot path).

use crate::cost::decode::{Class, Decoder, Insn, SP};
use crate::cost::{BlockCost, CostModel, Unsupported};
use crate::image::Symbols;

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
    /// The first instruction the core cannot execute.
    pub unsupported: Option<Unsupported>,
    /// Whether the block is fetched from flash (wait states, caches).
    pub in_flash: bool,
    /// Addresses of the instructions, to find the one that read a register mid-block.
    pub insn_addrs: Vec<u32>,
}

impl BlockInfo {
    /// Decodes and prices the block `[addr, addr + bytes.len())`.
    pub fn analyze(
        decoder: &Decoder,
        model: CostModel,
        symbols: &Symbols,
        addr: u32,
        bytes: &[u8],
        in_flash: bool,
    ) -> BlockInfo {
        let insns = decoder.decode(addr, bytes);
        let cost = model.price(&insns);
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
            unsupported: model.unsupported(&insns),
            in_flash,
            insn_addrs: insns.iter().map(|i| i.addr).collect(),
            cost,
        }
    }

    /// Cycles charged before the instruction at `pc` starts, within this block.
    pub fn cycles_before(&self, pc: u32) -> u32 {
        let i = self.insn_addrs.partition_point(|&a| a < pc);
        self.cost.prefix.get(i).copied().unwrap_or(self.cost.cycles)
    }
}

/// Executable address ranges with one slot per halfword holding a block id.
#[derive(Debug, Default)]
pub struct BlockTable {
    ranges: Vec<(u32, u32, Vec<u32>)>,
    blocks: Vec<BlockInfo>,
}

impl BlockTable {
    /// A table covering the given `[base, base + size)` ranges. Block 0 is the
    /// empty block the machine starts from.
    pub fn new(ranges: impl IntoIterator<Item = (u32, u32)>) -> BlockTable {
        BlockTable {
            ranges: ranges
                .into_iter()
                .map(|(base, size)| (base, size, vec![0; (size / 2) as usize]))
                .collect(),
            blocks: vec![BlockInfo {
                fallthrough: u32::MAX,
                func: NO_FUNCTION,
                ..BlockInfo::default()
            }],
        }
    }

    /// The id of the block starting at `addr` with `size` bytes, if priced already.
    #[inline]
    pub fn lookup(&self, addr: u32, size: u32) -> Option<u32> {
        for (base, len, slots) in &self.ranges {
            let offset = addr.wrapping_sub(*base);
            if offset < *len {
                let id = slots[(offset / 2) as usize];
                return (id != 0 && self.blocks[id as usize].size == size).then_some(id);
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
        self.blocks.push(info);
        id
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
