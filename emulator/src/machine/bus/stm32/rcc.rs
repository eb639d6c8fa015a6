//! Reset and clock control: the oscillators, the main PLL, the system clock
//! switch and the bus prescalers, and from them the clocks the core and the
//! peripherals run at.
//!
//! Oscillators and PLLs lock at once: a ready flag reads what its enable bit
//! holds (the main PLL only with a valid configuration and a running input,
//! HSE only when the board has a crystal). The system clock switch follows
//! SW as soon as the selected source is ready, as the hardware does once the
//! source is stable, and an oscillator feeding the system clock cannot be
//! switched off. Enable and reset registers keep what is written.
//!
//! Until the firmware first writes a register of the clock tree (oscillators,
//! PLL, clock switch and prescalers) the target's configured clock stays in
//! force; from that write on, every RCC write puts the clocks computed here
//! in force. Enabling peripheral clocks alone does not end the configured clock. The HSE crystal is 8 MHz (25 MHz on the H7) unless
//! the target file gives a reset entry at offset 0xFFFF_FFF0 holding its
//! frequency in Hz; 0 means no crystal, so HSERDY never sets.

use super::{name_in, reset_file, reset_value, Family, RegDef, HSE_OFFSET};
use crate::machine::bus::{merge, BusContext, BusError, Peripheral, RegisterFile};
use crate::machine::clock::Clocks;
use crate::target::{PeripheralSpec, Target};

/// Registers whose writes program the clock tree, across the families.
const CLOCK_TREE: [&str; 12] = [
    "CR",
    "CFGR",
    "PLLCFGR",
    "ICSCR",
    "D1CFGR",
    "D2CFGR",
    "D3CFGR",
    "PLLCKSELR",
    "PLL1DIVR",
    "PLL1FRACR",
    "CDCFGR1",
    "CDCFGR2",
];

/// RM0008 section 7.3.11 register map; reset values from ST's STM32F103 SVD
/// (v1.2). HSICAL (CR 15:8) is factory-trimmed on a real part and reads 0 here.
const F1_REGS: &[RegDef] = &[
    (0x00, "CR", 0x0000_0083),
    (0x04, "CFGR", 0),
    (0x08, "CIR", 0),
    (0x0C, "APB2RSTR", 0),
    (0x10, "APB1RSTR", 0),
    (0x14, "AHBENR", 0x0000_0014),
    (0x18, "APB2ENR", 0),
    (0x1C, "APB1ENR", 0),
    (0x20, "BDCR", 0),
    (0x24, "CSR", 0x0C00_0000),
];

/// RM0090 section 7.3.24 register map; reset values from ST's STM32F407 SVD
/// (v2.0): PLLCFGR 0x24003010 (M 16, N 192, P 2, Q 4 from HSI), AHB1ENR with
/// CCMDATARAMEN, CSR with the power-on reset flags.
const F4_REGS: &[RegDef] = &[
    (0x00, "CR", 0x0000_0083),
    (0x04, "PLLCFGR", 0x2400_3010),
    (0x08, "CFGR", 0),
    (0x0C, "CIR", 0),
    (0x10, "AHB1RSTR", 0),
    (0x14, "AHB2RSTR", 0),
    (0x18, "AHB3RSTR", 0),
    (0x20, "APB1RSTR", 0),
    (0x24, "APB2RSTR", 0),
    (0x30, "AHB1ENR", 0x0010_0000),
    (0x34, "AHB2ENR", 0),
    (0x38, "AHB3ENR", 0),
    (0x40, "APB1ENR", 0),
    (0x44, "APB2ENR", 0),
    (0x50, "AHB1LPENR", 0x7E67_91FF),
    (0x54, "AHB2LPENR", 0x0000_00F1),
    (0x58, "AHB3LPENR", 0x0000_0001),
    (0x60, "APB1LPENR", 0x36FE_C9FF),
    (0x64, "APB2LPENR", 0x0007_5F33),
    (0x70, "BDCR", 0),
    (0x74, "CSR", 0x0E00_0000),
    (0x80, "SSCGR", 0),
    (0x84, "PLLI2SCFGR", 0x2000_3000),
];

/// RM0385 section 5.3.27 register map: the F4 map plus PLLSAI and the
/// dedicated clock registers. Reset values from ST's STM32F746 SVD (v2.4),
/// except DCKCFGR1/2, where that SVD repeats the PLL reset value; they reset
/// to 0 (RM0385 5.3.25/26, recalled, not re-read).
const F7_REGS: &[RegDef] = &[
    (0x00, "CR", 0x0000_0083),
    (0x04, "PLLCFGR", 0x2400_3010),
    (0x08, "CFGR", 0),
    (0x0C, "CIR", 0),
    (0x10, "AHB1RSTR", 0),
    (0x14, "AHB2RSTR", 0),
    (0x18, "AHB3RSTR", 0),
    (0x20, "APB1RSTR", 0),
    (0x24, "APB2RSTR", 0),
    (0x30, "AHB1ENR", 0x0010_0000),
    (0x34, "AHB2ENR", 0),
    (0x38, "AHB3ENR", 0),
    (0x40, "APB1ENR", 0),
    (0x44, "APB2ENR", 0),
    (0x50, "AHB1LPENR", 0x7E67_91FF),
    (0x54, "AHB2LPENR", 0x0000_00F1),
    (0x58, "AHB3LPENR", 0x0000_0001),
    (0x60, "APB1LPENR", 0x36FE_C9FF),
    (0x64, "APB2LPENR", 0x0007_5F33),
    (0x70, "BDCR", 0),
    (0x74, "CSR", 0x0E00_0000),
    (0x80, "SSCGR", 0),
    (0x84, "PLLI2SCFGR", 0x2000_3000),
    (0x88, "PLLSAICFGR", 0x2000_3000),
    (0x8C, "DCKCFGR1", 0),
    (0x90, "DCKCFGR2", 0),
];

/// RM0432 section 6.4.36 register map; reset values from ST's STM32L4R5 SVD
/// (v1.6): MSI on at range 6 (4 MHz), PLL M/N/R at 1/16/2, FLASHEN set.
const L4_REGS: &[RegDef] = &[
    (0x00, "CR", 0x0000_0063),
    (0x04, "ICSCR", 0x1000_0000),
    (0x08, "CFGR", 0),
    (0x0C, "PLLCFGR", 0x0000_1000),
    (0x10, "PLLSAI1CFGR", 0x0000_1000),
    (0x14, "PLLSAI2CFGR", 0x0000_1000),
    (0x18, "CIER", 0),
    (0x1C, "CIFR", 0),
    (0x20, "CICR", 0),
    (0x28, "AHB1RSTR", 0),
    (0x2C, "AHB2RSTR", 0),
    (0x30, "AHB3RSTR", 0),
    (0x38, "APB1RSTR1", 0),
    (0x3C, "APB1RSTR2", 0),
    (0x40, "APB2RSTR", 0),
    (0x48, "AHB1ENR", 0x0000_0100),
    (0x4C, "AHB2ENR", 0),
    (0x50, "AHB3ENR", 0),
    (0x58, "APB1ENR1", 0),
    (0x5C, "APB1ENR2", 0),
    (0x60, "APB2ENR", 0),
    (0x68, "AHB1SMENR", 0x0001_1303),
    (0x6C, "AHB2SMENR", 0x0005_32FF),
    (0x70, "AHB3SMENR", 0x0000_0101),
    (0x78, "APB1SMENR1", 0xF2FE_CA3F),
    (0x7C, "APB1SMENR2", 0x0000_0025),
    (0x80, "APB2SMENR", 0x0167_7C01),
    (0x88, "CCIPR", 0),
    (0x90, "BDCR", 0),
    (0x94, "CSR", 0x0C00_0600),
    (0x98, "CRRCR", 0),
    (0x9C, "CCIPR2", 0),
];

/// RM0433 section 8.7 register map; reset values from ST's STM32H743 SVD
/// (2023) except CR: HSION, HSIRDY and HSIDIVF set, 0x00000025 (RM0433
/// 8.7.2, recalled, not re-read; the SVD's 0x83 is the F4 value and puts
/// HSIRDY at the H7's HSIKERON). The C1_ registers at 0x130..0x17C are the
/// single-core H743's aliases of those at 0xD0..0x11C.
const H7_REGS: &[RegDef] = &[
    (0x00, "CR", 0x0000_0025),
    (0x04, "ICSCR", 0x4000_0000),
    (0x08, "CRRCR", 0),
    (0x10, "CFGR", 0),
    (0x18, "D1CFGR", 0),
    (0x1C, "D2CFGR", 0),
    (0x20, "D3CFGR", 0),
    (0x28, "PLLCKSELR", 0x0202_0200),
    (0x2C, "PLLCFGR", 0x01FF_0000),
    (0x30, "PLL1DIVR", 0x0101_0280),
    (0x34, "PLL1FRACR", 0),
    (0x38, "PLL2DIVR", 0x0101_0280),
    (0x3C, "PLL2FRACR", 0),
    (0x40, "PLL3DIVR", 0x0101_0280),
    (0x44, "PLL3FRACR", 0),
    (0x4C, "D1CCIPR", 0),
    (0x50, "D2CCIP1R", 0),
    (0x54, "D2CCIP2R", 0),
    (0x58, "D3CCIPR", 0),
    (0x60, "CIER", 0),
    (0x64, "CIFR", 0),
    (0x68, "CICR", 0),
    (0x70, "BDCR", 0),
    (0x74, "CSR", 0),
    (0x7C, "AHB3RSTR", 0),
    (0x80, "AHB1RSTR", 0),
    (0x84, "AHB2RSTR", 0),
    (0x88, "AHB4RSTR", 0),
    (0x8C, "APB3RSTR", 0),
    (0x90, "APB1LRSTR", 0),
    (0x94, "APB1HRSTR", 0),
    (0x98, "APB2RSTR", 0),
    (0x9C, "APB4RSTR", 0),
    (0xA0, "GCR", 0),
    (0xA8, "D3AMR", 0),
    (0xD0, "RSR", 0),
    (0xD4, "AHB3ENR", 0),
    (0xD8, "AHB1ENR", 0),
    (0xDC, "AHB2ENR", 0),
    (0xE0, "AHB4ENR", 0),
    (0xE4, "APB3ENR", 0),
    (0xE8, "APB1LENR", 0),
    (0xEC, "APB1HENR", 0),
    (0xF0, "APB2ENR", 0),
    (0xF4, "APB4ENR", 0),
    (0xFC, "AHB3LPENR", 0),
    (0x100, "AHB1LPENR", 0),
    (0x104, "AHB2LPENR", 0),
    (0x108, "AHB4LPENR", 0),
    (0x10C, "APB3LPENR", 0),
    (0x110, "APB1LLPENR", 0),
    (0x114, "APB1HLPENR", 0),
    (0x118, "APB2LPENR", 0),
    (0x11C, "APB4LPENR", 0),
    (0x130, "C1_RSR", 0),
    (0x134, "C1_AHB3ENR", 0),
    (0x138, "C1_AHB1ENR", 0),
    (0x13C, "C1_AHB2ENR", 0),
    (0x140, "C1_AHB4ENR", 0),
    (0x144, "C1_APB3ENR", 0),
    (0x148, "C1_APB1LENR", 0),
    (0x14C, "C1_APB1HENR", 0),
    (0x150, "C1_APB2ENR", 0),
    (0x154, "C1_APB4ENR", 0),
    (0x15C, "C1_AHB3LPENR", 0),
    (0x160, "C1_AHB1LPENR", 0),
    (0x164, "C1_AHB2LPENR", 0),
    (0x168, "C1_AHB4LPENR", 0),
    (0x16C, "C1_APB3LPENR", 0),
    (0x170, "C1_APB1LLPENR", 0),
    (0x174, "C1_APB1HLPENR", 0),
    (0x178, "C1_APB2LPENR", 0),
    (0x17C, "C1_APB4LPENR", 0),
];

/// CR bit of the main PLL's enable, the same on every family (PLLON, PLL1ON).
const PLL_ON: u32 = 24;
/// CR bit of the HSE enable, the same on every family.
const HSE_ON: u32 = 16;

/// What differs between the RCC families besides the clock arithmetic.
struct Layout {
    regs: &'static [RegDef],
    /// Offset of CFGR, which holds SW and SWS.
    cfgr: u32,
    /// SW field mask (at bit 0) and the shift of SWS.
    sw_mask: u32,
    sws_shift: u32,
    /// CR enable bit of each system clock source, indexed by the SW value.
    sources: &'static [u32],
    /// (register, enable bit, ready bit): the ready flag follows the enable.
    ready: &'static [(u32, u32, u32)],
    /// (register, bits software may write); registers not listed take any bit.
    writable: &'static [(u32, u32)],
    /// (register, RMVF bit, reset flags a 1 written to RMVF clears).
    rmvf: (u32, u32, u32),
    /// (register, bits that always read 1).
    always: &'static [(u32, u32)],
    /// HSE crystal when the target file gives none, in Hz.
    hse_default: u64,
}

const F1_LAYOUT: Layout = Layout {
    regs: F1_REGS,
    cfgr: 0x04,
    sw_mask: 0x3,
    sws_shift: 2,
    sources: &[0, HSE_ON, PLL_ON],
    ready: &[
        (0x00, 0, 1),
        (0x00, HSE_ON, 17),
        (0x00, PLL_ON, 25),
        (0x20, 0, 1),
        (0x24, 0, 1),
    ],
    // CR: HSION, HSITRIM, HSEON, HSEBYP, CSSON, PLLON; CFGR: all but SWS;
    // CIR: the ready-interrupt enables; BDCR: all but LSERDY; CSR: LSION.
    writable: &[
        (0x00, 0x010D_00F9),
        (0x04, !0xC),
        (0x08, 0x0000_1F00),
        (0x20, !0x2),
        (0x24, 0x1),
    ],
    rmvf: (0x24, 24, 0xFC00_0000),
    always: &[],
    // RM0008 7.2.1: 4-16 MHz crystal; 8 MHz is the common board choice.
    hse_default: 8_000_000,
};

const F4_LAYOUT: Layout = Layout {
    regs: F4_REGS,
    cfgr: 0x08,
    sw_mask: 0x3,
    sws_shift: 2,
    sources: &[0, HSE_ON, PLL_ON],
    ready: &[
        (0x00, 0, 1),
        (0x00, HSE_ON, 17),
        (0x00, PLL_ON, 25),
        (0x00, 26, 27),
        (0x70, 0, 1),
        (0x74, 0, 1),
    ],
    // CR: HSION, HSITRIM, HSEON, HSEBYP, CSSON, PLLON, PLLI2SON.
    writable: &[
        (0x00, 0x050D_00F9),
        (0x08, !0xC),
        (0x0C, 0x0000_3F00),
        (0x70, !0x2),
        (0x74, 0x1),
    ],
    rmvf: (0x74, 24, 0xFE00_0000),
    always: &[],
    hse_default: 8_000_000,
};

const F7_LAYOUT: Layout = Layout {
    regs: F7_REGS,
    cfgr: 0x08,
    sw_mask: 0x3,
    sws_shift: 2,
    sources: &[0, HSE_ON, PLL_ON],
    ready: &[
        (0x00, 0, 1),
        (0x00, HSE_ON, 17),
        (0x00, PLL_ON, 25),
        (0x00, 26, 27),
        (0x00, 28, 29),
        (0x70, 0, 1),
        (0x74, 0, 1),
    ],
    // CR as the F4 plus PLLSAION; CIR plus PLLSAIRDYIE.
    writable: &[
        (0x00, 0x150D_00F9),
        (0x08, !0xC),
        (0x0C, 0x0000_7F00),
        (0x70, !0x2),
        (0x74, 0x1),
    ],
    rmvf: (0x74, 24, 0xFE00_0000),
    always: &[],
    hse_default: 8_000_000,
};

const L4_LAYOUT: Layout = Layout {
    regs: L4_REGS,
    cfgr: 0x08,
    sw_mask: 0x3,
    sws_shift: 2,
    // SW: 00 MSI, 01 HSI16, 10 HSE, 11 PLL (RM0432 6.4.3).
    sources: &[0, 8, HSE_ON, PLL_ON],
    ready: &[
        (0x00, 0, 1),
        (0x00, 8, 10),
        (0x00, HSE_ON, 17),
        (0x00, PLL_ON, 25),
        (0x00, 26, 27),
        (0x00, 28, 29),
        (0x90, 0, 1),
        (0x94, 0, 1),
        (0x98, 0, 1),
    ],
    // CR: MSION, MSIPLLEN, MSIRGSEL, MSIRANGE, HSION, HSIKERON, HSIASFS, HSEON,
    // HSEBYP, CSSON, PLLON, PLLSAI1ON, PLLSAI2ON; CIFR read-only; CICR
    // write-only; BDCR all but LSERDY and LSECSSD; CSR LSION and MSISRANGE;
    // CRRCR HSI48ON.
    writable: &[
        (0x00, 0x150D_0BFD),
        (0x08, !0xC),
        (0x1C, 0),
        (0x20, 0),
        (0x90, !0x42),
        (0x94, 0x0000_0F01),
        (0x98, 0x1),
    ],
    rmvf: (0x94, 23, 0xFF00_0000),
    always: &[],
    hse_default: 8_000_000,
};

const H7_LAYOUT: Layout = Layout {
    regs: H7_REGS,
    cfgr: 0x10,
    sw_mask: 0x7,
    sws_shift: 3,
    // SW: 000 HSI, 001 CSI, 010 HSE, 011 PLL1 (RM0433 8.7.6).
    sources: &[0, 7, HSE_ON, PLL_ON],
    ready: &[
        (0x00, 0, 2),
        (0x00, 7, 8),
        (0x00, 12, 13),
        (0x00, HSE_ON, 17),
        (0x00, PLL_ON, 25),
        (0x00, 26, 27),
        (0x00, 28, 29),
        (0x70, 0, 1),
        (0x74, 0, 1),
    ],
    // CR: HSION, HSIKERON, HSIDIV, CSION, CSIKERON, RC48ON, HSEON, HSEBYP,
    // HSECSSON, PLL1ON, PLL2ON, PLL3ON; ICSCR: the trims, not the factory
    // calibrations; CRRCR, CIFR, RSR read-only; CICR write-only.
    writable: &[
        (0x00, 0x150D_129B),
        (0x04, 0x7C03_F000),
        (0x08, 0),
        (0x10, !0x38),
        (0x64, 0),
        (0x68, 0),
        (0x70, !0x42),
        (0x74, 0x1),
        (0xD0, 0),
    ],
    rmvf: (0xD0, 16, 0x7FFE_0000),
    // HSIDIVF: the divider settles at once; D1CKRDY, D2CKRDY: both domains run.
    always: &[(0x00, 0x0000_C020)],
    // A 25 MHz crystal, as on ST's NUCLEO-H743ZI2 and in the HAL's default
    // HSE_VALUE for the H7.
    hse_default: 25_000_000,
};

/// AHB prescaler from a 4-bit HPRE (or H7 D1CPRE) field: 0xxx is /1, then
/// /2, /4, /8, /16, /64, /128, /256, /512 (RM0090 7.3.3, RM0433 8.7.8).
fn ahb_div(field: u32) -> u64 {
    const DIV: [u64; 8] = [2, 4, 8, 16, 64, 128, 256, 512];
    if field & 0x8 == 0 {
        1
    } else {
        DIV[(field & 0x7) as usize]
    }
}

/// APB prescaler from a 3-bit PPRE field: 0xx is /1, then /2, /4, /8, /16.
fn apb_div(field: u32) -> u64 {
    const DIV: [u64; 4] = [2, 4, 8, 16];
    if field & 0x4 == 0 {
        1
    } else {
        DIV[(field & 0x3) as usize]
    }
}

/// The clock of the timers on an APB bus divided by `div` from `hclk`: HCLK
/// while the divider is at most `mult`, else `mult` x PCLK (RM0090 6.2: x2
/// when the APB prescaler is not 1; with TIMPRE set on F7/H7, x4 when it is
/// above 4, RM0385 5.3.25, RM0433 8.5.7).
fn timer_hz(hclk: u64, div: u64, mult: u64) -> u64 {
    if div <= mult {
        hclk
    } else {
        hclk / (div / mult)
    }
}

/// MSI frequencies by MSIRANGE, in Hz (RM0432 6.4.1); ranges 12..15 are not
/// allowed and read as the reset range, 4 MHz.
const MSI_HZ: [u64; 12] = [
    100_000, 200_000, 400_000, 800_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000, 16_000_000,
    24_000_000, 32_000_000, 48_000_000,
];

/// An RCC block.
pub struct Rcc {
    /// Which register map and clock tree.
    family: Family,
    layout: &'static Layout,
    regs: RegisterFile,
    /// The SW value the system clock switch has made (SWS).
    sws: u32,
    /// HSE crystal frequency in Hz; 0 for none.
    hse_hz: u64,
    /// Whether the firmware has programmed the clock tree.
    programmed: bool,
}

impl Rcc {
    /// The RCC of `target` as `spec` describes it: the F1, F4/F7, H7 or L4 map by kind.
    pub fn new(spec: &PeripheralSpec, target: &Target) -> Rcc {
        let family = Family::of_block(spec, target);
        let layout = match family {
            Family::F1 => &F1_LAYOUT,
            Family::F4 => &F4_LAYOUT,
            Family::F7 => &F7_LAYOUT,
            Family::H7 => &H7_LAYOUT,
            Family::L4 => &L4_LAYOUT,
        };
        let hse_hz = reset_value(spec, HSE_OFFSET).map_or(layout.hse_default, u64::from);
        let mut rcc = Rcc {
            family,
            layout,
            regs: reset_file(layout.regs, spec),
            sws: 0,
            programmed: false,
            hse_hz,
        };
        rcc.switch();
        rcc
    }

    /// The register `offset` stands for: H7 C1_ aliases map to their originals.
    fn canonical(&self, offset: u32) -> u32 {
        if self.family == Family::H7 && (0x130..0x180).contains(&offset) {
            offset - 0x60
        } else {
            offset
        }
    }

    fn cr(&self) -> u32 {
        self.regs.get(0x00)
    }

    fn on(&self, bit: u32) -> bool {
        self.cr() >> bit & 1 == 1
    }

    /// Whether the oscillator or PLL enabled by CR bit `bit` is ready.
    fn ready(&self, bit: u32) -> bool {
        self.on(bit)
            && match bit {
                HSE_ON => self.hse_hz > 0,
                PLL_ON => self.pll_hz().is_some(),
                _ => true,
            }
    }

    /// Frequency of the oscillator enabled by CR bit `bit`, in Hz.
    fn osc_hz(&self, bit: u32) -> u64 {
        match (self.family, bit) {
            (_, HSE_ON) => self.hse_hz,
            // RM0008 7.2.2: the F1's HSI RC runs at 8 MHz.
            (Family::F1, _) => 8_000_000,
            // RM0090 6.2.2, RM0385 5.2.2: 16 MHz HSI.
            (Family::F4 | Family::F7, _) => 16_000_000,
            // RM0432 6.2.2: HSI16.
            (Family::L4, 8) => 16_000_000,
            (Family::L4, _) => self.msi_hz(),
            // RM0433 8.5.2: CSI at 4 MHz; HSI at 64 MHz divided by HSIDIV.
            (Family::H7, 7) => 4_000_000,
            (Family::H7, _) => 64_000_000 >> (self.cr() >> 3 & 0x3),
        }
    }

    /// L4 MSI frequency: the CR range once MSIRGSEL is set, else the CSR
    /// standby range MSISRANGE (RM0432 6.4.1, 6.4.29).
    fn msi_hz(&self) -> u64 {
        let range = if self.on(3) {
            self.cr() >> 4 & 0xF
        } else {
            self.regs.get(0x94) >> 8 & 0xF
        };
        MSI_HZ.get(range as usize).copied().unwrap_or(4_000_000)
    }

    /// CR enable bit of the main PLL's input, or None for no input.
    fn pll_input(&self) -> Option<u32> {
        match self.family {
            // PLLSRC, bit 16 on the F1 (HSI/2 or HSE, RM0008 7.3.2), bit 22
            // on the F4/F7 (HSI or HSE, RM0090 7.3.2).
            Family::F1 | Family::F4 | Family::F7 => {
                let pllsrc = if self.family == Family::F1 { 16 } else { 22 };
                Some(if self.regs.get(0x04) >> pllsrc & 1 == 1 {
                    HSE_ON
                } else {
                    0
                })
            }
            // RM0432 6.4.4 PLLSRC: none, MSI, HSI16, HSE.
            Family::L4 => match self.regs.get(0x0C) & 0x3 {
                1 => Some(0),
                2 => Some(8),
                3 => Some(HSE_ON),
                _ => None,
            },
            // RM0433 8.7.11 PLLSRC: HSI, CSI, HSE, none.
            Family::H7 => match self.regs.get(0x28) & 0x3 {
                0 => Some(0),
                1 => Some(7),
                2 => Some(HSE_ON),
                _ => None,
            },
        }
    }

    /// The main PLL's system clock output in Hz, or None while its input is
    /// not running or its dividers are outside what the manual allows.
    fn pll_hz(&self) -> Option<u64> {
        let input = self.pll_input()?;
        if !self.ready(input) {
            return None;
        }
        let mut hz = self.osc_hz(input);
        match self.family {
            Family::F1 => {
                let cfgr = self.regs.get(0x04);
                if input == HSE_ON {
                    // PLLXTPRE halves HSE before the PLL.
                    hz /= if cfgr >> 17 & 1 == 1 { 2 } else { 1 };
                } else {
                    hz /= 2;
                }
                // PLLMUL 0000 = x2 ... 1110 = x16, 1111 = x16 (RM0008 7.3.2).
                let mul = u64::from((cfgr >> 18 & 0xF) + 2).min(16);
                Some(hz * mul)
            }
            Family::F4 | Family::F7 => {
                let pll = self.regs.get(0x04);
                let m = u64::from(pll & 0x3F);
                let n = u64::from(pll >> 6 & 0x1FF);
                let p = 2 * u64::from((pll >> 16 & 0x3) + 1);
                // PLLM 2..63, PLLN 50..432 (RM0090 7.3.2, RM0385 5.3.2).
                ((2..=63).contains(&m) && (50..=432).contains(&n)).then(|| hz * n / (m * p))
            }
            Family::L4 => {
                let pll = self.regs.get(0x0C);
                let m = u64::from((pll >> 4 & 0xF) + 1);
                let n = u64::from(pll >> 8 & 0x7F);
                let r = 2 * u64::from((pll >> 25 & 0x3) + 1);
                // PLLN 8..127; PLLCLK is the R output (RM0432 6.4.4).
                (8..=127).contains(&n).then(|| hz * n / (m * r))
            }
            Family::H7 => {
                let m = u64::from(self.regs.get(0x28) >> 4 & 0x3F);
                let div = self.regs.get(0x30);
                let n = u64::from((div & 0x1FF) + 1);
                let p = u64::from((div >> 9 & 0x7F) + 1);
                let cfg = self.regs.get(0x2C);
                let frac = if cfg & 1 == 1 {
                    u64::from(self.regs.get(0x34) >> 3 & 0x1FFF)
                } else {
                    0
                };
                // DIVM1 0 disables the PLL; DIVN1 4..512; DIVP1 even (odd
                // factors are not allowed on PLL1); DIVP1EN gates the output
                // (RM0433 8.7.11-13).
                let valid = m > 0 && (4..=512).contains(&n) && p % 2 == 0 && cfg >> 16 & 1 == 1;
                valid.then(|| {
                    let vco = u128::from(hz) * u128::from(n * 8192 + frac);
                    (vco / u128::from(m * 8192 * p)) as u64
                })
            }
        }
    }

    /// Makes the switch follow SW once the selected source is ready.
    fn switch(&mut self) {
        let sw = self.regs.get(self.layout.cfgr) & self.layout.sw_mask;
        if let Some(&bit) = self.layout.sources.get(sw as usize) {
            if self.ready(bit) {
                self.sws = sw;
            }
        }
    }

    /// CR enables that must stay set: those of the running system clock and,
    /// when that is the PLL, of its input (RM0090 7.3.1: HSION, HSEON and
    /// PLLON cannot be cleared while they clock the system).
    fn in_use(&self) -> u32 {
        let Some(&bit) = self.layout.sources.get(self.sws as usize) else {
            return 0;
        };
        let input = if bit == PLL_ON {
            self.pll_input().map_or(0, |b| 1 << b)
        } else {
            0
        };
        1 << bit | input
    }

    /// The system clock in Hz.
    fn sysclk(&self) -> u64 {
        match self.layout.sources.get(self.sws as usize) {
            Some(&PLL_ON) => self.pll_hz().unwrap_or(0),
            Some(&bit) => self.osc_hz(bit),
            None => 0,
        }
    }

    /// The clocks this configuration gives the core and the buses.
    pub fn clocks(&self) -> Clocks {
        let sys = self.sysclk();
        // (core clock, AHB clock, APB1 divider, APB2 divider, TIMPRE)
        let (core, hclk, div1, div2, timpre) = match self.family {
            Family::F1 | Family::F4 | Family::F7 | Family::L4 => {
                let cfgr = self.regs.get(self.layout.cfgr);
                let hclk = sys / ahb_div(cfgr >> 4 & 0xF);
                // PPRE1 and PPRE2 sit at bits 10:8 and 13:11 on the F1 and
                // L4, at 12:10 and 15:13 on the F4/F7.
                let ppre1 = if matches!(self.family, Family::F1 | Family::L4) {
                    8
                } else {
                    10
                };
                // F7 TIMPRE (DCKCFGR1 bit 24); the F1, F4 and L4 have none.
                let timpre = self.family == Family::F7 && self.regs.get(0x8C) >> 24 & 1 == 1;
                (
                    hclk,
                    hclk,
                    apb_div(cfgr >> ppre1 & 0x7),
                    apb_div(cfgr >> (ppre1 + 3) & 0x7),
                    timpre,
                )
            }
            Family::H7 => {
                // The core runs at sys_ck / D1CPRE; the AHB and the APB
                // prescalers of D2 follow HPRE (RM0433 8.5.6, figure 49).
                let d1 = self.regs.get(0x18);
                let d2 = self.regs.get(0x1C);
                let core = sys / ahb_div(d1 >> 8 & 0xF);
                let hclk = core / ahb_div(d1 & 0xF);
                let timpre = self.regs.get(0x10) >> 15 & 1 == 1;
                (
                    core,
                    hclk,
                    apb_div(d2 >> 4 & 0x7),
                    apb_div(d2 >> 8 & 0x7),
                    timpre,
                )
            }
        };
        let mult = if timpre { 4 } else { 2 };
        Clocks {
            hclk_hz: core,
            ahb_hz: hclk,
            apb1_hz: hclk / div1,
            apb2_hz: hclk / div2,
            apb1_timer_hz: timer_hz(hclk, div1, mult),
            apb2_timer_hz: timer_hz(hclk, div2, mult),
        }
    }

    fn writable(&self, offset: u32) -> u32 {
        self.layout
            .writable
            .iter()
            .find(|&&(o, _)| o == offset)
            .map_or(u32::MAX, |&(_, m)| m)
    }
}

impl Peripheral for Rcc {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        let offset = self.canonical(offset);
        let mut value = self.regs.get(offset);
        for &(reg, on, rdy) in self.layout.ready {
            if reg == offset {
                let ready = if reg == 0x00 {
                    self.ready(on)
                } else {
                    value >> on & 1 == 1
                };
                value = value & !(1 << rdy) | u32::from(ready) << rdy;
            }
        }
        for &(reg, bits) in self.layout.always {
            if reg == offset {
                value |= bits;
            }
        }
        if offset == self.layout.cfgr {
            let field = self.layout.sw_mask << self.layout.sws_shift;
            value = value & !field | self.sws << self.layout.sws_shift;
        }
        Ok(value)
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        let offset = self.canonical(offset);
        let (rmvf_reg, rmvf_bit, flags) = self.layout.rmvf;
        let mut new = merge(self.regs.get(offset), value, mask & self.writable(offset));
        if offset == rmvf_reg && (value & mask) >> rmvf_bit & 1 == 1 {
            // RMVF clears the reset flags and is not itself kept.
            new &= !flags & !(1 << rmvf_bit);
        }
        if offset == 0x00 {
            new |= self.in_use();
            if self.family == Family::L4 {
                // MSIRGSEL is set-only: writing 0 has no effect (RM0432
                // 6.4.1, recalled, not re-read).
                new |= self.regs.get(0x00) & 1 << 3;
            }
        }
        self.regs.set(offset, new, u32::MAX);
        self.switch();
        // The first write to a register of the clock tree puts the RCC's
        // clocks in force and ends the target's configured clock; enabling
        // a peripheral's clock does not.
        self.programmed |=
            matches!(self.register_name(offset), Some(name) if CLOCK_TREE.contains(&name));
        if self.programmed {
            *ctx.clocks = self.clocks();
        }
        Ok(())
    }

    fn register_name(&self, offset: u32) -> Option<&'static str> {
        name_in(self.layout.regs, offset)
    }

    fn clock_tree(&self) -> Option<Clocks> {
        Some(self.clocks())
    }

    /// Stop mode switches HSE and the PLLs off and wakes on an internal
    /// oscillator, which SW and SWS then name: HSI on the F1/F4/F7 (RM0008
    /// 5.3.5, RM0090 5.3.4); MSI, or HSI16 with CFGR STOPWUCK (bit 15), on the
    /// L4 (RM0432 'Stop 0/1/2 mode'); HSI, or CSI with CFGR STOPWUCK (bit 6),
    /// on the H7 (RM0433 'Stop mode'). Recalled, not re-read. A firmware that
    /// left the clocks to the target's configuration keeps them.
    fn stop_exited(&mut self, ctx: &mut BusContext<'_>) {
        if !self.programmed {
            return;
        }
        let cfgr = self.regs.get(self.layout.cfgr);
        let stopwuck = match self.family {
            Family::L4 => cfgr >> 15 & 1,
            Family::H7 => cfgr >> 6 & 1,
            Family::F1 | Family::F4 | Family::F7 => 0,
        };
        let wake = self.layout.sources[stopwuck as usize];
        // HSEON and every PLL enable: PLLON (24) and the second and third
        // PLLs' (26, 28: PLLI2S/PLLSAI, PLLSAI1/2, PLL2/3).
        let off = 1 << HSE_ON | 1 << PLL_ON | 1 << 26 | 1 << 28;
        let cr = self.cr() & !off | 1 << wake;
        self.regs.set(0x00, cr, u32::MAX);
        let sw = self.layout.sw_mask;
        self.regs
            .set(self.layout.cfgr, cfgr & !sw | stopwuck, u32::MAX);
        self.sws = stopwuck;
        *ctx.clocks = self.clocks();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::bus::stm32::testing::{spec, target};
    use crate::machine::bus::testing::Rig;
    use crate::target::{BusClock, PeripheralKind};

    fn rcc(kind: PeripheralKind, target_name: &str, reset: &[(u32, u32)]) -> Rcc {
        Rcc::new(
            &spec("RCC", kind, &[], BusClock::Ahb, reset),
            &target(target_name),
        )
    }

    #[test]
    fn f4_hse_pll_gives_168_mhz_and_apb_clocks() {
        let mut r = rcc(PeripheralKind::Stm32f4Rcc, "stm32f407", &[]);
        let mut h = Rig::new(168_000_000);
        assert_eq!(h.read(&mut r, 0x00) & 0x3, 0x3, "HSI on and ready");
        h.write(&mut r, 0x00, 0x0001_0081);
        assert_eq!(h.read(&mut r, 0x00) >> 17 & 1, 1, "HSERDY");
        // M 8, N 336, P 2, HSE source, Q 7.
        h.write(&mut r, 0x04, 8 | 336 << 6 | 1 << 22 | 7 << 24);
        // AHB /1, APB1 /4, APB2 /2, SW = PLL before the PLL runs.
        h.write(&mut r, 0x08, 0x5 << 10 | 0x4 << 13 | 0x2);
        assert_eq!(
            h.read(&mut r, 0x08) >> 2 & 0x3,
            0,
            "no switch to a stopped PLL"
        );
        assert_eq!(h.clocks.hclk_hz, 16_000_000);
        h.write(&mut r, 0x00, 0x0101_0081);
        assert_eq!(h.read(&mut r, 0x00) >> 25 & 1, 1, "PLLRDY");
        assert_eq!(h.read(&mut r, 0x08) >> 2 & 0x3, 2, "SWS = PLL");
        assert_eq!(
            h.clocks,
            Clocks {
                hclk_hz: 168_000_000,
                ahb_hz: 168_000_000,
                apb1_hz: 42_000_000,
                apb2_hz: 84_000_000,
                apb1_timer_hz: 84_000_000,
                apb2_timer_hz: 168_000_000,
            }
        );
        // The PLL clocks the system: clearing PLLON and HSEON does not stop it.
        h.write(&mut r, 0x00, 0x81);
        assert_eq!(h.read(&mut r, 0x00) & 0x0303_0000, 0x0303_0000);
    }

    #[test]
    fn clocks_stay_the_targets_until_the_clock_tree_is_written() {
        let mut r = rcc(PeripheralKind::Stm32f4Rcc, "stm32f407", &[]);
        let mut h = Rig::new(168_000_000);
        h.read(&mut r, 0x08);
        assert_eq!(h.clocks, Clocks::uniform(168_000_000));
        // Enabling a GPIO clock leaves the configured clock in force.
        h.write(&mut r, 0x30, 0x0010_0001);
        assert_eq!(h.clocks, Clocks::uniform(168_000_000));
        assert_eq!(h.read(&mut r, 0x30), 0x0010_0001);
        // Writing CFGR puts RCC in charge: the part runs on HSI.
        h.write(&mut r, 0x08, 0);
        assert_eq!(h.clocks, Clocks::uniform(16_000_000));
    }

    #[test]
    fn hse_comes_from_the_target_file_and_0_means_no_crystal() {
        let mut r = rcc(
            PeripheralKind::Stm32f4Rcc,
            "stm32f407",
            &[(HSE_OFFSET, 25_000_000)],
        );
        let mut h = Rig::new(1);
        h.write(&mut r, 0x00, 0x0001_0081);
        h.write(&mut r, 0x08, 0x1);
        assert_eq!(h.clocks.hclk_hz, 25_000_000);
        let mut r = rcc(PeripheralKind::Stm32f4Rcc, "stm32f407", &[(HSE_OFFSET, 0)]);
        h.write(&mut r, 0x00, 0x0001_0081);
        assert_eq!(h.read(&mut r, 0x00) >> 17 & 1, 0, "HSERDY never sets");
    }

    #[test]
    fn reset_flags_clear_with_rmvf() {
        let mut r = rcc(PeripheralKind::Stm32f4Rcc, "stm32f407", &[]);
        let mut h = Rig::new(1);
        assert_eq!(h.read(&mut r, 0x74), 0x0E00_0000);
        h.write(&mut r, 0x74, 1 << 24 | 1);
        assert_eq!(h.read(&mut r, 0x74), 0x3, "LSION and LSIRDY only");
    }

    #[test]
    fn f1_hse_times_9_gives_72_mhz() {
        let mut r = rcc(PeripheralKind::Stm32f1Rcc, "stm32f103", &[]);
        let mut h = Rig::new(72_000_000);
        h.write(&mut r, 0x00, 0x0001_0083);
        // PLLSRC HSE, PLLMUL x9, APB1 /2, SW PLL.
        h.write(&mut r, 0x04, 1 << 16 | 7 << 18 | 0x4 << 8 | 0x2);
        h.write(&mut r, 0x00, 0x0101_0083);
        assert_eq!(h.read(&mut r, 0x04) >> 2 & 0x3, 2);
        assert_eq!(h.clocks.hclk_hz, 72_000_000);
        assert_eq!(h.clocks.apb1_hz, 36_000_000);
        assert_eq!(h.clocks.apb1_timer_hz, 72_000_000);
    }

    #[test]
    fn l4_msi_pll_gives_120_mhz() {
        let mut r = rcc(PeripheralKind::Stm32l4Rcc, "stm32l4r5", &[]);
        let mut h = Rig::new(120_000_000);
        h.write(&mut r, 0x94, 0x0C00_0600);
        // MSI source, M /1, N 60, R /2, R output on.
        h.write(&mut r, 0x0C, 1 | 60 << 8 | 1 << 24);
        assert_eq!(h.clocks.hclk_hz, 4_000_000, "MSI at range 6");
        let cr = h.read(&mut r, 0x00);
        h.write(&mut r, 0x00, cr | 1 << 24);
        h.write(&mut r, 0x08, 0x3);
        assert_eq!(h.read(&mut r, 0x08) & 0xF, 0xF);
        assert_eq!(h.clocks, Clocks::uniform(120_000_000));
        // Stop mode switches the PLL off and wakes on MSI, at its range.
        r.stop_exited(&mut h.ctx());
        assert_eq!(h.read(&mut r, 0x08) & 0xF, 0x0, "SW = SWS = MSI");
        assert_eq!(h.read(&mut r, 0x00) >> 24 & 3, 0, "PLL off");
        assert_eq!(h.clocks.hclk_hz, 4_000_000);
        // With STOPWUCK it wakes on HSI16 instead.
        let cr = h.read(&mut r, 0x00);
        h.write(&mut r, 0x00, cr | 1 << 24);
        h.write(&mut r, 0x08, 1 << 15 | 0x3);
        assert_eq!(h.clocks.hclk_hz, 120_000_000);
        r.stop_exited(&mut h.ctx());
        assert_eq!(h.read(&mut r, 0x08) & 0xF, 0x5, "SW = SWS = HSI16");
        assert_eq!(h.clocks.hclk_hz, 16_000_000);
    }

    #[test]
    fn a_configured_clock_outlives_stop_mode_until_the_firmware_programs_one() {
        let mut r = rcc(PeripheralKind::Stm32f4Rcc, "stm32f407", &[]);
        let mut h = Rig::new(168_000_000);
        r.stop_exited(&mut h.ctx());
        assert_eq!(h.clocks.hclk_hz, 168_000_000);
        h.write(&mut r, 0x00, 0x0001_0081);
        h.write(&mut r, 0x04, 8 | 336 << 6 | 1 << 22 | 7 << 24);
        h.write(&mut r, 0x00, 0x0101_0081);
        h.write(&mut r, 0x08, 0x2);
        assert_eq!(h.clocks.hclk_hz, 168_000_000);
        r.stop_exited(&mut h.ctx());
        assert_eq!(h.read(&mut r, 0x00) & 0x0101_0000, 0, "HSE and PLL off");
        assert_eq!(h.clocks.hclk_hz, 16_000_000, "HSI");
    }

    #[test]
    fn h7_pll1_gives_480_mhz_core_and_240_mhz_ahb() {
        let mut r = rcc(PeripheralKind::Stm32h7Rcc, "stm32h743", &[]);
        let mut h = Rig::new(480_000_000);
        assert_eq!(h.read(&mut r, 0x00) & 0xC025, 0xC025);
        h.write(&mut r, 0x00, 0x0001_0001);
        // HSE source, DIVM1 5; DIVN1 192, DIVP1 2.
        h.write(&mut r, 0x28, 2 | 5 << 4);
        h.write(&mut r, 0x30, 191 | 1 << 9 | 1 << 16 | 1 << 24);
        // D1CPRE /1, HPRE /2, D1PPRE /2; D2PPRE1 /2, D2PPRE2 /2.
        h.write(&mut r, 0x18, 0x8 | 0x4 << 4);
        h.write(&mut r, 0x1C, 0x4 << 4 | 0x4 << 8);
        h.write(&mut r, 0x00, 0x0101_0001);
        h.write(&mut r, 0x10, 0x3);
        assert_eq!(h.read(&mut r, 0x10) >> 3 & 0x7, 3, "SWS = PLL1");
        assert_eq!(
            h.clocks,
            Clocks {
                hclk_hz: 480_000_000,
                ahb_hz: 240_000_000,
                apb1_hz: 120_000_000,
                apb2_hz: 120_000_000,
                apb1_timer_hz: 240_000_000,
                apb2_timer_hz: 240_000_000,
            }
        );
        // The C1_ enable registers are the same registers.
        h.write(&mut r, 0x138, 0x1);
        assert_eq!(h.read(&mut r, 0xD8), 0x1);
    }
}
