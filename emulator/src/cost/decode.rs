//! Decoding: capstone turns a translated block's bytes into instructions once,
//! and each is reduced to the few facts the cost models need: its class,
//! registers it reads for addressing, registers it writes, transfer counts and
//! branch behaviour.

use capstone::arch::arm::{ArchExtraMode, ArchMode, ArmOperandType};
use capstone::arch::{BuildsCapstone, BuildsCapstoneExtraMode, DetailsArchInsn};
use capstone::Capstone;

/// Bit mask of core registers r0..r15 (bit n = rn).
pub type RegMask = u16;

/// Register number of the program counter in a [`RegMask`].
pub const PC: u16 = 1 << 15;
/// Register number of the stack pointer in a [`RegMask`].
pub const SP: u16 = 1 << 13;

/// What an instruction is, as far as timing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Data processing: moves, arithmetic, logic, shifts, compares, bitfield, extend.
    Alu,
    /// Data processing with a shifted register operand (matters on Cortex-M7).
    AluShifted,
    /// DSP/SIMD data processing: parallel add/sub, saturation, packing, reverse.
    Dsp,
    /// 32-bit multiply, including MLA/MLS.
    Mul,
    /// Multiply-accumulate into a register (MLA, MLS).
    Mla,
    /// Long multiply (SMULL, UMULL, SMLAL, UMLAL, UMAAL).
    MulLong,
    /// DSP multiplies (SMLAD, SMUAD, SMULxy, SMLAxy, SMMUL, SMLALD...).
    MulDsp,
    /// SDIV/UDIV.
    Div,
    /// Single load.
    Load,
    /// Single store.
    Store,
    /// LDRD.
    LoadDouble,
    /// STRD.
    StoreDouble,
    /// LDM/POP.
    LoadMultiple,
    /// STM/PUSH.
    StoreMultiple,
    /// LDREX/STREX and friends.
    Exclusive,
    /// B, B.W (unconditional, direct).
    Branch,
    /// `B<cond>`.
    CondBranch,
    /// CBZ/CBNZ.
    CompareBranch,
    /// BL/BLX (calls).
    Call,
    /// BX/indirect branch through a register.
    BranchIndirect,
    /// TBB/TBH.
    TableBranch,
    /// IT.
    It,
    /// NOP and hints.
    Nop,
    /// DMB/DSB/ISB.
    Barrier,
    /// WFI/WFE/SEV.
    Sleep,
    /// BKPT (semihosting) and SVC.
    Trap,
    /// MRS/MSR/CPS.
    System,
    /// Single-precision FP arithmetic (VADD, VSUB, VMUL, VNEG, VABS, VCMP, VCVT, VMOV imm/reg).
    FpAlu,
    /// FP multiply-accumulate (VMLA, VMLS, VNMLA, VFMA...).
    FpMac,
    /// VDIV/VSQRT.
    FpDivSqrt,
    /// VLDR.
    FpLoad,
    /// VSTR.
    FpStore,
    /// VLDM/VPOP.
    FpLoadMultiple,
    /// VSTM/VPUSH.
    FpStoreMultiple,
    /// VMOV between core and FP registers.
    FpMove,
    /// VMRS/VMSR.
    FpSystem,
    /// Undecodable or not an ARMv7-M instruction.
    Undefined,
}

impl Class {
    /// Whether the instruction needs an FPU.
    pub fn is_fp(self) -> bool {
        matches!(
            self,
            Class::FpAlu
                | Class::FpMac
                | Class::FpDivSqrt
                | Class::FpLoad
                | Class::FpStore
                | Class::FpLoadMultiple
                | Class::FpStoreMultiple
                | Class::FpMove
                | Class::FpSystem
        )
    }

    /// Whether the instruction transfers a register list (LDM/STM, PUSH/POP,
    /// VLDM/VSTM, VPUSH/VPOP).
    pub fn is_multiple(self) -> bool {
        matches!(
            self,
            Class::LoadMultiple
                | Class::StoreMultiple
                | Class::FpLoadMultiple
                | Class::FpStoreMultiple
        )
    }

    /// Whether the instruction reads memory.
    pub fn is_load(self) -> bool {
        matches!(
            self,
            Class::Load
                | Class::LoadDouble
                | Class::LoadMultiple
                | Class::FpLoad
                | Class::FpLoadMultiple
                | Class::Exclusive
        )
    }

    /// Whether the instruction reads or writes memory.
    pub fn is_memory(self) -> bool {
        self.is_load()
            || matches!(
                self,
                Class::Store
                    | Class::StoreDouble
                    | Class::StoreMultiple
                    | Class::FpStore
                    | Class::FpStoreMultiple
            )
    }

    /// Whether the instruction needs the DSP extension.
    pub fn is_dsp(self) -> bool {
        matches!(self, Class::Dsp | Class::MulDsp)
    }
}

/// One decoded instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    /// Address.
    pub addr: u32,
    /// Length in bytes: 2 or 4.
    pub len: u8,
    /// Timing class.
    pub class: Class,
    /// Registers transferred by LDM/STM/PUSH/POP/VLDM/VSTM (words for FP doubles count 2).
    pub transfers: u8,
    /// Core registers written.
    pub writes: RegMask,
    /// Core registers read (all sources).
    pub reads: RegMask,
    /// Base and index registers of a memory operand.
    pub addr_regs: RegMask,
    /// Registers read through a shift (an inline-shifted second operand).
    pub shifted_regs: RegMask,
    /// Whether a memory operand writes its base back.
    pub writeback: bool,
    /// Whether the FP operation is double precision.
    pub double: bool,
    /// Direct branch target, for B/BL/`B<cond>`/CBZ.
    pub target: Option<u32>,
    /// Operands in assembly order, for the data-flow questions the machine
    /// asks of a block (which loads read through which register).
    pub operands: Vec<Operand>,
    /// The mnemonic, for listings and errors.
    pub mnemonic: String,
}

/// One operand, reduced to what the machine's data-flow analysis needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A core register, r0..r15.
    Core(u8),
    /// An FP or other non-core register.
    Other,
    /// An immediate.
    Imm(i32),
    /// A memory operand: base register, index register, displacement.
    Mem {
        /// Base register.
        base: u8,
        /// Index register, if any.
        index: Option<u8>,
        /// Signed displacement in bytes.
        disp: i32,
    },
}

impl Insn {
    /// Whether the instruction can change the flow of control (ends a block).
    pub fn writes_pc(&self) -> bool {
        self.writes & PC != 0
            || matches!(
                self.class,
                Class::Branch
                    | Class::CondBranch
                    | Class::CompareBranch
                    | Class::Call
                    | Class::BranchIndirect
                    | Class::TableBranch
            )
    }

    /// Whether the instruction changes SP by an amount not known statically.
    pub fn sp_dynamic(&self) -> bool {
        self.writes & SP != 0 && !matches!(self.class, Class::LoadMultiple | Class::StoreMultiple)
    }
}

/// Decoder for Thumb-2 M-profile code.
pub struct Decoder {
    cs: Capstone,
    /// What each capstone register id stands for, looked up once: capstone
    /// names registers by allocating a string per call.
    registers: Vec<Register>,
}

/// A capstone register id's meaning here.
#[derive(Debug, Clone, Copy, Default)]
struct Register {
    /// Its core register's bit (R0-R15), or 0.
    core: RegMask,
    /// A D register: two words.
    double: bool,
}

/// Capstone's ARM register ids are below this.
const REGISTER_IDS: u16 = 512;

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decoder")
    }
}

impl Decoder {
    /// A Thumb-2 M-class decoder with details on. Capstone 5 treats the FPU
    /// as single-precision only unless its V8 mode is on, which would leave the
    /// Cortex-M7's FPv5 double-precision instructions (VCVT.F64.F32, VMUL.F64)
    /// undecoded; V8 mode decodes them, and the ARMv8-A encodings it also
    /// admits lie outside ARMv7-M, whose core faults on them when they run.
    pub fn new() -> Decoder {
        let cs = Capstone::new()
            .arm()
            .mode(ArchMode::Thumb)
            .extra_mode([ArchExtraMode::MClass, ArchExtraMode::V8].into_iter())
            .detail(true)
            .build()
            .expect("capstone supports Thumb M-class with details");
        let registers = (0..REGISTER_IDS)
            .map(|id| {
                cs.reg_name(capstone::RegId(id))
                    .map_or(Register::default(), |name| Register {
                        core: core_mask(&name),
                        double: name.starts_with('d'),
                    })
            })
            .collect();
        Decoder { cs, registers }
    }

    /// Decodes `bytes` at `addr`; undecodable bytes become one `Undefined` halfword each.
    pub fn decode(&self, addr: u32, bytes: &[u8]) -> Vec<Insn> {
        let mut out = Vec::new();
        let mut offset = 0usize;
        while offset + 2 <= bytes.len() {
            let at = addr + offset as u32;
            let decoded = self
                .cs
                .disasm_count(&bytes[offset..], u64::from(at), 1)
                .ok();
            match decoded.as_ref().and_then(|insns| insns.iter().next()) {
                Some(insn) => {
                    let parsed = self.describe(insn);
                    offset += usize::from(parsed.len);
                    out.push(parsed);
                }
                None => {
                    out.push(Insn {
                        addr: at,
                        len: 2,
                        class: Class::Undefined,
                        transfers: 0,
                        writes: 0,
                        reads: 0,
                        addr_regs: 0,
                        shifted_regs: 0,
                        writeback: false,
                        double: false,
                        target: None,
                        operands: Vec::new(),
                        mnemonic: "(undefined)".into(),
                    });
                    offset += 2;
                }
            }
        }
        out
    }

    fn describe(&self, insn: &capstone::Insn) -> Insn {
        let name_owned = self.cs.insn_name(insn.id()).unwrap_or_default();
        let name = name_owned.as_str();
        let mnemonic = insn.mnemonic().unwrap_or_default().to_owned();
        let mut reads: RegMask = 0;
        let mut writes: RegMask = 0;
        let mut addr_regs: RegMask = 0;
        let mut writeback = false;
        // Words each register operand stands for (2 for a D register), in order.
        let mut reg_words: Vec<(RegMask, u8)> = Vec::new();
        let mut operands = Vec::new();
        let mut target = None;
        let mut shifted = false;
        let mut shifted_regs: RegMask = 0;
        let mut double = mnemonic.contains(".f64");
        if let Ok(detail) = self.cs.insn_detail(insn) {
            for reg in detail.regs_read() {
                reads |= self.core_reg(reg.0);
            }
            for reg in detail.regs_write() {
                writes |= self.core_reg(reg.0);
            }
            if let capstone::arch::ArchDetail::ArmDetail(arm) = detail.arch_detail() {
                writeback = arm.writeback();
                for op in arm.operands() {
                    let written = op.access.is_some_and(|a| a.is_writable());
                    let shifts = !matches!(op.shift, capstone::arch::arm::ArmShift::Invalid);
                    shifted |= shifts;
                    match op.op_type {
                        ArmOperandType::Reg(reg) => {
                            let mask = self.core_reg(reg.0);
                            if shifts {
                                shifted_regs |= mask;
                            }
                            let is_double = self.register(reg.0).double;
                            double |= is_double;
                            reg_words.push((mask, if is_double { 2 } else { 1 }));
                            operands.push(match mask {
                                0 => Operand::Other,
                                m => Operand::Core(m.trailing_zeros() as u8),
                            });
                            if written {
                                writes |= mask;
                            } else {
                                reads |= mask;
                            }
                        }
                        ArmOperandType::Mem(mem) => {
                            let number = |id: u16| {
                                Some(self.core_reg(id).trailing_zeros() as u8).filter(|&n| n < 16)
                            };
                            if let Some(base) = number(mem.base().0) {
                                let disp = if op.subtracted {
                                    -mem.disp()
                                } else {
                                    mem.disp()
                                };
                                operands.push(Operand::Mem {
                                    base,
                                    index: number(mem.index().0),
                                    disp,
                                });
                            }
                            addr_regs |= self.core_reg(mem.base().0) | self.core_reg(mem.index().0);
                            reads |= addr_regs;
                        }
                        ArmOperandType::Imm(imm) => {
                            operands.push(Operand::Imm(imm));
                            if matches!(name, "b" | "bl" | "cbz" | "cbnz") {
                                target = Some(imm as u32);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let conditional = mnemonic_condition(&mnemonic, name);
        let class = name_candidates(name, &mnemonic)
            .map(|n| classify(n, &mnemonic, conditional, shifted, reads, writes))
            .find(|&c| c != Class::Undefined)
            .unwrap_or(Class::Undefined);
        // PUSH/POP list every operand; LDM/STM/VLDM/VSTM name their base first.
        let stack_form = matches!(name, "push" | "pop" | "vpush" | "vpop");
        let transfers = match class {
            _ if class.is_multiple() => {
                let listed = if stack_form {
                    &reg_words[..]
                } else {
                    reg_words.get(1..).unwrap_or_default()
                };
                if !stack_form {
                    addr_regs |= reg_words.first().map_or(0, |r| r.0);
                }
                listed.iter().map(|r| r.1).sum::<u8>()
            }
            _ => 0,
        };
        Insn {
            addr: insn.address() as u32,
            len: insn.len() as u8,
            class,
            transfers,
            writes,
            reads,
            addr_regs,
            shifted_regs,
            writeback,
            double,
            target,
            operands,
            mnemonic: format!("{} {}", mnemonic, insn.op_str().unwrap_or_default())
                .trim()
                .to_owned(),
        }
    }

    fn register(&self, id: u16) -> Register {
        self.registers
            .get(usize::from(id))
            .copied()
            .unwrap_or_default()
    }

    fn core_reg(&self, id: u16) -> RegMask {
        self.register(id).core
    }
}

/// The bit of the core register capstone calls `name`, or 0.
fn core_mask(name: &str) -> RegMask {
    let n = match name {
        "sb" => 9,
        "sl" => 10,
        "fp" => 11,
        "ip" => 12,
        "sp" => 13,
        "lr" => 14,
        "pc" => 15,
        other => match other.strip_prefix('r').and_then(|n| n.parse::<u16>().ok()) {
            Some(n) if n < 16 => n,
            _ => return 0,
        },
    };
    1 << n
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// Names to classify by, best first: capstone's instruction name, then the
/// mnemonic without its size/type suffix, condition code and flag-setting `s`
/// (capstone names some encodings oddly, e.g. `fconsts` for `vmov.f32 #imm`).
fn name_candidates<'a>(name: &'a str, mnemonic: &'a str) -> impl Iterator<Item = &'a str> {
    let base = mnemonic.split('.').next().unwrap_or_default();
    let uncond = CONDITIONS
        .iter()
        .find_map(|c| base.strip_suffix(c).filter(|rest| rest.len() >= 2))
        .unwrap_or(base);
    let unflag = |n: &'a str| n.strip_suffix('s').unwrap_or(n);
    [name, base, unflag(base), uncond, unflag(uncond)].into_iter()
}

const CONDITIONS: [&str; 16] = [
    "eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
];

/// Whether the mnemonic carries a condition code beyond the base name (B<cond>).
fn mnemonic_condition(mnemonic: &str, name: &str) -> bool {
    let base = mnemonic.split('.').next().unwrap_or_default();
    base.strip_prefix(name)
        .is_some_and(|rest| CONDITIONS.contains(&rest))
}

fn classify(
    name: &str,
    mnemonic: &str,
    conditional: bool,
    shifted: bool,
    reads: RegMask,
    writes: RegMask,
) -> Class {
    match name {
        "b" if conditional => Class::CondBranch,
        "b" => Class::Branch,
        "bl" | "blx" => Class::Call,
        "bx" => Class::BranchIndirect,
        "cbz" | "cbnz" => Class::CompareBranch,
        "tbb" | "tbh" => Class::TableBranch,
        "it" => Class::It,
        "hint" if mnemonic.starts_with("wf") || mnemonic.starts_with("sev") => Class::Sleep,
        "nop" | "yield" | "dbg" | "hint" => Class::Nop,
        "dmb" | "dsb" | "isb" => Class::Barrier,
        "wfi" | "wfe" | "sev" => Class::Sleep,
        "bkpt" | "svc" | "udf" => Class::Trap,
        "mrs" | "msr" | "cps" | "cpsie" | "cpsid" => Class::System,
        "ldr" | "ldrb" | "ldrh" | "ldrsb" | "ldrsh" | "ldrt" | "ldrbt" | "ldrht" | "ldrsbt"
        | "ldrsht" => Class::Load,
        "str" | "strb" | "strh" | "strt" | "strbt" | "strht" => Class::Store,
        "ldrd" => Class::LoadDouble,
        "strd" => Class::StoreDouble,
        "ldm" | "ldmdb" | "ldmia" | "pop" => Class::LoadMultiple,
        "stm" | "stmdb" | "stmia" | "push" => Class::StoreMultiple,
        "ldrex" | "ldrexb" | "ldrexh" | "strex" | "strexb" | "strexh" | "clrex" => Class::Exclusive,
        "pld" | "pli" => Class::Load,
        "mul" => Class::Mul,
        "mla" | "mls" => Class::Mla,
        "smull" | "umull" | "smlal" | "umlal" | "umaal" => Class::MulLong,
        "sdiv" | "udiv" => Class::Div,
        "smlad" | "smladx" | "smlsd" | "smlsdx" | "smuad" | "smuadx" | "smusd" | "smusdx"
        | "smlald" | "smlaldx" | "smlsld" | "smlsldx" | "smmul" | "smmulr" | "smmla" | "smmlar"
        | "smmls" | "smmlsr" | "smulbb" | "smulbt" | "smultb" | "smultt" | "smulwb" | "smulwt"
        | "smlabb" | "smlabt" | "smlatb" | "smlatt" | "smlawb" | "smlawt" | "smlalbb"
        | "smlalbt" | "smlaltb" | "smlaltt" | "usad8" | "usada8" => Class::MulDsp,
        "sadd16" | "sadd8" | "ssub16" | "ssub8" | "sasx" | "ssax" | "uadd16" | "uadd8"
        | "usub16" | "usub8" | "uasx" | "usax" | "qadd" | "qsub" | "qdadd" | "qdsub" | "qadd16"
        | "qadd8" | "qsub16" | "qsub8" | "qasx" | "qsax" | "uqadd16" | "uqadd8" | "uqsub16"
        | "uqsub8" | "uqasx" | "uqsax" | "shadd16" | "shadd8" | "shsub16" | "shsub8" | "shasx"
        | "shsax" | "uhadd16" | "uhadd8" | "uhsub16" | "uhsub8" | "uhasx" | "uhsax" | "ssat16"
        | "usat16" | "sel" | "pkhbt" | "pkhtb" | "sxtb16" | "uxtb16" | "sxtab" | "sxtah"
        | "sxtab16" | "uxtab" | "uxtah" | "uxtab16" => Class::Dsp,
        "vldr" => Class::FpLoad,
        "vstr" => Class::FpStore,
        "vldmia" | "vldmdb" | "vldm" | "vpop" => Class::FpLoadMultiple,
        "vstmia" | "vstmdb" | "vstm" | "vpush" => Class::FpStoreMultiple,
        "vmrs" | "vmsr" => Class::FpSystem,
        "vdiv" | "vsqrt" => Class::FpDivSqrt,
        "vmla" | "vmls" | "vnmla" | "vnmls" | "vfma" | "vfms" | "vfnma" | "vfnms" => Class::FpMac,
        "vmov" if (writes | reads) & !PC != 0 => Class::FpMove,
        n if n.starts_with('v') => Class::FpAlu,
        "ssat" | "usat" | "rev" | "rev16" | "revsh" | "rbit" | "clz" | "sxtb" | "sxth" | "uxtb"
        | "uxth" | "bfi" | "bfc" | "ubfx" | "sbfx" | "mov" | "mvn" | "add" | "adc" | "sub"
        | "sbc" | "rsb" | "and" | "orr" | "orn" | "eor" | "bic" | "lsl" | "lsr" | "asr" | "ror"
        | "rrx" | "cmp" | "cmn" | "tst" | "teq" | "movw" | "movt" | "adr" | "addw" | "subw"
        | "neg"
            if shifted =>
        {
            Class::AluShifted
        }
        "ssat" | "usat" | "rev" | "rev16" | "revsh" | "rbit" | "clz" | "sxtb" | "sxth" | "uxtb"
        | "uxth" | "bfi" | "bfc" | "ubfx" | "sbfx" | "mov" | "mvn" | "add" | "adc" | "sub"
        | "sbc" | "rsb" | "and" | "orr" | "orn" | "eor" | "bic" | "lsl" | "lsr" | "asr" | "ror"
        | "rrx" | "cmp" | "cmn" | "tst" | "teq" | "movw" | "movt" | "adr" | "addw" | "subw"
        | "neg" => Class::Alu,
        _ => Class::Undefined,
    }
}
