//! Named limits of the store. Each says why it has the value it has.

/// Smallest commit-log segment accepted by configuration: small segments are for tests, but
/// below 64 KiB the end-of-segment filler would waste most of each file.
pub const SEGMENT_BYTES_MIN: usize = 64 * 1024;

/// Upper bound on `maxMessageSize`. RocketMQ's default is 4 MiB; larger bodies belong in
/// object storage, and every record must fit in one remoting frame.
pub const MESSAGE_BYTES_MAX_LIMIT: usize = 64 * 1024 * 1024;

/// Largest remoting frame (RocketMQ `frameMaxLength` default is 16 MiB); only used here to
/// check that the message limit leaves room for the frame header.
pub const FRAME_BYTES_MAX: usize = 128 * 1024 * 1024;

/// Queue ids a topic may use (0..QUEUES_PER_TOPIC_MAX). RocketMQ topics rarely exceed a few
/// dozen queues; the bound keeps the per-topic offset tables small and rejects garbage ids.
pub const QUEUES_PER_TOPIC_MAX: usize = 1024;

/// Messages in one batch append. The client caps a batch at 4 MiB in total, so 4096 tiny
/// messages is already a generous ceiling.
pub const BATCH_MESSAGES_MAX: usize = 4096;

/// Records returned by one read from a consume queue, whatever the caller asks for.
pub const READ_MESSAGES_MAX: usize = 1024;

/// Bytes returned by one read from a consume queue (RocketMQ's in-memory pull cap is
/// 256 KiB; we allow a little more for large-batch consumers).
pub const READ_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Keys indexed per message (UNIQ_KEY plus KEYS tokens); more keys are ignored so that one
/// message cannot flood the index.
pub const INDEX_KEYS_PER_MESSAGE_MAX: usize = 32;

/// Results one index query returns at most (RocketMQ `maxMsgsNumBatch` is 64).
pub const INDEX_QUERY_RESULTS_MAX: usize = 64;

/// Bytes zeroed past the recovered end of the commit log: a torn record is at most one
/// maximal record long, so zeroing this much removes every trace of it.
pub const TORN_TAIL_ZERO_BYTES_MAX: usize = MESSAGE_BYTES_MAX_LIMIT + 64 * 1024;

/// Consume-queue units one read scans looking for messages that pass its tag filter
/// (RocketMQ `maxFilterMessageCount` is 16,000); bounds the work of a pull that matches
/// nothing.
pub const READ_SCAN_UNITS_MAX: usize = 16_000;

/// After a dispatch pass that found records, the dispatcher sleeps this long before the
/// next pass instead of waking on every append (RocketMQ's reput thread sleeps 1 ms). Under
/// load one wake-up then covers many records; an idle dispatcher still wakes on the first
/// append at once. This bounds the extra delay before a consumer can see a message.
pub const DISPATCH_COALESCE: std::time::Duration = std::time::Duration::from_micros(500);

/// Bytes past the end of the log kept faulted in ahead of the writer (see
/// [`crate::commit_log::prefault`]). At a few hundred MB/s of appends this is tens of
/// milliseconds of headroom; it costs that much page cache, dirty with zeros.
pub const PREFAULT_AHEAD_BYTES: u64 = 8 * 1024 * 1024;

/// How often the pre-faulter looks at the log end while appends are arriving.
pub const PREFAULT_ACTIVE_TICK: std::time::Duration = std::time::Duration::from_millis(2);

/// How often the pre-faulter looks at the log end while nothing is appended; the window
/// it left ahead covers a burst until it wakes.
pub const PREFAULT_IDLE_TICK: std::time::Duration = std::time::Duration::from_millis(100);
