//! Runs an MPS2 AN386 or STM32F407 image on bare unicorn, with no block, code
//! or memory hooks, as the speed ceiling mcubench's hooks and cost model are
//! measured against (scripts/compare-speed). An image loaded into the
//! STM32F407's flash gets that part's memory map, any other the AN386's.
//!
//! ```text
//! unicorn-plain benches/firmware/matmul_int8.elf
//! ```
//!
//! The firmware's semihosting output goes to stdout; the host time of the
//! emulation goes to stderr as `wall_ms <ms>`; the exit status is the one the
//! firmware asked for. The only hook is an interrupt hook, which fires once
//! per semihosting call (BKPT 0xAB), never per instruction or block. The
//! engine runs with the options mcubench sets (`skip_access_exit_checks`),
//! so the two differ by the hooks and the model alone.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use mcubench::image::Image;
use unicorn_engine::{Arch, ArmCpuModel, Mode, Prot, RegisterARM, Unicorn};

/// The AN386 memory the image can touch: SSRAM1 (code) and SSRAM2/3 (data),
/// 4 MiB each (AN386; QEMU hw/arm/mps2.c), and the system control block page,
/// mapped as plain memory so the startup's CPACR write lands somewhere (the
/// workload runs no FP instructions, so the FPU enable is not needed).
const AN386: [(u64, u64); 3] = [
    (0x0000_0000, 0x40_0000),
    (0x2000_0000, 0x40_0000),
    (0xE000_E000, 0x1000),
];
/// The STM32F407's flash (1 MiB), SRAM1 and SRAM2 (128 KiB) and the system
/// control block page (RM0090 2.3, memory map).
const STM32F407: [(u64, u64); 3] = [
    (0x0800_0000, 0x10_0000),
    (0x2000_0000, 0x2_0000),
    (0xE000_E000, 0x1000),
];
/// Semihosting operations (Arm "Semihosting for AArch32 and AArch64" v3.0).
const SYS_WRITE0: u32 = 0x04;
const SYS_EXIT: u32 = 0x18;
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit: SYS_EXIT's reason for a normal exit.
const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x20026;
/// An address the firmware never executes, as emu_start's stop address.
const NEVER: u64 = 0xF000_0000;

/// What the interrupt hook tells the run loop.
#[derive(Default)]
struct Semihost {
    stdout: Vec<u8>,
    next: Option<Next>,
}

enum Next {
    Resume(u32),
    Exit(u32),
    Fault(String),
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("unicorn-plain: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<u32> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .context("usage: unicorn-plain IMAGE.elf")?
        .into();
    let image = Image::load(&path).with_context(|| format!("loading {}", path.display()))?;

    let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB | Mode::MCLASS, Semihost::default())
        .map_err(|e| anyhow::anyhow!("creating the CPU: {e:?}"))?;
    uc.ctl_set_cpu_model(ArmCpuModel::CORTEX_M4 as i32)
        .map_err(|e| anyhow::anyhow!("selecting Cortex-M4: {e:?}"))?;
    mcubench::machine::skip_access_exit_checks(&mut uc);
    let in_flash = |addr: u32| (0x0800_0000..0x0810_0000).contains(&addr);
    let regions = if image.segments.iter().any(|seg| in_flash(seg.addr)) {
        STM32F407
    } else {
        AN386
    };
    for (base, size) in regions {
        uc.mem_map(base, size, Prot::ALL)
            .map_err(|e| anyhow::anyhow!("mapping {base:#010x}: {e:?}"))?;
    }
    for seg in &image.segments {
        uc.mem_write(u64::from(seg.addr), &seg.data)
            .map_err(|e| anyhow::anyhow!("loading the segment at {:#010x}: {e:?}", seg.addr))?;
    }
    uc.reg_write(RegisterARM::SP, u64::from(image.initial_sp))
        .map_err(|e| anyhow::anyhow!("setting SP: {e:?}"))?;
    uc.add_intr_hook(on_interrupt)
        .map_err(|e| anyhow::anyhow!("interrupt hook: {e:?}"))?;

    let start = Instant::now();
    let mut pc = image.reset & !1;
    let code = loop {
        let result = uc.emu_start(u64::from(pc | 1), NEVER, 0, 0);
        match uc.get_data_mut().next.take() {
            Some(Next::Resume(at)) => pc = at,
            Some(Next::Exit(code)) => break code,
            Some(Next::Fault(what)) => bail!("{what}"),
            None => {
                let at = uc.reg_read(RegisterARM::PC).unwrap_or(0);
                bail!("emulation stopped at pc {at:#010x}: {result:?}");
            }
        }
    };
    let wall = start.elapsed();

    std::io::stdout().write_all(&uc.get_data().stdout)?;
    eprintln!("wall_ms {:.3}", wall.as_secs_f64() * 1e3);
    Ok(code)
}

/// Handles a semihosting call; anything else stops the run as a fault.
fn on_interrupt(uc: &mut Unicorn<'_, Semihost>, intno: u32) {
    // QEMU's exception numbers (target/arm/cpu.h): EXCP_BKPT and EXCP_SEMIHOST.
    const BKPT: u32 = 7;
    const SEMIHOST: u32 = 16;
    let pc = uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
    let insn = uc.mem_read_as_vec(u64::from(pc), 2).unwrap_or_default();
    let next = if matches!(intno, BKPT | SEMIHOST) && insn == [0xAB, 0xBE] {
        let op = uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32;
        let arg = uc.reg_read(RegisterARM::R1).unwrap_or(0) as u32;
        semihost(uc, op, arg, pc)
    } else {
        Next::Fault(format!("CPU exception {intno} at pc {pc:#010x}"))
    };
    uc.get_data_mut().next = Some(next);
    // Resume through a fresh emu_start rather than by writing PC from the hook.
    let _ = uc.emu_stop();
}

fn semihost(uc: &mut Unicorn<'_, Semihost>, op: u32, arg: u32, pc: u32) -> Next {
    let word = |uc: &Unicorn<'_, Semihost>, at: u32| {
        let b = uc.mem_read_as_vec(u64::from(at), 4).unwrap_or_default();
        b.try_into().map(u32::from_le_bytes).ok()
    };
    match op {
        SYS_WRITE0 => {
            let mut at = arg;
            loop {
                match uc.mem_read_as_vec(u64::from(at), 1).as_deref() {
                    Ok([0]) => break,
                    Ok([c]) => uc.get_data_mut().stdout.push(*c),
                    _ => {
                        return Next::Fault(format!("SYS_WRITE0 string at {arg:#010x} unreadable"))
                    }
                }
                at += 1;
            }
            Next::Resume(pc + 2)
        }
        SYS_EXIT_EXTENDED => match (word(uc, arg), word(uc, arg + 4)) {
            (Some(ADP_STOPPED_APPLICATION_EXIT), Some(code)) => Next::Exit(code),
            (Some(_), _) => Next::Exit(1),
            _ => Next::Fault(format!("SYS_EXIT_EXTENDED block at {arg:#010x} unreadable")),
        },
        SYS_EXIT => Next::Exit(u32::from(arg != ADP_STOPPED_APPLICATION_EXIT)),
        other => Next::Fault(format!("semihosting call {other:#x} not supported here")),
    }
}
