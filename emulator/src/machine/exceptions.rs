//! Exceptions as the core takes them: the context stacked on entry (with the
//! FP registers when the FPU is on), the handler from the vector table, and
//! the frame unstacked on return; faults go to the firmware's HardFault
//! handler when it has a real one.

use unicorn_engine::RegisterARM;

use super::sysregs::exception;
use super::{
    fp_register, uc_err, ActiveException, Failure, Machine, EXCEPTION_ENTRY_CYCLES,
    EXCEPTION_RETURN_CYCLES,
};
use crate::cost::weight;
use crate::machine::blocks::NO_FUNCTION;

/// Core registers in the first words of an exception frame; the return
/// address and xPSR follow (ARMv7-M ARM B1.5.6).
const STACKED: [RegisterARM; 6] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R12,
    RegisterARM::LR,
];

impl Machine {
    /// Handles a fault at `pc`: the firmware's HardFault handler takes over if it
    /// has a real one; otherwise the run fails with the fault.
    pub(super) fn fault(
        &mut self,
        kind: String,
        pc: u32,
        address: Option<u32>,
    ) -> Result<u32, Failure> {
        let e = self.uc.get_data_mut();
        let described = Failure::Fault {
            kind: kind.clone(),
            pc: e.describe(pc),
            address: address.map(|a| e.describe(a)),
        };
        if e.exceptions.iter().any(|x| x.fault) {
            return Err(described); // a fault inside the fault handler: lockup
        }
        let handler = self.vector(exception::HARD_FAULT);
        let usable = handler.is_some_and(|h| !self.is_dead_loop(h & !1));
        if !usable {
            return Err(described);
        }
        let e = self.uc.get_data_mut();
        e.sys.hfsr |= 1 << 30; // FORCED: escalated to HardFault
        if let Some(a) = address {
            e.sys.fault_address = a;
            e.sys.cfsr |= 1 << 15 | 1 << 9; // BFARVALID, PRECISERR
        } else if kind.contains("FPU disabled") {
            e.sys.cfsr |= 1 << 19; // NOCP
        } else {
            e.sys.cfsr |= 1 << 16; // UNDEFINSTR
        }
        e.handled_fault = Some(described.to_string());
        if e.cur != 0 {
            e.close_block_at(pc);
        }
        self.enter_exception(exception::HARD_FAULT, pc, true)
    }

    fn vector(&self, number: u32) -> Option<u32> {
        let vtor = self.uc.get_data().sys.vtor;
        let mut b = [0u8; 4];
        self.uc
            .mem_read(u64::from(vtor + 4 * number), &mut b)
            .ok()?;
        Some(u32::from_le_bytes(b)).filter(|&h| h & 1 == 1)
    }

    fn is_dead_loop(&self, addr: u32) -> bool {
        let mut b = [0u8; 2];
        self.uc.mem_read(u64::from(addr), &mut b).is_ok() && u16::from_le_bytes(b) == 0xE7FE
    }

    /// Stacks the context and enters exception `number`; returns the handler address.
    pub(super) fn enter_exception(
        &mut self,
        number: u32,
        return_addr: u32,
        fault: bool,
    ) -> Result<u32, Failure> {
        let handler = self.vector(number).ok_or_else(|| Failure::Fault {
            kind: format!("exception {number} has no handler in the vector table"),
            pc: self.uc.get_data().describe(return_addr),
            address: None,
        })?;
        let mut frame: Vec<u32> = STACKED
            .iter()
            .map(|&r| self.uc.reg_read(r).unwrap_or(0) as u32)
            .collect();
        frame.push(return_addr | 1);
        let mut xpsr = self.uc.reg_read(RegisterARM::XPSR).unwrap_or(0) as u32 | 1 << 24;
        let extended = self.uc.get_data().sys.fpu_enabled();
        if extended {
            for i in 0..16 {
                frame.push(self.uc.reg_read(fp_register(i)).unwrap_or(0) as u32);
            }
            frame.push(self.uc.reg_read(RegisterARM::FPSCR).unwrap_or(0) as u32);
            frame.push(0);
        }
        let mut sp = self.uc.reg_read(RegisterARM::SP).unwrap_or(0) as u32;
        if sp % 8 != 0 {
            sp -= 4;
            xpsr |= 1 << 9;
        }
        frame.insert(7, xpsr);
        frame.truncate(if extended { 26 } else { 8 });
        sp -= 4 * frame.len() as u32;
        let bytes: Vec<u8> = frame.iter().flat_map(|w| w.to_le_bytes()).collect();
        if self.uc.mem_write(u64::from(sp), &bytes).is_err() {
            return Err(Failure::Fault {
                kind: "stack overflow while stacking the exception frame".into(),
                pc: self.uc.get_data().describe(return_addr),
                address: Some(format!("{sp:#010x}")),
            });
        }
        let _ = self.uc.reg_write(RegisterARM::SP, u64::from(sp));
        let exc_return: u32 = if extended { 0xFFFF_FFE9 } else { 0xFFFF_FFF9 };
        let _ = self.uc.reg_write(RegisterARM::LR, u64::from(exc_return));
        let e = self.uc.get_data_mut();
        e.note_sp(sp);
        e.sys.pending &= !(1 << number);
        e.exceptions.push(ActiveException {
            extended_frame: extended,
            fault,
        });
        e.cycles += EXCEPTION_ENTRY_CYCLES;
        e.exception_cycles += EXCEPTION_ENTRY_CYCLES;
        e.weighted += EXCEPTION_ENTRY_CYCLES * weight::MEMORY;
        if e.cur != 0 && !fault {
            e.close_block();
        }
        e.cur = 0;
        let handler = handler & !1;
        let func = e
            .symbols
            .index_of(handler)
            .map_or(NO_FUNCTION, |i| i as u32);
        e.profiler
            .enter_exception(func, return_addr & !1, e.cycles, e.weighted);
        e.attribute(func);
        e.expect = handler;
        e.schedule_next_event();
        Ok(handler)
    }

    /// Unstacks the frame of the active exception; returns where to resume.
    pub(super) fn exception_return(&mut self) -> Result<u32, Failure> {
        let e = self.uc.get_data_mut();
        let handler_func = e.blocks.get(e.cur).func;
        if e.cur != 0 {
            e.close_block();
            e.cur = 0;
        }
        let active = e.exceptions.pop().expect("checked by the caller");
        let words = if active.extended_frame { 26 } else { 8 };
        let sp = self.uc.reg_read(RegisterARM::SP).unwrap_or(0) as u32;
        let mut bytes = vec![0u8; 4 * words];
        self.uc
            .mem_read(u64::from(sp), &mut bytes)
            .map_err(|e| uc_err("reading the exception frame", e))?;
        let frame: Vec<u32> = bytes
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        for (r, v) in STACKED.iter().zip(&frame) {
            let _ = self.uc.reg_write(*r, u64::from(*v));
        }
        if active.extended_frame {
            for i in 0..16 {
                let _ = self.uc.reg_write(fp_register(i), u64::from(frame[8 + i]));
            }
            let _ = self.uc.reg_write(RegisterARM::FPSCR, u64::from(frame[24]));
        }
        let xpsr = frame[7];
        let _ = self
            .uc
            .reg_write(RegisterARM::XPSR, u64::from(xpsr & !0x1FF));
        let padding = if xpsr & (1 << 9) != 0 { 4 } else { 0 };
        let _ = self
            .uc
            .reg_write(RegisterARM::SP, u64::from(sp + 4 * words as u32 + padding));
        let resume = frame[6] & !1;
        let e = self.uc.get_data_mut();
        e.cycles += EXCEPTION_RETURN_CYCLES;
        e.exception_cycles += EXCEPTION_RETURN_CYCLES;
        e.weighted += EXCEPTION_RETURN_CYCLES * weight::MEMORY;
        e.attribute(handler_func);
        e.expect = resume;
        if let Some(number) = (0..32).find(|n| e.sys.pending & (1 << n) != 0) {
            return self.enter_exception(number, resume, false);
        }
        e.schedule_next_event();
        Ok(resume)
    }
}
