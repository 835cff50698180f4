//! Message `sysFlag` bits (RocketMQ `MessageSysFlag`).

/// The body is compressed; the algorithm is in [`COMPRESSION_TYPE_MASK`].
pub const COMPRESSED: i32 = 0x1;
/// The topic is a MULTI_TAG topic (set by the broker).
pub const MULTI_TAGS: i32 = 0x2;
/// Mask of the two transaction-type bits.
pub const TRANSACTION_TYPE_MASK: i32 = 0xC;
/// Transaction type: not a transactional message.
pub const TRANSACTION_NOT_TYPE: i32 = 0x0;
/// Transaction type: a prepared (half) message.
pub const TRANSACTION_PREPARED: i32 = 0x4;
/// Transaction type: a committed transactional message.
pub const TRANSACTION_COMMIT: i32 = 0x8;
/// Transaction type: a rolled-back transactional message.
pub const TRANSACTION_ROLLBACK: i32 = 0xC;
/// The born host is IPv6 (16-byte address).
pub const BORNHOST_V6: i32 = 0x10;
/// The store host is IPv6 (16-byte address).
pub const STOREHOST_V6: i32 = 0x20;
/// Bits 8–10 carry the compression type when [`COMPRESSED`] is set.
pub const COMPRESSION_TYPE_MASK: i32 = 0x700;

/// The transaction type bits of `sys_flag`.
#[must_use]
pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_TYPE_MASK
}

/// Whether a record with this `sys_flag` is dispatched to a consume queue.
///
/// Only plain and committed messages are visible to consumers; prepared and rolled-back
/// transactional records stay in the commit log only.
#[must_use]
pub fn is_dispatchable(sys_flag: i32) -> bool {
    matches!(
        transaction_type(sys_flag),
        TRANSACTION_NOT_TYPE | TRANSACTION_COMMIT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only NOT_TYPE and COMMIT records reach consume queues.
    #[test]
    fn dispatchable_types() {
        assert!(is_dispatchable(0));
        assert!(is_dispatchable(TRANSACTION_COMMIT | COMPRESSED));
        assert!(!is_dispatchable(TRANSACTION_PREPARED));
        assert!(!is_dispatchable(TRANSACTION_ROLLBACK | BORNHOST_V6));
    }
}
