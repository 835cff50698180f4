//! `apogee consumer progress GROUP [--topic T]` (`mqadmin consumerProgress`): per queue the
//! broker's offset, the group's committed offset and the lag, and the total lag.

use anyhow::Result;
use serde_json::json;

use super::output::Table;
use super::{Connect, print_json, with_admin};

/// `apogee consumer ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConsumerCommand {
    /// Show a group's committed offsets and lag per queue, and the total lag.
    Progress(ProgressArgs),
}

/// Arguments of `apogee consumer progress`.
#[derive(Debug, clap::Args)]
pub struct ProgressArgs {
    /// The consumer group.
    pub group: String,
    /// Only this topic (default: every application topic and the group's retry topic).
    #[arg(short = 't', long)]
    pub topic: Option<String>,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Runs an `apogee consumer` subcommand.
///
/// # Errors
/// The name server or a broker cannot be reached, an unknown topic, as a message with a hint.
pub fn run(command: &ConsumerCommand) -> Result<()> {
    match command {
        ConsumerCommand::Progress(args) => progress(args),
    }
}

fn progress(args: &ProgressArgs) -> Result<()> {
    let (group, topic) = (args.group.clone(), args.topic.clone());
    let progress = with_admin(&args.connect, |admin| async move {
        admin.consumer_progress(&group, topic.as_deref()).await
    })?;
    if args.connect.json {
        let queues: Vec<_> = progress
            .queues
            .iter()
            .map(|q| {
                json!({
                    "topic": q.queue.topic,
                    "brokerName": q.queue.broker_name,
                    "brokerAddr": q.broker_addr,
                    "queueId": q.queue.queue_id,
                    "brokerOffset": q.broker_offset,
                    "consumerOffset": q.consumer_offset,
                    "lag": q.lag(),
                })
            })
            .collect();
        return print_json(&json!({
            "group": progress.group,
            "queues": queues,
            "totalLag": progress.total_lag(),
            "clients": progress.clients,
        }));
    }
    if progress.queues.is_empty() {
        let on = args
            .topic
            .as_deref()
            .map_or_else(String::new, |t| format!(" on topic {t}"));
        eprintln!(
            "group {} has no committed offsets{on}; it has not consumed yet, or the name is \
             misspelled",
            args.group
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        "TOPIC",
        "BROKER",
        "QUEUE",
        "BROKER_OFFSET",
        "CONSUMER_OFFSET",
        "LAG",
    ]);
    for q in &progress.queues {
        table.row(vec![
            q.queue.topic.clone(),
            q.queue.broker_name.clone(),
            q.queue.queue_id.to_string(),
            q.broker_offset.to_string(),
            q.consumer_offset.to_string(),
            q.lag().to_string(),
        ]);
    }
    print!("{}", table.render());
    println!("\ntotal lag: {}", progress.total_lag());
    if progress.clients.is_empty() {
        println!("clients: none online");
    } else {
        println!("clients: {}", progress.clients.join(", "));
    }
    Ok(())
}
