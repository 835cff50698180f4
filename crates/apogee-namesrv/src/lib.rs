//! Apogee's name server: brokers register their topics here, clients ask it for routes
//! (RocketMQ's `namesrv`). Several can run side by side; brokers register with all of them
//! and clients may ask any.
//!
//! # Layout
//! - [`route_table`]: the registry of live brokers, clusters and topic queues, with expiry.
//! - [`processor`]: the request handler (REGISTER_BROKER, GET_ROUTEINFO_BY_TOPIC, ...).
//! - [`server`]: [`NameServer`], the listening server and its expiry scanner.
//! - [`config`]: the [`NamesrvConfig`] type.
//!
//! # Place in the workspace
//! `apogee-protocol` ← `apogee-remoting` ← **`apogee-namesrv`** ← `apogee`.
#![warn(missing_docs)]

pub mod config;
pub mod processor;
pub mod route_table;
pub mod server;

pub use config::NamesrvConfig;
pub use server::NameServer;
