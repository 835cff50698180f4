//! RocketMQ-compatible wire and record formats for Apogee.
//!
//! This crate is pure: bytes in, bytes out, no I/O and no async runtime, so the store, the
//! broker, the replication layer and the client SDK can all share one definition of every
//! format. Every decoder here faces untrusted bytes (from disk or from the network) and returns
//! a typed [`DecodeError`] instead of panicking.
//!
//! # Layout
//! - [`message`]: the stored-message record (RocketMQ's `MessageExt` layout, shipped as-is in
//!   pull responses), message properties, sysflag bits, offset message ids and Java's
//!   `String.hashCode` used for tag codes and index keys.
//! - [`names`]: topic and group name rules and RocketMQ's well-known system names.
//! - [`remoting`]: remoting frames (length, JSON or ROCKETMQ header, body), request and
//!   response codes, and `extFields` with typed accessors for request headers.
//! - [`header`]: typed request and response headers over `extFields` (send in both key forms,
//!   pull, offsets, transactions, queries, admin, name server), and permission bits.
//! - [`body`]: typed JSON bodies (routes, cluster info, broker registration, heartbeats,
//!   queue locks, offset tables), decoded as leniently as Java's fastjson.
//! - [`error`]: [`DecodeError`] and [`NameError`].
//!
//! # Place in the workspace
//! `apogee-protocol` ← `apogee-store` ← broker ← `apogee` (binary). The client SDK depends on
//! this crate only (plus the remoting transport).
#![warn(missing_docs)]

pub mod body;
pub mod error;
pub mod header;
pub mod message;
pub mod names;
pub mod remoting;

pub use error::{DecodeError, NameError};
