//! Which broker a benchmark drives: a spawned one (the default) or `--broker ADDR`, and the
//! options that choose and configure it.

use std::path::PathBuf;

use anyhow::Result;

use super::broker_proc::{Flush, SpawnedBroker};

/// Options choosing the broker under test, shared by `bench produce`, `consume` and `all`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Drive an already running broker at this address instead of spawning one.
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: Option<String>,
    /// With --broker: its process id, for memory and CPU figures.
    #[arg(long, value_name = "PID", requires = "broker")]
    pub broker_pid: Option<u32>,
    /// Flush mode of the spawned broker (with --broker: what it is configured with, used
    /// only to pick the ceiling).
    #[arg(long, value_enum, default_value = "async")]
    pub flush: Flush,
    /// Directory for the spawned broker's data and the sync probe (a fresh subdirectory,
    /// removed afterwards). Put it on the disk to measure, not on a tmpfs.
    #[arg(long, default_value = "./data/bench")]
    pub dir: PathBuf,
    /// Extra setting for the spawned broker, RocketMQ key names; repeatable.
    #[arg(long = "broker-set", value_name = "KEY=VALUE")]
    pub broker_settings: Vec<String>,
}

/// The broker under test.
#[derive(Debug)]
pub enum Target {
    /// Spawned by this benchmark, stopped at the end.
    Spawned(SpawnedBroker),
    /// Already running; left running.
    External {
        /// Its address.
        addr: String,
        /// Its process id, if given.
        pid: Option<u32>,
    },
}

impl Target {
    /// The broker `args` name, spawning one with `flush` unless `--broker` was given.
    ///
    /// # Errors
    /// If a spawned broker does not start.
    pub fn open(args: &TargetArgs, flush: Flush) -> Result<Self> {
        match &args.broker {
            Some(addr) => Ok(Target::External {
                addr: addr.clone(),
                pid: args.broker_pid,
            }),
            None => Ok(Target::Spawned(SpawnedBroker::start(
                &args.dir,
                flush,
                &args.broker_settings,
            )?)),
        }
    }

    /// The broker's address.
    #[must_use]
    pub fn addr(&self) -> &str {
        match self {
            Target::Spawned(broker) => broker.addr(),
            Target::External { addr, .. } => addr,
        }
    }

    /// The broker's process id, when known.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::Spawned(broker) => Some(broker.pid()),
            Target::External { pid, .. } => *pid,
        }
    }

    /// `spawned` or `external`, for the report.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Spawned(_) => "spawned",
            Target::External { .. } => "external",
        }
    }

    /// Stops a spawned broker (SIGTERM, wait); leaves an external one alone.
    ///
    /// # Errors
    /// If the spawned broker did not stop cleanly.
    pub fn stop(self) -> Result<()> {
        match self {
            Target::Spawned(broker) => broker.stop(),
            Target::External { .. } => Ok(()),
        }
    }
}
