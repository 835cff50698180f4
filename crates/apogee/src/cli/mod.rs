//! Client-side commands: `apogee topic ...`, `apogee cluster`, `apogee consumer progress` and
//! `apogee message query`, over the SDK's [`apogee_client::Admin`] (RocketMQ's `mqadmin`
//! counterparts). Each reaches the name server given by `-n/--namesrv` (or `NAMESRV_ADDR`),
//! prints an aligned table (or JSON with `--json`), and turns SDK errors into a message plus
//! a hint on what to do.
//!
//! - [`topic`]: create, list, describe, delete.
//! - [`cluster`]: the cluster map.
//! - [`consumer`]: a group's progress and lag.
//! - [`message`]: messages by key or id.
//! - [`consume`]: consume a topic with the SDK's push consumer and print each message.
//! - [`send`]: send messages with the SDK's producer.
//! - [`output`]: tables, times and bodies for people.

pub mod cluster;
pub mod consume;
pub mod consumer;
pub mod message;
pub mod output;
pub mod send;
pub mod topic;

use std::future::Future;

use anyhow::Context;
use apogee_client::config::DEFAULT_NAMESRV_ADDR;
use apogee_client::{Admin, AdminError, ClientConfig, ClientError};

use crate::bench::UserError;

/// Where the name server is, and the output form; every client command takes these.
#[derive(Debug, Clone, clap::Args)]
pub struct Connect {
    /// Name server address, `host:port` (several separated by `;`).
    #[arg(
        short = 'n',
        long = "namesrv",
        env = "NAMESRV_ADDR",
        default_value = DEFAULT_NAMESRV_ADDR,
        value_name = "ADDR"
    )]
    pub namesrv: String,
    /// Print JSON for programs instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `work` with an admin client connected as `connect` says, on a small runtime, and
/// shuts the client down afterwards.
///
/// # Errors
/// The runtime cannot start; `work` fails (as a [`UserError`] with a hint).
pub fn with_admin<T, F, Fut>(connect: &Connect, work: F) -> anyhow::Result<T>
where
    F: FnOnce(Admin) -> Fut,
    Fut: Future<Output = Result<T, AdminError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let admin = Admin::start(ClientConfig::with_namesrv(&connect.namesrv));
        let result = work(admin.clone()).await;
        admin.shutdown().await;
        result.map_err(|error| anyhow::Error::new(explain(&error)))
    })
}

/// `error` as a message and a hint for people.
pub fn explain(error: &AdminError) -> UserError {
    let hint = match error {
        AdminError::Client(client) => client_hint(client),
        AdminError::UnknownCluster { .. } | AdminError::NoBrokers { .. } => {
            "`apogee cluster` shows the clusters and brokers the name server knows".to_owned()
        }
        AdminError::RouteTimeout { .. } | AdminError::StillRouted { .. } => {
            "brokers re-register every 30 s at most; try again in a moment".to_owned()
        }
        AdminError::MessageNotFound { .. } => {
            "`apogee message query --topic T --key K` finds messages by key".to_owned()
        }
        AdminError::Internal(_) => "run again with RUST_LOG=debug for more detail".to_owned(),
    };
    UserError::new(error.to_string(), hint)
}

/// What to do about a client error, for people.
pub fn client_hint(error: &ClientError) -> String {
    match error {
        ClientError::NameServerUnreachable { .. } | ClientError::NoNameServer => {
            "start one with `apogee serve`, or pass -n/--namesrv host:port (or set NAMESRV_ADDR)"
                .to_owned()
        }
        ClientError::TopicNotExist { .. } => "`apogee topic list` shows the topics".to_owned(),
        ClientError::Remoting { addr, .. } => format!(
            "is the broker at {addr} running and reachable? `apogee cluster` lists the brokers \
             the name server knows"
        ),
        ClientError::BrokerNotFound { .. } => {
            "`apogee cluster` lists the brokers the name server knows".to_owned()
        }
        ClientError::InvalidName(_) | ClientError::InvalidArgument(_) => {
            "fix the argument and run the command again; --help lists the options".to_owned()
        }
        ClientError::Refused { .. } => {
            "the server gave its reason above; its log (RUST_LOG=info) may say more".to_owned()
        }
        _ => "run again with RUST_LOG=debug for more detail".to_owned(),
    }
}

/// Prints `value` as pretty JSON on stdout.
///
/// # Errors
/// Serialization failed (it does not for `serde_json::Value`).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
