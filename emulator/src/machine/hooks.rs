//! The hooks unicorn calls while the firmware runs: the block hook that
//! charges every block and notices due events, sleep and mask changes; the
//! narrow ones for semihosting and CPU exceptions and divides; and the MMIO
//! callbacks of the system space, the peripherals and the bit-band aliases.

use unicorn_engine::{RegisterARM, Unicorn};

use super::blocks::{self, AlignmentCheck, BlockInfo, HotBlock};
use super::bus::{Bus, BusContext};
use super::clock::{self, FlashSettings};
use super::exceptions::{Exceptions, FaultCause, FP_STACKING_CYCLES};
use super::flash::{ControllerAction, FlashRanges, FlashTiming};
use super::hot_path::Registers;
use super::nvic::{self, exception, Masks, Nvic};
use super::semihosting::{Clock, Outcome};
use super::{core_register, Engine, Failure, Stop, UcMemory, CLOCK_CHECK_BLOCKS, PPB_BASE};
use crate::cost::{divide_cycles, Prediction};
use crate::marks::{printable_name, Marker, MAX_NAME_BYTES};
use crate::target::Core;
use crate::trace::{Closed, Exit};

/// The stack pointer's number among the core registers.
const SP: u16 = 13;

/// The masks of the special registers. They change only through CPS and MSR
/// (blocks flagged `MASKS`) and FAULTMASK's clearing on exception return, so
/// the last values read stand until one of those; inside a `MASKS` block
/// they are read again.
pub(super) fn masks(uc: &mut Unicorn<'_, Engine>) -> Masks {
    let e = uc.get_data();
    if let Some(masks) = e
        .masks
        .filter(|_| !e.blocks.hot(e.cur).has(HotBlock::MASKS))
    {
        return masks;
    }
    let read = |r| uc.reg_read(r).unwrap_or(0) as u32;
    let masks = Masks {
        primask: read(RegisterARM::PRIMASK) & 1 != 0,
        faultmask: read(RegisterARM::FAULTMASK) & 1 != 0,
        basepri: read(RegisterARM::BASEPRI) as u8,
    };
    uc.get_data_mut().masks = Some(masks);
    masks
}

/// How a path left a block's entry (see [`enter_lean`]).
pub(super) enum Entry {
    /// Charged and entered; nothing else is due.
    Done,
    /// Charged and entered; [`after_entry`] has work: an event or the
    /// budget is due, the block is a `b .` loop or a marker, or the run stops.
    After,
    /// Untouched: the block needs a fuller path.
    Full,
}

impl Entry {
    /// A block charged and entered, with [`after_entry`]'s work or without.
    fn entered(after: bool) -> Entry {
        if after {
            Entry::After
        } else {
            Entry::Done
        }
    }
}

/// The id of the block at `addr` of `size` bytes, priced now if it is new.
#[inline]
pub(super) fn block_id(uc: &mut Unicorn<'_, Engine>, addr: u32, size: u32) -> u32 {
    match uc.get_data().blocks.lookup(addr, size) {
        Some(id) => id,
        None => price(uc, addr, size),
    }
}

/// The block hook's commonest case for block `id` at `addr` (see
/// [`enter_quick`]), inlined into the hook: `Full` leaves the block
/// untouched for [`enter_rest`]. The hook is built once per kind of
/// target, so each copy holds only what its targets need: `PREDICTS` for a
/// core with a branch predictor, `FLASH` for one with flash, whose wait
/// states firmware may change at any time.
#[inline(always)]
pub(super) fn enter_lean<const PREDICTS: bool, const FLASH: bool>(
    e: &mut Engine,
    regs: Registers<'_>,
    addr: u32,
    id: u32,
) -> Entry {
    if FLASH && e.timing.ws > 0 {
        enter_quick::<false, PREDICTS, true>(e, regs, addr, id)
    } else {
        enter_quick::<false, PREDICTS, false>(e, regs, addr, id)
    }
}

/// The block hook for block `id` at `addr` where [`enter_lean`] did not
/// apply: the common case of the other blocks, else the full path.
#[inline(never)]
pub(super) fn enter_rest(uc: &mut Unicorn<'_, Engine>, regs: Registers<'_>, addr: u32, id: u32) {
    match enter_looked(uc.get_data_mut(), regs, addr, id) {
        Entry::Done => {}
        Entry::After => after_entry(uc, addr, id),
        Entry::Full => on_block(uc, regs, addr, id),
    }
}

/// [`enter_lean`] for a block with FP instructions or alignment checks, or
/// one after a block whose exit needs settling. `Full` when none applies.
#[inline(always)]
fn enter_looked(e: &mut Engine, regs: Registers<'_>, addr: u32, id: u32) -> Entry {
    let quick = enter_quick::<true, true, true>(e, regs, addr, id);
    if !matches!(quick, Entry::Full) {
        return quick;
    }
    let (block, prev) = (*e.blocks.hot(id), *e.blocks.hot(e.cur));
    if alignment_due(e, regs, &block) || prev.flags & (HotBlock::IN_SBRK | HotBlock::SLEEPS) != 0 {
        return Entry::Full;
    }
    Entry::entered(enter(e, regs, addr, id, block, prev))
}

/// The block hook's full path for block `id` at `addr`: arms its alignment
/// checks, settles `_sbrk` and sleep at the previous block's exit, then
/// enters the block as the fast path does.
#[cold]
#[inline(never)]
pub(super) fn on_block(uc: &mut Unicorn<'_, Engine>, regs: Registers<'_>, addr: u32, id: u32) {
    let hot = *uc.get_data().blocks.hot(id);
    let trapping = traps_ldr_str(uc.get_data(), &hot);
    if alignment_due(uc.get_data(), regs, &hot) && trap_unaligned(uc, regs, id, trapping) {
        return;
    }
    let prev = *uc.get_data().blocks.hot(uc.get_data().cur);
    if prev.has(HotBlock::MASKS) {
        // Sleep below looks at the masks the previous block changed.
        uc.get_data_mut().masks = None;
    }
    if prev.has(HotBlock::IN_SBRK) {
        if let Some(heap) = &mut uc.get_data_mut().heap {
            heap.settle(addr, || regs.core(0));
        }
    }
    if prev.has(HotBlock::SLEEPS) {
        if let Err(stop) = sleep(uc, prev.fallthrough) {
            uc.get_data_mut().stop = Some(stop);
            let _ = uc.emu_stop();
            return;
        }
    }
    if enter(uc.get_data_mut(), regs, addr, id, hot, prev) {
        after_entry(uc, addr, id);
    }
}

/// Prices the block at `addr` seen for the first time and returns its id.
#[cold]
#[inline(never)]
fn price(uc: &mut Unicorn<'_, Engine>, addr: u32, size: u32) -> u32 {
    let bytes = uc
        .mem_read_as_vec(u64::from(addr), size as usize)
        .unwrap_or_default();
    let e = uc.get_data();
    let literal = |at: u32| {
        let mut word = [0u8; 4];
        uc.mem_read(u64::from(at), &mut word).ok()?;
        Some(u32::from_le_bytes(word))
    };
    let fetch_lines = if e.in_flash(addr) {
        e.timing.lines(addr, size)
    } else {
        0
    };
    let mut info = BlockInfo::analyze(
        &e.decoder,
        e.model,
        &e.symbols,
        addr,
        &bytes,
        fetch_lines,
        &literal,
    );
    info.marker = e.markers.at(addr);
    info.in_sbrk = e.heap.is_some_and(|heap| heap.sbrk == info.func);
    info.code_current_permille = e.code_current_permille(addr);
    let e = uc.get_data_mut();
    let id = e.blocks.insert(info);
    if let Some(recorder) = &mut e.counts {
        recorder.note_code(id, &bytes);
    }
    id
}

/// [`enter`] for the common block: one with `QUICK_ENTRY` (or, `LOOKED`,
/// with `QUICK_AFTER_LOOKS` and nothing due), after one with `QUICK_EXIT`
/// (so no trace to keep and no SP to check), no FP stacking stall pending,
/// and the call stack unchanged. `Full`, having changed nothing, otherwise.
/// `PREDICTS` is false only for a core without a predictor, whose blocks
/// have no misprediction to charge; `FLASH` is false only where the flash
/// has no wait states.
#[inline(always)]
fn enter_quick<const LOOKED: bool, const PREDICTS: bool, const FLASH: bool>(
    e: &mut Engine,
    regs: Registers<'_>,
    addr: u32,
    id: u32,
) -> Entry {
    let (block, prev) = (e.blocks.hot(id), e.blocks.hot(e.cur));
    let entry = if LOOKED {
        block.has(HotBlock::QUICK_ENTRY)
            || block.has(HotBlock::QUICK_AFTER_LOOKS) && nothing_due(e, regs, block)
    } else {
        block.has(HotBlock::QUICK_ENTRY)
    };
    let quick = entry
        && prev.has(HotBlock::QUICK_EXIT)
        && e.stall_in_block.is_none()
        && e.profiler.stays(addr, block.func);
    if !quick {
        return Entry::Full;
    }
    let (func, fallthrough) = (prev.func, block.fallthrough);
    let jumped = charge_exit::<PREDICTS, true>(e, addr, id);
    if FLASH && e.timing.ws > 0 {
        charge_flash::<false>(e, regs, addr, id, jumped);
    }
    // A traced run never leaves a block the quick way.
    e.profile(func);
    Entry::entered(become_current(e, id, fallthrough))
}

/// Whether block `block` can run with nothing done first: an FPU that needs
/// nothing, and no alignment check due.
#[inline]
fn nothing_due(e: &Engine, regs: Registers<'_>, block: &HotBlock) -> bool {
    (!block.has(HotBlock::FP) || e.fp_ready()) && !alignment_due(e, regs, block)
}

/// Charges the block ending, `e.cur`, in full, with its exit into block
/// `id` at `addr`: the taken or fall-through cycles, and a mispredicted
/// branch's. Returns whether the exit jumped. `PREDICTS` is false only
/// where there is neither a predictor nor a trace to keep. `QUICK` says the
/// ending block is a real one, never block 0 (the start, or an exception's
/// entry or return), where no branch refills the pipeline.
#[inline(always)]
fn charge_exit<const PREDICTS: bool, const QUICK: bool>(
    e: &mut Engine,
    addr: u32,
    id: u32,
) -> bool {
    let prev = e.blocks.hot(e.cur);
    let jumped = addr != e.expect;
    let refills = QUICK || e.cur != 0;
    let mut exit = if jumped {
        u64::from(prev.taken) + u64::from(e.blocks.hot(id).refill) * u64::from(refills)
    } else {
        u64::from(prev.not_taken)
    };
    let (cycles, energy, instructions, mispredict) =
        (prev.cycles, prev.energy, prev.instructions, prev.mispredict);
    // The predictor runs where it costs cycles, and for a trace on every core
    // (a trace may be re-priced for a core that predicts).
    if PREDICTS && e.counts.is_some() {
        let prev = *e.blocks.hot(e.cur);
        exit += predict_and_record(e, &prev, id, jumped);
    } else if PREDICTS && mispredict != 0 && e.blocks.mispredicted(e.cur, jumped) {
        exit += u64::from(mispredict);
    }
    e.cycles += u64::from(cycles) + exit;
    e.weighted += u64::from(energy) + exit * e.split.cycle;
    e.instructions += u64::from(instructions);
    jumped
}

/// Makes block `id`, which ends at `fallthrough`, the current one; true
/// when [`after_entry`] has work: the host clock to look at, an event or
/// the budget due, or the run to stop.
#[inline(always)]
fn become_current(e: &mut Engine, id: u32, fallthrough: u32) -> bool {
    e.cur = id;
    e.access_cursor = 0;
    e.expect = fallthrough;
    e.clock_check_in -= 1;
    e.clock_check_in == 0 || e.now() >= e.next_event || e.stop.is_some()
}

/// Charges the flash wait states of entering block `id` at `addr`: its
/// fetch, and its data reads from flash: literal-pool loads, and loads
/// through registers that point into flash at block entry (each register
/// read once per block, not per load). Runs at every block on a target with
/// wait states, so what most blocks need (a fetch without a cache, or one
/// from the line fetched last; registers outside flash's regions) stays
/// inline and the rest is out of line. `TRACED` counts fetch misses for
/// the trace.
#[inline(always)]
fn charge_flash<const TRACED: bool>(
    e: &mut Engine,
    regs: Registers<'_>,
    addr: u32,
    id: u32,
    jumped: bool,
) {
    let block = e.blocks.hot(id);
    let (flags, lines, mut pointers) = (block.flags, block.fetch_lines, block.pointer_regs);
    let mut stall = 0;
    if lines != 0 {
        let blocks = &mut e.blocks;
        stall += e
            .timing
            .fetch_stall::<TRACED>(addr, u32::from(lines), jumped, || blocks.fetch_seen(id));
    }
    let mut regions = 0u16;
    while pointers != 0 {
        regions |= FlashRanges::region_bit(regs.core(pointers.trailing_zeros() as u16));
        pointers &= pointers - 1;
    }
    if flags & HotBlock::FLASH_LITERALS != 0 || e.flash_ranges.touches(regions) {
        stall += data_reads_stall(e, regs, id);
    }
    let stall = u64::from(stall);
    e.flash_stall += stall;
    e.cycles += stall;
    e.weighted += stall * e.split.cycle;
}

/// The wait states of block `id`'s data reads from flash: from its literal
/// pool, and through those of its pointer registers that point into it.
/// Without a data cache the reads are counted from the block's
/// [`blocks::FlashWords`]; with one, its record is read.
#[inline(never)]
fn data_reads_stall(e: &mut Engine, regs: Registers<'_>, id: u32) -> u32 {
    let mut into_flash = 0u16;
    let mut pointers = e.blocks.hot(id).pointer_regs;
    while pointers != 0 {
        let reg = pointers.trailing_zeros() as u16;
        if e.flash_ranges.find(regs.core(reg)).is_some() {
            into_flash |= 1 << reg;
        }
        pointers &= pointers - 1;
    }
    if e.timing.data_cached() {
        return data_stall(e.blocks.get(id), &mut e.timing, into_flash, regs);
    }
    let words = e.blocks.flash_words(id);
    let mut count = u32::from(words.literals);
    let mut through = into_flash;
    while through != 0 {
        count += u32::from(words.through[through.trailing_zeros() as usize]);
        through &= through - 1;
    }
    e.timing.uncached_reads(count)
}

/// Charges the previous block `prev`, now that its exit is known, and
/// enters `block`, number `id` at `addr`: flash wait states, stack, profile.
/// True when [`after_entry`] has work.
#[inline(never)]
fn enter(
    e: &mut Engine,
    regs: Registers<'_>,
    addr: u32,
    id: u32,
    block: HotBlock,
    prev: HotBlock,
) -> bool {
    if prev.has(HotBlock::MASKS) {
        e.masks = None;
    }
    let sp = (e.check_sp_next || block.push_bytes > 0)
        .then(|| regs.core(SP).saturating_sub(u32::from(block.push_bytes)))
        // The stack peak and overflow check are the main stack's: a task's
        // process stack (often an array in .bss) is not measured against them.
        // CONTROL is read only when the SP reaches a new low.
        .filter(|&sp| sp >= e.lowest_sp || !on_process_stack(e, regs));
    let call_ret = prev.has(HotBlock::CALLS).then_some(prev.fallthrough);
    e.settle_stall_in_block();
    let jumped = charge_exit::<true, false>(e, addr, id);
    // A trace records cache misses even where they cost nothing here.
    if e.counts.is_some() {
        charge_flash::<true>(e, regs, addr, id, jumped);
    } else if e.timing.ws > 0 {
        charge_flash::<false>(e, regs, addr, id, jumped);
    }
    e.attribute(prev.func);
    let entry_sp = || regs.core(SP);
    let energy = e.energy();
    e.profiler
        .enter(addr, block.func, call_ret, entry_sp, e.cycles, energy);
    e.check_sp_next = block.has(HotBlock::MOVES_SP);
    if let Some(sp) = sp {
        e.note_sp(sp);
        if e.static_ram_end.is_some_and(|limit| e.lowest_sp < limit) {
            e.stop = Some(Stop::StackOverflow(e.lowest_sp, addr));
        }
    }
    if block.flags & (HotBlock::CHECK | HotBlock::FP) != 0 {
        check(e, id);
    }
    if prev.has(HotBlock::MASKS) {
        // PRIMASK, FAULTMASK or BASEPRI changed: a pending exception may be due.
        e.request_exception_check();
    }
    become_current(e, id, block.fallthrough) || block.has(HotBlock::DEAD_LOOP | HotBlock::MARKS)
}

/// Before block `id` runs: its SEV, unsupported instructions, and the first
/// FP instruction's checks.
#[cold]
fn check(e: &mut Engine, id: u32) {
    let info = e.blocks.get(id);
    // SEV comes before any WFE of its block, which ends the block.
    e.event_register |= info.sends_event;
    if let Some(u) = &info.unsupported {
        e.stop = Some(Stop::Unsupported(u.clone()));
    } else if let Some(at) = info.first_fp {
        if !e.sys.fpu_enabled() {
            e.stop = Some(Stop::FpuDisabled(at));
        } else if e.fp_lazy_pending && e.ipsr != 0 {
            // The handler's first FP instruction saves the interrupted
            // context's S0-S15 and FPSCR into the reserved frame space.
            e.fp_lazy_pending = false;
            e.stall_in_block = Some((at, FP_STACKING_CYCLES));
        }
    }
}

/// After entering block `id` at `addr`: the host clock every
/// [`CLOCK_CHECK_BLOCKS`] blocks, a `b .` loop, due events and exceptions,
/// markers, and the stop of the run.
#[cold]
#[inline(never)]
pub(super) fn after_entry(uc: &mut Unicorn<'_, Engine>, addr: u32, id: u32) {
    let e = uc.get_data_mut();
    if e.clock_check_in == 0 {
        e.clock_check_in = CLOCK_CHECK_BLOCKS;
        if std::time::Instant::now() >= e.deadline {
            e.stop = Some(Stop::WallClock);
        }
    }
    let block = *e.blocks.hot(id);
    if block.has(HotBlock::DEAD_LOOP) {
        dead_loop(uc, addr);
    } else if e.now() >= e.next_event {
        if e.now() >= e.max_cycles {
            e.stop = Some(Stop::Budget);
        } else {
            e.exception_check = false;
            poll_events(uc);
            let masks = masks(uc);
            if let Some(number) = uc.get_data().sys.nvic.preempting(masks) {
                if uc.get_data().stop.is_none() {
                    enter_before_block(uc, number, addr);
                }
            }
        }
    }
    // A block abandoned to an exception (`cur` reset) runs, and marks, after the return.
    if block.has(HotBlock::MARKS) && uc.get_data().cur == id {
        mark(uc, id);
    }
    if uc.get_data().stop.is_some() {
        let _ = uc.emu_stop();
    }
}

/// Begins or ends a marked region at the entry of block `id`, one of the
/// marker functions, before the block is charged: the arguments are still in
/// R0 and R1 (AAPCS).
fn mark(uc: &mut Unicorn<'_, Engine>, id: u32) {
    let e = uc.get_data();
    let (cycles, weighted) = (e.cycles, e.energy());
    match e.blocks.get(id).marker {
        Some(Marker::Begin) => {
            let at = uc.reg_read(RegisterARM::R0).unwrap_or(0);
            let macs = uc.reg_read(RegisterARM::R1).unwrap_or(0);
            let name = marked_name(uc, at);
            uc.get_data_mut().marks.begin(name, macs, cycles, weighted);
        }
        Some(Marker::End) => uc.get_data_mut().marks.end(cycles, weighted),
        None => {}
    }
}

/// The NUL-terminated name at `at`, read up to [`MAX_NAME_BYTES`] and up to
/// the end of readable memory: `[unnamed]` for a null or empty name,
/// `[name at 0x…]` for one that cannot be read.
fn marked_name(uc: &Unicorn<'_, Engine>, at: u64) -> String {
    if at == 0 {
        return "[unnamed]".to_owned();
    }
    let mut bytes = Vec::with_capacity(MAX_NAME_BYTES);
    for addr in at..at + MAX_NAME_BYTES as u64 {
        let mut byte = [0u8];
        if uc.mem_read(addr, &mut byte).is_err() {
            if addr == at {
                return format!("[name at {at:#010x}]");
            }
            break;
        }
        if byte[0] == 0 {
            break;
        }
        bytes.push(byte[0]);
    }
    match printable_name(&bytes) {
        name if name.is_empty() => "[unnamed]".to_owned(),
        name => name,
    }
}

/// Takes exception `number` before the block at `addr` runs: the block is
/// abandoned (not charged; it runs after the return), and the handler
/// follows at once. Its flash fetch wait states stay charged: the fetch had
/// begun.
fn enter_before_block(uc: &mut Unicorn<'_, Engine>, number: u32, addr: u32) {
    let e = uc.get_data_mut();
    e.cur = 0;
    let entered = Exceptions { uc }.take_exception(number, addr);
    jump_from_block(uc, entered);
}

/// Goes on at `target` from the block hook or a code hook, before the
/// instruction hooked: the single-register PC write makes unicorn leave the
/// block at once and keep the written PC rather than restore its own.
fn jump_from_block(uc: &mut Unicorn<'_, Engine>, target: Result<u32, Failure>) {
    match target {
        Ok(pc) => {
            let _ = uc.reg_write(RegisterARM::PC, u64::from(pc | 1));
        }
        Err(failure) => {
            uc.get_data_mut().stop = Some(Stop::Failed(failure));
            let _ = uc.emu_stop();
        }
    }
}

/// Before block `id`, which holds accesses that must be aligned (its LDR/STR
/// too while `trapping`, CCR.UNALIGN_TRP): each one whose address is about to
/// be unaligned gets a code hook that checks it at the instruction, and the
/// block is translated again to include the hooks (unicorn places them at
/// translation). True when the block is left for that, before anything of it
/// is charged; it starts again at once.
fn trap_unaligned(
    uc: &mut Unicorn<'_, Engine>,
    regs: Registers<'_>,
    id: u32,
    trapping: bool,
) -> bool {
    let e = uc.get_data();
    let block = e.blocks.get(id);
    // Each register is read once however many sites use it.
    let mut values = [None::<u32>; 16];
    let mut untrapped = Vec::new();
    for site in block
        .aligned
        .iter()
        .filter(|site| trapping || !site.when_trapping)
    {
        if let AlignmentCheck::AtEntry(reg, offset) = site.check {
            let value =
                *values[usize::from(reg) & 15].get_or_insert_with(|| regs.core(u16::from(reg)));
            if value.wrapping_add(offset as u32) & (site.align - 1) == 0 {
                continue;
            }
        }
        if !e.alignment_traps.contains_key(&site.at) {
            untrapped.push(site.clone());
        }
    }
    if untrapped.is_empty() {
        return false;
    }
    let (addr, end) = (block.addr, block.fallthrough);
    for site in untrapped {
        let at = u64::from(site.at);
        if let Err(err) = uc.add_code_hook(at, at, on_aligned_access) {
            let e = uc.get_data_mut();
            e.stop = Some(Stop::Broken {
                kind: format!("could not add an alignment check: {err:?}"),
                pc: site.at,
                address: None,
            });
            let _ = uc.emu_stop();
            return true;
        }
        uc.get_data_mut().alignment_traps.insert(site.at, site);
    }
    let _ = uc.ctl_remove_cache(u64::from(addr), u64::from(end));
    jump_from_block(uc, Ok(addr));
    true
}

/// Whether block `hot` has alignment checks to make before it runs: accesses
/// in a form its entry registers do not settle, its LDR/STR while they trap
/// (see [`traps_ldr_str`]), or an entry register that must be word aligned
/// and is not.
#[inline]
fn alignment_due(e: &Engine, regs: Registers<'_>, hot: &HotBlock) -> bool {
    hot.has(HotBlock::ALIGNED)
        || traps_ldr_str(e, hot)
        || (hot.align_regs != 0 && !word_aligned(regs, hot.align_regs))
}

/// Whether block `hot`'s word and halfword LDR/STR must be aligned now
/// (CCR.UNALIGN_TRP).
#[inline]
fn traps_ldr_str(e: &Engine, hot: &HotBlock) -> bool {
    hot.has(HotBlock::TRAPPABLE) && e.sys.nvic.traps_unaligned()
}

/// Whether every register in `mask` holds a word-aligned value.
fn word_aligned(regs: Registers<'_>, mut mask: u16) -> bool {
    while mask != 0 {
        let reg = mask.trailing_zeros() as u16;
        if regs.core(reg) & 3 != 0 {
            return false;
        }
        mask &= mask - 1;
    }
    true
}

/// At an access that must be aligned: an unaligned address is a UsageFault
/// (UNALIGNED), raised before the access.
fn on_aligned_access(uc: &mut Unicorn<'_, Engine>, at: u64, _size: u32) {
    let at = at as u32;
    let e = uc.get_data();
    let Some((base, disp, align)) = e
        .alignment_traps
        .get(&at)
        .filter(|site| !site.when_trapping || e.sys.nvic.traps_unaligned())
        .map(|site| (site.base, site.disp, site.align))
    else {
        return;
    };
    let base = uc.reg_read(core_register(u16::from(base))).unwrap_or(0) as u32;
    let address = base.wrapping_add(disp as u32);
    if address & (align - 1) == 0 {
        return;
    }
    let mnemonic = &uc.get_data().alignment_traps[&at].mnemonic;
    let kind = format!(
        "unaligned access by `{mnemonic}`: {address:#010x} is not {align}-byte aligned (UsageFault UNALIGNED)"
    );
    let entered = Exceptions { uc }.fault(kind, FaultCause::UNALIGNED, at, Some(address));
    jump_from_block(uc, entered);
}

/// Goes on at `target` from the interrupt hook, which runs between blocks.
/// The batch write is used because the single-register one would also leave
/// unicorn skipping its PC sync at the next block exit, and a later faulting
/// access would then be reported at the wrong instruction.
fn jump_from_interrupt(uc: &mut Unicorn<'_, Engine>, target: Result<u32, Failure>) {
    match target {
        Ok(pc) => {
            let _ = uc.reg_write_batch(&[RegisterARM::PC], &[u64::from(pc | 1)], 1);
        }
        Err(failure) => {
            uc.get_data_mut().stop = Some(Stop::Failed(failure));
            let _ = uc.emu_stop();
        }
    }
}

/// For a trace: runs the predictor of the conditional branch closing the
/// previous block `prev`, whatever the core, and records the exit into `id`;
/// returns the misprediction's cycles on this core.
#[cold]
fn predict_and_record(e: &mut Engine, prev: &HotBlock, id: u32, jumped: bool) -> u64 {
    let ends_in_branch =
        prev.mispredict != 0 || e.blocks.get(e.cur).cost.prediction != Prediction::None;
    let mispredicted = ends_in_branch && e.blocks.mispredicted(e.cur, jumped);
    if let Some(recorder) = &mut e.counts {
        let exit = if jumped {
            Exit::Taken {
                into: id,
                mispredicted,
            }
        } else {
            Exit::Fall { mispredicted }
        };
        let closed = Closed {
            id: e.cur,
            func: prev.func,
            exit,
        };
        recorder.close(&e.profiler, closed);
    }
    if mispredicted {
        u64::from(prev.mispredict)
    } else {
        0
    }
}

/// Whether thread mode runs on the PSP (CONTROL.SPSEL).
fn on_process_stack(e: &Engine, regs: Registers<'_>) -> bool {
    e.ipsr == 0 && regs.read(RegisterARM::CONTROL) & 2 != 0
}

/// A `b .` loop. At newlib's nosys `_exit` it is the firmware's exit, with
/// the code in r0. In thread mode with a timer running and interrupts
/// unmasked the core spins until the next event, which may interrupt it (all
/// work in interrupts is a common design): the time jumps there, charged as
/// the loop draws, one branch every two cycles (B = 1 + P). Inside a handler
/// (an unexpected interrupt's default handler) or with PRIMASK/FAULTMASK set,
/// or with nothing to interrupt it, it hangs.
fn dead_loop(uc: &mut Unicorn<'_, Engine>, addr: u32) {
    let code = uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32 as i32;
    let masks = masks(uc);
    let e = uc.get_data_mut();
    if e.exit_at == Some(addr) {
        e.stop = Some(Stop::Exit(code));
        return;
    }
    if e.ipsr != 0 || e.sys.nvic.execution_priority(masks) <= 0 {
        e.stop = Some(Stop::Hang(addr));
        return;
    }
    let Some(wake) = e.next_wake().filter(|&t| t < e.max_cycles) else {
        e.stop = Some(if e.next_wake().is_some() {
            Stop::Budget
        } else {
            Stop::Hang(addr)
        });
        return;
    };
    let spun = wake.saturating_sub(e.now()).max(1);
    e.cycles += spun;
    e.weighted += spun * e.split.cycle + spun / 2 * e.split.insn;
    e.request_exception_check();
    poll_events(uc);
    if uc.get_data().stop.is_some() {
        return;
    }
    match uc.get_data().sys.nvic.preempting(masks) {
        Some(number) => enter_before_block(uc, number, addr),
        // Nothing taken (masked): spin on from the top of the loop.
        None => jump_from_block(uc, Ok(addr)),
    }
}

/// Pends what is due by now: SysTick, and whatever the peripherals raise.
pub(super) fn poll_events(uc: &mut Unicorn<'_, Engine>) {
    let e = uc.get_data_mut();
    let now = e.now();
    if now < e.systick_at && now < e.bus_at && now < e.rtt.next_poll {
        e.settle_next_event();
        return;
    }
    if now >= e.systick_at {
        e.sys.nvic.set_pending(exception::SYSTICK);
    }
    if now >= e.bus_at {
        with_bus(uc, now, |bus, ctx| bus.advance(ctx));
    }
    if now >= uc.get_data().rtt.next_poll {
        poll_rtt(uc, now);
    }
    uc.get_data_mut().schedule_next_event();
}

/// Drains SEGGER RTT up-channel 0 into the console; a corrupt control block ends the run.
fn poll_rtt(uc: &mut Unicorn<'_, Engine>, now: u64) {
    let e = uc.get_data_mut();
    let hz = e.clock.clocks.hclk_hz;
    let mut rtt = std::mem::take(&mut e.rtt);
    let result = rtt.poll(&mut UcMemory(uc), now, hz);
    let e = uc.get_data_mut();
    e.rtt = rtt;
    match result {
        Ok(bytes) => e.print(&bytes),
        Err(err) => {
            e.stop = Some(Stop::Broken {
                kind: err.to_string(),
                pc: e.expect,
                address: None,
            });
            let _ = uc.emu_stop();
        }
    }
}

/// WFI or WFE just executed: the core sleeps until an interrupt that would
/// preempt were PRIMASK clear becomes pending (B1.5.19). Time jumps from
/// event to event; the cycles are charged as sleep, deep sleep under
/// SCR.SLEEPDEEP. WFE returns at once when the event register is set. `at`
/// is where execution goes on, named if nothing can ever wake the core.
pub(super) fn sleep(uc: &mut Unicorn<'_, Engine>, at: u32) -> Result<(), Stop> {
    let waits_for_event = {
        let e = uc.get_data();
        e.blocks.get(e.cur).ends_in_wfe
    };
    {
        let e = uc.get_data_mut();
        if waits_for_event && std::mem::take(&mut e.event_register) {
            return Ok(());
        }
    }
    let deep_mode = {
        let e = uc.get_data();
        e.sys.nvic.sleep_deep().then(|| e.bus.deep_sleep_mode())
    };
    if let Some(Some(mode @ ("standby" | "shutdown"))) = deep_mode {
        return Err(Stop::PoweredDown(mode, at));
    }
    // In a stop mode (one the power controller names) the core and bus
    // clocks stop: only what runs on its own clock can wake the core.
    let stopped = matches!(deep_mode, Some(Some(_)));
    let masks = masks(uc);
    // Events that wake nothing (a timer without its interrupt enabled) are
    // stepped over; after this many the core wakes spuriously, as WFI may
    // (B1.5.19), so host time is checked again between blocks.
    // A wake-up from deep sleep is counted: the part's wake-up time from stop
    // mode is charged for each (run.rs).
    let mut slept_deeply = false;
    for _ in 0..MAX_EVENTS_PER_SLEEP {
        let e = uc.get_data_mut();
        if e.sys.nvic.wakes(masks) {
            e.request_exception_check();
            woke(uc, slept_deeply, deep_mode);
            return Ok(());
        }
        let wake = if stopped {
            e.next_wake_in_stop()
        } else {
            e.next_wake()
        };
        let Some(wake) = wake else {
            return Err(Stop::Asleep(at));
        };
        if wake >= e.max_cycles {
            return Err(Stop::Budget);
        }
        // At least one cycle passes, whatever a model reports.
        let slept = wake.saturating_sub(e.now()).max(1);
        let us = clock::micros(slept, e.clock.clocks.hclk_hz);
        e.sleep_cycles += slept;
        e.sleep_us += us;
        if let Some(mode) = deep_mode {
            slept_deeply = true;
            let record = e.deep_sleep_in(mode);
            record.us += us;
            record.cycles += slept;
        }
        if stopped {
            e.clocks_stopped(slept);
        }
        poll_events(uc);
    }
    woke(uc, slept_deeply, deep_mode);
    Ok(())
}

/// The core woke: a wake-up from deep sleep (in `deep_mode`, when the core
/// slept deeply) is counted, and one from a stop mode starts on the clocks
/// the part wakes on.
fn woke(uc: &mut Unicorn<'_, Engine>, slept_deeply: bool, deep_mode: Option<Option<&'static str>>) {
    let Some(mode) = deep_mode.filter(|_| slept_deeply) else {
        return;
    };
    let e = uc.get_data_mut();
    e.woke_from_deep_sleep(mode);
    if mode.is_some() {
        let now = e.now();
        with_bus(uc, now, |bus, ctx| bus.stop_exited(ctx));
    }
}

/// Events one sleep steps over before the core wakes spuriously.
const MAX_EVENTS_PER_SLEEP: u32 = 100_000;

/// Wait states of the block's data reads from flash through the data cache:
/// literal-pool loads, and loads through the registers in `into_flash`,
/// which point into flash at block entry.
fn data_stall(
    block: &BlockInfo,
    timing: &mut FlashTiming,
    into_flash: u16,
    regs: Registers<'_>,
) -> u32 {
    let mut stall = 0;
    for &literal in &block.flash_literals {
        stall += timing.read_stall(literal);
    }
    for group in &block.pointer_loads {
        if into_flash & 1 << group.reg != 0 {
            let value = regs.core(u16::from(group.reg));
            for &offset in &group.offsets {
                stall += timing.read_stall(value.wrapping_add(offset as u32));
            }
        }
    }
    stall
}

/// The address of the instruction making a system-space access. Unicorn keeps
/// PC exact only at block starts, so the access is matched against the current
/// block's loads (or stores) in order: the first one not yet matched whose
/// operands give this address.
pub(super) fn access_pc(uc: &mut Unicorn<'_, Engine>, addr: u32, load: bool) -> u32 {
    let (found, block_start) = {
        let e = uc.get_data();
        let block = e.blocks.get(e.cur);
        let candidates = || {
            block
                .accesses
                .iter()
                .filter(|a| usize::from(a.index) >= e.access_cursor && a.load == load)
        };
        let reg = |r: u8| uc.reg_read(core_register(u16::from(r))).unwrap_or(0) as u32;
        let computed = |a: &blocks::Access| {
            let base = if a.base == 15 {
                (block.insn_addrs[usize::from(a.index)] + 4) & !3
            } else {
                reg(a.base)
            };
            base.wrapping_add(a.disp as u32)
                .wrapping_add(a.offset_reg.map_or(0, reg))
        };
        let found = candidates()
            .find(|a| computed(a) & !3 == addr & !3)
            .or_else(|| candidates().next())
            .map(|a| (usize::from(a.index), block.insn_addrs[usize::from(a.index)]));
        (found, block.addr)
    };
    match found {
        Some((index, pc)) => {
            uc.get_data_mut().access_cursor = index + 1;
            pc
        }
        None => block_start,
    }
}

pub(super) fn on_interrupt(uc: &mut Unicorn<'_, Engine>, intno: u32) {
    let pc = uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
    // QEMU's ARM exception numbers (target/arm/cpu.h).
    const UDEF: u32 = 1;
    const SWI: u32 = 2;
    const PREFETCH_ABORT: u32 = 3;
    const DATA_ABORT: u32 = 4;
    const BKPT: u32 = 7;
    const EXCEPTION_EXIT: u32 = 8;
    const SEMIHOST: u32 = 16;
    const NOCP: u32 = 17;
    const INVSTATE: u32 = 18;
    let stop = match intno {
        BKPT | SEMIHOST => {
            let mut insn = [0u8; 2];
            let _ = uc.mem_read(u64::from(pc), &mut insn);
            if insn == [0xAB, 0xBE] {
                let op = uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32;
                let arg = uc.reg_read(RegisterARM::R1).unwrap_or(0) as u32;
                let clock = {
                    let e = uc.get_data();
                    Clock {
                        cycles: e.cycles_at(pc),
                        hz: e.clock.clocks.hclk_hz,
                    }
                };
                let mut semihosting = std::mem::take(&mut uc.get_data_mut().semihosting);
                let outcome = semihosting.call(op, arg, &mut UcMemory(uc), clock);
                let written = std::mem::take(&mut semihosting.output);
                let e = uc.get_data_mut();
                e.semihosting = semihosting;
                e.print(&written);
                match outcome {
                    Outcome::Return(value) => {
                        let _ = uc.reg_write(RegisterARM::R0, u64::from(value));
                        jump_from_interrupt(uc, Ok(pc + 2));
                        None
                    }
                    Outcome::Exit(code) => Some(Stop::Exit(code)),
                }
            } else {
                Some(Stop::Fault {
                    kind: format!("breakpoint BKPT {:#04x} (no debugger attached)", insn[0]),
                    cause: FaultCause::UNDEFINED,
                    pc,
                    address: None,
                })
            }
        }
        SWI => {
            // PC is already past the SVC: the return address.
            let entered = Exceptions { uc }.svc(pc);
            jump_from_interrupt(uc, entered);
            None
        }
        EXCEPTION_EXIT => {
            // PC holds the EXC_RETURN value branched to.
            let at = uc.get_data().last_insn();
            let returned = Exceptions { uc }.exception_return(pc | 1, at);
            jump_from_interrupt(uc, returned);
            None
        }
        UDEF => Some(Stop::Fault {
            kind: "undefined instruction".into(),
            cause: FaultCause::UNDEFINED,
            pc,
            address: None,
        }),
        NOCP => Some(Stop::FpuDisabled(pc)),
        INVSTATE => Some(Stop::Fault {
            kind: "invalid state (branch to an ARM-state address, bit 0 clear)".into(),
            cause: FaultCause::INVALID_STATE,
            pc,
            address: None,
        }),
        PREFETCH_ABORT => Some(Stop::Fault {
            kind: "instruction fetch bus error".into(),
            cause: FaultCause::FETCH_BUS,
            pc,
            address: None,
        }),
        DATA_ABORT => Some(Stop::Fault {
            kind: "bus fault".into(),
            cause: FaultCause::DATA_BUS,
            pc,
            address: None,
        }),
        other => Some(Stop::Fault {
            kind: format!("CPU exception {other}"),
            cause: FaultCause::UNDEFINED,
            pc,
            address: None,
        }),
    };
    if let Some(stop) = stop {
        uc.get_data_mut().stop = Some(stop);
        let _ = uc.emu_stop();
    }
}

pub(super) fn on_divide(uc: &mut Unicorn<'_, Engine>, addr: u64, _size: u32) {
    let Some(site) = uc.get_data().divides.get(&(addr as u32)).copied() else {
        return;
    };
    let n = uc.reg_read(site.rn).unwrap_or(0) as u32;
    let d = uc.reg_read(site.rm).unwrap_or(0) as u32;
    let e = uc.get_data_mut();
    let cycles = u64::from(divide_cycles(e.model.core(), site.signed, n, d));
    if let Some(recorder) = &mut e.counts {
        recorder.divide(
            u64::from(divide_cycles(Core::CortexM4, site.signed, n, d)),
            u64::from(divide_cycles(Core::CortexM7, site.signed, n, d)),
        );
    }
    // The instruction's activity is in its block's energy; its cycles are the
    // divider iterating.
    e.charge_stall(cycles);
}

/// Runs `f` on the bus with a context at cycle `now`, then applies what the
/// models did: output, raised interrupts, and clock or flash settings that
/// changed from this access on.
fn with_bus<R>(
    uc: &mut Unicorn<'_, Engine>,
    now: u64,
    f: impl FnOnce(&mut Bus, &mut BusContext<'_>) -> R,
) -> R {
    let e = uc.get_data_mut();
    let mut bus = std::mem::take(&mut e.bus);
    let (before, flash_before) = (e.clock.clocks, e.clock.flash);
    let (mut clocks, mut flash) = (before, flash_before);
    let mut console = Vec::new();
    let mut raised = Vec::new();
    let mut input = std::mem::take(&mut e.input);
    let result = {
        let mut memory = UcMemory(uc);
        let mut ctx = BusContext {
            now,
            clocks: &mut clocks,
            flash: &mut flash,
            console: &mut console,
            input: &mut input,
            raised: &mut raised,
            memory: &mut memory,
        };
        f(&mut bus, &mut ctx)
    };
    let e = uc.get_data_mut();
    if e.console.streams() {
        for &addr in &bus.unmodeled_seen[e.unmodeled_reported..] {
            eprintln!(
                "note: {} at {addr:#010x} has no model: it reads its reset value and keeps what is written",
                bus.locate(addr)
            );
        }
    }
    e.unmodeled_reported = bus.unmodeled_seen.len();
    if !e.clock_programmed && (clocks != before || flash != flash_before) {
        // The firmware takes charge of its clocks: from here on both the
        // clock tree and FLASH_ACR are what their registers say.
        e.clock_programmed = true;
        (clocks, flash) = bus.programmed_settings(clocks, flash);
        if e.model.core().is_m7() {
            // A Cortex-M7's flash caches are its L1, as CCR has them (off at reset).
            (flash.icache, flash.dcache) = e.sys.nvic.l1_caches();
        }
    } else if e.clock_programmed && clocks != before {
        // Wait states counted in bus cycles follow a new bus clock (H7 HPRE).
        flash = bus.flash_settings(flash, &clocks);
    }
    if clocks != before {
        bus.clocks_changed(now, &before, &clocks);
    }
    // The run current follows the core clock and, once the firmware runs its
    // own clocks, the voltage range it set.
    let range = e.clock_programmed.then(|| bus.voltage_range()).flatten();
    if clocks.hclk_hz != before.hclk_hz || range != e.voltage_range {
        e.voltage_range = range;
        e.run_energy.set(e.weighted, clocks.hclk_hz, range);
    }
    if clocks != before || flash != flash_before {
        e.clock.change(now, clocks, flash);
        e.timing.configure(flash);
    }
    e.bus = bus;
    e.input = input;
    e.print(&console);
    for &irq in &raised {
        e.sys.nvic.raise_irq(irq);
    }
    e.schedule_next_event();
    if !raised.is_empty() {
        e.request_exception_check();
    }
    result
}

/// Extracts the `size`-byte lane at `addr` from the word holding it.
fn lane(word: u32, addr: u32, size: usize) -> u64 {
    let bits = (word >> (8 * (addr & 3))) as u64;
    match size {
        1 => bits & 0xFF,
        2 => bits & 0xFFFF,
        _ => bits,
    }
}

/// Stops the run with a fault at a device register.
fn device_fault(uc: &mut Unicorn<'_, Engine>, pc: u32, addr: u32, kind: String) {
    let e = uc.get_data_mut();
    e.stop = Some(Stop::Fault {
        kind,
        cause: FaultCause::DATA_BUS,
        pc,
        address: Some(addr),
    });
    let _ = uc.emu_stop();
}

/// A read in the system space: DWT, SysTick, SCB, NVIC, ITM, and the
/// peripherals the target places there (DBGMCU).
pub(super) fn on_ppb_read(uc: &mut Unicorn<'_, Engine>, offset: u32, size: usize) -> u64 {
    let addr = PPB_BASE as u32 + offset;
    if uc.get_data().bus.serves(addr) {
        return on_device_read(uc, addr, size);
    }
    let pc = access_pc(uc, addr, true);
    let e = uc.get_data_mut();
    let now = e.cycles_at(pc);
    let ipsr = e.ipsr;
    lane(e.sys.read(offset & !3, now, ipsr), offset, size)
}

/// A write in the system space. Priority bytes merge into their word; the
/// set/clear registers take the written lanes alone.
pub(super) fn on_ppb_write(uc: &mut Unicorn<'_, Engine>, offset: u32, size: usize, value: u32) {
    let addr = PPB_BASE as u32 + offset;
    if uc.get_data().bus.serves(addr) {
        on_device_write(uc, addr, size, value);
        return;
    }
    let pc = access_pc(uc, addr, false);
    let e = uc.get_data_mut();
    let now = e.cycles_at(pc);
    let trapped_before = e.sys.nvic.traps_unaligned();
    let word = offset & !3;
    let shift = 8 * (offset & 3);
    let mask = match size {
        1 => 0xFFu32,
        2 => 0xFFFF,
        _ => u32::MAX,
    } << shift;
    let value = if size < 4 && Nvic::merges_lanes(word) {
        let ipsr = e.ipsr;
        (e.sys.read(word, now, ipsr) & !mask) | ((value << shift) & mask)
    } else {
        value << shift
    };
    let result = e.sys.write(word, value, now);
    if e.model.core().is_m7() {
        l1_cache_control(e, word, now);
    }
    let itm = std::mem::take(&mut e.sys.itm);
    e.print(&itm);
    e.schedule_systick();
    // Pending, enabling or priority changes may make an exception due.
    e.request_exception_check();
    if let Err(err) = result {
        device_fault(uc, pc, addr, err.to_string());
    } else if e.sys.nvic.reset_requested {
        // A run goes from one reset to its end; a reset the firmware asks for
        // (NVIC_SystemReset) ends it here rather than in the loop that follows.
        e.stop = Some(Stop::Broken {
            kind: "the firmware requested a system reset (AIRCR.SYSRESETREQ); a run ends there"
                .into(),
            pc,
            address: None,
        });
        let _ = uc.emu_stop();
    } else if e.sys.nvic.traps_unaligned() != trapped_before {
        split_block_after(uc, pc);
    }
}

/// Ends the current block after the instruction at `pc` and goes on with the
/// next one as a block of its own, so the block hook sees what that
/// instruction changed (CCR.UNALIGN_TRP) before the rest runs.
fn split_block_after(uc: &mut Unicorn<'_, Engine>, pc: u32) {
    let e = uc.get_data_mut();
    let block = e.blocks.get(e.cur);
    let next = block
        .insn_addrs
        .iter()
        .copied()
        .find(|&a| a > pc)
        .unwrap_or(block.fallthrough);
    if next == block.fallthrough {
        return;
    }
    e.close_block_at(next);
    jump_from_block(uc, Ok(next));
}

/// SCB cache control of the Cortex-M7 (ARMv7-M ARM B2.2.7, Cortex-M7 TRM
/// 4.1): CCR.IC and CCR.DC switch the L1 caches the flash timing models, and
/// ICIALLU empties the instruction cache. Data maintenance changes no timing
/// the model keeps, so those registers only keep what is written.
fn l1_cache_control(e: &mut Engine, offset: u32, now: u64) {
    const ICIALLU: u32 = 0xEF50;
    match offset {
        nvic::reg::CCR => {
            let (icache, dcache) = e.sys.nvic.l1_caches();
            let flash = FlashSettings {
                icache,
                dcache,
                ..e.clock.flash
            };
            let clocks = e.clock.clocks;
            e.clock.change(now, clocks, flash);
            e.timing.configure(flash);
        }
        ICIALLU => e.timing.invalidate_icache(),
        _ => {}
    }
}

/// A read of a peripheral register.
pub(super) fn on_device_read(uc: &mut Unicorn<'_, Engine>, addr: u32, size: usize) -> u64 {
    if let Some(offset) = controller_offset(uc.get_data(), addr) {
        let e = uc.get_data();
        return e
            .controller
            .as_ref()
            .map_or(0, |(c, _)| lane(c.read(offset & !3), addr, size));
    }
    let pc = access_pc(uc, addr, true);
    let now = uc.get_data().cycles_at(pc);
    match with_bus(uc, now, |bus, ctx| bus.read(addr, size as u8, ctx)) {
        Ok(v) => u64::from(v),
        Err(err) => {
            let at = uc.get_data().bus.locate(addr);
            device_fault(uc, pc, addr, format!("{err}: {at}"));
            0
        }
    }
}

/// A write of a peripheral register.
pub(super) fn on_device_write(uc: &mut Unicorn<'_, Engine>, addr: u32, size: usize, value: u32) {
    if let Some(offset) = controller_offset(uc.get_data(), addr) {
        on_controller_write(uc, offset, value);
        return;
    }
    let pc = access_pc(uc, addr, false);
    let now = uc.get_data().cycles_at(pc);
    if let Err(err) = with_bus(uc, now, |bus, ctx| bus.write(addr, size as u8, value, ctx)) {
        let at = uc.get_data().bus.locate(addr);
        device_fault(uc, pc, addr, format!("{err}: {at}"));
    }
}

/// The offset into the flash programming controller, for its registers past
/// ACR (which the flash interface model serves).
fn controller_offset(e: &Engine, addr: u32) -> Option<u32> {
    let (_, base) = e.controller.as_ref()?;
    let offset = addr.wrapping_sub(*base);
    (4..0x400).contains(&offset).then_some(offset)
}

/// The byte address and bit a bit-band alias word stands for.
fn bitband_target(base: u32, offset: u32) -> (u32, u32) {
    (base + (offset >> 5), (offset >> 2) & 7)
}

/// A read of a bit-band alias: the bit, as 0 or 1.
pub(super) fn on_bitband_read(uc: &mut Unicorn<'_, Engine>, base: u32, offset: u32) -> u64 {
    let (addr, bit) = bitband_target(base, offset);
    let byte = if base == 0x2000_0000 {
        let mut b = [0u8];
        let _ = uc.mem_read(u64::from(addr), &mut b);
        u64::from(b[0])
    } else {
        on_device_read(uc, addr, 1)
    };
    (byte >> bit) & 1
}

/// A write of a bit-band alias: a read-modify-write of the byte holding the bit.
pub(super) fn on_bitband_write(uc: &mut Unicorn<'_, Engine>, base: u32, offset: u32, value: u32) {
    let (addr, bit) = bitband_target(base, offset);
    let set = |byte: u8| {
        if value & 1 != 0 {
            byte | 1 << bit
        } else {
            byte & !(1 << bit)
        }
    };
    if base == 0x2000_0000 {
        let mut b = [0u8];
        if uc.mem_read(u64::from(addr), &mut b).is_ok() {
            let _ = uc.mem_write(u64::from(addr), &[set(b[0])]);
        }
    } else {
        let word_addr = addr & !3;
        let word = on_device_read(uc, word_addr, 4) as u32;
        let shift = 8 * (addr & 3);
        let byte = set((word >> shift) as u8);
        let word = (word & !(0xFF << shift)) | u32::from(byte) << shift;
        on_device_write(uc, word_addr, 4, word);
    }
}

pub(super) fn on_controller_write(uc: &mut Unicorn<'_, Engine>, offset: u32, value: u32) {
    let e = uc.get_data_mut();
    let Some((controller, _)) = e.controller.as_mut() else {
        return;
    };
    if let ControllerAction::EraseSector(n) = controller.write(offset, value) {
        let Some(&(start, size, us)) = e.program.sectors.get(n as usize) else {
            return;
        };
        e.charge_stall(e.program.cycles(us, e.clock.clocks.hclk_hz));
        e.flash_program_pj += e.program.pj(us);
        e.program_us += us;
        let erased = vec![0xFF; size as usize];
        e.vectors.forget();
        let aliases: Vec<u32> = e.flash_ranges.bases().collect();
        let flash_base = e.program.sectors.first().map_or(start, |s| s.0);
        for base in aliases {
            let _ = uc.mem_write(u64::from(base + (start - flash_base)), &erased);
        }
    }
}
