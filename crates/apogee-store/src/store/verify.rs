//! A full scrub of the commit log: every record from the first segment to the end.

use super::MessageStore;
use crate::commit_log::Slot;
use crate::error::Result;

impl MessageStore {
    /// Validates every stored record (structure, position, body CRC) and returns how many
    /// there are. Recovery only re-validates past the checkpoint; this finds damage anywhere.
    ///
    /// # Errors
    /// The first corrupt or misplaced record.
    pub fn verify_all(&self) -> Result<u64> {
        let log = &self.inner.log;
        let end = log.published();
        let mut pos = log.min_offset();
        let mut records = 0;
        while pos < end {
            match log.slot_at(pos, end)? {
                Slot::Record(bytes) => {
                    log.validate(pos, &bytes, true)?;
                    pos += bytes.len() as u64;
                    records += 1;
                }
                Slot::Blank { next } => pos = next,
                Slot::End => break,
            }
        }
        Ok(records)
    }
}
