//! The machine: the only module that touches unicorn. It maps the target's
//! memory, loads the image, and runs it with one block hook that charges the
//! precomputed price of each block. Narrow hooks see what is dynamic: divides
//! (one code hook per divide instruction: their cycles depend on the
//! operands), `_sbrk` (heap), the system control space and the flash
//! controller (MMIO callbacks), semihosting and exception return (interrupt
//! hook), and accesses to unmapped addresses (hooks on the gaps of the map).
//!
//! No memory hook covers a mapped page: unicorn sends every access to such a
//! page down its slow path. So data reads from flash are priced by the block
//! hook: literal-pool loads by address, and loads through registers that point
//! into flash at block entry (one register read per pointer, not per load);
//! stores to flash fault on its read-only mapping and are carried out here
//! while the flash controller is programming.
//!
//! A block is charged when the next one starts, because only then is it known
//! whether its last branch was taken; so the cycle counter at any instruction
//! is "everything before the current block" plus the block's prefix up to it.

pub mod blocks;
pub mod bus;
pub mod clock;
mod exceptions;
pub mod flash;
mod hooks;
pub mod semihosting;
pub mod sysregs;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use unicorn_engine::{Arch, ArmCpuModel, HookType, MemType, Mode, Prot, RegisterARM, Unicorn};

use crate::cost::decode::{Class, Decoder, Operand};
use crate::cost::{weight, CostModel, Unsupported};
use crate::image::{Image, Symbols};
use crate::profile::Profiler;
use crate::target::{Core, FlashController as ControllerKind, MemoryKind, Target};
use crate::trace::{Trace, TracedBlock};
use blocks::BlockTable;
use flash::{FlashController, FlashTiming};
use hooks::{access_pc, flash_range, on_block, on_controller_write, on_divide, on_interrupt};
use semihosting::{HeapInfo, Memory, Semihosting};
use sysregs::SystemRegisters;

/// Limits and inputs of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stop with an error after this many modeled cycles.
    pub max_cycles: u64,
    /// Stop with an error after this much host time.
    pub wall_limit: Duration,
    /// The command line the firmware reads through SYS_GET_CMDLINE.
    pub cmdline: String,
    /// Record block counts so the run can be re-priced (see `trace`).
    pub record_trace: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            max_cycles: 20_000_000_000,
            wall_limit: Duration::from_secs(300),
            cmdline: String::new(),
            record_trace: false,
        }
    }
}

/// Why the firmware did not finish normally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The firmware faulted and no handler of its own took over.
    #[error("{kind} at pc {pc}{}", address.as_ref().map(|a| format!(", address {a}")).unwrap_or_default())]
    Fault {
        /// What happened, e.g. "write to unmapped memory".
        kind: String,
        /// PC and function of the faulting instruction.
        pc: String,
        /// The data address involved, if any.
        address: Option<String>,
    },
    /// The cycle budget ran out.
    #[error(
        "cycle budget of {max_cycles} exhausted at pc {pc} (endless loop? raise --max-cycles)"
    )]
    Budget {
        /// The budget.
        max_cycles: u64,
        /// Where execution was.
        pc: String,
    },
    /// The host time limit ran out.
    #[error("wall-clock limit of {seconds} s reached at pc {pc}")]
    WallClock {
        /// The limit.
        seconds: u64,
        /// Where execution was.
        pc: String,
    },
    /// The firmware sits in a `b .` loop it can never leave.
    #[error("firmware hangs in an endless `b .` loop at pc {pc}{}", after.as_ref().map(|f| format!(" after {f}")).unwrap_or_default())]
    Hang {
        /// Where.
        pc: String,
        /// The fault that led there, if any.
        after: Option<String>,
    },
    /// The stack grew into static data.
    #[error("stack overflow: sp {sp:#010x} below the end of static data {limit:#010x} at pc {pc}")]
    StackOverflow {
        /// Lowest SP seen.
        sp: u32,
        /// End of data + bss.
        limit: u32,
        /// Where.
        pc: String,
    },
    /// The emulator failed in a way the firmware did not cause.
    #[error("emulator error: {0}")]
    Internal(String),
}

/// The raw outcome of a run: integer counters and what the firmware printed.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Exit status the firmware reported, if it exited.
    pub exit_code: Option<i32>,
    /// Why it did not exit normally.
    pub failure: Option<Failure>,
    /// A fault that the firmware's own handler took over, if one happened.
    pub handled_fault: Option<String>,
    /// Modeled cycles.
    pub cycles: u64,
    /// Executed instructions.
    pub instructions: u64,
    /// Energy-weighted cycles, in thousandths.
    pub weighted_cycles: u64,
    /// Energy of flash programming and erasing, in picojoules.
    pub flash_program_pj: u64,
    /// Cycles lost to flash wait states.
    pub flash_stall_cycles: u64,
    /// Highest SP minus lowest SP seen.
    pub stack_peak_bytes: u64,
    /// Most heap the firmware held through `_sbrk`, if it has one.
    pub heap_peak_bytes: Option<u64>,
    /// The console output.
    pub stdout: Vec<u8>,
    /// The function profile.
    pub profiler: Profiler,
    /// Host time spent emulating.
    pub wall: Duration,
    /// Block counts for re-pricing, when recorded (image fields left empty).
    pub trace: Option<Trace>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stop {
    Exit(i32),
    Budget,
    Hang(u32),
    Unsupported(Unsupported),
    FpuDisabled(u32),
    StackOverflow(u32, u32),
    Exception(u32),
    ExceptionReturn,
    /// Continue at this address. Writing PC from inside a hook would leave
    /// unicorn 2.1.5 no longer syncing PC before memory hooks, which the
    /// exact DWT_CYCCNT reads depend on; a fresh emu_start resets that.
    Resume(u32),
    Fault {
        kind: String,
        pc: u32,
        address: Option<u32>,
    },
}

#[derive(Debug, Clone)]
struct ActiveException {
    extended_frame: bool,
    fault: bool,
}

#[derive(Debug, Clone, Copy)]
struct DivideSite {
    signed: bool,
    rn: RegisterARM,
    rm: RegisterARM,
}

/// Everything the hooks share, stored as unicorn's user data.
struct Engine {
    cycles: u64,
    weighted: u64,
    instructions: u64,
    cur: u32,
    expect: u32,
    mark_cycles: u64,
    next_event: u64,
    systick_at: u64,
    max_cycles: u64,
    blocks: BlockTable,
    decoder: Decoder,
    model: CostModel,
    symbols: Arc<Symbols>,
    flash_ranges: Vec<(u32, u32)>,
    timing: FlashTiming,
    flash_stall: u64,
    profiler: Profiler,
    sys: SystemRegisters,
    semihosting: Semihosting,
    controller: Option<(FlashController, u32)>,
    flash_program_pj: u64,
    stop: Option<Stop>,
    lowest_sp: u32,
    check_sp_next: bool,
    static_ram_end: Option<u32>,
    exceptions: Vec<ActiveException>,
    handled_fault: Option<String>,
    unmapped: Option<(MemType, u32)>,
    /// Index of the first instruction of the current block that has not yet
    /// been matched to a system-space access (see `access_pc`).
    access_cursor: usize,
    divides: HashMap<u32, DivideSite>,
    clock_hz: u64,
    program: ProgramCosts,
    /// Time spent programming and erasing flash, in µs.
    program_us: f64,
    /// Cycles of exception entries and returns.
    exception_cycles: u64,
    /// Heap handed out by `_sbrk` so far, and the most at any time.
    heap: Option<(i64, i64)>,
    counts: Option<TraceCounts>,
}

/// Per-block counts for a trace, kept only when one is asked for.
#[derive(Debug, Default)]
struct TraceCounts {
    executions: Vec<u64>,
    taken_exits: Vec<u64>,
    taken_entries: Vec<u64>,
    divide_cycles_m4: u64,
    divide_cycles_m7: u64,
}

impl TraceCounts {
    fn record(&mut self, id: u32, prev: u32, jumped: bool, refilled: bool) {
        let need = id.max(prev) as usize + 1;
        if self.executions.len() < need {
            self.executions.resize(need, 0);
            self.taken_exits.resize(need, 0);
            self.taken_entries.resize(need, 0);
        }
        self.executions[id as usize] += 1;
        if jumped {
            self.taken_exits[prev as usize] += 1;
        }
        if refilled {
            self.taken_entries[id as usize] += 1;
        }
    }
}

/// Flash programming and erasing times, and what they cost at the run's clock.
#[derive(Debug, Clone, Default)]
struct ProgramCosts {
    write_unit: u32,
    write_us: f64,
    /// Sectors from the flash base: start address, size, erase time in µs.
    sectors: Vec<(u32, u32, f64)>,
    clock_mhz: f64,
    /// Supply power while programming, in mW (V × mA).
    power_mw: f64,
}

impl Engine {
    fn in_flash(&self, addr: u32) -> bool {
        flash_range(&self.flash_ranges, addr).is_some()
    }

    /// Cycles charged before the instruction at `pc` of the current block starts.
    fn cycles_at(&self, pc: u32) -> u64 {
        let block = self.blocks.get(self.cur);
        let inside = pc.wrapping_sub(block.addr) < block.size;
        self.cycles
            + if inside {
                u64::from(block.cycles_before(pc))
            } else {
                0
            }
    }

    fn describe(&self, addr: u32) -> String {
        self.symbols.describe(addr)
    }

    fn charge_stall(&mut self, cycles: u64) {
        self.cycles += cycles;
        self.weighted += cycles * weight::STALL;
    }

    /// Charges the current block as executed in full and attributes its cost.
    fn close_block(&mut self) {
        let block = self.blocks.hot(self.cur);
        self.cycles += u64::from(block.cycles);
        self.weighted += block.energy;
        self.instructions += u64::from(block.instructions);
        self.attribute(block.func);
    }

    /// Charges the current block up to (not including) the instruction at `pc`.
    fn close_block_at(&mut self, pc: u32) {
        let block = self.blocks.get(self.cur);
        let done = block.insn_addrs.partition_point(|&a| a < pc);
        self.cycles += u64::from(block.cycles_before(pc));
        self.instructions += done as u64;
        self.weighted += u64::from(block.cycles_before(pc)) * weight::ALU;
        let func = block.func;
        self.attribute(func);
        self.cur = 0;
    }

    fn attribute(&mut self, func: u32) {
        let spent = self.cycles - self.mark_cycles;
        self.profiler.charge(func, spent);
        self.mark_cycles = self.cycles;
    }

    fn schedule_next_event(&mut self) {
        self.systick_at = self.sys.next_systick(self.cycles).unwrap_or(u64::MAX);
        self.next_event = self.systick_at.min(self.max_cycles);
    }

    fn note_sp(&mut self, sp: u32) {
        self.lowest_sp = self.lowest_sp.min(sp);
    }
}

/// A target with an image loaded, ready to run.
pub struct Machine {
    uc: Unicorn<'static, Engine>,
    image: Arc<Image>,
    initial_sp: u32,
    options: RunOptions,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("image", &self.image.path)
            .finish_non_exhaustive()
    }
}

/// Where the system control space is mapped and how big it is.
const PPB_BASE: u64 = 0xE000_0000;
const PPB_SIZE: u64 = 0x0010_0000;
/// Branching to an EXC_RETURN value lands here; the page is never mapped.
const EXC_RETURN_PAGE: u32 = 0xFFFF_F000;
/// Exception entry and return latencies of the Cortex-M3/M4 at zero wait
/// states: 12 cycles to the first handler instruction, 10 back (Cortex-M4 TRM,
/// as restated in Arm knowledge article 103489845, which also corrects the M3
/// TRM's exit figure to 10). The extra 17 cycles of an FP context are not
/// charged: lazy stacking (FPCCR.LSPEN, set at reset) defers them until a
/// handler uses the FPU. The Cortex-M7 is taken to match.
const EXCEPTION_ENTRY_CYCLES: u64 = 12;
const EXCEPTION_RETURN_CYCLES: u64 = 10;
/// An address never executed, used as emu_start's `until`.
const NEVER: u64 = 0xF000_0000;

fn uc_err(context: &str, e: unicorn_engine::uc_error) -> Failure {
    Failure::Internal(format!("{context}: {e:?}"))
}

fn prot(access: crate::target::Access) -> Prot {
    let mut p = Prot::READ;
    if access.writable() {
        p |= Prot::WRITE;
    }
    if access.executable() {
        p |= Prot::EXEC;
    }
    p
}

struct UcMemory<'a, 'b>(&'a mut Unicorn<'b, Engine>);

impl Memory for UcMemory<'_, '_> {
    fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()> {
        self.0.mem_read(u64::from(addr), buf).ok()
    }
    fn write(&mut self, addr: u32, data: &[u8]) -> Option<()> {
        self.0.mem_write(u64::from(addr), data).ok()
    }
}

impl Machine {
    /// Maps `target`'s memory, loads `image` and installs the hooks.
    pub fn new(
        target: &Target,
        image: Arc<Image>,
        options: RunOptions,
    ) -> Result<Machine, Failure> {
        let core = target.core;
        let model = match core {
            Core::CortexM3 => ArmCpuModel::CORTEX_M3,
            Core::CortexM4 | Core::CortexM4f => ArmCpuModel::CORTEX_M4,
            Core::CortexM7 | Core::CortexM7f => ArmCpuModel::CORTEX_M7,
        };
        let clock_hz = (target.clock_mhz * 1e6).round() as u64;
        let controller = match (
            target.flash_program.controller,
            target.flash_program.controller_base,
        ) {
            (ControllerKind::Stm32f4, Some(base)) => Some((FlashController::new(), base)),
            _ => None,
        };
        let flash_ranges: Vec<(u32, u32)> = target
            .memory
            .iter()
            .filter(|r| r.kind == MemoryKind::Flash)
            .flat_map(|r| r.bases().map(move |b| (b, b + r.size)))
            .collect();
        let code_ranges: Vec<(u32, u32)> = target
            .memory
            .iter()
            .filter(|r| r.access.executable())
            .flat_map(|r| r.bases().map(move |b| (b, r.size)))
            .collect();
        let heap_base = image.static_ram_end.map_or(0, |e| (e + 7) & !7);
        let heap_limit = if heap_base > 0 && heap_base < image.initial_sp {
            heap_base + (image.initial_sp - heap_base) / 2
        } else {
            0
        };
        let heap = HeapInfo {
            heap_base,
            heap_limit,
            stack_base: image.initial_sp,
            stack_limit: heap_limit,
        };
        let engine = Engine {
            cycles: 0,
            weighted: 0,
            instructions: 0,
            cur: 0,
            expect: image.reset & !1,
            mark_cycles: 0,
            next_event: options.max_cycles,
            systick_at: u64::MAX,
            max_cycles: options.max_cycles,
            blocks: BlockTable::new(code_ranges),
            decoder: Decoder::new(),
            model: CostModel::new(core),
            symbols: Arc::new(image.symbols.clone()),
            timing: FlashTiming::new(target),
            flash_stall: 0,
            profiler: Profiler::new(image.symbols.functions().len()),
            sys: SystemRegisters::new(core, image.vector_table),
            semihosting: Semihosting::new(options.cmdline.clone(), heap),
            controller,
            flash_program_pj: 0,
            stop: None,
            lowest_sp: image.initial_sp,
            check_sp_next: false,
            static_ram_end: image.static_ram_end.filter(|&end| end <= image.initial_sp),
            exceptions: Vec::new(),
            handled_fault: None,
            unmapped: None,
            access_cursor: 0,
            divides: HashMap::new(),
            clock_hz,
            program: ProgramCosts::new(target, &flash_ranges),
            program_us: 0.0,
            exception_cycles: 0,
            heap: image.symbols.addr_of("_sbrk").map(|_| (0, 0)),
            counts: options.record_trace.then(TraceCounts::default),
            flash_ranges,
        };
        let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB | Mode::MCLASS, engine)
            .map_err(|e| uc_err("creating the CPU", e))?;
        uc.ctl_set_cpu_model(model as i32)
            .map_err(|e| uc_err("selecting the CPU model", e))?;

        for region in &target.memory {
            let p = prot(region.access);
            for base in region.bases() {
                uc.mem_map(u64::from(base), u64::from(region.size), p)
                    .map_err(|e| uc_err(&format!("mapping {} at {base:#010x}", region.name), e))?;
            }
        }
        for seg in &image.segments {
            let region = target
                .region_of(u64::from(seg.addr), seg.data.len() as u64)
                .ok_or_else(|| {
                    Failure::Internal(format!("segment at {:#010x} outside memory", seg.addr))
                })?;
            // Aliased memory shows the same contents at every base.
            for base in region.bases() {
                let offset = region
                    .bases()
                    .find(|&b| seg.addr >= b && seg.addr < b + region.size)
                    .map_or(0, |b| seg.addr - b);
                uc.mem_write(u64::from(base + offset), &seg.data)
                    .map_err(|e| uc_err("loading the image", e))?;
            }
        }
        let mut machine = Machine {
            uc,
            initial_sp: image.initial_sp,
            image,
            options,
        };
        machine.install_hooks(target)?;
        Ok(machine)
    }

    fn install_hooks(&mut self, target: &Target) -> Result<(), Failure> {
        let uc = &mut self.uc;
        uc.add_block_hook(1, 0, on_block)
            .map_err(|e| uc_err("block hook", e))?;
        uc.add_intr_hook(on_interrupt)
            .map_err(|e| uc_err("interrupt hook", e))?;
        // Faults are noted only in the gaps of the memory map: a hook whose range
        // covers a mapped page sends every access to that page down unicorn's
        // slow path. Accesses the map forbids (e.g. stores to read-only flash)
        // stop emulation with an error, and the address is decoded from the
        // faulting instruction.
        for (begin, end) in unmapped_gaps(target) {
            uc.add_mem_hook(
                HookType::MEM_UNMAPPED,
                begin,
                end,
                |uc, kind, addr, _size, _value| {
                    uc.get_data_mut().unmapped = Some((kind, addr as u32));
                    false
                },
            )
            .map_err(|e| uc_err("fault hook", e))?;
        }
        uc.mmio_map(
            PPB_BASE,
            PPB_SIZE,
            Some(
                |uc: &mut Unicorn<'_, Engine>, offset: u64, _size: usize| -> u64 {
                    let pc = access_pc(uc, (PPB_BASE + offset) as u32, true);
                    let e = uc.get_data_mut();
                    let now = e.cycles_at(pc);
                    u64::from(e.sys.read(offset as u32, now))
                },
            ),
            Some(
                |uc: &mut Unicorn<'_, Engine>, offset: u64, _size: usize, value: u64| {
                    let pc = access_pc(uc, (PPB_BASE + offset) as u32, false);
                    let e = uc.get_data_mut();
                    let now = e.cycles_at(pc);
                    e.sys.write(offset as u32, value as u32, now);
                    e.schedule_next_event();
                    if e.sys.pending != 0 {
                        e.next_event = 0;
                    }
                },
            ),
        )
        .map_err(|e| uc_err("system control space", e))?;

        if let Some(base) = target
            .flash_program
            .controller_base
            .filter(|_| uc.get_data().controller.is_some())
        {
            let page = u64::from(base & !0xFFF);
            let offset = base & 0xFFF;
            uc.mmio_map(
                page,
                0x1000,
                Some(
                    move |uc: &mut Unicorn<'_, Engine>, at: u64, _size: usize| -> u64 {
                        let e = uc.get_data();
                        e.controller.as_ref().map_or(0, |(c, _)| {
                            u64::from(c.read((at as u32).wrapping_sub(offset)))
                        })
                    },
                ),
                Some(
                    move |uc: &mut Unicorn<'_, Engine>, at: u64, _size: usize, value: u64| {
                        on_controller_write(uc, (at as u32).wrapping_sub(offset), value as u32);
                    },
                ),
            )
            .map_err(|e| uc_err("flash controller", e))?;
        }
        // The heap is seen where newlib asks for it: one hook on `_sbrk`'s
        // first instruction, which runs once per heap growth.
        if let Some(sbrk) = self.image.symbols.addr_of("_sbrk") {
            self.uc
                .add_code_hook(u64::from(sbrk), u64::from(sbrk), |uc, _, _| {
                    let increment = uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32 as i32;
                    if let Some((held, peak)) = &mut uc.get_data_mut().heap {
                        *held += i64::from(increment);
                        *peak = (*peak).max(*held);
                    }
                })
                .map_err(|e| uc_err("heap hook", e))?;
        }
        self.install_divide_hooks()
    }

    /// Finds every SDIV/UDIV in the image's functions and hooks just those.
    fn install_divide_hooks(&mut self) -> Result<(), Failure> {
        let decoder = Decoder::new();
        let mut sites = Vec::new();
        for f in self.image.symbols.functions() {
            let Ok(bytes) = self.uc.mem_read_as_vec(u64::from(f.addr), f.size as usize) else {
                continue;
            };
            for insn in decoder
                .decode(f.addr, &bytes)
                .into_iter()
                .filter(|i| i.class == Class::Div)
            {
                // `sdiv rd, rn, rm`, or `sdiv rn, rm` with rd = rn.
                let (rn, rm) = match insn.operands.as_slice() {
                    [_, Operand::Core(n), Operand::Core(m)]
                    | [Operand::Core(n), Operand::Core(m)] => (*n, *m),
                    _ => continue,
                };
                let site = DivideSite {
                    signed: insn.mnemonic.starts_with("sdiv"),
                    rn: core_register(u16::from(rn)),
                    rm: core_register(u16::from(rm)),
                };
                sites.push((insn.addr, site));
            }
        }
        for (addr, site) in sites {
            self.uc.get_data_mut().divides.insert(addr, site);
            self.uc
                .add_code_hook(u64::from(addr), u64::from(addr), on_divide)
                .map_err(|e| uc_err("divide hook", e))?;
        }
        Ok(())
    }

    /// Runs the firmware to its exit, a failure, or a limit.
    pub fn run(mut self) -> Execution {
        let started = Instant::now();
        let mut pc = self.image.reset & !1;
        let sp = self.initial_sp;
        let _ = self.uc.reg_write(RegisterARM::SP, u64::from(sp));
        let _ = self.uc.reg_write(RegisterARM::MSP, u64::from(sp));
        let _ = self.uc.reg_write(RegisterARM::LR, 0xFFFF_FFFF);
        let mut exit_code = None;
        let failure = loop {
            let remaining = self.options.wall_limit.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                break Some(self.wall_clock_failure());
            }
            let result = self.uc.emu_start(
                u64::from(pc | 1),
                NEVER,
                remaining.as_micros().max(1) as u64,
                0,
            );
            let now_pc = self.uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
            let stop = self.uc.get_data_mut().stop.take();
            match (result, stop) {
                (_, Some(Stop::Exit(code))) => {
                    self.uc.get_data_mut().close_block();
                    exit_code = Some(code);
                    break None;
                }
                (_, Some(Stop::Exception(number))) => {
                    match self.enter_exception(number, now_pc, false) {
                        Ok(handler) => pc = handler,
                        Err(f) => break Some(f),
                    }
                }
                (_, Some(Stop::Resume(at))) => pc = at,
                (_, Some(Stop::ExceptionReturn)) if !self.uc.get_data().exceptions.is_empty() => {
                    match self.exception_return() {
                        Ok(resume) => pc = resume,
                        Err(f) => break Some(f),
                    }
                }
                (_, Some(Stop::ExceptionReturn)) => {
                    break Some(Failure::Fault {
                        kind: "exception return outside an exception handler".into(),
                        pc: self.uc.get_data().describe(now_pc),
                        address: None,
                    })
                }
                (_, Some(Stop::Budget)) => {
                    let e = self.uc.get_data();
                    break Some(Failure::Budget {
                        max_cycles: e.max_cycles,
                        pc: e.describe(now_pc),
                    });
                }
                (_, Some(Stop::Hang(at))) => {
                    let e = self.uc.get_data();
                    break Some(Failure::Hang {
                        pc: e.describe(at),
                        after: e.handled_fault.clone(),
                    });
                }
                (_, Some(Stop::StackOverflow(sp, at))) => {
                    let e = self.uc.get_data();
                    break Some(Failure::StackOverflow {
                        sp,
                        limit: e.static_ram_end.unwrap_or(0),
                        pc: e.describe(at),
                    });
                }
                (_, Some(Stop::Unsupported(u))) => {
                    let kind = format!("{}: `{}`", u.reason, u.mnemonic);
                    match self.fault(kind, u.addr, None) {
                        Ok(handler) => pc = handler,
                        Err(f) => break Some(f),
                    }
                }
                (_, Some(Stop::FpuDisabled(at))) => {
                    let kind = "floating-point instruction with the FPU disabled (CPACR CP10/CP11 not enabled)".to_owned();
                    match self.fault(kind, at, None) {
                        Ok(handler) => pc = handler,
                        Err(f) => break Some(f),
                    }
                }
                (
                    _,
                    Some(Stop::Fault {
                        kind,
                        pc: at,
                        address,
                    }),
                ) => match self.fault(kind, at, address) {
                    Ok(handler) => pc = handler,
                    Err(f) => break Some(f),
                },
                (Err(err), None) => {
                    let unmapped = self.uc.get_data_mut().unmapped.take();
                    if now_pc & EXC_RETURN_PAGE == EXC_RETURN_PAGE
                        && !self.uc.get_data().exceptions.is_empty()
                    {
                        match self.exception_return() {
                            Ok(resume) => pc = resume,
                            Err(f) => break Some(f),
                        }
                        continue;
                    }
                    if err == unicorn_engine::uc_error::WRITE_PROT {
                        match self.store_to_flash(now_pc) {
                            Ok(resume) => {
                                pc = resume;
                                continue;
                            }
                            Err(f) => break Some(f),
                        }
                    }
                    let (kind, address) = describe_unmapped(err, unmapped);
                    match self.fault(kind, now_pc, address) {
                        Ok(handler) => pc = handler,
                        Err(f) => break Some(f),
                    }
                }
                (Ok(()), None) => {
                    if started.elapsed() >= self.options.wall_limit {
                        break Some(self.wall_clock_failure());
                    }
                    pc = now_pc;
                }
            }
        };
        let wall = started.elapsed();
        let image = self.image.clone();
        let e = self.uc.get_data_mut();
        if failure.is_some() && e.cur != 0 {
            // How far the failing block got is unknown: none of it is charged.
            let at = e.blocks.get(e.cur).addr;
            e.close_block_at(at);
        }
        e.profiler.finish_all(e.cycles, e.weighted);
        let stack_peak_bytes = u64::from(image.initial_sp.saturating_sub(e.lowest_sp));
        Execution {
            exit_code,
            failure,
            handled_fault: e.handled_fault.clone(),
            cycles: e.cycles,
            instructions: e.instructions,
            weighted_cycles: e.weighted,
            flash_program_pj: e.flash_program_pj,
            flash_stall_cycles: e.flash_stall,
            stack_peak_bytes,
            heap_peak_bytes: e.heap.map(|(_, peak)| peak.max(0) as u64),
            stdout: std::mem::take(&mut e.semihosting.output),
            profiler: e.profiler.clone(),
            wall,
            trace: e.counts.take().map(|counts| {
                let blocks = e.blocks.blocks();
                Trace {
                    image: String::new(),
                    image_sha256: String::new(),
                    target: String::new(),
                    blocks: counts
                        .executions
                        .iter()
                        .enumerate()
                        .filter(|&(id, &n)| id != 0 && n > 0)
                        .map(|(id, &executions)| TracedBlock {
                            addr: blocks[id].addr,
                            size: blocks[id].size,
                            executions,
                            taken_exits: counts.taken_exits[id],
                            taken_entries: counts.taken_entries[id],
                        })
                        .collect(),
                    divide_cycles_m4: counts.divide_cycles_m4,
                    divide_cycles_m7: counts.divide_cycles_m7,
                    exception_cycles: e.exception_cycles,
                    fetch_misses_jumped: e.timing.misses_jumped,
                    fetch_misses_sequential: e.timing.misses_sequential,
                    data_misses: e.timing.data_misses,
                    flash_program_us: e.program_us,
                }
            }),
        }
    }

    fn wall_clock_failure(&self) -> Failure {
        let pc = self.uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
        Failure::WallClock {
            seconds: self.options.wall_limit.as_secs(),
            pc: self.uc.get_data().describe(pc),
        }
    }

    /// A store into read-only memory at `pc`. While the flash controller is in
    /// programming mode, a store into flash programs it: the store is carried
    /// out here, charged the target's programming time and energy, and
    /// execution resumes after it. Otherwise it is a fault.
    fn store_to_flash(&mut self, pc: u32) -> Result<u32, Failure> {
        let mut bytes = [0u8; 4];
        let _ = self.uc.mem_read(u64::from(pc), &mut bytes);
        let insn = Decoder::new().decode(pc, &bytes).into_iter().next();
        let store = insn.as_ref().and_then(|insn| {
            let (base, index, disp) = blocks::memory_operand(insn)?;
            let value = match insn.operands.first()? {
                Operand::Core(r) => *r,
                _ => return None,
            };
            let width: usize = match insn.mnemonic.get(..4) {
                Some("strb") => 1,
                Some("strh") => 2,
                _ if insn.class == Class::Store => 4,
                _ => return None,
            };
            let reg = |r: u8| self.uc.reg_read(core_register(u16::from(r))).unwrap_or(0) as u32;
            let post_indexed =
                insn.writeback && matches!(insn.operands.last(), Some(Operand::Imm(_)));
            let offset = if post_indexed { 0 } else { disp as u32 };
            let addr = reg(base)
                .wrapping_add(offset)
                .wrapping_add(index.map_or(0, reg));
            Some((insn.len, addr, reg(value).to_le_bytes(), width))
        });
        let e = self.uc.get_data_mut();
        let programming = e.controller.as_ref().is_some_and(|(c, _)| c.programming());
        let Some((len, addr, value, width)) = store.filter(|s| programming && e.in_flash(s.1))
        else {
            return Err(Failure::Fault {
                kind: if e.controller.is_some() {
                    "write to flash without programming it through the flash controller".into()
                } else {
                    "write to read-only memory".into()
                },
                pc: e.describe(pc),
                address: store.map(|s| e.describe(s.1)),
            });
        };
        let units = (width as u64)
            .div_ceil(u64::from(e.program.write_unit))
            .max(1);
        let us = units as f64 * e.program.write_us;
        e.charge_stall(e.program.cycles(us));
        e.flash_program_pj += e.program.pj(us);
        e.program_us += us;
        let offset = addr - flash_range(&e.flash_ranges, addr).map_or(addr, |r| r.0);
        let bases: Vec<u32> = e.flash_ranges.iter().map(|r| r.0).collect();
        let resume = pc + u32::from(len);
        // Charge the block up to and including the store; execution goes on after it.
        e.close_block_at(resume);
        e.expect = resume;
        for base in bases {
            let _ = self.uc.mem_write(u64::from(base + offset), &value[..width]);
        }
        Ok(resume)
    }
}

impl ProgramCosts {
    fn new(target: &Target, flash_ranges: &[(u32, u32)]) -> ProgramCosts {
        let p = &target.flash_program;
        // Sectors are numbered from the flash's own base, not a boot alias at 0.
        let base = flash_ranges
            .iter()
            .map(|r| r.0)
            .find(|&b| b != 0)
            .or_else(|| flash_ranges.first().map(|r| r.0))
            .unwrap_or(0);
        let mut start = base;
        let mut sectors = Vec::new();
        for &kib in &p.sector_kib {
            let ms = p
                .erase_ms
                .iter()
                .find(|e| e.sector_kib == kib)
                .map_or(0.0, |e| e.ms);
            sectors.push((start, kib * 1024, ms * 1000.0));
            start += kib * 1024;
        }
        ProgramCosts {
            write_unit: p.write_unit_bytes.max(1),
            write_us: p.write_us,
            sectors,
            clock_mhz: target.clock_mhz,
            power_mw: target.energy.vdd_v * p.current_ma.unwrap_or(0.0),
        }
    }

    /// Cycles the core waits for an operation of `us` microseconds.
    fn cycles(&self, us: f64) -> u64 {
        (us * self.clock_mhz).round() as u64
    }

    /// Energy of an operation of `us` microseconds, in pJ (mW × µs = nJ).
    fn pj(&self, us: f64) -> u64 {
        (self.power_mw * us * 1000.0).round() as u64
    }
}

fn describe_unmapped(
    err: unicorn_engine::uc_error,
    unmapped: Option<(MemType, u32)>,
) -> (String, Option<u32>) {
    use unicorn_engine::uc_error;
    let kind = match err {
        uc_error::READ_UNMAPPED => "read from unmapped memory",
        uc_error::WRITE_UNMAPPED => "write to unmapped memory",
        uc_error::FETCH_UNMAPPED => "instruction fetch from unmapped memory",
        uc_error::WRITE_PROT => "write to read-only memory",
        uc_error::READ_PROT => "read from protected memory",
        uc_error::FETCH_PROT => "instruction fetch from non-executable memory",
        uc_error::READ_UNALIGNED | uc_error::WRITE_UNALIGNED | uc_error::FETCH_UNALIGNED => {
            "unaligned access"
        }
        uc_error::INSN_INVALID => "undefined instruction",
        other => return (format!("CPU stopped: {other:?}"), unmapped.map(|u| u.1)),
    };
    (kind.to_owned(), unmapped.map(|u| u.1))
}

/// The address ranges (inclusive) that no region of `target` maps.
fn unmapped_gaps(target: &Target) -> Vec<(u64, u64)> {
    let mut mapped: Vec<(u64, u64)> = target
        .memory
        .iter()
        .flat_map(|r| {
            r.bases()
                .map(move |b| (u64::from(b), u64::from(b) + u64::from(r.size)))
        })
        .chain([(PPB_BASE, PPB_BASE + PPB_SIZE)])
        .chain(
            target
                .flash_program
                .controller_base
                .map(|b| (u64::from(b & !0xFFF), u64::from(b & !0xFFF) + 0x1000)),
        )
        .collect();
    mapped.sort();
    let mut gaps = Vec::new();
    let mut next = 0u64;
    for (start, end) in mapped {
        if start > next {
            gaps.push((next, start - 1));
        }
        next = next.max(end);
    }
    if next <= 0xFFFF_FFFF {
        gaps.push((next, 0xFFFF_FFFF));
    }
    gaps
}

fn core_register(n: u16) -> RegisterARM {
    use RegisterARM::*;
    [
        R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, SP, LR, PC,
    ][usize::from(n)]
}

fn fp_register(n: usize) -> RegisterARM {
    use RegisterARM::*;
    [
        S0, S1, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, S12, S13, S14, S15,
    ][n]
}
