//! Firmware images: an ELF file read with goblin into what the machine needs:
//! loadable segments at their load addresses, the vector table's initial SP
//! and reset vector, function symbols for attribution, and the flash and RAM
//! the image occupies.
//!
//! `.data` is placed at its load address (in flash), as on silicon: the
//! firmware's own startup copies it to RAM.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mcubench_reports::input::read_bounded;

use goblin::elf::{header, program_header, section_header, sym, Elf};

use crate::demangle;
use crate::target::{MemoryKind, Target};

/// One loadable piece of the image.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Load (physical) address.
    pub addr: u32,
    /// Bytes present in the file.
    pub data: Vec<u8>,
    /// Bytes occupied in memory, at least `data.len()`.
    pub mem_size: u32,
    /// Whether the segment holds code.
    pub executable: bool,
}

/// A function symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Symbol name as users know it: demangled, bounded
    /// (`demangle::readable`).
    pub name: String,
    /// Start address with the Thumb bit cleared.
    pub addr: u32,
    /// Size in bytes (at least 2).
    pub size: u32,
}

/// Function symbols sorted by address, for address-to-name lookups.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    functions: Vec<Function>,
}

impl Symbols {
    /// Builds the table from functions in any order.
    pub fn new(mut functions: Vec<Function>) -> Symbols {
        functions.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| a.name.cmp(&b.name)));
        functions.dedup_by_key(|f| f.addr);
        // A function ends where the next begins: overlapping sizes would make
        // anything that walks every function's bytes quadratic.
        for i in 1..functions.len() {
            let next = functions[i].addr;
            let f = &mut functions[i - 1];
            f.size = f.size.min(next - f.addr);
        }
        Symbols { functions }
    }

    /// All functions, by address.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// Index of the function containing `addr`.
    pub fn index_of(&self, addr: u32) -> Option<usize> {
        let i = self
            .functions
            .partition_point(|f| f.addr <= addr)
            .checked_sub(1)?;
        let f = &self.functions[i];
        (addr < f.addr.saturating_add(f.size.max(2))).then_some(i)
    }

    /// Name of the function containing `addr`.
    pub fn name_of(&self, addr: u32) -> Option<&str> {
        self.index_of(addr).map(|i| self.functions[i].name.as_str())
    }

    /// Address of a function by exact name.
    pub fn addr_of(&self, name: &str) -> Option<u32> {
        self.functions
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.addr)
    }

    /// `addr` described for error messages: `0x00000123 (in main+0x12)`.
    pub fn describe(&self, addr: u32) -> String {
        match self.index_of(addr) {
            Some(i) => {
                let f = &self.functions[i];
                format!("{addr:#010x} (in {}+{:#x})", f.name, addr - f.addr)
            }
            None => format!("{addr:#010x} (no symbol)"),
        }
    }
}

/// Longest source file name kept for telling functions apart.
const MAX_FILE_NAME: usize = 64;

/// The last path component of an STT_FILE name, bounded.
fn source_file_name(path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    demangle::printable(base.chars().take(MAX_FILE_NAME))
}

/// Local functions that share a name with another function (TFLM's
/// `tflite::(anonymous namespace)::Eval`, one per operator file; a `static`
/// helper in two C files) get their source file appended, `Eval(...) [conv.cc]`,
/// so profiles tell them apart. `files[i]` is the file of local `functions[i]`.
fn name_by_file_where_names_collide(functions: &mut [Function], files: &[Option<String>]) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for f in functions.iter() {
        *count.entry(f.name.as_str()).or_default() += 1;
    }
    let renamed: Vec<Option<String>> = functions
        .iter()
        .zip(files)
        .map(|(f, file)| {
            let file = file.as_ref().filter(|_| count[f.name.as_str()] > 1)?;
            Some(format!("{} [{file}]", f.name))
        })
        .collect();
    for (f, name) in functions.iter_mut().zip(renamed) {
        if let Some(name) = name {
            f.name = name;
        }
    }
}

/// A loaded firmware image.
#[derive(Debug, Clone)]
pub struct Image {
    /// The file it was read from.
    pub path: PathBuf,
    /// SHA-256 of the bytes parsed, lowercase hex: what a comparison of two
    /// runs checks to know they ran the same firmware.
    pub sha256: String,
    /// Loadable segments.
    pub segments: Vec<Segment>,
    /// Initial stack pointer, word 0 of the vector table.
    pub initial_sp: u32,
    /// Reset handler with the Thumb bit set, word 1 of the vector table.
    pub reset: u32,
    /// Address of the vector table (the lowest loadable address).
    pub vector_table: u32,
    /// Function symbols.
    pub symbols: Symbols,
    /// Bytes stored in flash: text, rodata and the initial values of data.
    pub flash_bytes: u64,
    /// Bytes of RAM reserved: data, bss and stack/heap reservations.
    pub ram_bytes: u64,
    /// Address and size of each section making up `ram_bytes`.
    pub ram_sections: Vec<(u32, u64)>,
    /// End of statically allocated RAM (data + bss), where the heap starts.
    pub static_ram_end: Option<u32>,
    /// The SEGGER RTT control block, where the `_SEGGER_RTT` symbol names one.
    pub rtt_control_block: Option<u32>,
    /// Bytes the linker script reserves for the stack: the value of a
    /// `_Min_Stack_Size` (STM32CubeIDE), `__stack_size__` or `__stack_size`
    /// symbol, else the size of a `.stack` section.
    pub stack_reserved: Option<u32>,
}

/// Symbols whose value is the stack size a linker script reserves.
const STACK_SIZE_SYMBOLS: [&str; 3] = ["_Min_Stack_Size", "__stack_size__", "__stack_size"];

/// Why an image could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be read.
    #[error("{path}: cannot read: {error}")]
    Io {
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file is not a usable ELF.
    #[error("{path}: {message}")]
    Malformed {
        /// The image file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The image does not fit the target's memory.
    #[error("{path}: does not fit {target}: {message}")]
    DoesNotFit {
        /// The image file.
        path: PathBuf,
        /// The target.
        target: String,
        /// Which part lies where.
        message: String,
    },
}

/// A copy of `bytes` whose string tables hold only ASCII, each other byte
/// replaced by `?`; `None` if the section headers cannot be read.
fn ascii_string_tables(bytes: &[u8]) -> Option<Vec<u8>> {
    let header = Elf::parse_header(bytes).ok()?;
    let ctx = goblin::container::Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let sections = section_header::SectionHeader::parse(
        bytes,
        usize::try_from(header.e_shoff).ok()?,
        usize::from(header.e_shnum),
        ctx,
    )
    .ok()?;
    let mut out = bytes.to_vec();
    for sh in sections
        .iter()
        .filter(|sh| sh.sh_type == section_header::SHT_STRTAB)
    {
        let start = usize::try_from(sh.sh_offset).ok()?;
        let end = start.checked_add(usize::try_from(sh.sh_size).ok()?)?;
        for b in out
            .get_mut(start..end)?
            .iter_mut()
            .filter(|b| !b.is_ascii())
        {
            *b = b'?';
        }
    }
    Some(out)
}

/// The initial stack pointer and reset vector at the start of `table`, a
/// Cortex-M vector table loaded at `addr`.
fn vector_words(table: &[u8], addr: u32) -> Result<(u32, u32), String> {
    let word = |i: usize| -> Option<u32> {
        let b = table.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (initial_sp, reset) = word(0)
        .zip(word(1))
        .ok_or("the first segment is too short to hold a vector table")?;
    if reset & 1 == 0 {
        return Err(format!(
            "reset vector {reset:#010x} lacks the Thumb bit: not a Cortex-M vector table at {addr:#010x}"
        ));
    }
    Ok((initial_sp, reset))
}

/// Largest ELF file read: far above any MCU image with full debug information.
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

impl Image {
    /// Reads and checks an ELF file.
    pub fn load(path: &Path) -> Result<Image, ImageError> {
        let bytes = read_bounded(path, MAX_IMAGE_BYTES).map_err(|error| ImageError::Io {
            path: path.to_owned(),
            error,
        })?;
        Image::parse(path, &bytes)
    }

    /// Reads a raw flash image, as vendor tools also ship firmware (`.bin`).
    pub fn load_raw(path: &Path, base: u32) -> Result<Image, ImageError> {
        let bytes = read_bounded(path, MAX_IMAGE_BYTES).map_err(|error| ImageError::Io {
            path: path.to_owned(),
            error,
        })?;
        Image::parse_raw(path, &bytes, base)
    }

    /// A raw flash image: `bytes` loaded at `base`, starting with the vector
    /// table. It names no functions and no sections, so its profile is by
    /// address and its RAM use unknown (0); `path` is used in messages only.
    pub fn parse_raw(path: &Path, bytes: &[u8], base: u32) -> Result<Image, ImageError> {
        let malformed = |message: String| ImageError::Malformed {
            path: path.to_owned(),
            message,
        };
        if bytes.is_empty() {
            return Err(malformed("empty file, not a flash image".into()));
        }
        let size = u32::try_from(bytes.len())
            .ok()
            .filter(|&n| u64::from(base) + u64::from(n) <= 1 << 32)
            .ok_or_else(|| {
                malformed(format!(
                    "{} bytes at {base:#010x} run past the 4 GiB address space",
                    bytes.len()
                ))
            })?;
        let (initial_sp, reset) = vector_words(bytes, base).map_err(malformed)?;
        Ok(Image {
            path: path.to_owned(),
            sha256: crate::suite::sha256_hex(bytes),
            segments: vec![Segment {
                addr: base,
                data: bytes.to_vec(),
                mem_size: size,
                executable: true,
            }],
            initial_sp,
            reset,
            vector_table: base,
            symbols: Symbols::default(),
            flash_bytes: u64::from(size),
            ram_bytes: 0,
            ram_sections: Vec::new(),
            static_ram_end: None,
            rtt_control_block: None,
            stack_reserved: None,
        })
    }

    /// Parses ELF bytes; `path` is used in messages only.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Image, ImageError> {
        let malformed = |message: String| ImageError::Malformed {
            path: path.to_owned(),
            message,
        };
        if bytes.is_empty() {
            return Err(malformed("empty file, not an ELF image".into()));
        }
        if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
            return Err(malformed("not an ELF file (bad magic)".into()));
        }
        // goblin refuses a whole image over one name that is not UTF-8; such
        // names are read with their non-ASCII bytes shown as `?` instead.
        let sanitized;
        let elf = match Elf::parse(bytes) {
            Err(e) if e.to_string().contains("utf8") => {
                sanitized = ascii_string_tables(bytes)
                    .ok_or_else(|| malformed(format!("malformed or truncated ELF: {e}")))?;
                Elf::parse(&sanitized)
            }
            parsed => parsed,
        }
        .map_err(|e| malformed(format!("malformed or truncated ELF: {e}")))?;
        if elf.header.e_machine != header::EM_ARM || elf.is_64 {
            return Err(malformed(format!(
                "not a 32-bit ARM ELF (machine {}, {}-bit)",
                header::machine_to_str(elf.header.e_machine),
                if elf.is_64 { 64 } else { 32 }
            )));
        }
        if !elf.little_endian {
            return Err(malformed("big-endian ARM images are not supported".into()));
        }

        let mut segments = Vec::new();
        for ph in elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == program_header::PT_LOAD)
        {
            if ph.p_memsz == 0 {
                continue;
            }
            let start = usize::try_from(ph.p_offset).unwrap_or(usize::MAX);
            let len = usize::try_from(ph.p_filesz).unwrap_or(usize::MAX);
            let data = start
                .checked_add(len)
                .and_then(|end| bytes.get(start..end))
                .ok_or_else(|| {
                    malformed(format!(
                        "segment at {:#010x} extends past the end of the file (truncated?)",
                        ph.p_paddr
                    ))
                })?;
            if ph
                .p_paddr
                .checked_add(ph.p_memsz)
                .is_none_or(|end| end > 1 << 32)
                || ph.p_filesz > ph.p_memsz
            {
                return Err(malformed(format!(
                    "segment at {:#010x} has an impossible size",
                    ph.p_paddr
                )));
            }
            if data.is_empty() {
                continue; // .bss-like: zeroed by the firmware's startup
            }
            segments.push(Segment {
                addr: ph.p_paddr as u32,
                data: data.to_vec(),
                mem_size: ph.p_filesz as u32,
                executable: ph.p_flags & program_header::PF_X != 0,
            });
        }
        segments.sort_by_key(|s| s.addr);
        let first = segments
            .first()
            .ok_or_else(|| malformed("no loadable segments".into()))?;
        let vector_table = first.addr;
        let (initial_sp, reset) = vector_words(&first.data, vector_table).map_err(malformed)?;

        let mut functions = Vec::new();
        // The source file of each local function, from the STT_FILE symbol
        // that leads its compilation unit's locals in the symbol table.
        let mut files: Vec<Option<String>> = Vec::new();
        let mut file = None;
        let mut rtt_control_block = None;
        let mut stack_reserved = None;
        for symbol in elf.syms.iter() {
            if symbol.st_type() == sym::STT_FILE {
                file = elf.strtab.get_at(symbol.st_name).map(source_file_name);
                continue;
            }
            if elf
                .strtab
                .get_at(symbol.st_name)
                .is_some_and(|n| STACK_SIZE_SYMBOLS.contains(&n))
            {
                stack_reserved = Some(symbol.st_value as u32);
            }
            if symbol.st_type() == sym::STT_OBJECT
                && elf.strtab.get_at(symbol.st_name) == Some("_SEGGER_RTT")
            {
                rtt_control_block = Some(symbol.st_value as u32);
            }
            if symbol.st_type() != sym::STT_FUNC || symbol.st_shndx == 0 {
                continue;
            }
            if let Some(name) = elf.strtab.get_at(symbol.st_name).filter(|n| !n.is_empty()) {
                let addr = (symbol.st_value as u32) & !1;
                // A size is believed only as far as the function's own section
                // reaches: a bogus st_size must not make anything read past it.
                let room = elf.section_headers.get(symbol.st_shndx).map_or(0, |sh| {
                    (sh.sh_addr.saturating_add(sh.sh_size)).saturating_sub(u64::from(addr))
                });
                // A size of 0 (hand-written assembly such as newlib's memchr)
                // means "unknown": the function runs to the next one, which
                // `Symbols::new` cuts it at, or to its section's end.
                let size = match symbol.st_size {
                    0 => room,
                    size => size.min(room),
                };
                functions.push(Function {
                    name: demangle::readable(name),
                    addr,
                    size: size.min(u64::from(u32::MAX)) as u32,
                });
                files.push(
                    (symbol.st_bind() == sym::STB_LOCAL)
                        .then(|| file.clone())
                        .flatten(),
                );
            }
        }
        name_by_file_where_names_collide(&mut functions, &files);

        let (mut flash_bytes, mut ram_bytes, mut static_ram_end) = (0u64, 0u64, None::<u32>);
        let mut ram_sections = Vec::new();
        for sh in &elf.section_headers {
            if sh.sh_flags & u64::from(section_header::SHF_ALLOC) == 0 || sh.sh_size == 0 {
                continue;
            }
            let writable = sh.sh_flags & u64::from(section_header::SHF_WRITE) != 0;
            let has_bits = sh.sh_type != section_header::SHT_NOBITS;
            if has_bits {
                flash_bytes += sh.sh_size;
            }
            if writable {
                ram_bytes += sh.sh_size;
                ram_sections.push((sh.sh_addr as u32, sh.sh_size));
                let end = (sh.sh_addr + sh.sh_size) as u32;
                let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or_default();
                if name == ".stack" && stack_reserved.is_none() {
                    stack_reserved = Some(sh.sh_size as u32);
                }
                if !name.contains("stack") && !name.contains("heap") {
                    static_ram_end = Some(static_ram_end.map_or(end, |e: u32| e.max(end)));
                }
            }
        }

        Ok(Image {
            path: path.to_owned(),
            sha256: crate::suite::sha256_hex(bytes),
            segments,
            initial_sp,
            reset,
            vector_table,
            symbols: Symbols::new(functions),
            flash_bytes,
            ram_bytes,
            ram_sections,
            static_ram_end,
            rtt_control_block,
            stack_reserved,
        })
    }

    /// The image's bytes at `[addr, addr + len)`, if one segment holds them all.
    pub fn bytes_at(&self, addr: u32, len: u32) -> Option<&[u8]> {
        let seg = self.segments.iter().find(|s| {
            addr >= s.addr
                && u64::from(addr) + u64::from(len) <= u64::from(s.addr) + s.data.len() as u64
        })?;
        let at = (addr - seg.addr) as usize;
        seg.data.get(at..at + len as usize)
    }

    /// Where the image lies in memory.
    pub fn layout(&self) -> Layout {
        Layout {
            segments: self.segments.iter().map(|s| (s.addr, s.mem_size)).collect(),
            vector_table: self.vector_table,
            initial_sp: self.initial_sp,
            ram_bytes: self.ram_bytes,
        }
    }

    /// Checks that every segment, the vector table and the stack lie in the target's memory.
    pub fn check_fits(&self, target: &Target) -> Result<(), ImageError> {
        self.layout()
            .check_fits(target, &self.symbols)
            .map_err(|message| ImageError::DoesNotFit {
                path: self.path.clone(),
                target: target.name.clone(),
                message,
            })
    }
}

/// Where an image lies in memory: what must fit a target's memory map, kept
/// apart from the image so a trace can carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// Each segment's load address and size in memory, in bytes.
    pub segments: Vec<(u32, u32)>,
    /// Address of the vector table.
    pub vector_table: u32,
    /// Initial stack pointer, word 0 of the vector table.
    pub initial_sp: u32,
    /// RAM the image reserves, in bytes.
    pub ram_bytes: u64,
}

impl Layout {
    /// Checks that every segment, the vector table and the stack lie in
    /// `target`'s memory; `symbols` name what does not.
    pub fn check_fits(&self, target: &Target, symbols: &Symbols) -> Result<(), String> {
        for &(addr, mem_size) in &self.segments {
            let name = symbols
                .name_of(addr)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            if target
                .region_of(u64::from(addr), u64::from(mem_size))
                .is_none()
            {
                return Err(format!(
                    "{mem_size} bytes at {addr:#010x}..{:#010x}{name} lie outside its memory",
                    u64::from(addr) + u64::from(mem_size)
                ));
            }
        }
        match target.region_of(u64::from(self.vector_table), 8) {
            Some(region) if region.access.executable() || region.kind == MemoryKind::Flash => {}
            _ => {
                return Err(format!(
                    "vector table at {:#010x} is not in code memory",
                    self.vector_table
                ))
            }
        }
        let stack_ok = target
            .region_of(u64::from(self.initial_sp.wrapping_sub(4)), 4)
            .is_some_and(|r| r.access.writable());
        if !stack_ok {
            return Err(format!(
                "initial stack pointer {:#010x} is not at the top of writable RAM (the image needs more RAM than the target has)",
                self.initial_sp
            ));
        }
        if self.ram_bytes > target.capacity(&[MemoryKind::Sram, MemoryKind::Tcm, MemoryKind::Ccm]) {
            return Err(format!("needs {} bytes of RAM", self.ram_bytes));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(sp: u32, reset: u32) -> Vec<u8> {
        [sp.to_le_bytes(), reset.to_le_bytes(), [0; 4]].concat()
    }

    #[test]
    fn a_raw_image_is_its_bytes_at_the_address_given() {
        let bytes = table(0x2002_0000, 0x0800_0101);
        let image = Image::parse_raw(Path::new("fw.bin"), &bytes, 0x0800_0000).unwrap();
        assert_eq!((image.initial_sp, image.reset), (0x2002_0000, 0x0800_0101));
        assert_eq!(image.vector_table, 0x0800_0000);
        assert_eq!(image.layout().segments, [(0x0800_0000, 12)]);
        assert_eq!(image.flash_bytes, 12);
        assert!(image.symbols.functions().is_empty());
    }

    #[test]
    fn a_raw_image_that_is_not_a_vector_table_or_does_not_fit_the_address_space_is_refused() {
        let path = Path::new("fw.bin");
        let error =
            |bytes: &[u8], base| Image::parse_raw(path, bytes, base).unwrap_err().to_string();
        assert_eq!(error(&[], 0), "fw.bin: empty file, not a flash image");
        assert!(
            error(&table(0x2000_0000, 0x0800_0100), 0x0800_0000).contains("lacks the Thumb bit")
        );
        assert!(error(&[0; 6], 0x0800_0000).contains("too short to hold a vector table"));
        assert!(error(&table(0, 1), 0xFFFF_FFF8).contains("run past the 4 GiB address space"));
    }
}
