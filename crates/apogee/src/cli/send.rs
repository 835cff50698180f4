//! `apogee send TOPIC [BODY...]`: sends messages with the SDK's [`Producer`] and prints each
//! `SendResult`. Bodies come from the arguments, or one per line from stdin when there are
//! none (so `seq 10 | apogee send T` sends ten messages).

use std::io::BufRead;

use anyhow::{Context, Result};
use apogee_client::{
    ClientConfig, ClientError, Message, Producer, ProducerConfig, SelectMessageQueueByHash,
    SendResult,
};
use serde_json::json;

use super::{Connect, client_hint, print_json};
use crate::bench::UserError;

/// Arguments of `apogee send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The topic (created on first send while the broker's autoCreateTopicEnable is on).
    pub topic: String,
    /// Message bodies; without any, each line of stdin is one message.
    pub bodies: Vec<String>,
    /// The tag consumers can filter on.
    #[arg(short, long)]
    pub tags: Option<String>,
    /// Keys to find the message by (`apogee message query --key`); repeatable.
    #[arg(short, long = "key")]
    pub keys: Vec<String>,
    /// A user property `NAME=VALUE`; repeatable.
    #[arg(short, long = "property", value_name = "NAME=VALUE")]
    pub properties: Vec<String>,
    /// Send every message to the queue this key hashes to (Java's `String.hashCode`, as
    /// `SelectMessageQueueByHash`), so that they keep their order for an orderly consumer.
    #[arg(long, value_name = "KEY")]
    pub sharding_key: Option<String>,
    /// The producer group.
    #[arg(short, long, default_value = "apogee-cli-producer")]
    pub group: String,
    /// The name server and output form.
    #[command(flatten)]
    pub connect: Connect,
}

/// Sends every body and prints one result per message.
///
/// # Errors
/// Bad arguments, an unreadable stdin, or a failed send, with a hint.
pub fn run(args: &SendArgs) -> Result<()> {
    let properties = parse_properties(&args.properties)?;
    let bodies = if args.bodies.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()
            .context("cannot read message bodies from stdin")?
    } else {
        args.bodies.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let results = runtime.block_on(async {
        let producer = Producer::with_client_config(
            ProducerConfig::new(args.group.clone()),
            ClientConfig::with_namesrv(&args.connect.namesrv),
        )?;
        producer.start().await?;
        let mut results = Vec::with_capacity(bodies.len());
        for body in bodies {
            let mut message = Message::new(args.topic.clone(), body.into_bytes());
            if let Some(tags) = &args.tags {
                message = message.with_tags(tags.clone());
            }
            if !args.keys.is_empty() {
                message = message.with_keys(&args.keys);
            }
            for (name, value) in &properties {
                message = message.with_property(name.clone(), value.clone());
            }
            let sent = match &args.sharding_key {
                Some(key) => {
                    producer
                        .send_with_selector(message, &SelectMessageQueueByHash, key.as_str())
                        .await
                }
                None => producer.send(message).await,
            };
            match sent {
                Ok(result) => {
                    if !args.connect.json {
                        println!("{}", describe(&result));
                    }
                    results.push(result);
                }
                Err(error) => {
                    producer.shutdown().await;
                    return Err(error);
                }
            }
        }
        producer.shutdown().await;
        Ok::<_, ClientError>(results)
    });
    let results = results.map_err(|error| {
        let hint = client_hint(&error);
        anyhow::Error::new(UserError::new(error.to_string(), hint))
    })?;
    if args.connect.json {
        let list: Vec<_> = results
            .iter()
            .map(|r| {
                json!({
                    "sendStatus": r.send_status.as_str(),
                    "msgId": r.msg_id,
                    "offsetMsgId": r.offset_msg_id,
                    "topic": r.message_queue.topic,
                    "brokerName": r.message_queue.broker_name,
                    "queueId": r.message_queue.queue_id,
                    "queueOffset": r.queue_offset,
                })
            })
            .collect();
        return print_json(&json!({ "results": list }));
    }
    Ok(())
}

fn describe(r: &SendResult) -> String {
    format!(
        "{}  msgId={}  {}/{}/{}  queueOffset={}  offsetMsgId={}",
        r.send_status,
        r.msg_id,
        r.message_queue.topic,
        r.message_queue.broker_name,
        r.message_queue.queue_id,
        r.queue_offset,
        r.offset_msg_id
    )
}

fn parse_properties(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|p| match p.split_once('=') {
            Some((name, value)) if !name.is_empty() && !value.is_empty() => {
                Ok((name.to_owned(), value.to_owned()))
            }
            _ => Err(anyhow::Error::new(UserError::new(
                format!("property {p:?} is not NAME=VALUE"),
                "write each property as --property color=red".to_owned(),
            ))),
        })
        .collect()
}
