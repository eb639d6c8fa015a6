//! The one place mcubench calls unicorn's C API itself: the block hook, which
//! runs once per executed block and is most of the host time, and the engine
//! options of mcubench's unicorn patch (engine/README.md).
//!
//! unicorn-engine's Rust hooks reach the machine through a weak reference
//! upgraded, and a fresh handle dropped, on every call, and read registers
//! through a `Result` per register. Here the block hook is registered with
//! the C API directly: its user data is a [`HotPath`] owning a handle to the
//! engine, so a call costs a pointer dereference, and registers are read with
//! one C call each. The pricing itself stays safe code in `hooks`: the common
//! case (a block already priced, nothing due) on the fast path, everything
//! else on the full path.
//!
//! Invariants this module keeps, on which its `unsafe` blocks rely:
//! - A [`HotPath`] is boxed before its address is handed to unicorn and the
//!   box lives in the [`super::Machine`] as long as the engine can call the
//!   hook; the engine itself is closed only when the last handle, the one in
//!   that box among them, is dropped, so the hook never outlives its data.
//! - unicorn calls hooks on the thread that called `emu_start`, one at a
//!   time and never nested (mcubench starts no emulation inside a hook), so
//!   the `&mut HotPath` made in the hook is the only reference to it.
//! - [`Registers`] is made only inside the hook, from the handle unicorn
//!   passes it, and does not leave it: the handle is live while it is used.
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
}

impl HotPath {
    /// Registers the block hook on `uc` for every block. The returned box
    /// must be kept as long as `uc` can run (see the module's invariants).
    pub(super) fn install(uc: &Unicorn<'static, Engine>) -> Result<Box<HotPath>, uc_error> {
        let mut path = Box::new(HotPath { uc: uc.clone() });
        let user_data: *mut HotPath = &mut *path;
        let mut hook: uc_hook = 0;
        // SAFETY: the handle is live (it is `uc`'s); `block_hook` has the
        // signature unicorn calls block hooks with; `user_data` points into
        // the box returned, which the caller keeps while `uc` runs. begin 1 >
        // end 0 asks for every address.
        let err = unsafe {
            uc_hook_add(
                uc.get_handle(),
                &mut hook,
                HookType::BLOCK.0 as i32,
                block_hook as *mut c_void,
                user_data.cast(),
                1,
                0,
            )
        };
        match err {
            uc_error::OK => Ok(path),
            err => Err(err),
        }
    }
}

/// unicorn's block hook: the fast path where it applies, else the full one.
extern "C" fn block_hook(handle: *mut uc_engine, addr: u64, size: u32, user_data: *mut c_void) {
    // SAFETY: `user_data` is the boxed HotPath given at installation, alive
    // and referenced nowhere else while the hook runs (module invariants).
    let path = unsafe { &mut *user_data.cast::<HotPath>() };
    let regs = Registers {
        handle,
        _hook: PhantomData,
    };
    let uc = &mut path.uc;
    let addr = addr as u32;
    match hooks::enter_fast(uc.get_data_mut(), regs, addr, size) {
        Entry::Done => {}
        Entry::After(id) => hooks::after_entry(uc, addr, id),
        Entry::Full => hooks::on_block(uc, regs, addr, size),
    }
}

/// The core registers, read through unicorn's C API during one hook call.
#[derive(Clone, Copy)]
pub(super) struct Registers<'hook> {
    handle: *mut uc_engine,
    /// Bound to the hook call it was made in.
    _hook: PhantomData<&'hook ()>,
}

impl Registers<'_> {
    /// A 32-bit register of the core.
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

/// `UC_CTL_TCG_EXIT_CHECKS` of mcubench's unicorn patch (engine/README.md):
/// the control after `UC_CTL_CONTEXT_MODE` (14) in `uc_control_type`.
const CTL_TCG_EXIT_CHECKS: u32 = 15;
/// `UC_CTL`'s argument count field: one argument.
const CTL_ONE_ARGUMENT: u32 = 1 << 26;

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
