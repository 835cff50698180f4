//! `apogee topic create|list|describe|delete` (`mqadmin updateTopic`, `topicList`,
//! `topicStatus`, `deleteTopic`).

use anyhow::Result;
use apogee_client::TopicSpec;
use apogee_client::admin::topic::DEFAULT_QUEUES;
use apogee_client::admin::{TopicStatus, TopicTarget};
use apogee_protocol::header::PermName;
use serde_json::json;

use super::output::Table;
use super::{Connect, print_json, with_admin};

/// `apogee topic ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TopicCommand {
    /// Create a topic, or update its queue counts, on every master broker (or one cluster's,
    /// or one broker's) and wait until it is routable.
    Create(CreateArgs),
    /// List the topics the name server knows (application topics unless --all).
    List(ListArgs),
    /// Show a topic's queues per broker with their min and max offsets.
    Describe(NamedArgs),
    /// Delete a topic from its brokers and the name server (its stored messages stay until
    /// retention removes them).
    Delete(NamedArgs),
}

/// Arguments of `apogee topic create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The topic.
    pub topic: String,
    /// Read and write queues per broker.
    #[arg(short = 'q', long, default_value_t = DEFAULT_QUEUES)]
    pub queues: i32,
    /// Read queues per broker (default: --queues).
    #[arg(long)]
    pub read_queues: Option<i32>,
    /// Write queues per broker (default: --queues).
    #[arg(long)]
    pub write_queues: Option<i32>,
    /// Mark the topic as ordered.
    #[arg(long)]
    pub order: bool,
    /// Create it on this cluster's master brokers only.
    #[arg(short = 'c', long, conflicts_with = "broker")]
    pub cluster: Option<String>,
    /// Create it on the broker at this address only.
    #[arg(short = 'b', long, value_name = "ADDR")]
    pub broker: Option<String>,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Arguments of `apogee topic list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Include system, retry and dead-letter topics, with their kind.
    #[arg(long)]
    pub all: bool,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Arguments of the commands that name one topic.
#[derive(Debug, clap::Args)]
pub struct NamedArgs {
    /// The topic.
    pub topic: String,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Runs an `apogee topic` subcommand.
///
/// # Errors
/// What the name server or brokers refused, as a message with a hint.
pub fn run(command: &TopicCommand) -> Result<()> {
    match command {
        TopicCommand::Create(args) => create(args),
        TopicCommand::List(args) => list(args),
        TopicCommand::Describe(args) => describe(args),
        TopicCommand::Delete(args) => delete(args),
    }
}

fn create(args: &CreateArgs) -> Result<()> {
    let target = match (&args.cluster, &args.broker) {
        (Some(cluster), _) => TopicTarget::Cluster(cluster.clone()),
        (None, Some(broker)) => TopicTarget::Broker(broker.clone()),
        (None, None) => TopicTarget::AllBrokers,
    };
    let spec = TopicSpec {
        read_queues: args.read_queues.unwrap_or(args.queues),
        write_queues: args.write_queues.unwrap_or(args.queues),
        order: args.order,
        target,
        ..TopicSpec::new(&args.topic)
    };
    let brokers = with_admin(&args.connect, |admin| async move {
        admin.create_topic(&spec).await
    })?;
    let (read, write) = (
        args.read_queues.unwrap_or(args.queues),
        args.write_queues.unwrap_or(args.queues),
    );
    if args.connect.json {
        return print_json(&json!({
            "topic": args.topic,
            "brokers": brokers,
            "readQueues": read,
            "writeQueues": write,
            "perm": PermName::READ | PermName::WRITE,
            "order": args.order,
        }));
    }
    println!(
        "created topic {} ({read} read / {write} write queues{}) on {}",
        args.topic,
        if args.order { ", ordered" } else { "" },
        brokers.join(", ")
    );
    Ok(())
}

fn list(args: &ListArgs) -> Result<()> {
    let topics = with_admin(
        &args.connect,
        |admin| async move { admin.list_topics().await },
    )?;
    let shown: Vec<_> = topics
        .iter()
        .filter(|t| args.all || !t.kind.is_system())
        .collect();
    if args.connect.json {
        let rows: Vec<_> = shown
            .iter()
            .map(|t| json!({"topic": t.name, "kind": t.kind.as_str()}))
            .collect();
        return print_json(&json!(rows));
    }
    if !args.all {
        for topic in &shown {
            println!("{}", topic.name);
        }
        return Ok(());
    }
    let mut table = Table::new(&["TOPIC", "KIND"]);
    for topic in &shown {
        table.row(vec![topic.name.clone(), topic.kind.as_str().to_owned()]);
    }
    print!("{}", table.render());
    Ok(())
}

fn describe(args: &NamedArgs) -> Result<()> {
    let topic = args.topic.clone();
    let status = with_admin(&args.connect, |admin| async move {
        admin.describe_topic(&topic).await
    })?;
    if args.connect.json {
        return print_json(&status_json(&status));
    }
    let mut brokers = Table::new(&["BROKER", "READ_QUEUES", "WRITE_QUEUES", "PERM"]);
    for c in &status.configs {
        brokers.row(vec![
            c.broker_name.clone(),
            c.read_queues.to_string(),
            c.write_queues.to_string(),
            PermName(c.perm).to_string(),
        ]);
    }
    let mut queues = Table::new(&["BROKER", "ADDRESS", "QUEUE", "MIN_OFFSET", "MAX_OFFSET"]);
    for q in &status.queues {
        queues.row(vec![
            q.queue.broker_name.clone(),
            q.broker_addr.clone(),
            q.queue.queue_id.to_string(),
            q.min_offset.to_string(),
            q.max_offset.to_string(),
        ]);
    }
    println!("topic {}", status.topic);
    print!("\n{}\n{}", brokers.render(), queues.render());
    println!("\nmessages stored: {}", status.stored_messages());
    Ok(())
}

fn status_json(status: &TopicStatus) -> serde_json::Value {
    let brokers: Vec<_> = status
        .configs
        .iter()
        .map(|c| {
            json!({
                "brokerName": c.broker_name,
                "readQueues": c.read_queues,
                "writeQueues": c.write_queues,
                "perm": c.perm,
                "permText": PermName(c.perm).to_string(),
            })
        })
        .collect();
    let queues: Vec<_> = status
        .queues
        .iter()
        .map(|q| {
            json!({
                "brokerName": q.queue.broker_name,
                "brokerAddr": q.broker_addr,
                "queueId": q.queue.queue_id,
                "minOffset": q.min_offset,
                "maxOffset": q.max_offset,
            })
        })
        .collect();
    json!({
        "topic": status.topic,
        "brokers": brokers,
        "queues": queues,
        "storedMessages": status.stored_messages(),
    })
}

fn delete(args: &NamedArgs) -> Result<()> {
    let topic = args.topic.clone();
    let brokers = with_admin(&args.connect, |admin| async move {
        admin.delete_topic(&topic).await
    })?;
    if args.connect.json {
        return print_json(&json!({"topic": args.topic, "brokers": brokers}));
    }
    println!(
        "deleted topic {} from {} and the name server; its stored messages stay until \
         retention removes them",
        args.topic,
        brokers.join(", ")
    );
    Ok(())
}
