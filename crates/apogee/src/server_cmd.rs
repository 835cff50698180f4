//! The server commands: `apogee serve` (name server and broker in one process, the
//! newcomer's first command), `apogee namesrv` and `apogee broker` (for real deployments).
//! Each runs until Ctrl-C or SIGTERM, then shuts down cleanly (the store leaves its
//! clean-shutdown marker).

use std::path::PathBuf;

use anyhow::{Context, Result};
use apogee_broker::Broker;
use apogee_namesrv::{NameServer, NamesrvConfig};
use serde_json::Value;

use crate::settings;

/// Default port of the embedded name server in `apogee serve`.
const NAMESRV_PORT_DEFAULT: u16 = 9876;

/// Options shared by every server command.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// A configuration file: TOML, or a RocketMQ `broker.conf` (key=value).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// One setting with RocketMQ's key name, e.g. `flushDiskType=SYNC_FLUSH`; repeatable,
    /// applied after the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
}

/// Waits for Ctrl-C or SIGTERM.
pub(crate) async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `apogee serve`: an embedded name server and one broker, data in `storePathRootDir`
/// (`./data` by default). `namesrvListenPort` sets the name server's port.
///
/// # Errors
/// Bad configuration, a port in use, a store that cannot be opened.
pub fn serve(args: &ServerArgs) -> Result<()> {
    let extra = [("namesrvListenPort", Value::from(NAMESRV_PORT_DEFAULT))];
    let mut loaded = settings::load(args.config.as_deref(), &args.settings, &extra)?;
    let namesrv_port = loaded.extra["namesrvListenPort"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .context("namesrvListenPort must be a port number")?;
    if loaded.broker.namesrv_addr.is_none() {
        loaded.broker.namesrv_addr = Some(format!("127.0.0.1:{namesrv_port}"));
    }
    runtime()?.block_on(async move {
        let namesrv = NameServer::start(NamesrvConfig {
            listen_port: namesrv_port,
            ..NamesrvConfig::default()
        })
        .await
        .with_context(|| format!("cannot start the name server on port {namesrv_port}"))?;
        let data = loaded.store.store_path_root_dir.clone();
        let port = loaded.broker.listen_port;
        let broker = Broker::start(loaded.broker, loaded.store)
            .await
            .with_context(|| format!("cannot start the broker on port {port}"))?;
        println!(
            "apogee: name server on {}, broker {} on {}, data in {}; Ctrl-C stops",
            namesrv.local_addr(),
            broker.context().config.broker_name,
            broker.addr(),
            data.display()
        );
        stop_signal().await;
        println!("apogee: stopping");
        broker.shutdown().await.context("broker shutdown")?;
        namesrv.shutdown().await;
        anyhow::Ok(())
    })
}

/// `apogee namesrv`: a stand-alone name server.
///
/// # Errors
/// Bad configuration or a port in use.
pub fn namesrv(args: &ServerArgs) -> Result<()> {
    let config = settings::load_namesrv(args.config.as_deref(), &args.settings)?;
    runtime()?.block_on(async move {
        let port = config.listen_port;
        let namesrv = NameServer::start(config)
            .await
            .with_context(|| format!("cannot start the name server on port {port}"))?;
        println!(
            "apogee: name server on {}; Ctrl-C stops",
            namesrv.local_addr()
        );
        stop_signal().await;
        namesrv.shutdown().await;
        anyhow::Ok(())
    })
}

/// `apogee broker`: a stand-alone broker registering with `namesrvAddr`.
///
/// # Errors
/// Bad configuration, a port in use, a store that cannot be opened.
pub fn broker(args: &ServerArgs) -> Result<()> {
    let mut loaded = settings::load(args.config.as_deref(), &args.settings, &[])?;
    if loaded.broker.namesrv_addr.is_none() {
        loaded.broker.namesrv_addr = std::env::var("NAMESRV_ADDR").ok();
    }
    if loaded.broker.namesrv_addr.is_none() {
        eprintln!(
            "apogee: no namesrvAddr set (nor NAMESRV_ADDR); clients will not find this broker"
        );
    }
    runtime()?.block_on(async move {
        let port = loaded.broker.listen_port;
        let broker = Broker::start(loaded.broker, loaded.store)
            .await
            .with_context(|| format!("cannot start the broker on port {port}"))?;
        println!("apogee: broker on {}; Ctrl-C stops", broker.addr());
        stop_signal().await;
        broker.shutdown().await.context("broker shutdown")?;
        anyhow::Ok(())
    })
}
