//! `apogee`: a durable, RocketMQ-compatible message broker. The one binary.
//!
//! Subcommands so far:
//!
//! - `apogee bench limits`: measure this machine's storage and loopback ceilings.
//! - `apogee bench store`: measure the store against those ceilings.
//! - `apogee bench produce|consume|all`: drive a broker over the wire and measure it.
//! - `apogee store verify`: recover a store directory and validate every record.
//! - `apogee serve`: name server and broker in one process; `apogee namesrv`, `apogee broker`.
//! - `apogee topic`, `apogee cluster`, `apogee consumer progress`, `apogee message query`:
//!   administration through the client SDK (see [`cli`]).
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `warn`). Errors print as one short
//! message, its causes and a hint, and exit with status 1.

mod bench;
mod cli;
mod server_cmd;
mod settings;
mod store_cmd;

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use bench::UserError;
use bench::consume::ConsumeArgs;
use bench::limits::LimitsArgs;
use bench::matrix::AllArgs;
use bench::produce::ProduceArgs;
use bench::store::StoreBenchArgs;

/// The command line of `apogee`.
#[derive(Debug, Parser)]
#[command(
    name = "apogee",
    version,
    about = "Apogee: a durable, RocketMQ-compatible message broker"
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Top-level subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a name server and a broker in one process (data in ./data): the quickest start.
    Serve(server_cmd::ServerArgs),
    /// Run a stand-alone name server.
    Namesrv(server_cmd::ServerArgs),
    /// Run a stand-alone broker registering with namesrvAddr.
    Broker(server_cmd::ServerArgs),
    /// Benchmarks that print their figures beside this machine's own ceilings.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Offline operations on a store directory.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Create, list, describe and delete topics.
    #[command(subcommand)]
    Topic(cli::topic::TopicCommand),
    /// Show the clusters and brokers the name server knows.
    Cluster(cli::cluster::ClusterArgs),
    /// Consumer groups: progress and lag.
    #[command(subcommand)]
    Consumer(cli::consumer::ConsumerCommand),
    /// Find messages by key or id.
    #[command(subcommand)]
    Message(cli::message::MessageCommand),
    /// Send messages (from the arguments, or one per stdin line) and print each SendResult.
    Send(cli::send::SendArgs),
    /// Consume a topic as a member of a group and print each message.
    Consume(cli::consume::ConsumeArgs),
}

/// `apogee store ...` subcommands.
#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Recover the store (as a start would) and validate every record's structure, position
    /// and CRC.
    Verify(store_cmd::VerifyArgs),
}

/// `apogee bench ...` subcommands.
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Measure this machine's ceilings: buffered and O_DIRECT write throughput, 4 KiB
    /// write+fdatasync latency, 256 KiB write+fdatasync throughput, loopback TCP round trip.
    Limits(LimitsArgs),
    /// Measure the store's throughput, latency and recovery against those ceilings.
    Store(StoreBenchArgs),
    /// Send messages to a broker (spawned unless --broker) and measure rate, latency,
    /// memory and CPU beside the loopback and sync ceilings.
    Produce(ProduceArgs),
    /// Pull a topic's whole backlog from a running broker as fast as possible.
    Consume(ConsumeArgs),
    /// The matrix: ASYNC_FLUSH and SYNC_FLUSH x 1, 8, 32 senders, each followed by a
    /// consume of what it sent, in one table.
    All(AllArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Dispatches a parsed command.
fn run(command: &Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => server_cmd::serve(args),
        Command::Namesrv(args) => server_cmd::namesrv(args),
        Command::Broker(args) => server_cmd::broker(args),
        Command::Bench(BenchCommand::Limits(args)) => bench::limits::run(args),
        Command::Bench(BenchCommand::Store(args)) => bench::store::run(args),
        Command::Bench(BenchCommand::Produce(args)) => bench::produce::run(args),
        Command::Bench(BenchCommand::Consume(args)) => bench::consume::run(args),
        Command::Bench(BenchCommand::All(args)) => bench::matrix::run(args),
        Command::Store(StoreCommand::Verify(args)) => store_cmd::verify(args),
        Command::Topic(command) => cli::topic::run(command),
        Command::Cluster(args) => cli::cluster::run(args),
        Command::Consumer(command) => cli::consumer::run(command),
        Command::Message(command) => cli::message::run(command),
        Command::Send(args) => cli::send::run(args),
        Command::Consume(args) => cli::consume::run(args),
    }
}

/// Logs to stderr, filtered by `RUST_LOG`; `warn` when unset or unparsable.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Prints `error` for people on stderr: the message, each cause once, and a hint.
fn print_error(error: &anyhow::Error) {
    if let Some(user) = error.downcast_ref::<UserError>() {
        eprintln!("error: {user}");
        eprintln!("hint: {}", user.hint);
        return;
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    eprintln!("hint: {}", hint_for(error));
}

/// A hint for an error that did not bring its own.
fn hint_for(error: &anyhow::Error) -> &'static str {
    let kind = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    match kind {
        Some(ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) => {
            "pass a --dir that you can write to"
        }
        Some(ErrorKind::StorageFull | ErrorKind::QuotaExceeded) => {
            "free some space, pass a smaller --buffered-bytes, or a --dir on another file system"
        }
        Some(_) => "check that --dir names a directory you can create and write to",
        None => "run again with RUST_LOG=debug for more detail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The command-line definition is consistent (clap's own checks).
    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `bench limits` takes sizes with suffixes and defaults to 4 GiB.
    #[test]
    fn parses_bench_limits() {
        let cli = Cli::try_parse_from(["apogee", "bench", "limits", "--buffered-bytes", "512M"])
            .expect("parses");
        let Command::Bench(BenchCommand::Limits(args)) = cli.command else {
            panic!("wrong command: {cli:?}");
        };
        assert_eq!(args.buffered_bytes, 512 * bench::size::MIB);
        assert!(!args.json);

        let cli = Cli::try_parse_from(["apogee", "bench", "limits", "--json"]).expect("parses");
        let Command::Bench(BenchCommand::Limits(args)) = cli.command else {
            panic!("wrong command: {cli:?}");
        };
        assert_eq!(args.buffered_bytes, 4 * bench::size::GIB);
        assert!(args.json);
        assert_eq!(args.dir, std::path::PathBuf::from("./data/bench"));
    }

    /// `bench store` parses with its defaults: records derived from the ceiling's size.
    #[test]
    fn parses_bench_store_defaults() {
        let cli = Cli::try_parse_from(["apogee", "bench", "store"]).expect("parses");
        let Command::Bench(BenchCommand::Store(args)) = &cli.command else {
            panic!("wrong command: {cli:?}");
        };
        assert_eq!(args.records, None);
        assert_eq!(args.recovery_bytes, bench::size::GIB);
        assert!(!args.kill_me_writer);
    }

    /// `bench produce` defaults: one sync sender, 1 KiB, 32 in flight, BenchTopic, a
    /// spawned ASYNC_FLUSH broker; `--duration` and `--count` exclude each other.
    #[test]
    fn parses_bench_produce() {
        let cli = Cli::try_parse_from(["apogee", "bench", "produce"]).expect("parses");
        let Command::Bench(BenchCommand::Produce(args)) = &cli.command else {
            panic!("wrong command: {cli:?}");
        };
        assert_eq!(args.concurrency, 1);
        assert_eq!(args.load.size, 1024);
        assert_eq!(args.load.inflight, 32);
        assert_eq!(args.load.mode, bench::load::Mode::Sync);
        assert_eq!(args.load.topic, "BenchTopic");
        assert_eq!(args.target.flush, bench::broker_proc::Flush::Async);
        assert!(args.target.broker.is_none() && args.count.is_none());
        let both = [
            "apogee",
            "bench",
            "produce",
            "--count",
            "5",
            "--duration",
            "1",
        ];
        assert!(Cli::try_parse_from(both).is_err());
        let pid_alone = ["apogee", "bench", "produce", "--broker-pid", "1"];
        assert!(Cli::try_parse_from(pid_alone).is_err());
        let cli =
            Cli::try_parse_from(["apogee", "bench", "all", "--senders", "1,4"]).expect("parses");
        let Command::Bench(BenchCommand::All(args)) = &cli.command else {
            panic!("wrong command: {cli:?}");
        };
        assert_eq!(args.senders, vec![1, 4]);
        assert_eq!(args.flushes.len(), 2);
    }

    /// Bad sizes are refused by the parser, not later.
    #[test]
    fn refuses_bad_sizes() {
        let parsed = Cli::try_parse_from(["apogee", "bench", "limits", "--buffered-bytes", "4X"]);
        assert!(parsed.is_err());
    }
}
