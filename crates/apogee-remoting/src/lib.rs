//! Both ends of a RocketMQ remoting connection over TCP.
//!
//! Name server, broker, replication and the client SDK all talk through this crate: it turns
//! a socket into a stream of [`RemotingCommand`]s, matches responses to requests by `opaque`,
//! dispatches incoming requests (including server-initiated ones, such as a broker asking a
//! producer to check a transaction) to a [`RequestHandler`], and enforces the limits that keep
//! one bad peer from hurting the others.
//!
//! # Layout
//! - [`connection`]: one connection: reader and writer tasks, pending-request table,
//!   request/oneway/response sending.
//! - [`server`]: [`RemotingServer`], the accept loop with its connection limit and shutdown.
//! - [`client`]: [`RemotingClient`], connections by address, `invoke` with timeouts.
//! - [`handler`]: the [`RequestHandler`] trait.
//! - [`config`]: [`RemotingConfig`], limits and timeouts.
//! - [`error`]: the [`RemotingError`] type.
//!
//! # Place in the workspace
//! `apogee-protocol` ← **`apogee-remoting`** ← name server, broker, client SDK.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod connection;
pub mod error;
pub mod handler;
pub mod server;

pub use apogee_protocol::remoting::{RemotingCommand, SerializeType};
pub use client::{NoRequests, RemotingClient};
pub use config::RemotingConfig;
pub use connection::Connection;
pub use error::RemotingError;
pub use handler::{HandlerFuture, RequestHandler};
pub use server::RemotingServer;
