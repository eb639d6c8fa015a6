//! The one place mcubench calls unicorn's C API itself: the block hook, which
//! runs once per executed block and is most of the host time, and the engine
//! options of mcubench's unicorn patch (engine/README.md).
//!
//! unicorn-engine's Rust hooks reach the machine through a weak reference
//! upgraded, and a fresh handle dropped, on every call, and read registers
//! through a `Result` per register. Here the block hook is registered with
//! the C API directly: its user data is a [`HotPath`] owning a handle to the
//! engine, so a call costs a pointer dereference. The patched engine hands
//! the hook each block's id, which a callback gave it when it translated the
//! block, so the hook looks nothing up; registers are loads from the
//! engine's CPU state. On the crate's own unicorn the hook looks the block
//! up by address and reads registers with one C call each. The pricing
//! itself stays safe code in `hooks`: the common case (a block already
//! priced, nothing due) on the fast path, everything else on the full path.
//!
//! Invariants this module keeps, on which its `unsafe` blocks rely:
//! - A [`HotPath`] is boxed before its address is handed to unicorn and the
//!   box lives in the [`super::Machine`] as long as the engine can call the
//!   hook; the engine itself is closed only when the last handle, the one in
//!   that box among them, is dropped, so the hook never outlives its data.
//! - unicorn calls hooks, and translates blocks (calling [`block_record`]),
//!   on the thread that called `emu_start`, one at a time and never nested
//!   (mcubench starts no emulation inside a hook, and unicorn translates
//!   between hook calls), so the `&mut HotPath` made in either callback is
//!   the only reference to it.
//! - [`Registers`] is made only inside the hook, from the handle unicorn
//!   passes it, and does not leave it: the handle is live while it is used.
//!   The CPU state it may read lives as long as the engine, and its core
//!   registers are current in a block hook: unicorn calls it at the block's
//!   start, where translated code keeps every register in that state.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::marker::PhantomData;

use unicorn_engine::{
    uc_ctl, uc_engine, uc_error, uc_hook, uc_hook_add, uc_reg_read, ControlType, HookType,
    RegisterARM, Unicorn,
};

use super::hooks::{self, Entry};
use super::Engine;

/// What the block hook reaches through its user data.
pub(super) struct HotPath {
    /// A handle to the engine whose user data is the machine's [`Engine`].
    uc: Unicorn<'static, Engine>,
    /// The CPU's 16 core registers, null on an engine that does not say
    /// where they are.
    core_registers: *const u32,
}

impl HotPath {
    /// Registers the block hook on `uc` for every block. The returned box
    /// must be kept as long as `uc` can run (see the module's invariants).
    pub(super) fn install(uc: &Unicorn<'static, Engine>) -> Result<Box<HotPath>, uc_error> {
        let mut path = Box::new(HotPath {
            uc: uc.clone(),
            core_registers: cpu_state(uc).cast(),
        });
        let user_data: *mut HotPath = &mut *path;
        let control =
            ControlType(CTL_TB_BLOCK_RECORD | CTL_TWO_ARGUMENTS | ControlType::IO_WRITE.0);
        // SAFETY: the handle is live; the control takes a callback of the
        // signature `block_record` has and its user data, the boxed HotPath
        // kept as long as the engine runs; an engine without the control
        // returns UC_ERR_ARG and keeps neither.
        let err = unsafe {
            uc_ctl(
                uc.get_handle(),
                control,
                block_record as *mut c_void,
                user_data.cast::<c_void>(),
            )
        };
        // An engine that hands the hook each block's id, given by
        // `block_record` when it translated the block, in place of its size.
        let ids = err == uc_error::OK;
        let e = uc.get_data();
        let (predicts, flash) = (
            e.model.core().is_m7(),
            e.flash_ranges.bases().next().is_some(),
        );
        let callback = match (ids, predicts, flash) {
            (false, _, _) => block_hook_looking_up as *mut c_void,
            (true, false, false) => block_hook::<false, false> as *mut c_void,
            (true, false, true) => block_hook::<false, true> as *mut c_void,
            (true, true, false) => block_hook::<true, false> as *mut c_void,
            (true, true, true) => block_hook::<true, true> as *mut c_void,
        };
        let mut hook: uc_hook = 0;
        // SAFETY: the handle is live (it is `uc`'s); each hook chosen above
        // has the signature unicorn calls block hooks with; `user_data` points into
        // the box returned, which the caller keeps while `uc` runs. begin 1 >
        // end 0 asks for every address.
        let err = unsafe {
            uc_hook_add(
                uc.get_handle(),
                &mut hook,
                HookType::BLOCK.0 as i32,
                callback,
                user_data.cast(),
                1,
                0,
            )
        };
        if err != uc_error::OK {
            return Err(err);
        }
        Ok(path)
    }
}

/// unicorn's block hook on an engine that hands it each block's id in
/// place of its size: the commonest case inline, everything else in
/// [`hooks::enter_rest`], so that the hook's own frame stays small. One
/// copy per kind of target (see [`hooks::enter_lean`]).
extern "C" fn block_hook<const PREDICTS: bool, const FLASH: bool>(
    handle: *mut uc_engine,
    addr: u64,
    id: u32,
    user_data: *mut c_void,
) {
    let (path, regs) = hook_call(handle, user_data);
    let (uc, addr) = (&mut path.uc, addr as u32);
    match hooks::enter_lean::<PREDICTS, FLASH>(uc.get_data_mut(), regs, addr, id) {
        Entry::Done => {}
        Entry::After => hooks::after_entry(uc, addr, id),
        Entry::Full => hooks::enter_rest(uc, regs, addr, id),
    }
}

/// The block hook on an engine that does not hand it block ids: the block
/// looked up by address.
extern "C" fn block_hook_looking_up(
    handle: *mut uc_engine,
    addr: u64,
    size: u32,
    user_data: *mut c_void,
) {
    let (path, regs) = hook_call(handle, user_data);
    let addr = addr as u32;
    let id = hooks::block_id(&mut path.uc, addr, size);
    hooks::enter_rest(&mut path.uc, regs, addr, id);
}

/// What a block hook call reaches: its HotPath and the registers.
#[inline(always)]
fn hook_call<'hook>(
    handle: *mut uc_engine,
    user_data: *mut c_void,
) -> (&'hook mut HotPath, Registers<'hook>) {
    // SAFETY: `user_data` is the boxed HotPath given at installation, alive
    // and referenced nowhere else while the hook runs (module invariants).
    let path = unsafe { &mut *user_data.cast::<HotPath>() };
    let regs = Registers {
        handle,
        core: path.core_registers,
        _hook: PhantomData,
    };
    (path, regs)
}

/// The engine's callback for a block it translates: the block's id, found
/// or priced now, which the block hook then receives in place of its size.
extern "C" fn block_record(_: *mut uc_engine, addr: u64, size: u32, user_data: *mut c_void) -> u32 {
    // SAFETY: as in `block_hook`: the engine translates between hook calls,
    // never inside one, so this is the only reference to the HotPath.
    let path = unsafe { &mut *user_data.cast::<HotPath>() };
    hooks::block_id(&mut path.uc, addr as u32, size)
}

/// The registers, read from the engine's CPU state or through unicorn's C
/// API during one block hook call.
#[derive(Clone, Copy)]
pub(super) struct Registers<'hook> {
    handle: *mut uc_engine,
    /// The 16 core registers, or null (see [`HotPath`]).
    core: *const u32,
    /// Bound to the hook call it was made in.
    _hook: PhantomData<&'hook ()>,
}

impl Registers<'_> {
    /// Core register `n` (R0-R12, SP as the running stack, LR, PC).
    #[inline]
    pub(super) fn core(self, n: u16) -> u32 {
        let n = n & 15;
        if self.core.is_null() {
            return self.read(super::core_register(n));
        }
        // SAFETY: `core` points at the engine's uint32_t regs[16], alive
        // and current during the block hook (module invariants); n < 16.
        unsafe { self.core.add(usize::from(n)).read() }
    }

    /// Any 32-bit register, through the C API.
    #[inline]
    pub(super) fn read(self, reg: RegisterARM) -> u32 {
        let mut value = 0u64;
        // SAFETY: the handle is live during the hook (module invariants);
        // unicorn writes 4 bytes for a 32-bit ARM register, into an 8-byte
        // buffer. An unknown register leaves it 0, as the safe API's
        // callers here treat an error.
        unsafe { uc_reg_read(self.handle, reg.into(), (&raw mut value).cast()) };
        value as u32
    }
}

/// `UC_CTL_TCG_EXIT_CHECKS`, `UC_CTL_CPU_STATE` and `UC_CTL_TB_BLOCK_RECORD`
/// of mcubench's unicorn patch (engine/README.md): the controls after
/// `UC_CTL_CONTEXT_MODE` (14) in `uc_control_type`.
const CTL_TCG_EXIT_CHECKS: u32 = 15;
const CTL_CPU_STATE: u32 = 16;
const CTL_TB_BLOCK_RECORD: u32 = 17;
/// `UC_CTL`'s argument count field: one argument.
const CTL_ONE_ARGUMENT: u32 = 1 << 26;
const CTL_TWO_ARGUMENTS: u32 = 2 << 26;

/// Turns off the exit check unicorn's translated code makes after every
/// guest load and store, leaving it to the accesses' slow path, where every
/// callback that can ask for an exit runs (engine/README.md). False when
/// the engine is the crate's own build, which does not know the control and
/// keeps checking: the figures are the same either way, only slower.
pub fn skip_access_exit_checks<D>(uc: &mut Unicorn<'_, D>) -> bool {
    let control = ControlType(CTL_TCG_EXIT_CHECKS | CTL_ONE_ARGUMENT | ControlType::IO_WRITE.0);
    // SAFETY: the handle is live (it is `uc`'s); the control takes one int
    // argument, passed as one; an engine without it returns UC_ERR_ARG and
    // reads nothing.
    let err = unsafe { uc_ctl(uc.get_handle(), control, 0i32) };
    err == uc_error::OK
}

/// Whether the linked unicorn carries mcubench's patch (asked of a new
/// engine through the patch's `UC_CTL_CPU_STATE`).
pub fn engine_is_patched() -> bool {
    unicorn_engine::Unicorn::new(unicorn_engine::Arch::ARM, unicorn_engine::Mode::THUMB)
        .is_ok_and(|uc| !cpu_state(&uc).is_null())
}

/// The CPU state of the patched engine (QEMU's CPUArchState, which on ARM
/// starts with the 16 core registers); null on an engine without the control.
fn cpu_state<D>(uc: &Unicorn<'_, D>) -> *const c_void {
    let control = ControlType(CTL_CPU_STATE | CTL_ONE_ARGUMENT | ControlType::IO_READ.0);
    let mut state: *mut c_void = std::ptr::null_mut();
    // SAFETY: the handle is live; the control writes one pointer through
    // the one argument, which points at `state`; an engine without it
    // returns UC_ERR_ARG and writes nothing.
    let err = unsafe { uc_ctl(uc.get_handle(), control, &raw mut state) };
    if err == uc_error::OK {
        state
    } else {
        std::ptr::null()
    }
}

#[cfg(test)]
mod tests {
    use unicorn_engine::{Arch, ArmCpuModel, Mode, Prot};

    use super::*;

    /// Where the patched engine reports its CPU state, the core registers
    /// are its first 16 words, as `Registers::core` reads them; the stock
    /// engine reports none (then `MCUBENCH_REQUIRE_PATCHED_ENGINE=1`, which
    /// `make test` sets, fails the test).
    #[test]
    fn the_cpu_state_starts_with_the_core_registers() {
        let mut uc = Unicorn::new(Arch::ARM, Mode::THUMB | Mode::MCLASS).unwrap();
        uc.mem_map(0, 0x1000, unicorn_engine::Prot::ALL).unwrap();
        let state = cpu_state(&uc).cast::<u32>();
        let required = std::env::var_os("MCUBENCH_REQUIRE_PATCHED_ENGINE").is_some();
        assert!(
            !state.is_null() || !required,
            "the engine is not the patched one"
        );
        assert_eq!(skip_access_exit_checks(&mut uc), !state.is_null());
        if state.is_null() {
            return;
        }
        for n in 0..15u16 {
            let value = 0x1000_0000 * u64::from(n % 8) + 0x104 * u64::from(n) + 4;
            uc.reg_write(super::super::core_register(n), value).unwrap();
            // SAFETY: `state` is the live engine's CPU state; n < 16.
            let read = unsafe { state.add(usize::from(n)).read() };
            assert_eq!(u64::from(read), value, "r{n}");
        }
    }

    /// APSR.Q, the sticky saturation flag (ARMv7-M ARM B1.4.2).
    const Q: u32 = 1 << 27;

    /// First halfwords, without Rn, of the encodings T1 of SMLABB, SMLAWB
    /// and SMLAD (ARMv7-M ARM A7.7).
    const SMLABB: u16 = 0xFB10;
    const SMLAWB: u16 = 0xFB30;
    const SMLAD: u16 = 0xFB20;

    /// A 32-bit multiply-accumulate `rd = f(rn, rm) + ra` in encoding T1,
    /// `first` being one of the halfwords above.
    fn multiply_accumulate(first: u16, rd: u16, rn: u16, rm: u16, ra: u16) -> [u16; 2] {
        [first | rn, ra << 12 | rd << 8 | rm]
    }

    /// `MRS rd, APSR`: encoding T1 of the ARMv7-M ARM A7.7 entry MRS, SYSm 0.
    fn mrs_apsr(rd: u16) -> [u16; 2] {
        [0xF3EF, 0x8000 | rd << 8]
    }

    /// Runs `code` once from address 0 on a bare Cortex-M4 engine, set up as
    /// mcubench sets up its own, after writing `inputs` (register, value);
    /// returns r0-r12.
    fn run_thumb(code: &[[u16; 2]], inputs: &[(u16, u32)]) -> [u32; 13] {
        let mut uc = Unicorn::new(Arch::ARM, Mode::THUMB | Mode::MCLASS).unwrap();
        uc.ctl_set_cpu_model(ArmCpuModel::CORTEX_M4 as i32).unwrap();
        skip_access_exit_checks(&mut uc);
        uc.mem_map(0, 0x1000, Prot::ALL).unwrap();
        let bytes: Vec<u8> = code
            .iter()
            .flatten()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        uc.mem_write(0, &bytes).unwrap();
        for &(n, value) in inputs {
            uc.reg_write(super::super::core_register(n), value.into())
                .unwrap();
        }
        uc.emu_start(1, bytes.len() as u64, 0, 0).unwrap();
        std::array::from_fn(|n| uc.reg_read(super::super::core_register(n as u16)).unwrap() as u32)
    }

    /// The accumulate of SMLABB, SMLAWB and SMLAD (both of SMLAD's adds) wraps
    /// and sets Q exactly when it overflows as a signed addition, either way;
    /// operands of different signs never do.
    #[test]
    fn a_multiply_accumulate_sets_q_when_its_sum_overflows() {
        // (instruction, rn, rm, ra, sum, whether Q is set)
        let cases = [
            // 0x7FFF * 2 (the top halves are ignored) + 100.
            (SMLABB, 0x0001_7FFF, 0xFFFF_0002, 100, 65_634, false),
            (SMLABB, 0x7FFF, 2, 0x7FFF_FFFF, 0x8000_FFFD, true),
            // 0x7FFF * -2.
            (SMLABB, 0x7FFF, 0xFFFE, 0x8000_0000, 0x7FFF_0002, true),
            (SMLABB, 0x7FFF, 0xFFFE, 0x7FFF_FFFF, 0x7FFF_0001, false),
            // Different signs, the sum taking either.
            (SMLABB, 0x7FFF, 2, 0xFFFF_FF9C, 65_434, false),
            (SMLABB, 0x7FFF, 0xFFFE, 100, 0xFFFF_0066, false),
            // (0x7FFF_FFFF * 0x7FFF) >> 16 = 0x3FFF_7FFF.
            (SMLAWB, 0x7FFF_FFFF, 0x7FFF, 0x4000_0000, 0x7FFF_7FFF, false),
            (SMLAWB, 0x7FFF_FFFF, 0x7FFF, 0x4001_0000, 0x8000_7FFF, true),
            // 0x7FFF * 2 twice.
            (SMLAD, 0x7FFF_7FFF, 0x0002_0002, 100, 131_168, false),
            (
                SMLAD,
                0x7FFF_7FFF,
                0x0002_0002,
                0x7FFF_FFFF,
                0x8001_FFFB,
                true,
            ),
            // -0x8000 * -0x8000 twice: the products' sum is 2^31.
            (SMLAD, 0x8000_8000, 0x8000_8000, 0, 0x8000_0000, true),
        ];
        for (first, rn, rm, ra, sum, q) in cases {
            let code = [multiply_accumulate(first, 3, 0, 1, 2), mrs_apsr(4)];
            let r = run_thumb(&code, &[(0, rn), (1, rm), (2, ra)]);
            let case = format!("{first:#06x} {rn:#x} {rm:#x} {ra:#x}");
            assert_eq!(r[3], sum, "{case}");
            assert_eq!(r[4] & Q != 0, q, "{case}");
        }
    }

    /// Q is sticky: a sum that does not overflow leaves it as it was, clear
    /// before the first overflow and set after it.
    #[test]
    fn q_stays_set_after_an_overflowing_accumulate() {
        let code = [
            multiply_accumulate(SMLABB, 3, 0, 1, 2),
            mrs_apsr(4),
            multiply_accumulate(SMLABB, 5, 0, 1, 6),
            mrs_apsr(7),
            multiply_accumulate(SMLAD, 8, 0, 1, 2),
            mrs_apsr(9),
            multiply_accumulate(SMLABB, 10, 0, 1, 2),
            mrs_apsr(11),
        ];
        let r = run_thumb(
            &code,
            &[(0, 0x7FFF_7FFF), (1, 2), (2, 100), (6, 0x7FFF_FFFF)],
        );
        assert_eq!((r[3], r[4] & Q), (65_634, 0));
        assert_eq!((r[5], r[7] & Q), (0x8000_FFFD, Q));
        assert_eq!((r[8], r[9] & Q), (65_634, Q));
        assert_eq!((r[10], r[11] & Q), (65_634, Q));
    }
}
