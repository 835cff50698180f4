//! `apogee message query` (`mqadmin queryMsgByKey`, `queryMsgById`, `queryMsgByUniqueKey`):
//! messages by key (`--topic T --key K`) or by id (`--id ID`, with `--topic` for a producer's
//! message id), printed field by field, as JSON, or body only.

use std::io::Write as _;

use anyhow::{Context, Result};
use apogee_client::MessageExt;
use apogee_client::admin::lookup::DEFAULT_QUERY_MAX;
use serde_json::json;

use super::output::{format_time, hex, printable};
use super::{Connect, print_json, with_admin};
use crate::bench::UserError;

/// `apogee message ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MessageCommand {
    /// Find messages by key (`--topic T --key K`) or one message by id (`--id ID`).
    Query(QueryArgs),
}

/// Arguments of `apogee message query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The topic; needed with --key, and with --id for a producer's (UNIQ_KEY) id.
    #[arg(short = 't', long)]
    pub topic: Option<String>,
    /// A message key (one of the KEYS the producer set).
    #[arg(short = 'k', long, required_unless_present = "id", requires = "topic")]
    pub key: Option<String>,
    /// A message id: the offset id the broker returned, or the producer's message id.
    #[arg(short = 'i', long, conflicts_with = "key")]
    pub id: Option<String>,
    /// Most messages to show for a key.
    #[arg(long, default_value_t = DEFAULT_QUERY_MAX)]
    pub max: usize,
    /// Write only the body bytes, as stored (one message per line for a key query).
    #[arg(long, conflicts_with = "json")]
    pub body_only: bool,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Runs an `apogee message` subcommand.
///
/// # Errors
/// Nothing found, or the name server or a broker cannot be reached, as a message with a hint.
pub fn run(command: &MessageCommand) -> Result<()> {
    match command {
        MessageCommand::Query(args) => query(args),
    }
}

fn query(args: &QueryArgs) -> Result<()> {
    let messages = find(args)?;
    if messages.is_empty() {
        let (topic, key) = (
            args.topic.as_deref().unwrap_or_default(),
            args.key.as_deref().unwrap_or_default(),
        );
        return Err(UserError::new(
            format!("no message of topic {topic} has key {key}"),
            "keys are the KEYS property the producer set; `apogee topic describe` shows \
             whether the topic holds messages",
        )
        .into());
    }
    if args.body_only {
        let mut out = std::io::stdout().lock();
        for (i, m) in messages.iter().enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(&m.body)?;
        }
        if args.key.is_some() {
            out.write_all(b"\n")?;
        }
        return out.flush().context("cannot write to stdout");
    }
    if args.connect.json {
        let rows: Vec<_> = messages.iter().map(message_json).collect();
        return match args.id {
            Some(_) => print_json(&rows[0]),
            None => print_json(&json!(rows)),
        };
    }
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", describe(m));
    }
    Ok(())
}

fn find(args: &QueryArgs) -> Result<Vec<MessageExt>> {
    let (topic, key, id, max) = (
        args.topic.clone(),
        args.key.clone(),
        args.id.clone(),
        args.max,
    );
    with_admin(&args.connect, |admin| async move {
        match (id, key, topic) {
            (Some(id), _, topic) => Ok(vec![admin.view_message(&id, topic.as_deref()).await?]),
            (None, Some(key), Some(topic)) => admin.query_message_by_key(&topic, &key, max).await,
            // clap requires --id or --key with --topic.
            _ => Ok(Vec::new()),
        }
    })
}

/// One message, field by field.
fn describe(m: &MessageExt) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("Message ID", m.msg_id().to_owned()),
        ("Offset ID", m.offset_msg_id.clone()),
        ("Topic", m.topic.clone()),
        ("Tags", m.tags().unwrap_or("-").to_owned()),
        ("Keys", m.keys().join(" ")),
        ("Queue", format!("{} / {}", m.broker_name, m.queue_id)),
        ("Queue offset", m.queue_offset.to_string()),
        ("Commit-log offset", m.commit_log_offset.to_string()),
        (
            "Born",
            format!("{} from {}", format_time(m.born_timestamp), m.born_host),
        ),
        (
            "Stored",
            format!("{} on {}", format_time(m.store_timestamp), m.store_host),
        ),
        ("Reconsume times", m.reconsume_times.to_string()),
    ];
    for (name, value) in &m.properties {
        fields.push(("Property", format!("{name}={value}")));
    }
    let body = match printable(&m.body) {
        Some(text) => text.to_owned(),
        None => format!("(hex) {}", hex(&m.body)),
    };
    fields.push(("Body", format!("({} bytes) {body}", m.body.len())));
    let width = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(&format!("{:<width$} {value}\n", format!("{name}:")));
    }
    out
}

fn message_json(m: &MessageExt) -> serde_json::Value {
    let mut value = json!({
        "msgId": m.msg_id(),
        "offsetMsgId": m.offset_msg_id,
        "topic": m.topic,
        "tags": m.tags(),
        "keys": m.keys(),
        "brokerName": m.broker_name,
        "queueId": m.queue_id,
        "queueOffset": m.queue_offset,
        "commitLogOffset": m.commit_log_offset,
        "bornTimestamp": m.born_timestamp,
        "bornHost": m.born_host.to_string(),
        "storeTimestamp": m.store_timestamp,
        "storeHost": m.store_host.to_string(),
        "reconsumeTimes": m.reconsume_times,
        "sysFlag": m.sys_flag,
        "flag": m.flag,
        "properties": m.properties,
    });
    match printable(&m.body) {
        Some(text) => value["body"] = json!(text),
        None => value["bodyHex"] = json!(hex(&m.body)),
    }
    value
}
