//! The admin commands as a person runs them: `apogee serve` in a temporary directory, then
//! `apogee topic create|list|describe|delete`, `apogee cluster`, `apogee consumer progress`
//! and `apogee message query` as real processes, checking tables and `--json`; and an
//! unreachable name server giving exit code 1 with a message and a hint.

mod common;

use common::{Server, apogee, free_port, json, json_until, ok};

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use apogee_client::{ClientConfig, ClientInstance, Message, MessageQueue};
use apogee_protocol::header::SendMessageRequestHeader;
use apogee_protocol::message::properties::UNIQ_KEY;

/// Sends three messages with key `k1` to queue 0 (the first with a unique key) and commits
/// offset 1 for group `cg`; returns the first message's offset id.
fn send_and_commit(namesrv: &str, broker: &str, unique: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let instance: Arc<ClientInstance> =
            ClientInstance::start(ClientConfig::with_namesrv(namesrv));
        let mut first = None;
        for i in 0..3 {
            let mut message = Message::new("CliTopic", format!("hello {i}")).with_keys(["k1"]);
            if i == 0 {
                message = message.with_property(UNIQ_KEY, unique);
            }
            let header = SendMessageRequestHeader {
                producer_group: "pg".to_owned(),
                topic: "CliTopic".to_owned(),
                default_topic: "TBW102".to_owned(),
                default_topic_queue_nums: 4,
                queue_id: 0,
                properties: Some(message.encoded_properties()),
                born_timestamp: 1,
                ..SendMessageRequestHeader::default()
            };
            let sent = instance
                .send_message(
                    broker,
                    &header,
                    message.body.clone(),
                    Duration::from_secs(5),
                )
                .await
                .expect("send");
            first.get_or_insert(sent.header.msg_id);
        }
        let queue = MessageQueue {
            topic: "CliTopic".to_owned(),
            broker_name: "broker-a".to_owned(),
            queue_id: 0,
        };
        instance
            .update_consumer_offset(broker, "cg", &queue, 1, false)
            .await
            .expect("commit");
        instance.shutdown().await;
        first.expect("sent")
    })
}

/// Every admin command against a running `apogee serve`.
#[test]
fn admin_commands_against_serve() {
    let server = Server::start();
    let ns = server.namesrv.as_str();
    let cluster = json_until(ns, &["cluster"], |v| {
        v["clusters"][0]["brokers"][0]["addr"].is_string()
    });
    let broker = &cluster["clusters"][0]["brokers"][0];
    assert_eq!(broker["addr"], server.broker.as_str());
    assert_eq!(broker["role"], "MASTER");
    let table = ok(ns, &["cluster"]);
    assert!(table.starts_with("CLUSTER"), "{table}");
    assert!(
        table.contains("DefaultCluster") && table.contains(&server.broker),
        "{table}"
    );

    let created = json(ns, &["topic", "create", "CliTopic", "-q", "2"]);
    assert_eq!(created["brokers"][0], server.broker.as_str());
    assert_eq!(created["readQueues"], 2);
    let names = ok(ns, &["topic", "list"]);
    assert!(names.lines().any(|l| l == "CliTopic"), "{names}");
    assert!(!names.contains("TBW102"), "{names}");
    let all = json(ns, &["topic", "list", "--all"]);
    let kinds = all.as_array().expect("array");
    assert!(
        kinds
            .iter()
            .any(|t| t["topic"] == "TBW102" && t["kind"] == "system")
    );
    assert!(
        kinds
            .iter()
            .any(|t| t["topic"] == "CliTopic" && t["kind"] == "normal")
    );

    let unique = "7F0000011234ABCD00000000000000C1";
    let offset_id = send_and_commit(ns, &server.broker, unique);
    let described = json_until(ns, &["topic", "describe", "CliTopic"], |v| {
        v["storedMessages"] == 3
    });
    assert_eq!(described["queues"].as_array().map(Vec::len), Some(2));
    assert_eq!(described["queues"][0]["maxOffset"], 3);
    let text = ok(ns, &["topic", "describe", "CliTopic"]);
    assert!(
        text.contains("MAX_OFFSET") && text.contains("RW-"),
        "{text}"
    );

    let progress = json(ns, &["consumer", "progress", "cg"]);
    assert_eq!(progress["totalLag"], 2);
    assert_eq!(progress["queues"][0]["consumerOffset"], 1);
    assert_eq!(progress["queues"][0]["brokerOffset"], 3);
    let text = ok(ns, &["consumer", "progress", "cg", "--topic", "CliTopic"]);
    assert!(
        text.contains("CONSUMER_OFFSET") && text.contains("total lag: 2"),
        "{text}"
    );

    let by_key = json_until(
        ns,
        &["message", "query", "--topic", "CliTopic", "--key", "k1"],
        |v| v.as_array().is_some_and(|a| a.len() == 3),
    );
    assert_eq!(by_key[0]["keys"][0], "k1");
    let shown = ok(ns, &["message", "query", "--id", &offset_id]);
    assert!(
        shown.contains("Topic:") && shown.contains("CliTopic"),
        "{shown}"
    );
    assert!(shown.contains("(7 bytes) hello 0"), "{shown}");
    assert!(shown.contains(" UTC"), "{shown}");
    let body = ok(ns, &["message", "query", "--id", &offset_id, "--body-only"]);
    assert_eq!(body, "hello 0");
    let by_unique = json(
        ns,
        &["message", "query", "--id", unique, "--topic", "CliTopic"],
    );
    assert_eq!(by_unique["msgId"], unique);
    assert_eq!(by_unique["offsetMsgId"], offset_id.as_str());
    assert_eq!(by_unique["body"], "hello 0");
    let needs_topic = apogee(ns, &["message", "query", "--id", unique]);
    assert_eq!(needs_topic.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&needs_topic.stderr).contains("--topic"));

    let deleted = ok(ns, &["topic", "delete", "CliTopic"]);
    assert!(deleted.contains("deleted topic CliTopic"), "{deleted}");
    let gone = apogee(ns, &["topic", "describe", "CliTopic"]);
    assert_eq!(gone.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&gone.stderr);
    assert!(
        stderr.contains("does not exist") && stderr.contains("hint:"),
        "{stderr}"
    );
}

/// No name server at the address: exit 1, the address and a hint, no panic.
#[test]
fn unreachable_namesrv_is_explained() {
    let dead = format!("127.0.0.1:{}", free_port());
    let out = apogee(&dead, &["topic", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(&dead), "{stderr}");
    assert!(
        stderr.contains("hint: ") && stderr.contains("apogee serve"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );

    // The same through NAMESRV_ADDR.
    let out = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(["cluster"])
        .env("NAMESRV_ADDR", &dead)
        .output()
        .expect("run apogee");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&dead));
}
