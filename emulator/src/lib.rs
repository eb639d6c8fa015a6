//! mcubench: a cycle-approximate ARMv7-M emulator and benchmarking harness.
//!
//! It runs real firmware images on modeled MCUs and charges every executed
//! block cycles and energy from a per-core, per-target cost model:
//!
//! ```no_run
//! use std::path::Path;
//! use mcubench::{run::run_image, target::Catalog, machine::RunOptions};
//!
//! let target = Catalog::shipped().find("stm32f407")?;
//! let record = run_image(Path::new("firmware.elf"), &target, &RunOptions::default())?;
//! println!("{} cycles, {:.1} µJ", record.cycles, record.energy_uj);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cost;
pub mod demangle;
pub mod image;
pub mod machine;
pub mod marks;
pub mod profile;
pub mod run;
pub mod shipped;
pub mod suite;
pub mod target;
pub mod trace;
