//! Function profile without per-instruction work: each block's cycles go to
//! the function holding it (self cycles) and to the current call path (folded
//! stacks), so inclusive (total) cycles and call counts come out per function.
//!
//! Compiled code is read the way the AAPCS lets it be written:
//! - A call is a BL/BLX taken to another function or to the running one's
//!   entry: the block after it opens a frame returning to the address after
//!   the call.
//! - A return reaches the top frame's return address with SP back at (or
//!   above) the frame's entry SP: a loop in a recursive function that happens
//!   to start at that address is no return, as its SP is still lower.
//! - A tail call (`return f();`, a linker veneer) is a branch to another
//!   function's entry with SP back at the frame's entry SP, its epilogue done.
//!   The callee's frame goes on top of the caller's and both end at the one
//!   return, so the caller's inclusive cycles hold the callee's, as the source
//!   says (a `roi_` region that tail-calls its work still measures it).
//! - Any other branch into another function (libgcc's `__aeabi_ddiv` ends in a
//!   branch into `__aeabi_dmul`'s epilogue) is no call: its cycles are the
//!   owning function's self cycles, the frame stays the caller's.

use mcubench_reports::results::{ProfileEntry, StackSample};

use crate::image::Symbols;
use crate::machine::blocks::NO_FUNCTION;

/// Call paths are looked up at every call and exception entry: a fast,
/// fixed (so deterministic) hash instead of the default SipHash.
type PathIds = rustc_hash::FxHashMap<(u32, u32), u32>;

#[derive(Debug, Clone, Copy)]
struct Frame {
    func: u32,
    ret: u32,
    /// SP at the function's entry.
    sp: u32,
    /// Whether the frame was entered by a tail call, so it ends the frame below as well.
    tail: bool,
    path: u32,
    entry_cycles: u64,
    entry_energy: u64,
    /// Whether the frame is an exception handler's, left by exception return.
    exception: bool,
}

/// The shadow call stack and per-function counters.
#[derive(Debug, Clone)]
pub struct Profiler {
    /// Entry address of each function.
    entries: Vec<u32>,
    frames: Vec<Frame>,
    /// Path of the top frame (0 with no frame), kept beside the stack so
    /// filing charged cycles needs no look at it.
    top_path: u32,
    /// The top frame's return address and function, kept beside the stack
    /// for [`Self::stays`], which every block asks; `NO_FRAME` with none.
    top_ret: u32,
    top_func: u32,
    /// The function charged last and the cycles charged to it since: runs of
    /// blocks of one function (loops, mostly) add here, one compare and one
    /// add a block, and reach `self_cycles` and the top path's `path_cycles`
    /// when another function is charged or the top path changes.
    open_func: u32,
    open_cycles: u64,
    self_cycles: Vec<u64>,
    total_cycles: Vec<u64>,
    total_energy: Vec<u64>,
    calls: Vec<u64>,
    active: Vec<u32>,
    paths: Vec<(u32, u32)>,
    path_ids: PathIds,
    path_cycles: Vec<u64>,
}

/// `top_func` with no frame open: no block's function (images are at most
/// 256 MiB, so fewer than 2^24 symbols; code without one is `NO_FUNCTION`).
const NO_FRAME: u32 = u32::MAX - 1;
/// Frames deeper than this are not tracked (runaway recursion).
const MAX_DEPTH: usize = 4096;
/// Distinct call paths tracked; cycles of further paths go to their parent.
const MAX_PATHS: usize = 1 << 20;
/// Folded stacks reported: the hottest, the rest summed into one line.
const MAX_STACKS: usize = 2048;
/// Frames shown per folded stack: the outermost and innermost halves, with
/// the count of those between, so recursion cannot make a line huge.
const MAX_FRAMES_SHOWN: usize = 48;

impl Profiler {
    /// A profiler for functions at the `entries` addresses (plus one slot for
    /// code without a symbol).
    pub fn new(entries: Vec<u32>) -> Profiler {
        let slots = entries.len() + 1;
        Profiler {
            entries,
            frames: Vec::with_capacity(64),
            top_path: 0,
            top_ret: u32::MAX,
            top_func: NO_FRAME,
            open_func: NO_FUNCTION,
            open_cycles: 0,
            self_cycles: vec![0; slots],
            total_cycles: vec![0; slots],
            total_energy: vec![0; slots],
            calls: vec![0; slots],
            active: vec![0; slots],
            paths: vec![(u32::MAX, NO_FUNCTION)],
            path_ids: PathIds::default(),
            path_cycles: vec![0],
        }
    }

    #[inline]
    fn slot(func: u32) -> usize {
        if func == NO_FUNCTION {
            0
        } else {
            func as usize + 1
        }
    }

    fn path(&mut self, parent: u32, func: u32) -> u32 {
        if let Some(&id) = self.path_ids.get(&(parent, func)) {
            return id;
        }
        if self.paths.len() >= MAX_PATHS {
            return parent;
        }
        let id = self.paths.len() as u32;
        self.paths.push((parent, func));
        self.path_cycles.push(0);
        self.path_ids.insert((parent, func), id);
        id
    }

    /// Charges `cycles` spent in a block of `func`.
    #[inline(always)]
    pub fn charge(&mut self, func: u32, cycles: u64) {
        if func == self.open_func {
            self.open_cycles += cycles;
        } else {
            self.open(func, cycles);
        }
    }

    /// Makes `func` the function charged, with `cycles`, the one before
    /// filed.
    #[inline(never)]
    fn open(&mut self, func: u32, cycles: u64) {
        self.settle();
        self.open_func = func;
        self.open_cycles = cycles;
    }

    /// Files the open function's cycles under its slot and the top path.
    fn settle(&mut self) {
        self.self_cycles[Self::slot(self.open_func)] += self.open_cycles;
        self.path_cycles[self.top_path as usize] += self.open_cycles;
        self.open_cycles = 0;
    }

    /// Makes `path` the top frame's path, the cycles charged so far filed
    /// under the one before. Every change of the stack ends here.
    fn set_top_path(&mut self, path: u32) {
        self.settle();
        self.top_path = path;
        (self.top_ret, self.top_func) = self
            .frames
            .last()
            .map_or((u32::MAX, NO_FRAME), |top| (top.ret, top.func));
    }

    /// Whether a block at `addr` of `func`, not reached by a call, leaves the
    /// call stack as it is: no return to the top frame, no other function.
    #[inline]
    pub fn stays(&self, addr: u32, func: u32) -> bool {
        addr != self.top_ret && func == self.top_func
    }

    fn is_entry(&self, addr: u32, func: u32) -> bool {
        self.entries.get(func as usize) == Some(&addr)
    }

    /// Notes that a block at `addr` of function `func` starts, reached by a
    /// call returning to `call_ret` if the previous block called. `sp` reads
    /// SP at the block's entry; it is called only at calls, returns and
    /// branches to a function's entry, so most blocks cost no register read.
    #[inline]
    pub fn enter(
        &mut self,
        addr: u32,
        func: u32,
        call_ret: Option<u32>,
        sp: impl FnOnce() -> u32,
        cycles: u64,
        energy: u64,
    ) {
        let Some(top) = self.frames.last() else {
            self.push(func, u32::MAX, sp(), false, cycles, energy);
            return;
        };
        if call_ret.is_none() && addr != top.ret && func == top.func {
            return;
        }
        let (top_ret, top_sp, top_func) = (top.ret, top.sp, top.func);
        // A conditional BL not taken falls through to its return address, and a
        // BL into the middle of the running function is a local branch that
        // keeps LR (libgcc's `bleq` to its special cases, which never return there).
        let call_ret =
            call_ret.filter(|&ret| ret != addr && (func != top_func || self.is_entry(addr, func)));
        if let Some(ret) = call_ret {
            self.push(func, ret, sp(), false, cycles, energy);
            return;
        }
        let entry = func != top_func && self.is_entry(addr, func);
        if addr != top_ret && !entry {
            return;
        }
        let sp = sp();
        if addr == top_ret && sp >= top_sp {
            self.ret(cycles, energy);
        } else if entry && sp == top_sp {
            self.push(func, top_ret, sp, true, cycles, energy);
        }
    }

    /// Leaves the top frame and the frames it ended by tail calls.
    fn ret(&mut self, cycles: u64, energy: u64) {
        while let Some(frame) = self.frames.pop() {
            self.finish(frame, cycles, energy);
            if !frame.tail {
                break;
            }
        }
        self.set_top_path(self.frames.last().map_or(0, |f| f.path));
    }

    /// Enters an exception handler. Its frame is left by [`Self::leave_exception`],
    /// not by reaching an address: an RTOS returns into another task.
    /// `sp` is the handler's SP after stacking.
    pub fn enter_exception(&mut self, func: u32, sp: u32, cycles: u64, energy: u64) {
        self.push(func, u32::MAX, sp, false, cycles, energy);
        if let Some(top) = self.frames.last_mut() {
            top.exception = true;
        }
    }

    /// Leaves the innermost exception handler and whatever it called.
    pub fn leave_exception(&mut self, cycles: u64, energy: u64) {
        while let Some(frame) = self.frames.pop() {
            self.finish(frame, cycles, energy);
            if frame.exception {
                break;
            }
        }
        self.set_top_path(self.frames.last().map_or(0, |f| f.path));
    }

    fn push(&mut self, func: u32, ret: u32, sp: u32, tail: bool, cycles: u64, energy: u64) {
        if self.frames.len() >= MAX_DEPTH {
            return;
        }
        let path = self.path(self.top_path, func);
        let slot = Self::slot(func);
        self.calls[slot] += 1;
        self.active[slot] += 1;
        self.frames.push(Frame {
            func,
            ret,
            sp,
            tail,
            path,
            entry_cycles: cycles,
            entry_energy: energy,
            exception: false,
        });
        self.set_top_path(path);
    }

    fn finish(&mut self, frame: Frame, cycles: u64, energy: u64) {
        let slot = Self::slot(frame.func);
        self.active[slot] -= 1;
        if self.active[slot] == 0 {
            self.total_cycles[slot] += cycles - frame.entry_cycles;
            self.total_energy[slot] += energy - frame.entry_energy;
        }
    }

    /// Closes every open frame at the end of a run.
    pub fn finish_all(&mut self, cycles: u64, energy: u64) {
        while let Some(frame) = self.frames.pop() {
            self.finish(frame, cycles, energy);
        }
        self.set_top_path(0);
    }

    /// Per-function figures, most self cycles first, functions that ran only
    /// (complete after [`Self::finish_all`], as are [`Self::stacks`]).
    pub fn functions(&self, symbols: &Symbols) -> Vec<ProfileEntry> {
        let mut out: Vec<ProfileEntry> = (0..self.self_cycles.len())
            .filter(|&slot| self.self_cycles[slot] > 0 || self.calls[slot] > 0)
            .map(|slot| ProfileEntry {
                name: Self::name(symbols, slot),
                self_cycles: self.self_cycles[slot],
                total_cycles: self.total_cycles[slot].max(self.self_cycles[slot]),
                calls: self.calls[slot],
            })
            .collect();
        out.sort_by(|a, b| {
            b.self_cycles
                .cmp(&a.self_cycles)
                .then_with(|| a.name.cmp(&b.name))
        });
        out
    }

    /// Whether a frame of `func` is open: for a trace, the regions running.
    pub fn is_active(&self, func: u32) -> bool {
        self.active[Self::slot(func)] > 0
    }

    /// Inclusive cycles, weighted energy and calls of the function at `index`.
    pub fn totals(&self, index: usize) -> (u64, u64, u64) {
        let slot = index + 1;
        (
            self.total_cycles[slot],
            self.total_energy[slot],
            self.calls[slot],
        )
    }

    /// Folded stacks with their self cycles, sorted by stack: the
    /// `MAX_STACKS` hottest, each at most `MAX_FRAMES_SHOWN` frames deep,
    /// and the cycles of the rest on one `[other stacks]` line.
    pub fn stacks(&self, symbols: &Symbols) -> Vec<StackSample> {
        let mut hot: Vec<usize> = (1..self.paths.len())
            .filter(|&id| self.path_cycles[id] > 0)
            .collect();
        hot.sort_by(|&a, &b| {
            self.path_cycles[b]
                .cmp(&self.path_cycles[a])
                .then(a.cmp(&b))
        });
        let rest: u64 = hot
            .iter()
            .skip(MAX_STACKS)
            .map(|&id| self.path_cycles[id])
            .sum();
        hot.truncate(MAX_STACKS);
        let mut out: Vec<StackSample> = hot
            .into_iter()
            .map(|id| StackSample {
                stack: self.folded(symbols, id),
                cycles: self.path_cycles[id],
            })
            .collect();
        if rest > 0 {
            out.push(StackSample {
                stack: "[other stacks]".to_owned(),
                cycles: rest,
            });
        }
        out.sort_by(|a, b| a.stack.cmp(&b.stack));
        out
    }

    /// The path `id` as `outer;...;inner`, shortened past `MAX_FRAMES_SHOWN`.
    fn folded(&self, symbols: &Symbols, id: usize) -> String {
        let mut funcs = Vec::new();
        let mut at = id as u32;
        while at != 0 && at != u32::MAX {
            let (parent, func) = self.paths[at as usize];
            funcs.push(func);
            at = parent;
        }
        funcs.reverse();
        let name = |f: &u32| Self::name(symbols, Self::slot(*f));
        if funcs.len() <= MAX_FRAMES_SHOWN {
            return funcs.iter().map(name).collect::<Vec<_>>().join(";");
        }
        let half = MAX_FRAMES_SHOWN / 2;
        let hidden = funcs.len() - 2 * half;
        let mut names: Vec<String> = funcs[..half].iter().map(name).collect();
        names.push(format!("[{hidden} frames]"));
        names.extend(funcs[funcs.len() - half..].iter().map(name));
        names.join(";")
    }

    fn name(symbols: &Symbols, slot: usize) -> String {
        match slot {
            0 => "[unknown]".to_owned(),
            s => symbols.functions()[s - 1].name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Function;

    /// Runaway recursion through two functions: thousands of distinct paths,
    /// each deeper than the last, must still fold into a bounded report.
    #[test]
    fn folded_stacks_stay_bounded_under_deep_recursion() {
        let symbols = Symbols::new(vec![
            Function {
                name: "ping".into(),
                addr: 0x100,
                size: 0x10,
            },
            Function {
                name: "pong".into(),
                addr: 0x200,
                size: 0x10,
            },
        ]);
        let mut profiler = Profiler::new(vec![0x100, 0x200]);
        let mut cycles = 0;
        for depth in 0..MAX_DEPTH as u32 {
            let func = depth % 2;
            let sp = 0x2000_0000 - 8 * depth;
            profiler.enter(
                0x100 + 0x100 * func,
                func,
                Some(0x1000 + depth),
                || sp,
                cycles,
                0,
            );
            cycles += 1;
            profiler.charge(func, 1);
        }
        profiler.finish_all(cycles, 0);
        let stacks = profiler.stacks(&symbols);
        assert_eq!(stacks.len(), MAX_STACKS + 1);
        assert_eq!(stacks.iter().map(|s| s.cycles).sum::<u64>(), cycles);
        let other = stacks.iter().find(|s| s.stack == "[other stacks]").unwrap();
        assert_eq!(other.cycles, (MAX_DEPTH - MAX_STACKS) as u64);
        let deepest = stacks.iter().map(|s| s.stack.split(';').count()).max();
        assert_eq!(deepest, Some(MAX_FRAMES_SHOWN + 1));
        // Equal cycles: the shallowest paths are kept, the deepest 2048 frames.
        assert!(stacks.iter().any(|s| s.stack.contains(";[2000 frames];")));
    }
}
