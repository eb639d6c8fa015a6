//! The hooks unicorn calls while the firmware runs: the block hook that
//! charges every block, and the narrow ones for semihosting and CPU
//! exceptions, divides, and the flash controller's registers.

use unicorn_engine::{RegisterARM, Unicorn};

use super::blocks::{self, BlockInfo, HotBlock};
use super::flash::{ControllerAction, FlashTiming};
use super::semihosting::{Clock, Outcome};
use super::sysregs::exception;
use super::{core_register, Engine, Stop, UcMemory};
use crate::cost::{divide_cycles, weight};
use crate::target::Core;

pub(super) fn on_block(uc: &mut Unicorn<'_, Engine>, addr: u64, size: u32) {
    let addr = addr as u32;
    let id = match uc.get_data().blocks.lookup(addr, size) {
        Some(id) => id,
        None => {
            let bytes = uc
                .mem_read_as_vec(u64::from(addr), size as usize)
                .unwrap_or_default();
            let e = uc.get_data_mut();
            let in_flash = e.in_flash(addr);
            let info = BlockInfo::analyze(&e.decoder, e.model, &e.symbols, addr, &bytes, in_flash);
            e.blocks.insert(info)
        }
    };
    let (block, charges_flash, check_sp) = {
        let e = uc.get_data();
        // A trace records cache misses even where they cost nothing here.
        (
            e.blocks.hot(id),
            e.timing.ws > 0 || e.counts.is_some(),
            e.check_sp_next,
        )
    };
    // Registers that may point into flash, read once per block (not per load).
    let mut pointers = [0u32; 16];
    if charges_flash {
        let mut mask = block.pointer_mask;
        while mask != 0 {
            let r = mask.trailing_zeros() as u16;
            pointers[usize::from(r)] = uc.reg_read(core_register(r)).unwrap_or(0) as u32;
            mask &= mask - 1;
        }
    }
    let sp = (check_sp || block.push_bytes > 0).then(|| {
        (uc.reg_read(RegisterARM::SP).unwrap_or(u64::MAX) as u32)
            .saturating_sub(u32::from(block.push_bytes))
    });
    let e = uc.get_data_mut();
    // Charge the previous block, now that its exit is known.
    let prev = e.blocks.hot(e.cur);
    e.cycles += u64::from(prev.cycles);
    e.weighted += prev.energy;
    e.instructions += u64::from(prev.instructions);
    let jumped = addr != e.expect;
    if let Some(counts) = &mut e.counts {
        counts.record(id, e.cur, jumped && e.cur != 0, jumped && e.cur != 0);
    }
    let exit = if jumped {
        u64::from(prev.taken) + u64::from(block.refill) * u64::from(e.cur != 0)
    } else {
        u64::from(prev.not_taken)
    };
    e.cycles += exit;
    e.weighted += exit * weight::ALU;
    if charges_flash {
        let mut stall = 0;
        if block.has(HotBlock::IN_FLASH) {
            stall += e.timing.fetch_stall(addr, block.size, jumped);
        }
        if block.has(HotBlock::READS_DATA) {
            stall += data_stall(e.blocks.get(id), &mut e.timing, &e.flash_ranges, &pointers);
        }
        let stall = u64::from(stall);
        e.flash_stall += stall;
        e.cycles += stall;
        e.weighted += stall * weight::STALL;
    }
    e.attribute(prev.func);
    let call_ret = prev.has(HotBlock::CALLS).then_some(prev.fallthrough);
    e.profiler
        .enter(addr, block.func, call_ret, e.cycles, e.weighted);
    e.cur = id;
    e.access_cursor = 0;
    e.expect = block.fallthrough;
    e.check_sp_next = block.has(HotBlock::MOVES_SP);
    if let Some(sp) = sp {
        e.note_sp(sp);
        if e.static_ram_end.is_some_and(|limit| e.lowest_sp < limit) {
            e.stop = Some(Stop::StackOverflow(e.lowest_sp, addr));
        }
    }
    if block.has(HotBlock::CHECK) {
        let info = e.blocks.get(id);
        if let Some(u) = &info.unsupported {
            e.stop = Some(Stop::Unsupported(u.clone()));
        } else if let Some(at) = info.first_fp.filter(|_| !e.sys.fpu_enabled()) {
            e.stop = Some(Stop::FpuDisabled(at));
        }
    }
    if block.has(HotBlock::DEAD_LOOP) {
        e.stop = Some(Stop::Hang(addr));
    } else if e.cycles >= e.next_event {
        if e.cycles >= e.max_cycles {
            e.stop = Some(Stop::Budget);
        } else {
            if e.cycles >= e.systick_at {
                e.sys.pending |= 1 << exception::SYSTICK;
            }
            e.schedule_next_event();
            let pending = e.sys.pending;
            if pending != 0 && e.exceptions.is_empty() {
                // The block runs to its end before the machine stops: the
                // handler is entered after it, at an instruction boundary.
                let number = (0..32)
                    .find(|n| pending & (1 << n) != 0)
                    .unwrap_or(exception::SYSTICK);
                e.stop = Some(Stop::Exception(number));
            }
        }
    }
    if e.stop.is_some() {
        let _ = uc.emu_stop();
    }
}

/// The flash range (at its own base or an alias) holding `addr`.
pub(super) fn flash_range(ranges: &[(u32, u32)], addr: u32) -> Option<(u32, u32)> {
    ranges
        .iter()
        .copied()
        .find(|&(base, end)| addr >= base && addr < end)
}

/// Wait states of the block's data reads from flash: literal-pool loads, and
/// loads through registers that point into flash at block entry.
fn data_stall(
    block: &BlockInfo,
    timing: &mut FlashTiming,
    flash: &[(u32, u32)],
    pointers: &[u32; 16],
) -> u32 {
    let mut stall = 0;
    for &literal in &block.flash_literals {
        stall += timing.read_stall(literal);
    }
    for group in &block.pointer_loads {
        let value = pointers[usize::from(group.reg)];
        if flash_range(flash, value).is_some() {
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
                        hz: e.clock_hz,
                    }
                };
                let mut semihosting = std::mem::take(&mut uc.get_data_mut().semihosting);
                let outcome = semihosting.call(op, arg, &mut UcMemory(uc), clock);
                uc.get_data_mut().semihosting = semihosting;
                match outcome {
                    Outcome::Return(value) => {
                        // Resuming through emu_start rather than writing PC here keeps
                        // unicorn syncing PC for memory hooks afterwards (see `Stop::Resume`).
                        let _ = uc.reg_write(RegisterARM::R0, u64::from(value));
                        Some(Stop::Resume(pc + 2))
                    }
                    Outcome::Exit(code) => Some(Stop::Exit(code)),
                }
            } else {
                Some(Stop::Fault {
                    kind: format!("breakpoint BKPT {:#04x} (no debugger attached)", insn[0]),
                    pc,
                    address: None,
                })
            }
        }
        SWI => Some(Stop::Exception(exception::SVCALL)),
        EXCEPTION_EXIT => Some(Stop::ExceptionReturn),
        UDEF => Some(Stop::Fault {
            kind: "undefined instruction".into(),
            pc,
            address: None,
        }),
        NOCP => Some(Stop::FpuDisabled(pc)),
        INVSTATE => Some(Stop::Fault {
            kind: "invalid state (branch to an ARM-state address, bit 0 clear)".into(),
            pc,
            address: None,
        }),
        PREFETCH_ABORT | DATA_ABORT => Some(Stop::Fault {
            kind: "bus fault".into(),
            pc,
            address: None,
        }),
        other => Some(Stop::Fault {
            kind: format!("CPU exception {other}"),
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
    if let Some(counts) = &mut e.counts {
        counts.divide_cycles_m4 += u64::from(divide_cycles(Core::CortexM4, site.signed, n, d));
        counts.divide_cycles_m7 += u64::from(divide_cycles(Core::CortexM7, site.signed, n, d));
    }
    // One issue cycle is ordinary work; the rest is the divider iterating.
    e.cycles += 1;
    e.weighted += weight::ALU;
    e.charge_stall(cycles - 1);
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
        e.charge_stall(e.program.cycles(us));
        e.flash_program_pj += e.program.pj(us);
        e.program_us += us;
        let erased = vec![0xFF; size as usize];
        let aliases: Vec<u32> = e.flash_ranges.iter().map(|&(base, _)| base).collect();
        let flash_base = e.program.sectors.first().map_or(start, |s| s.0);
        for base in aliases {
            let _ = uc.mem_write(u64::from(base + (start - flash_base)), &erased);
        }
    }
}
