//! `mcubench ldscript --target T [--stack KiB] [--heap KiB] [--out FILE|-]`: a GNU ld
//! linker script for a target's memory map, so firmware built outside this repository
//! (TFLM, CMSIS-NN, vendor code) links for the exact map mcubench emulates.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use mcubench::target::{Access, MemoryKind, MemoryRegion, Origin, Target};
use mcubench_reports::output;

/// Print a GNU ld linker script for a target's memory map.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target name (`mcubench targets`) or path to a target file.
    #[arg(long)]
    target: String,
    /// Stack size in KiB, at the top of the main RAM.
    #[arg(long, value_name = "KIB", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    stack: u32,
    /// Heap size in KiB, right after .bss.
    #[arg(long, value_name = "KIB", default_value_t = 8)]
    heap: u32,
    /// File to write; `-` or none writes to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Directory of target files that add to or replace the shipped ones.
    #[arg(long)]
    targets_dir: Option<PathBuf>,
}

/// Writes the script; bad input (an unknown target, a stack and heap that do
/// not fit) is an error, which main turns into exit 2.
pub fn run(args: Args, console: super::console::Console) -> anyhow::Result<ExitCode> {
    let target = super::catalog(args.targets_dir.clone())?
        .find(&args.target)
        .context("--target")?;
    let text = script(&target, &args)?;
    match args.out.as_deref().filter(|p| p.as_os_str() != "-") {
        None => super::console::print(&text),
        Some(path) => {
            output::write_atomic(path, text.as_bytes())?;
            console.note(format_args!("wrote {}", path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the image goes: the flash, or on a part without flash (MPS2) the
/// executable region at the lowest address, where the core fetches its vectors.
fn code_region(target: &Target) -> Option<&MemoryRegion> {
    target
        .memory
        .iter()
        .find(|r| r.kind == MemoryKind::Flash)
        .or_else(|| {
            target
                .memory
                .iter()
                .filter(|r| r.access.executable())
                .min_by_key(|r| r.base)
        })
}

/// Where .data, .bss, the heap and the stack go: the largest writable region
/// besides the code's, the lower one on a tie.
fn main_ram<'a>(target: &'a Target, code: &MemoryRegion) -> Option<&'a MemoryRegion> {
    target
        .memory
        .iter()
        .filter(|r| r.access.writable() && r.name != code.name)
        .min_by_key(|r| (std::cmp::Reverse(r.size), r.base))
}

/// GNU ld's MEMORY attributes for a region.
fn attributes(access: Access) -> &'static str {
    match access {
        Access::R => "r",
        Access::Rw => "rw",
        Access::Rx => "rx",
        Access::Rwx => "rwx",
    }
}

/// Whether a region name can stand in a linker script as a region and a section name.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The script's text, or why this target or these sizes cannot have one.
fn script(target: &Target, args: &Args) -> anyhow::Result<String> {
    let file = match &target.origin {
        Origin::Shipped => format!("targets/{}.toml (shipped)", target.name),
        Origin::File(path) => path.display().to_string(),
    };
    if let Some(bad) = target.memory.iter().find(|r| !is_identifier(&r.name)) {
        bail!(
            "{file}: memory region name `{}` is not a linker script identifier (letters, digits, _)",
            bad.name
        );
    }
    let code = code_region(target)
        .with_context(|| format!("{file}: no flash or executable region to link code into"))?;
    let ram = main_ram(target, code).with_context(|| {
        format!(
            "{file}: no writable region besides `{}` for .data, .bss and the stack",
            code.name
        )
    })?;
    let (stack, heap) = (u64::from(args.stack) * 1024, u64::from(args.heap) * 1024);
    if stack + heap > u64::from(ram.size) {
        bail!(
            "--stack {} KiB and --heap {} KiB do not fit in `{}` of {} ({} KiB)",
            args.stack,
            args.heap,
            ram.name,
            target.name,
            ram.size / 1024
        );
    }
    let stack_top = ram.end() & !7;
    if stack_top > u64::from(u32::MAX) {
        bail!(
            "{file}: `{}` ends at 4 GiB, leaving no address for the stack top",
            ram.name
        );
    }

    let mut s = String::new();
    let (c, r) = (&code.name, &ram.name);
    writeln!(
        s,
        "/* GNU ld linker script for {name} ({part}, {vendor}), from {file},\n \
         * written by mcubench {version}: `mcubench ldscript --target {arg} --stack {st} --heap {hp}`.",
        name = target.name,
        arg = args.target,
        part = target.part,
        vendor = target.vendor,
        version = env!("CARGO_PKG_VERSION"),
        st = args.stack,
        hp = args.heap,
    )?;
    s.push_str(&format!(
        " *
 * The MEMORY regions are the ones mcubench emulates for this target, so an
 * image linked with this script runs there unchanged. Code, read-only data
 * and the initial values of .data go in `{c}`: the part's flash, or on a part
 * without flash its executable region at the lowest address. .data, .bss, the
 * heap and the stack go in `{r}`: the largest writable region besides `{c}`,
 * the lower one on a tie. mcubench boots from the image's lowest address, so
 * the vector table (.isr_vector or .vectors) comes first in `{c}`.
 *
 * RAM `{r}`, from the bottom: .data, .bss, the heap ({hp} KiB, __heap_start
 * to __heap_end; newlib's _sbrk grows from `end`), free space, and the stack
 * ({st} KiB, from _estack down to __StackLimit). Symbols are provided for ST
 * start-up files (_estack, _sidata, _sdata, _edata, _sbss, _ebss,
 * _Min_Stack_Size, _Min_Heap_Size), CMSIS ones (__StackTop, __StackLimit,
 * __HeapBase, __HeapLimit, __etext, __data_start__, __data_end__, the copy
 * and zero tables), and newlib's nosys and rdimon crt0 (end, __end__,
 * __bss_start__, __bss_end__, __stack).",
        hp = args.heap,
        st = args.stack,
    ));
    let extras: Vec<&MemoryRegion> = target
        .memory
        .iter()
        .filter(|x| x.access.writable() && x.name != *c && x.name != *r)
        .collect();
    if !extras.is_empty() {
        s.push_str(
            "\n *\n * Each other writable region has a section of its name for buffers placed\n \
             * with __attribute__((section(\".NAME\"))); nothing loads or zeroes them.",
        );
    }
    s.push_str("\n */\n\nMEMORY\n{\n");
    let width = target
        .memory
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0);
    for m in &target.memory {
        writeln!(
            s,
            "    {:<width$} {:<5} : ORIGIN = {:#010x}, LENGTH = {:#010x}  /* {} KiB */",
            m.name,
            format!("({})", attributes(m.access)),
            m.base,
            m.size,
            m.size / 1024
        )?;
    }
    s.push_str(
        "}\n\n/* The name CMSIS and ST start-up files use; mcubench starts from the vector\n \
         * table's reset vector whatever its name. */\nENTRY(Reset_Handler)\n\n",
    );
    writeln!(
        s,
        "_Min_Stack_Size = {stack:#x};  /* --stack {} KiB */",
        args.stack
    )?;
    writeln!(
        s,
        "_Min_Heap_Size = {heap:#x};   /* --heap {} KiB */",
        args.heap
    )?;
    s.push_str(&format!(
        "
SECTIONS
{{
    .isr_vector :
    {{
        . = ALIGN(4);
        KEEP(*(.isr_vector))
        KEEP(*(.vectors))
        . = ALIGN(4);
    }} > {c}
    ASSERT(SIZEOF(.isr_vector) > 0, \"no vector table: mcubench needs one in .isr_vector or .vectors\")

    .text :
    {{
        . = ALIGN(4);
        *(.text .text.* .gnu.linkonce.t.*)
        KEEP(*(.init))
        KEEP(*(.fini))
        . = ALIGN(4);
        _etext = .;
    }} > {c}

    .rodata :
    {{
        . = ALIGN(4);
        *(.rodata .rodata.* .gnu.linkonce.r.*)
        *(.eh_frame*)
        . = ALIGN(4);
    }} > {c}

    /* C++ exception unwinding tables. */
    .ARM.extab :
    {{
        *(.ARM.extab* .gnu.linkonce.armextab.*)
    }} > {c}

    .ARM.exidx :
    {{
        __exidx_start = .;
        *(.ARM.exidx* .gnu.linkonce.armexidx.*)
        __exidx_end = .;
    }} > {c}

    /* Static constructors and destructors, run by __libc_init_array and
     * __libc_fini_array (or the start-up code) in this order. */
    .preinit_array :
    {{
        . = ALIGN(4);
        PROVIDE_HIDDEN(__preinit_array_start = .);
        KEEP(*(.preinit_array*))
        PROVIDE_HIDDEN(__preinit_array_end = .);
    }} > {c}

    .init_array :
    {{
        . = ALIGN(4);
        PROVIDE_HIDDEN(__init_array_start = .);
        KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*)))
        KEEP(*(.init_array))
        PROVIDE_HIDDEN(__init_array_end = .);
    }} > {c}

    .fini_array :
    {{
        . = ALIGN(4);
        PROVIDE_HIDDEN(__fini_array_start = .);
        KEEP(*(SORT_BY_INIT_PRIORITY(.fini_array.*)))
        KEEP(*(.fini_array))
        PROVIDE_HIDDEN(__fini_array_end = .);
    }} > {c}

    /* CMSIS start-up (__cmsis_start): what to copy and what to zero, sizes in words. */
    .copy.table :
    {{
        . = ALIGN(4);
        __copy_table_start__ = .;
        LONG(LOADADDR(.data))
        LONG(ADDR(.data))
        LONG(SIZEOF(.data) / 4)
        __copy_table_end__ = .;
    }} > {c}

    .zero.table :
    {{
        . = ALIGN(4);
        __zero_table_start__ = .;
        LONG(ADDR(.bss))
        LONG(SIZEOF(.bss) / 4)
        __zero_table_end__ = .;
    }} > {c}

    /* Initialised data: runs in `{r}`, its initial values stored in `{c}` at _sidata. */
    .data :
    {{
        . = ALIGN(4);
        _sdata = .;
        __data_start__ = .;
        *(.data .data.* .gnu.linkonce.d.*)
        . = ALIGN(4);
        _edata = .;
        __data_end__ = .;
    }} > {r} AT > {c}
    _sidata = LOADADDR(.data);
    __etext = LOADADDR(.data);

    .bss :
    {{
        . = ALIGN(4);
        _sbss = .;
        __bss_start__ = .;
        *(.bss .bss.* .gnu.linkonce.b.*)
        *(COMMON)
        . = ALIGN(4);
        _ebss = .;
        __bss_end__ = .;
    }} > {r}

    __heap_start = ALIGN(ADDR(.bss) + SIZEOF(.bss), 8);
    __heap_end = __heap_start + _Min_Heap_Size;
    __HeapBase = __heap_start;
    __HeapLimit = __heap_end;
    PROVIDE(end = __heap_start);
    PROVIDE(_end = __heap_start);
    PROVIDE(__end__ = __heap_start);

    _estack = {stack_top:#010x};  /* the top of `{r}`, 8-byte aligned */
    __StackTop = _estack;
    __stack_top__ = _estack;
    __stack = _estack;
    __StackLimit = _estack - _Min_Stack_Size;
    ASSERT(__heap_end <= __StackLimit, \"`{r}` overflowed: .data, .bss, the heap (--heap) and the stack (--stack) do not fit\")
"
    ));
    for x in &extras {
        let n = &x.name;
        s.push_str(&format!(
            "
    .{n} (NOLOAD) :
    {{
        . = ALIGN(4);
        *(.{n} .{n}.*)
        . = ALIGN(4);
    }} > {n}
"
        ));
    }
    s.push_str("}\n");
    Ok(s)
}
