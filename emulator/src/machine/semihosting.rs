//! Arm semihosting (BKPT 0xAB, operation in r0, argument block in r1): enough
//! for newlib's rdimon to work unmodified, and nothing that touches the host:
//! the console is captured, host files cannot be opened, and the clock is the
//! modeled one, so runs stay deterministic.

/// Memory as semihosting sees it.
pub trait Memory {
    /// Reads `buf.len()` bytes at `addr`.
    fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()>;
    /// Writes `data` at `addr`.
    fn write(&mut self, addr: u32, data: &[u8]) -> Option<()>;

    /// Reads a little-endian word.
    fn word(&self, addr: u32) -> Option<u32> {
        let mut b = [0; 4];
        self.read(addr, &mut b)?;
        Some(u32::from_le_bytes(b))
    }
}

/// Operation numbers from the semihosting specification.
mod op {
    pub const OPEN: u32 = 0x01;
    pub const CLOSE: u32 = 0x02;
    pub const WRITEC: u32 = 0x03;
    pub const WRITE0: u32 = 0x04;
    pub const WRITE: u32 = 0x05;
    pub const READ: u32 = 0x06;
    pub const READC: u32 = 0x07;
    pub const ISERROR: u32 = 0x08;
    pub const ISTTY: u32 = 0x09;
    pub const SEEK: u32 = 0x0A;
    pub const FLEN: u32 = 0x0C;
    pub const CLOCK: u32 = 0x10;
    pub const TIME: u32 = 0x11;
    pub const ERRNO: u32 = 0x13;
    pub const GET_CMDLINE: u32 = 0x15;
    pub const HEAPINFO: u32 = 0x16;
    pub const EXIT: u32 = 0x18;
    pub const EXIT_EXTENDED: u32 = 0x20;
    pub const ELAPSED: u32 = 0x30;
    pub const TICKFREQ: u32 = 0x31;
}

/// `ADP_Stopped_ApplicationExit`: the program ended normally.
const APPLICATION_EXIT: u32 = 0x20026;
/// The feature file newlib opens to learn about SYS_EXIT_EXTENDED and stdout/stderr.
const FEATURES_FILE: &str = ":semihosting-features";
/// "SHFB" magic, then feature byte 0: EXIT_EXTENDED (bit 0) and STDOUT_STDERR (bit 1).
const FEATURES: [u8; 5] = [b'S', b'H', b'F', b'B', 0b11];
/// EBADF, returned by SYS_ERRNO after a failed call.
const EBADF: u32 = 9;
/// Most bytes one SYS_WRITE takes; the caller's C library writes the rest in
/// further calls, as it does when a host writes short.
const MAX_WRITE_CHUNK: u32 = 64 << 10;
/// ENOENT, returned by SYS_ERRNO after a failed open.
const ENOENT: u32 = 2;

/// Where the firmware's heap and stack are, for SYS_HEAPINFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeapInfo {
    /// Heap base.
    pub heap_base: u32,
    /// Heap limit.
    pub heap_limit: u32,
    /// Stack base (its highest address).
    pub stack_base: u32,
    /// Stack limit.
    pub stack_limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handle {
    Stdin,
    Stdout,
    Stderr,
    Features { pos: usize },
}

/// What a call asks of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Continue with r0 set to this value.
    Return(u32),
    /// The firmware exits with this status.
    Exit(i32),
}

/// Semihosting state of one run.
#[derive(Debug, Clone, Default)]
pub struct Semihosting {
    /// Everything written to the console (stdout and stderr, in order).
    pub output: Vec<u8>,
    handles: Vec<Option<Handle>>,
    errno: u32,
    /// The command line the firmware sees.
    pub cmdline: String,
    /// Answer to SYS_HEAPINFO.
    pub heap: HeapInfo,
}

/// The modeled time at the call.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Cycles so far.
    pub cycles: u64,
    /// Core clock in Hz.
    pub hz: u64,
}

impl Semihosting {
    /// State for a run with this command line and memory layout. Handles 1
    /// and 2 are the console's stdout and stderr from the start, as file
    /// descriptors are on a host, for firmware that writes without opening.
    pub fn new(cmdline: String, heap: HeapInfo) -> Semihosting {
        Semihosting {
            cmdline,
            heap,
            handles: vec![Some(Handle::Stdout), Some(Handle::Stderr)],
            ..Semihosting::default()
        }
    }

    /// Executes operation `op` with argument `arg` (r1).
    pub fn call(&mut self, op: u32, arg: u32, mem: &mut dyn Memory, clock: Clock) -> Outcome {
        match self.dispatch(op, arg, mem, clock) {
            Some(outcome) => outcome,
            None => {
                self.errno = EBADF;
                Outcome::Return(u32::MAX)
            }
        }
    }

    fn dispatch(
        &mut self,
        op: u32,
        arg: u32,
        mem: &mut dyn Memory,
        clock: Clock,
    ) -> Option<Outcome> {
        let param = |i: u32| mem.word(arg.wrapping_add(4 * i));
        let ret = |v: u32| Some(Outcome::Return(v));
        match op {
            op::WRITEC => {
                let mut c = [0u8];
                mem.read(arg, &mut c)?;
                self.output.push(c[0]);
                ret(0)
            }
            op::WRITE0 => {
                let text = read_c_string(mem, arg)?;
                self.output.extend_from_slice(&text);
                ret(0)
            }
            op::OPEN => {
                let (name_ptr, mode, len) = (param(0)?, param(1)?, param(2)?);
                let mut name = vec![0; len.min(256) as usize];
                mem.read(name_ptr, &mut name)?;
                let handle = match (name.as_slice(), mode) {
                    (b":tt", 0..=3) => Handle::Stdin,
                    (b":tt", 4..=7) => Handle::Stdout,
                    (b":tt", _) => Handle::Stderr,
                    (n, _) if n == FEATURES_FILE.as_bytes() => Handle::Features { pos: 0 },
                    _ => {
                        self.errno = ENOENT;
                        return ret(u32::MAX);
                    }
                };
                self.handles.push(Some(handle));
                ret(self.handles.len() as u32)
            }
            op::CLOSE => {
                let slot = self.handle_slot(param(0)?)?;
                self.handles[slot] = None;
                ret(0)
            }
            op::WRITE => {
                let (h, ptr, len) = (param(0)?, param(1)?, param(2)?);
                match self.handle(h)? {
                    // At most one chunk per call, returning what is left as
                    // the call allows: a length taken from the firmware
                    // never sizes a host allocation.
                    Handle::Stdout | Handle::Stderr => {
                        let mut data = vec![0; len.min(MAX_WRITE_CHUNK) as usize];
                        mem.read(ptr, &mut data)?;
                        self.output.extend_from_slice(&data);
                        ret(len - data.len() as u32)
                    }
                    _ => None,
                }
            }
            op::READ => {
                let (h, ptr, len) = (param(0)?, param(1)?, param(2)?);
                let slot = self.handle_slot(h)?;
                match self.handles[slot] {
                    Some(Handle::Features { pos }) => {
                        let chunk = &FEATURES[pos.min(FEATURES.len())..];
                        let n = chunk.len().min(len as usize);
                        mem.write(ptr, &chunk[..n])?;
                        self.handles[slot] = Some(Handle::Features { pos: pos + n });
                        ret(len - n as u32)
                    }
                    // The console has no input: end of file.
                    Some(Handle::Stdin) => ret(len),
                    _ => None,
                }
            }
            op::READC => ret(u32::MAX),
            op::ISERROR => ret(u32::from((param(0)? as i32) < 0)),
            op::ISTTY => match self.handle(param(0)?)? {
                Handle::Features { .. } => ret(0),
                _ => ret(1),
            },
            op::SEEK => {
                let (h, pos) = (param(0)?, param(1)?);
                let slot = self.handle_slot(h)?;
                match self.handles[slot] {
                    Some(Handle::Features { .. }) => {
                        self.handles[slot] = Some(Handle::Features { pos: pos as usize });
                        ret(0)
                    }
                    _ => None,
                }
            }
            op::FLEN => match self.handle(param(0)?)? {
                Handle::Features { .. } => ret(FEATURES.len() as u32),
                _ => ret(0),
            },
            op::CLOCK => ret((u128::from(clock.cycles) * 100 / u128::from(clock.hz.max(1))) as u32),
            // Wall-clock time would break determinism: the firmware's epoch is 0.
            op::TIME => ret(0),
            op::ERRNO => ret(self.errno),
            op::GET_CMDLINE => {
                let (buf, len) = (param(0)?, param(1)?);
                let mut text = self.cmdline.clone().into_bytes();
                text.truncate(len.saturating_sub(1) as usize);
                text.push(0);
                mem.write(buf, &text)?;
                mem.write(arg + 4, &((text.len() - 1) as u32).to_le_bytes())?;
                ret(0)
            }
            op::HEAPINFO => {
                let block = param(0)?;
                let h = self.heap;
                for (i, v) in [h.heap_base, h.heap_limit, h.stack_base, h.stack_limit]
                    .into_iter()
                    .enumerate()
                {
                    mem.write(block + 4 * i as u32, &v.to_le_bytes())?;
                }
                ret(0)
            }
            op::EXIT => Some(Outcome::Exit(if arg == APPLICATION_EXIT { 0 } else { 1 })),
            op::EXIT_EXTENDED => {
                let (reason, code) = (param(0)?, param(1)?);
                Some(Outcome::Exit(if reason == APPLICATION_EXIT {
                    code as i32
                } else {
                    1
                }))
            }
            op::ELAPSED => {
                let block = param(0).map(|_| arg)?;
                mem.write(block, &clock.cycles.to_le_bytes())?;
                ret(0)
            }
            op::TICKFREQ => ret(clock.hz as u32),
            _ => None,
        }
    }

    fn handle_slot(&self, h: u32) -> Option<usize> {
        let slot = (h as usize).checked_sub(1)?;
        self.handles.get(slot)?.as_ref()?;
        Some(slot)
    }

    fn handle(&self, h: u32) -> Option<Handle> {
        self.handles[self.handle_slot(h)?]
    }
}

fn read_c_string(mem: &dyn Memory, mut addr: u32) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 1];
    // Bounded so a missing terminator cannot run through all of memory.
    while out.len() < 1 << 20 {
        mem.read(addr, &mut chunk)?;
        if chunk[0] == 0 {
            return Some(out);
        }
        out.push(chunk[0]);
        addr = addr.wrapping_add(1);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ram(Vec<u8>);

    impl Memory for Ram {
        fn read(&self, addr: u32, buf: &mut [u8]) -> Option<()> {
            buf.copy_from_slice(self.0.get(addr as usize..addr as usize + buf.len())?);
            Some(())
        }
        fn write(&mut self, addr: u32, data: &[u8]) -> Option<()> {
            self.0
                .get_mut(addr as usize..addr as usize + data.len())?
                .copy_from_slice(data);
            Some(())
        }
    }

    const CLOCK: Clock = Clock {
        cycles: 1_000_000,
        hz: 100_000_000,
    };

    fn ram_with(at: usize, bytes: &[u8]) -> Ram {
        let mut ram = Ram(vec![0; 4096]);
        ram.0[at..at + bytes.len()].copy_from_slice(bytes);
        ram
    }

    fn words(ram: &mut Ram, at: u32, values: &[u32]) {
        for (i, v) in values.iter().enumerate() {
            ram.write(at + 4 * i as u32, &v.to_le_bytes()).unwrap();
        }
    }

    /// A length of 0xFFFFFFFF once sized a 4 GiB host buffer: now one call
    /// takes a chunk and returns how much is left, as a short write does.
    #[test]
    fn a_huge_write_length_takes_one_chunk() {
        let mut ram = Ram(vec![b'x'; 1 << 17]);
        ram.write(0x100, b":tt\0").unwrap();
        let mut sh = Semihosting::default();
        words(&mut ram, 0, &[0x100, 4, 3]);
        assert_eq!(sh.call(op::OPEN, 0, &mut ram, CLOCK), Outcome::Return(1));
        words(&mut ram, 0, &[1, 0x200, u32::MAX]);
        assert_eq!(
            sh.call(op::WRITE, 0, &mut ram, CLOCK),
            Outcome::Return(u32::MAX - MAX_WRITE_CHUNK)
        );
        assert_eq!(sh.output.len(), MAX_WRITE_CHUNK as usize);
    }

    #[test]
    fn write0_and_writec_reach_the_console() {
        let mut ram = ram_with(100, b"hi\0!");
        let mut sh = Semihosting::default();
        assert_eq!(
            sh.call(op::WRITE0, 100, &mut ram, CLOCK),
            Outcome::Return(0)
        );
        assert_eq!(
            sh.call(op::WRITEC, 103, &mut ram, CLOCK),
            Outcome::Return(0)
        );
        assert_eq!(sh.output, b"hi!");
    }

    #[test]
    fn rdimon_opens_tt_and_reads_the_feature_file() {
        let mut ram = ram_with(200, b":tt\0:semihosting-features\0");
        let mut sh = Semihosting::new(String::new(), HeapInfo::default());
        words(&mut ram, 0, &[200, 4, 3]);
        assert_eq!(sh.call(op::OPEN, 0, &mut ram, CLOCK), Outcome::Return(3));
        words(&mut ram, 0, &[204, 0, FEATURES_FILE.len() as u32]);
        assert_eq!(sh.call(op::OPEN, 0, &mut ram, CLOCK), Outcome::Return(4));
        words(&mut ram, 0, &[4]);
        assert_eq!(sh.call(op::FLEN, 0, &mut ram, CLOCK), Outcome::Return(5));
        words(&mut ram, 0, &[4, 300, 5]);
        assert_eq!(sh.call(op::READ, 0, &mut ram, CLOCK), Outcome::Return(0));
        assert_eq!(&ram.0[300..305], &FEATURES);
        ram.0[400..405].copy_from_slice(b"data\n");
        words(&mut ram, 0, &[3, 400, 5]);
        assert_eq!(sh.call(op::WRITE, 0, &mut ram, CLOCK), Outcome::Return(0));
        // Handle 2 is stderr without an open.
        words(&mut ram, 0, &[2, 400, 5]);
        assert_eq!(sh.call(op::WRITE, 0, &mut ram, CLOCK), Outcome::Return(0));
        assert_eq!(sh.output, b"data\ndata\n");
    }

    #[test]
    fn host_files_cannot_be_opened() {
        let mut ram = ram_with(200, b"/etc/passwd\0");
        let mut sh = Semihosting::default();
        words(&mut ram, 0, &[200, 0, 11]);
        assert_eq!(
            sh.call(op::OPEN, 0, &mut ram, CLOCK),
            Outcome::Return(u32::MAX)
        );
        assert_eq!(
            sh.call(op::ERRNO, 0, &mut ram, CLOCK),
            Outcome::Return(ENOENT)
        );
    }

    #[test]
    fn exits_carry_their_status() {
        let mut ram = Ram(vec![0; 64]);
        let mut sh = Semihosting::default();
        assert_eq!(
            sh.call(op::EXIT, APPLICATION_EXIT, &mut ram, CLOCK),
            Outcome::Exit(0)
        );
        assert_eq!(
            sh.call(op::EXIT, 0x20023, &mut ram, CLOCK),
            Outcome::Exit(1)
        );
        words(&mut ram, 0, &[APPLICATION_EXIT, 3]);
        assert_eq!(
            sh.call(op::EXIT_EXTENDED, 0, &mut ram, CLOCK),
            Outcome::Exit(3)
        );
    }

    #[test]
    fn clock_and_elapsed_follow_modeled_cycles() {
        let mut ram = Ram(vec![0; 64]);
        let mut sh = Semihosting::default();
        assert_eq!(sh.call(op::CLOCK, 0, &mut ram, CLOCK), Outcome::Return(1));
        assert_eq!(sh.call(op::ELAPSED, 8, &mut ram, CLOCK), Outcome::Return(0));
        assert_eq!(ram.word(8), Some(1_000_000));
        assert_eq!(
            sh.call(op::TICKFREQ, 0, &mut ram, CLOCK),
            Outcome::Return(100_000_000)
        );
    }

    #[test]
    fn heapinfo_and_cmdline_are_written_back() {
        let mut ram = Ram(vec![0; 256]);
        let heap = HeapInfo {
            heap_base: 1,
            heap_limit: 2,
            stack_base: 3,
            stack_limit: 4,
        };
        let mut sh = Semihosting::new("fw.elf --fast".into(), heap);
        words(&mut ram, 0, &[64]);
        assert_eq!(
            sh.call(op::HEAPINFO, 0, &mut ram, CLOCK),
            Outcome::Return(0)
        );
        assert_eq!((ram.word(64), ram.word(76)), (Some(1), Some(4)));
        words(&mut ram, 0, &[128, 100]);
        assert_eq!(
            sh.call(op::GET_CMDLINE, 0, &mut ram, CLOCK),
            Outcome::Return(0)
        );
        assert_eq!(&ram.0[128..142], b"fw.elf --fast\0");
        assert_eq!(ram.word(4), Some(13));
    }
}
