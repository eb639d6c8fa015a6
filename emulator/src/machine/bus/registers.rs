//! Registers with no behaviour: each reads its reset value until written and
//! then keeps what was written. Serves blocks a target names but no model
//! covers, and loose registers anywhere in the peripheral space.

use std::collections::HashMap;

use super::{merge, BusContext, BusError, Peripheral};
use crate::target::ResetValue;

/// Most distinct registers one file keeps; beyond it writes are dropped, so
/// firmware sweeping the peripheral space cannot grow memory without bound.
const MAX_REGISTERS: usize = 1 << 16;

/// Word-addressed registers that keep what is written.
#[derive(Debug, Clone, Default)]
pub struct RegisterFile {
    values: HashMap<u32, u32>,
}

impl RegisterFile {
    /// Registers holding `reset` values, 0 elsewhere.
    pub fn new(reset: &[ResetValue]) -> RegisterFile {
        RegisterFile::with_defaults([], reset.iter().copied())
    }

    /// Registers holding a model's own reset values `defaults` (offset,
    /// value) with the target file's `reset` values over them, 0 elsewhere.
    pub fn with_defaults(
        defaults: impl IntoIterator<Item = (u32, u32)>,
        reset: impl IntoIterator<Item = ResetValue>,
    ) -> RegisterFile {
        let reset = reset.into_iter().map(|r| (r.offset, r.value));
        RegisterFile {
            values: defaults
                .into_iter()
                .chain(reset)
                .map(|(offset, value)| (offset & !3, value))
                .collect(),
        }
    }

    /// The word at `offset`.
    pub fn get(&self, offset: u32) -> u32 {
        self.values.get(&offset).copied().unwrap_or(0)
    }

    /// Writes the lanes of `value` selected by `mask`.
    pub fn set(&mut self, offset: u32, value: u32, mask: u32) {
        if self.values.len() >= MAX_REGISTERS && !self.values.contains_key(&offset) {
            return;
        }
        let old = self.get(offset);
        self.values.insert(offset, merge(old, value, mask));
    }
}

impl Peripheral for RegisterFile {
    fn read(&mut self, offset: u32, _ctx: &mut BusContext<'_>) -> Result<u32, BusError> {
        Ok(self.get(offset))
    }

    fn write(
        &mut self,
        offset: u32,
        value: u32,
        mask: u32,
        _ctx: &mut BusContext<'_>,
    ) -> Result<(), BusError> {
        self.set(offset, value, mask);
        Ok(())
    }

    fn register_name(&self, _offset: u32) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reset_values_and_keeps_byte_writes() {
        let mut r = RegisterFile::new(&[ResetValue {
            offset: 4,
            value: 0x8300,
        }]);
        assert_eq!(r.get(4), 0x8300);
        assert_eq!(r.get(8), 0);
        r.set(4, 0x0000_0011, 0xFF);
        assert_eq!(r.get(4), 0x8311);
    }
}
