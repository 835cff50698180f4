//! `apogee consume TOPIC --group G`: a push consumer that prints every message it receives,
//! one per line (or one JSON object per line with `--json`), and commits its offsets. It
//! stops after `--count` messages, after `--idle` seconds without one, or on Ctrl-C, and
//! always shuts down cleanly so its offsets are committed.

use std::time::Duration;

use anyhow::{Context, Result};
use apogee_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, ConsumeOrderlyStatus, MessageModel, PushConsumer,
    PushConsumerConfig,
};
use apogee_client::{ClientConfig, MessageExt};
use serde_json::json;
use tokio::sync::mpsc;

use super::Connect;
use super::output::{format_time, hex, printable};
use crate::bench::UserError;
use crate::server_cmd::stop_signal;

/// Messages waiting to be printed; the listener waits when the terminal is this far behind.
const PRINT_QUEUE_MESSAGES_MAX: usize = 1024;

/// Where a group without a committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// CONSUME_FROM_FIRST_OFFSET: the oldest message still stored.
    First,
    /// CONSUME_FROM_LAST_OFFSET: only messages sent from now on.
    Last,
}

/// Arguments of `apogee consume`.
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    /// The topic.
    pub topic: String,
    /// The consumer group; its committed offsets decide where consumption resumes.
    #[arg(short, long)]
    pub group: String,
    /// Tag expression: `*`, `TagA`, or `TagA || TagB`.
    #[arg(short, long, default_value = "*")]
    pub tags: String,
    /// Where a group with no committed offset starts.
    #[arg(long, value_enum, default_value = "first")]
    pub from: From,
    /// Stop after this many messages.
    #[arg(short, long)]
    pub count: Option<u64>,
    /// Stop after this many seconds without a message.
    #[arg(long, value_name = "SECS")]
    pub idle: Option<u64>,
    /// Receive every message in this process, whatever other members of the group get
    /// (BROADCASTING); offsets are then kept in a local file.
    #[arg(long)]
    pub broadcast: bool,
    /// Consume each queue in order, holding the broker's lock on it (an orderly listener), for
    /// topics sent to with a queue selector.
    #[arg(long)]
    pub orderly: bool,
    /// Print only the bodies, one per line.
    #[arg(long)]
    pub body_only: bool,
    /// The name server and output form (`--json`: one JSON object per message and line).
    #[command(flatten)]
    pub connect: Connect,
}

/// Consumes and prints until a stop condition.
///
/// # Errors
/// Bad arguments or a consumer that cannot start, with a hint.
pub fn run(args: &ConsumeArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(consume(args))
}

async fn consume(args: &ConsumeArgs) -> Result<()> {
    let mut config = PushConsumerConfig::new(args.group.clone());
    config.consume_from_where = match args.from {
        From::First => ConsumeFromWhere::ConsumeFromFirstOffset,
        From::Last => ConsumeFromWhere::ConsumeFromLastOffset,
    };
    if args.broadcast {
        config.message_model = MessageModel::Broadcasting;
    }
    // One listener call at a time keeps the printed order per queue.
    config.consume_thread_min = 1;
    config.consume_thread_max = 1;
    let consumer =
        PushConsumer::with_client_config(ClientConfig::with_namesrv(&args.connect.namesrv), config);
    let (tx, mut rx) = mpsc::channel::<MessageExt>(PRINT_QUEUE_MESSAGES_MAX);
    if args.orderly {
        consumer.register_message_listener_orderly_fn(move |messages, _context| {
            for message in messages {
                if tx.blocking_send(message.clone()).is_err() {
                    return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
                }
            }
            ConsumeOrderlyStatus::Success
        });
    } else {
        consumer.register_message_listener_fn(move |messages, _context| {
            for message in messages {
                if tx.blocking_send(message.clone()).is_err() {
                    // The printer stopped: leave the rest for the next run.
                    return ConsumeConcurrentlyStatus::ReconsumeLater;
                }
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        });
    }
    let started = async {
        consumer.subscribe(&args.topic, &args.tags)?;
        consumer.start().await
    };
    if let Err(error) = started.await {
        let _ = consumer.shutdown().await;
        return Err(anyhow::Error::new(UserError::new(
            error.to_string(),
            "is `apogee serve` running? `apogee topic list` shows the topics",
        )));
    }
    let idle = args.idle.map(Duration::from_secs);
    let mut received = 0u64;
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        if args.count.is_some_and(|n| received >= n) {
            break;
        }
        let next = async {
            match idle {
                Some(idle) => tokio::time::timeout(idle, rx.recv()).await.ok().flatten(),
                None => rx.recv().await,
            }
        };
        tokio::select! {
            () = &mut stop => break,
            message = next => match message {
                Some(message) => {
                    print_message(&message, args);
                    received += 1;
                }
                None => break,
            },
        }
    }
    rx.close();
    consumer
        .shutdown()
        .await
        .context("the consumer did not shut down cleanly")?;
    eprintln!("{received} message(s) consumed by group {}", args.group);
    Ok(())
}

fn print_message(m: &MessageExt, args: &ConsumeArgs) {
    let body = printable(&m.body).map_or_else(|| format!("hex:{}", hex(&m.body)), str::to_owned);
    if args.body_only {
        println!("{body}");
    } else if args.connect.json {
        let value = json!({
            "msgId": m.msg_id(),
            "topic": m.topic,
            "brokerName": m.broker_name,
            "queueId": m.queue_id,
            "queueOffset": m.queue_offset,
            "tags": m.tags(),
            "keys": m.keys(),
            "properties": m.properties,
            "storeTimestamp": m.store_timestamp,
            "reconsumeTimes": m.reconsume_times,
            "body": body,
        });
        println!("{value}");
    } else {
        println!(
            "{}/{}/{}@{}  {}  msgId={}  tags={}  keys={}  {}",
            m.topic,
            m.broker_name,
            m.queue_id,
            m.queue_offset,
            format_time(m.store_timestamp),
            m.msg_id(),
            m.tags().unwrap_or("-"),
            m.keys().join(","),
            body
        );
    }
}
