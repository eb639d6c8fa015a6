//! Flash timing: wait states on instruction fetch and data reads, hidden by
//! prefetch and by the caches in front of flash (ST's ART accelerator, the
//! Cortex-M7 L1 caches), plus the STM32F4/F7 flash controller that firmware
//! uses to erase and program sectors.
//!
//! Fetch model: a taken branch into flash fetches the target line: a cache
//! miss stalls for the wait states. Sequential lines are fetched ahead when
//! prefetch is on; the core then waits only for what the prefetch cannot hide,
//! `ws + 1` cycles per line against the cycles the line takes to execute
//! (taken as one cycle per 32-bit word). Without prefetch each new line stalls
//! for `ws`. Caches are simulated as set-associative with LRU; associativity
//! above 4 is simulated as 4-way with the same number of lines.
//!
//! Data reads: each word read from flash that misses the data cache (or every
//! word, without one) stalls for the wait states.

use super::clock::FlashSettings;
use crate::target::{CacheGeometry, Target};

/// Where flash answers: its own range and its aliases, as `[base, end)`.
/// The block hook asks this of registers at every block entry, and most
/// hold RAM or peripheral addresses: a mask of the 256 MiB regions flash
/// touches rules those out with one test.
#[derive(Debug, Clone, Default)]
pub struct FlashRanges {
    ranges: Vec<(u32, u32)>,
    regions: u16,
}

impl FlashRanges {
    /// The ranges given as `[base, end)`; empty ones are dropped.
    pub fn new(mut ranges: Vec<(u32, u32)>) -> FlashRanges {
        ranges.retain(|&(base, end)| end > base);
        let regions = ranges.iter().fold(0u16, |mask, &(base, end)| {
            (base >> 28..=(end - 1) >> 28).fold(mask, |mask, region| mask | 1 << region)
        });
        FlashRanges { ranges, regions }
    }

    /// The 256 MiB region holding `addr`, as a bit to gather several
    /// addresses' regions in one mask for [`Self::touches`].
    #[inline(always)]
    pub fn region_bit(addr: u32) -> u16 {
        1 << (addr >> 28)
    }

    /// Whether any of the regions gathered in `regions` is one flash
    /// touches: the one test that rules most addresses out of [`Self::find`].
    #[inline(always)]
    pub fn touches(&self, regions: u16) -> bool {
        self.regions & regions != 0
    }

    /// The range holding `addr`.
    #[inline]
    pub fn find(&self, addr: u32) -> Option<(u32, u32)> {
        if !self.touches(Self::region_bit(addr)) {
            return None;
        }
        (self.ranges.iter().copied()).find(|&(base, end)| addr >= base && addr < end)
    }

    /// Each range's base: the flash's own address and its aliases.
    pub fn bases(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().map(|&(base, _)| base)
    }
}

/// A set-associative cache directory (tags only) with exact LRU replacement.
#[derive(Debug, Clone)]
pub struct Cache {
    line_shift: u32,
    sets: Vec<Set>,
    /// `sets.len() - 1` when that is a power of two (a line's set is then a
    /// mask away), else `None` and the set is found by division.
    set_mask: Option<u32>,
    ways: usize,
    clock: u64,
    /// The line looked up last. It is the most recently used of its set, so
    /// looking it up again (the next block in the same line) changes nothing.
    last: u32,
}

/// One set of up to four ways.
#[derive(Debug, Clone, Copy)]
struct Set {
    /// Tags; `u32::MAX` is empty.
    tags: [u32; 4],
    /// When each way was last used: the least recently used way has the
    /// smallest stamp (an empty one 0), so a hit or a fill writes one stamp
    /// and moves nothing.
    used: [u64; 4],
    /// The tag used last, `u32::MAX` for none. Using it again leaves the
    /// order of the set's ways as it is, so it is a hit with nothing to
    /// write: the common case of a loop whose lines sit in different sets.
    mru: u32,
}

impl Set {
    const EMPTY: Set = Set {
        tags: [u32::MAX; 4],
        used: [0; 4],
        mru: u32::MAX,
    };
}

impl Cache {
    /// A cache with the given geometry.
    pub fn new(geometry: CacheGeometry) -> Cache {
        let ways = geometry.ways.clamp(1, 4);
        let sets = (geometry.lines / ways).max(1);
        Cache {
            line_shift: geometry.line_bytes.trailing_zeros(),
            sets: vec![Set::EMPTY; sets as usize],
            set_mask: sets.is_power_of_two().then(|| sets - 1),
            ways: ways as usize,
            clock: 0,
            last: u32::MAX,
        }
    }

    /// Looks up the line holding `addr`, filling it on a miss. Returns whether it hit.
    #[inline(always)]
    pub fn access(&mut self, addr: u32) -> bool {
        let line = addr >> self.line_shift;
        if line == self.last {
            return true;
        }
        self.last = line;
        let index = match self.set_mask {
            Some(mask) => line & mask,
            None => line % self.sets.len() as u32,
        };
        let set = &mut self.sets[index as usize];
        if set.mru == line {
            return true;
        }
        set.mru = line;
        self.clock += 1;
        // The victim is the first way with the oldest stamp.
        let mut victim = 0;
        for way in 0..self.ways {
            if set.tags[way] == line {
                set.used[way] = self.clock;
                return true;
            }
            if set.used[way] < set.used[victim] {
                victim = way;
            }
        }
        set.tags[victim] = line;
        set.used[victim] = self.clock;
        false
    }

    /// Whether the line holding `addr` is the one looked up last, which
    /// [`Self::access`] would find without changing anything.
    #[inline(always)]
    fn looked_up_last(&self, addr: u32) -> bool {
        addr >> self.line_shift == self.last
    }

    /// Empties the cache. The clock moves, as lookups that change a set
    /// move it (see [`FlashTiming::fetch_stall`]).
    fn invalidate(&mut self) {
        self.sets.fill(Set::EMPTY);
        self.last = u32::MAX;
        self.clock += 1;
    }
}

/// Wait-state costs of reading flash at the target's clock.
#[derive(Debug, Clone)]
pub struct FlashTiming {
    /// Wait states per access at this clock.
    pub ws: u32,
    line_shift: u32,
    /// Stall per sequentially fetched line.
    sequential_stall: u32,
    icache: Option<Cache>,
    dcache: Option<Cache>,
    /// Whether the caches are switched on (FLASH_ACR ICEN/DCEN, ARTEN); a
    /// cache the target lacks is never on.
    icache_on: bool,
    dcache_on: bool,
    /// Lines missed on fetches after a taken branch (counted for a trace).
    pub misses_jumped: u64,
    /// Lines missed on sequential fetches (counted for a trace).
    pub misses_sequential: u64,
    /// Data words missed.
    pub data_misses: u64,
}

impl FlashTiming {
    /// The timing of `target`'s flash at its clock.
    pub fn new(target: &Target) -> FlashTiming {
        let mut timing = FlashTiming {
            ws: 0,
            line_shift: target.flash.line_bytes.trailing_zeros(),
            sequential_stall: 0,
            icache: target.flash.icache.map(Cache::new),
            dcache: target.flash.dcache.map(Cache::new),
            icache_on: false,
            dcache_on: false,
            misses_jumped: 0,
            misses_sequential: 0,
            data_misses: 0,
        };
        timing.configure(FlashSettings::of(target));
        timing
    }

    /// Puts `settings` in force, as the firmware's FLASH_ACR write does. A
    /// cache switched off keeps its contents but neither hits nor fills.
    pub fn configure(&mut self, settings: FlashSettings) {
        let line = 1u32 << self.line_shift;
        self.ws = settings.wait_states;
        self.sequential_stall = if settings.prefetch {
            (self.ws + 1).saturating_sub(line / 4)
        } else {
            self.ws
        };
        self.icache_on = settings.icache && self.icache.is_some();
        self.dcache_on = settings.dcache && self.dcache.is_some();
    }

    /// Empties the instruction cache (ICIALLU).
    pub fn invalidate_icache(&mut self) {
        if let Some(cache) = &mut self.icache {
            cache.invalidate();
        }
    }

    /// Stall per sequentially fetched line that misses.
    pub fn sequential_stall(&self) -> u32 {
        self.sequential_stall
    }

    /// Whether reads cost anything at all; with zero wait states no hook is installed.
    pub fn charges(&self) -> bool {
        self.ws > 0
    }

    /// The flash lines a block of `size` bytes at `addr` is fetched in.
    pub fn lines(&self, addr: u32, size: u32) -> u32 {
        let first = addr >> self.line_shift;
        let last = addr.wrapping_add(size.max(1) - 1) >> self.line_shift;
        last.wrapping_sub(first) + 1
    }

    /// Stall cycles for fetching the block at `addr` that spans `lines`
    /// flash lines, entered by a taken branch (`jumped`) or by falling
    /// through.
    ///
    /// `seen` gives the block's note of the instruction cache's clock when all
    /// its lines were last found most recently used in their sets. Finding
    /// such a line changes nothing, and the clock moves only when a lookup
    /// changes a set: while it reads the same, the block's lines are still
    /// most recently used, so the fetch hits in full and is not looked up
    /// (the steady state of a loop). Without a cache, that and a block in
    /// the line looked up last inline; the lookups do not. `seen` is called
    /// only with a cache on. Misses without a cache are counted only when
    /// `COUNT` asks: only a trace reads the counts.
    #[inline(always)]
    pub fn fetch_stall<'s, const COUNT: bool>(
        &mut self,
        addr: u32,
        lines: u32,
        jumped: bool,
        seen: impl FnOnce() -> &'s mut u64,
    ) -> u32 {
        match &self.icache {
            Some(cache) if self.icache_on => {
                let seen = seen();
                let unchanged = cache.clock == *seen || lines == 1 && cache.looked_up_last(addr);
                if unchanged {
                    0
                } else {
                    self.cached_fetch_stall(addr, lines, jumped, seen)
                }
            }
            _ => {
                // No cache: every line misses, the first one as a jump's if jumped.
                let after_jump = u32::from(jumped);
                if COUNT {
                    self.misses_jumped += u64::from(after_jump);
                    self.misses_sequential += u64::from(lines - after_jump);
                }
                after_jump * self.ws + (lines - after_jump) * self.sequential_stall
            }
        }
    }

    /// [`Self::fetch_stall`] through the instruction cache, for the `lines`
    /// lines from the one holding `addr`.
    #[inline(never)]
    fn cached_fetch_stall(&mut self, addr: u32, lines: u32, jumped: bool, seen: &mut u64) -> u32 {
        let Some(cache) = &mut self.icache else {
            return 0;
        };
        let before = cache.clock;
        let first = addr >> self.line_shift;
        let mut stall = 0;
        for line in (first..).take(lines as usize) {
            if !cache.access(line << self.line_shift) {
                if line == first && jumped {
                    self.misses_jumped += 1;
                    stall += self.ws;
                } else {
                    self.misses_sequential += 1;
                    stall += self.sequential_stall;
                }
            }
        }
        if cache.clock == before {
            *seen = before;
        }
        stall
    }

    /// Whether data reads from flash go through a data cache.
    pub fn data_cached(&self) -> bool {
        self.dcache_on
    }

    /// Stall cycles for `words` data reads from flash that miss, as every
    /// read does without a data cache.
    pub fn uncached_reads(&mut self, words: u32) -> u32 {
        self.data_misses += u64::from(words);
        words * self.ws
    }

    /// Stall cycles for a data read from flash at `addr`.
    #[inline]
    pub fn read_stall(&mut self, addr: u32) -> u32 {
        let dcache_on = self.dcache_on;
        match self
            .dcache
            .as_mut()
            .filter(|_| dcache_on)
            .map(|c| c.access(addr))
        {
            Some(true) => 0,
            _ => self.uncached_reads(1),
        }
    }
}

/// The STM32F4/F7 FLASH register interface (RM0090 section 3.9, RM0385 section 3.7):
/// KEYR at +0x04, SR at +0x0C, CR at +0x10.
#[derive(Debug, Clone, Default)]
pub struct FlashController {
    unlock_step: u8,
    /// Control register value.
    pub cr: u32,
}

/// What a write to the controller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerAction {
    /// Nothing to do beyond updating registers.
    None,
    /// Erase sector `n`.
    EraseSector(u32),
}

impl FlashController {
    const KEY1: u32 = 0x4567_0123;
    const KEY2: u32 = 0xCDEF_89AB;
    const CR_PG: u32 = 1 << 0;
    const CR_SER: u32 = 1 << 1;
    const CR_STRT: u32 = 1 << 16;
    const CR_LOCK: u32 = 1 << 31;

    /// The controller after reset: locked.
    pub fn new() -> FlashController {
        FlashController {
            unlock_step: 0,
            cr: Self::CR_LOCK,
        }
    }

    /// Whether stores into flash program it now.
    pub fn programming(&self) -> bool {
        self.cr & (Self::CR_PG | Self::CR_LOCK) == Self::CR_PG
    }

    /// Reads a register at `offset` from the controller base.
    pub fn read(&self, offset: u32) -> u32 {
        match offset {
            0x10 => self.cr,
            // SR: never busy, because the stall is charged when the operation starts.
            _ => 0,
        }
    }

    /// Writes a register at `offset` from the controller base.
    pub fn write(&mut self, offset: u32, value: u32) -> ControllerAction {
        match offset {
            0x04 => {
                self.unlock_step = match (self.unlock_step, value) {
                    (0, Self::KEY1) => 1,
                    (1, Self::KEY2) => {
                        self.cr &= !Self::CR_LOCK;
                        0
                    }
                    _ => 0,
                };
                ControllerAction::None
            }
            0x10 if self.cr & Self::CR_LOCK != 0 => ControllerAction::None,
            0x10 => {
                self.cr = value & !Self::CR_STRT;
                if value & Self::CR_STRT != 0 && value & Self::CR_SER != 0 {
                    ControllerAction::EraseSector((value >> 3) & 0xF)
                } else {
                    ControllerAction::None
                }
            }
            _ => ControllerAction::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_ranges_find_the_flash_and_its_aliases_only() {
        let flash = FlashRanges::new(vec![
            (0x0800_0000, 0x0810_0000),
            (0x0000_0000, 0x0010_0000),
            (0x1000_0000, 0x1000_0000),
        ]);
        assert_eq!(flash.find(0x0800_1234), Some((0x0800_0000, 0x0810_0000)));
        assert_eq!(flash.find(0x000f_fffc), Some((0x0000_0000, 0x0010_0000)));
        for outside in [
            0x0810_0000,
            0x0010_0000,
            0x1000_0000,
            0x2000_0000,
            0xe000_e010,
        ] {
            assert_eq!(flash.find(outside), None, "{outside:#x}");
        }
        assert_eq!(flash.bases().collect::<Vec<_>>(), [0x0800_0000, 0]);
        // `touches` only rules out: 0x0810_0000 shares a region with flash.
        assert!(flash.touches(FlashRanges::region_bit(0x0810_0000)));
        assert!(!flash.touches(FlashRanges::region_bit(0x2000_0000)));
        let high = FlashRanges::new(vec![(0xf000_0000, 0xffff_ffff)]);
        assert_eq!(high.find(0xffff_fff0), Some((0xf000_0000, 0xffff_ffff)));
    }

    #[test]
    fn a_block_is_fetched_in_every_line_it_touches() {
        let target = Target::shipped("stm32f407").unwrap().unwrap();
        let timing = FlashTiming::new(&target);
        // 16-byte lines (the 128-bit flash word).
        assert_eq!(timing.lines(0x0800_0000, 16), 1);
        assert_eq!(timing.lines(0x0800_000e, 4), 2);
        assert_eq!(timing.lines(0x0800_0002, 40), 3);
        // An empty block still fetches the line it starts in.
        assert_eq!(timing.lines(0x0800_0010, 0), 1);
    }

    /// LRU as a list per set, most recently used first: the definition the
    /// stamps must agree with.
    fn reference_hits(geometry: CacheGeometry, addrs: &[u32]) -> Vec<bool> {
        let ways = geometry.ways.min(4) as usize;
        let sets = (geometry.lines / ways as u32).max(1);
        let shift = geometry.line_bytes.trailing_zeros();
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); sets as usize];
        addrs
            .iter()
            .map(|&addr| {
                let line = addr >> shift;
                let list = &mut lists[(line % sets) as usize];
                let hit = match list.iter().position(|&t| t == line) {
                    Some(i) => {
                        list.remove(i);
                        true
                    }
                    None => {
                        list.truncate(ways - 1);
                        false
                    }
                };
                list.insert(0, line);
                hit
            })
            .collect()
    }

    #[test]
    fn stamps_replace_exactly_as_lru_does() {
        // A fixed pseudo-random walk over a few sets' worth of lines, with runs
        // of repeats as straight-line code makes them.
        let mut x = 0x1234_5678u32;
        let addrs: Vec<u32> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                0x0800_0000 + (x % 4096) * 4
            })
            .flat_map(|a| [a, a + 4])
            .collect();
        for (lines, ways) in [(64, 4), (32, 2), (8, 1), (128, 8), (48, 4), (24, 2)] {
            let geometry = CacheGeometry {
                lines,
                line_bytes: 16,
                ways,
            };
            let mut cache = Cache::new(geometry);
            let hits: Vec<bool> = addrs.iter().map(|&a| cache.access(a)).collect();
            assert_eq!(
                hits,
                reference_hits(geometry, &addrs),
                "{lines} lines, {ways} ways"
            );
            assert!(hits.iter().any(|&h| h) && hits.iter().any(|&h| !h));
        }
    }

    /// A loop's blocks fetched again and again skip their lookups once their
    /// lines are the most recently used, and give the stalls the lookups
    /// give once another fetch (or an invalidation) changes a set.
    #[test]
    fn a_block_skips_its_lookups_only_while_its_lines_stay_most_recently_used() {
        let target = Target::shipped("stm32h743").unwrap().unwrap();
        let mut timing = FlashTiming::new(&target);
        timing.configure(FlashSettings {
            wait_states: 2,
            prefetch: false,
            icache: true,
            dcache: false,
        });
        let (mut body, mut other) = (u64::MAX, u64::MAX);
        // A 64-byte body over two 32-byte lines: both miss, then hit.
        assert_eq!(timing.lines(0x0800_0000, 64), 2);
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, true, || &mut body),
            4
        );
        assert_eq!(body, u64::MAX);
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, true, || &mut body),
            0
        );
        assert_ne!(body, u64::MAX);
        let clock = timing.icache.as_ref().unwrap().clock;
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, true, || &mut body),
            0
        );
        assert_eq!(timing.icache.as_ref().unwrap().clock, clock);
        // Lines 16 KiB on share the body's sets: two of them evict its first line
        // from the 2-way cache.
        for _ in 0..2 {
            timing.fetch_stall::<true>(0x0800_4000, 1, true, || &mut other);
            timing.fetch_stall::<true>(0x0800_8000, 1, true, || &mut other);
        }
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, true, || &mut body),
            2
        );
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, true, || &mut body),
            0
        );
        timing.invalidate_icache();
        assert_eq!(
            timing.fetch_stall::<true>(0x0800_0000, 2, false, || &mut body),
            4
        );
    }

    #[test]
    fn an_invalidated_cache_misses_even_its_last_line() {
        let mut cache = Cache::new(CacheGeometry {
            lines: 8,
            line_bytes: 16,
            ways: 2,
        });
        assert!(!cache.access(0x100));
        assert!(cache.access(0x104));
        cache.invalidate();
        assert!(!cache.access(0x108));
    }
}
