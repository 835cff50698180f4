//! `apogee send` and `apogee consume` as a person runs them against `apogee serve`: bodies
//! from arguments and from stdin, tags, keys and properties arriving intact, the consumer's
//! offsets committed so a second run resumes after them, and argument errors explained.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{Server, apogee, json, json_until, ok};
use serde_json::Value;

/// `apogee send` with bodies on stdin; returns its stdout.
fn send_stdin(namesrv: &str, topic: &str, input: &str) -> String {
    send_stdin_with(namesrv, topic, &[], input)
}

/// `apogee send TOPIC EXTRA...` with bodies on stdin; returns its stdout.
fn send_stdin_with(namesrv: &str, topic: &str, extra: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(["send", topic, "-n", namesrv])
        .args(extra)
        .env_remove("NAMESRV_ADDR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apogee send");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("apogee send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn send_then_consume_then_resume() {
    let server = Server::start();
    let ns = server.namesrv.as_str();
    json_until(ns, &["cluster"], |v| {
        v["clusters"][0]["brokers"][0]["addr"].is_string()
    });
    ok(ns, &["topic", "create", "CliFlow", "-q", "2"]);

    let sent = json(
        ns,
        &[
            "send",
            "CliFlow",
            "hello",
            "world",
            "--tags",
            "TagA",
            "--key",
            "k1",
            "--property",
            "color=red",
        ],
    );
    let results = sent["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["sendStatus"], "SEND_OK");
        assert_eq!(r["msgId"].as_str().map(str::len), Some(32), "{r}");
    }
    let lines = send_stdin(ns, "CliFlow", "l1\nl2\nl3\n");
    assert_eq!(
        lines.lines().filter(|l| l.starts_with("SEND_OK")).count(),
        3,
        "{lines}"
    );

    let consumed = ok(
        ns,
        &[
            "consume", "CliFlow", "--group", "cli-g", "--count", "5", "--idle", "20", "--json",
        ],
    );
    let messages: Vec<Value> = consumed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let bodies: BTreeSet<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, BTreeSet::from(["hello", "world", "l1", "l2", "l3"]));
    let hello = messages
        .iter()
        .find(|m| m["body"] == "hello")
        .expect("hello");
    assert_eq!(hello["tags"], "TagA");
    assert_eq!(hello["keys"][0], "k1");
    assert_eq!(hello["properties"]["color"], "red");
    assert_eq!(hello["msgId"], results[0]["msgId"]);

    // The consumer committed on shutdown: nothing is left for the group.
    let progress = json(ns, &["consumer", "progress", "cli-g", "--topic", "CliFlow"]);
    assert_eq!(progress["totalLag"], 0, "{progress}");
    let again = apogee(
        ns,
        &[
            "consume",
            "CliFlow",
            "--group",
            "cli-g",
            "--idle",
            "2",
            "--body-only",
        ],
    );
    assert!(again.status.success());
    assert_eq!(String::from_utf8_lossy(&again.stdout), "", "redelivered");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 message(s) consumed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A new message reaches a resumed group, and only it.
    ok(ns, &["send", "CliFlow", "late"]);
    let late = ok(
        ns,
        &[
            "consume",
            "CliFlow",
            "--group",
            "cli-g",
            "--count",
            "1",
            "--idle",
            "20",
            "--body-only",
        ],
    );
    assert_eq!(late, "late\n");
}

#[test]
fn bad_arguments_are_explained() {
    let server = Server::start();
    let ns = server.namesrv.as_str();
    let out = apogee(ns, &["send", "CliBad", "x", "--property", "novalue"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NAME=VALUE") && stderr.contains("hint"),
        "{stderr}"
    );
    let out = apogee(ns, &["send", "bad topic!", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("topic"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let out = apogee(ns, &["consume", "CliBad", "--group", "bad group!"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("group"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Two `apogee serve` instances on other ports and directories run side by side, each with
/// its own name server, broker and topics.
#[test]
fn two_instances_side_by_side() {
    let (a, b) = (Server::start(), Server::start());
    for server in [&a, &b] {
        let cluster = json_until(&server.namesrv, &["cluster"], |v| {
            v["clusters"][0]["brokers"][0]["addr"].is_string()
        });
        let brokers = cluster["clusters"][0]["brokers"]
            .as_array()
            .expect("brokers");
        assert_eq!(brokers.len(), 1, "{cluster}");
        assert_eq!(brokers[0]["addr"], server.broker.as_str());
    }
    ok(&a.namesrv, &["topic", "create", "OnlyOnA", "-q", "1"]);
    ok(&a.namesrv, &["send", "OnlyOnA", "a-body"]);
    let on_b = ok(&b.namesrv, &["topic", "list"]);
    assert!(!on_b.lines().any(|l| l == "OnlyOnA"), "{on_b}");
    let from_a = ok(
        &a.namesrv,
        &[
            "consume",
            "OnlyOnA",
            "--group",
            "g",
            "--count",
            "1",
            "--idle",
            "20",
            "--body-only",
        ],
    );
    assert_eq!(from_a, "a-body\n");
}

/// Messages sent with one `--sharding-key` land on one queue, and `apogee consume --orderly`
/// delivers them in the order they were sent.
#[test]
fn orderly_consume_keeps_queue_order() {
    let server = Server::start();
    let ns = server.namesrv.as_str();
    json_until(ns, &["cluster"], |v| {
        v["clusters"][0]["brokers"][0]["addr"].is_string()
    });
    ok(ns, &["topic", "create", "CliOrdered", "-q", "4"]);
    let input: String = (1..=20).map(|i| format!("m{i}\n")).collect();
    let sent = send_stdin_with(ns, "CliOrdered", &["--sharding-key", "order-42"], &input);
    let queues: BTreeSet<&str> = sent
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(queues.len(), 1, "one key, one queue: {sent}");
    let out = ok(
        ns,
        &[
            "consume",
            "CliOrdered",
            "--group",
            "ordered-g",
            "--orderly",
            "--count",
            "20",
            "--idle",
            "20",
            "--body-only",
        ],
    );
    assert_eq!(out, input);
}
