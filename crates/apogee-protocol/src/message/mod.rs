//! Messages as RocketMQ stores and ships them.
//!
//! - [`record`]: the stored-message record layout (encode into a buffer, decode a view).
//! - [`batch`]: the SEND_BATCH_MESSAGE body, one short entry per message.
//! - [`properties`]: the `name\x01value\x02` property list and well-known keys.
//! - [`sysflag`]: the message `sysFlag` bits.
//! - [`message_id`]: offset message ids (`storeHost | port | commitLogOffset`, uppercase hex).
//! - [`java_hash`]: Java's `String.hashCode`, used for tag codes and index keys.

pub mod batch;
pub mod java_hash;
pub mod message_id;
pub mod properties;
pub mod record;
pub mod sysflag;
