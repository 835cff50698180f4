//! The 20-byte consume-queue unit: `commitLogOffset i64 | size i32 | tagsCode i64`.

use bytes::{Buf, BufMut};

/// Bytes per consume-queue unit (RocketMQ `CQ_STORE_UNIT_SIZE`).
pub const CQ_UNIT_BYTES: usize = 20;

/// One consume-queue entry: where a message lives in the commit log, and its tag code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqUnit {
    /// Commit-log offset of the record.
    pub phy_offset: u64,
    /// Record size in bytes (always positive for a written unit).
    pub size: u32,
    /// Tag hash (Java `String.hashCode` of TAGS), or the delivery time for delayed messages.
    pub tags_code: i64,
}

impl CqUnit {
    /// Encodes the unit into `out` (exactly [`CQ_UNIT_BYTES`] long).
    ///
    /// # Panics
    /// If `out` has the wrong length or the unit is not a valid written unit (a caller bug).
    pub fn encode(&self, out: &mut [u8]) {
        assert_eq!(out.len(), CQ_UNIT_BYTES, "unit buffer length");
        assert!(self.size > 0, "a written unit has a positive size");
        let mut w = out;
        w.put_i64(i64::try_from(self.phy_offset).expect("offset fits i64"));
        w.put_i32(i32::try_from(self.size).expect("size fits i32"));
        w.put_i64(self.tags_code);
    }

    /// Decodes a unit; `None` for an empty slot (never written: zero size) or a slot whose
    /// fields are impossible (negative offset or size), which only corruption produces.
    #[must_use]
    pub fn decode(raw: &[u8]) -> Option<Self> {
        if raw.len() < CQ_UNIT_BYTES {
            return None;
        }
        let mut r = &raw[..CQ_UNIT_BYTES];
        let phy = r.get_i64();
        let size = r.get_i32();
        let tags_code = r.get_i64();
        if phy < 0 || size <= 0 {
            return None;
        }
        Some(Self {
            phy_offset: phy as u64,
            size: size as u32,
            tags_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact layout, and empty or impossible slots decode as `None`.
    #[test]
    fn layout() {
        let unit = CqUnit {
            phy_offset: 0x0102,
            size: 0x30,
            tags_code: -1,
        };
        let mut raw = [0u8; CQ_UNIT_BYTES];
        unit.encode(&mut raw);
        assert_eq!(
            raw,
            [
                0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0x30, 255, 255, 255, 255, 255, 255, 255, 255
            ]
        );
        assert_eq!(CqUnit::decode(&raw), Some(unit));
        assert_eq!(CqUnit::decode(&[0u8; 20]), None);
        assert_eq!(CqUnit::decode(&[0xFFu8; 20]), None);
        assert_eq!(CqUnit::decode(&[0u8; 5]), None);
    }
}
