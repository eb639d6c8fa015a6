//! Bounded, seeded mutation testing of everything that reads untrusted input:
//! the ELF loader (and, for a sample of images that still load, a short run),
//! target files and results files. Every case must end in `Ok` or a clean
//! error: a panic fails the test, naming the case so it can be replayed. The
//! inputs that once broke mcubench are kept here as regression cases.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use mcubench::image::Image;
use mcubench::machine::RunOptions;
use mcubench::run::run_loaded;
use mcubench::target::Target;
use mcubench_reports::html::{self, Report};
use mcubench_reports::json::parse_results;
use mcubench_reports::plot::SvgPlotter;

use crate::{fixture, root, target, targets_dir};

/// A small deterministic generator (xorshift64*), so every run tries the
/// same cases and a failure replays from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that tend to break size and offset arithmetic.
const HOSTILE_WORDS: [u32; 8] = [
    0,
    1,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0xFFFF_FFF0,
    0x1000_0000,
    0x0000_FFFF,
];

/// One mutation of `bytes`: flipped bits, hostile words, truncation,
/// duplication or a splice.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        if len == 0 {
            bytes.push(rng.next() as u8);
            continue;
        }
        match rng.below(6) {
            0 => {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(len.saturating_sub(4)) & !3;
                let word = HOSTILE_WORDS[rng.below(HOSTILE_WORDS.len())].to_le_bytes();
                let end = (at + 4).min(len);
                bytes[at..end].copy_from_slice(&word[..end - at]);
            }
            2 => bytes.truncate(rng.below(len)),
            3 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = bytes[at..end].to_vec();
                let to = rng.below(len);
                bytes.splice(to..to, chunk);
            }
            4 => {
                let at = rng.below(len);
                bytes[at] = rng.next() as u8;
            }
            _ => {
                // The ELF and section headers live near the start and the end.
                let at = if rng.below(2) == 0 {
                    rng.below(64.min(len))
                } else {
                    len - 1 - rng.below(256.min(len))
                };
                bytes[at] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            }
        }
    }
}

/// Runs `case`, turning a panic into a message naming `what` and the case.
fn no_panic(what: &str, case: usize, f: impl FnOnce()) -> Option<String> {
    catch_unwind(AssertUnwindSafe(f))
        .err()
        .map(|_| format!("{what} case {case} panicked"))
}

#[test]
fn mutated_elf_images_load_or_fail_cleanly() {
    let seeds: Vec<Vec<u8>> = [
        "semihost.elf",
        "hello_rdimon.elf",
        "trm_m4.elf",
        "systick.elf",
    ]
    .iter()
    .map(|f| std::fs::read(fixture(f)).unwrap())
    .collect();
    let stm32 = target("stm32f407");
    let options = RunOptions {
        max_cycles: 200_000,
        wall_limit: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let mut rng = Rng(0x6d63_7562_656e_6368);
    let (mut panics, mut loaded, mut ran) = (Vec::new(), 0, 0);
    for case in 0..6000 {
        let mut bytes = seeds[case % seeds.len()].clone();
        mutate(&mut rng, &mut bytes);
        let run_it = case % 40 == 0;
        panics.extend(no_panic("elf", case, || {
            if let Ok(image) = Image::parse(Path::new("mutated.elf"), &bytes) {
                loaded += 1;
                if run_it {
                    ran += 1;
                    let _ = run_loaded(std::sync::Arc::new(image), &stm32, &options);
                }
            }
        }));
    }
    assert!(panics.is_empty(), "{panics:?}");
    // The mutations must leave enough images loadable to reach the runner.
    assert!(loaded > 1000 && ran > 20, "loaded {loaded}, ran {ran}");
}

#[test]
fn mutated_target_files_load_or_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x7461_7267_6574_7321);
    let names = ["stm32f407", "stm32h743", "nrf52840", "mps2-an385"];
    let texts: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(targets_dir().join(format!("{n}.toml"))).unwrap())
        .collect();
    // Numbers that a target file must refuse or survive.
    let hostile = [
        "nan",
        "inf",
        "-inf",
        "-1",
        "0",
        "1e308",
        "0xFFFF_FFFF",
        "4294967296",
    ];
    let mut panics = Vec::new();
    for case in 0..3000 {
        let which = case % names.len();
        let mut text = texts[which].clone();
        if rng.below(2) == 0 {
            // Replace one number with a hostile one.
            let digits: Vec<usize> = text
                .match_indices(|c: char| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            let at = digits[rng.below(digits.len())];
            let end = text[at..]
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '.')
                .map_or(text.len(), |e| at + e);
            text.replace_range(at..end, hostile[rng.below(hostile.len())]);
        } else {
            let mut bytes = text.into_bytes();
            mutate(&mut rng, &mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        let path = dir.path().join(format!("{}.toml", names[which]));
        std::fs::write(&path, text).unwrap();
        panics.extend(no_panic("target", case, || {
            if let Ok(t) = Target::load(&path) {
                let _ = t.wait_states();
            }
        }));
    }
    assert!(panics.is_empty(), "{panics:?}");
}

#[test]
fn mutated_results_files_read_and_render_or_fail_cleanly() {
    let seed = std::fs::read(root().join("reports/schema/example-results.json")).unwrap();
    let mut rng = Rng(0x7265_7375_6c74_7321);
    let (mut panics, mut parsed) = (Vec::new(), 0);
    for case in 0..2000 {
        let text = if case % 2 == 0 {
            let mut value: serde_json::Value = serde_json::from_slice(&seed).unwrap();
            for _ in 0..1 + rng.below(4) {
                mutate_json(&mut rng, &mut value);
            }
            value.to_string()
        } else {
            let mut bytes = seed.clone();
            mutate(&mut rng, &mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        };
        panics.extend(no_panic("results", case, || {
            if let Ok(results) = parse_results(&text, Path::new("mutated.json")) {
                parsed += 1;
                if case % 20 == 0 {
                    let report = Report::new(&results, "mutated.json", None);
                    let _ = html::render(&report, &SvgPlotter::default());
                }
            }
        }));
    }
    assert!(panics.is_empty(), "{panics:?}");
    assert!(parsed > 100, "parsed {parsed}");
}

/// Replaces one value somewhere in `value` with a hostile one of the same
/// kind (or drops it, or repeats an array element).
fn mutate_json(rng: &mut Rng, value: &mut serde_json::Value) {
    use serde_json::{json, Value};
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().unwrap();
            if rng.below(8) == 0 {
                map.remove(&key);
            } else {
                mutate_json(rng, map.get_mut(&key).unwrap());
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let at = rng.below(items.len());
            if rng.below(6) == 0 {
                let copy = items[at].clone();
                items.push(copy);
            } else {
                mutate_json(rng, &mut items[at]);
            }
        }
        Value::Number(_) => {
            let numbers = [
                json!(0),
                json!(-1),
                json!(1.7e308),
                json!(-1.7e308),
                json!(u64::MAX),
                json!(i64::MIN),
                json!(1e-300),
            ];
            *value = numbers[rng.below(numbers.len())].clone();
        }
        Value::String(_) => {
            let strings = [
                "",
                "<script>alert(1)</script>",
                "a;b;c",
                "\u{202e}x",
                "2.0",
                "ok",
                "failed",
            ];
            *value = json!(strings[rng.below(strings.len())]);
        }
        _ => *value = json!(null),
    }
}

/// One symbol name that is not UTF-8 no longer rejects the whole image.
#[test]
fn a_name_that_is_not_utf8_is_shown_with_a_placeholder() {
    let mut bytes = std::fs::read(fixture("semihost.elf")).unwrap();
    let at = bytes.windows(5).position(|w| w == b"main\0").unwrap();
    bytes[at + 1] = 0xFF;
    let image = Image::parse(Path::new("latin1.elf"), &bytes).unwrap();
    assert!(image.symbols.addr_of("m?in").is_some());
}

/// Every function symbol of a real image given st_size 0xFFFFFFFF, the input
/// that once made the loader allocate 4 GiB: it loads and runs as before.
#[test]
fn symbols_with_absurd_sizes_are_clipped() {
    let bytes = std::fs::read(fixture("semihost.elf")).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let (offset, count) = elf
        .section_headers
        .iter()
        .find(|sh| sh.sh_type == goblin::elf::section_header::SHT_SYMTAB)
        .map(|sh| (sh.sh_offset as usize, sh.sh_size as usize / 16))
        .unwrap();
    let mut patched = bytes.clone();
    for i in 0..count {
        // Elf32_Sym: name, value, size, info, other, shndx (16 bytes).
        let at = offset + 16 * i;
        if patched[at + 12] & 0xF == goblin::elf::sym::STT_FUNC {
            patched[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        }
    }
    let image = Image::parse(Path::new("absurd.elf"), &patched).unwrap();
    let record = run_loaded(
        std::sync::Arc::new(image),
        &target("stm32f407"),
        &RunOptions::default(),
    )
    .unwrap();
    assert_eq!(record.error, None);
    assert_eq!(record.exit_code, Some(0));
}
