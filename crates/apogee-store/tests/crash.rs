//! Crash safety with a real child process and SIGKILL.
//!
//! The child (this same test binary, re-run with `APOGEE_CRASH_CHILD_DIR` set) opens the store
//! with SYNC_FLUSH and appends from several concurrent tasks, printing one `ACK` line per
//! acknowledged put. The parent kills it with SIGKILL at a random moment, then checks that
//! every acknowledged record is present, intact (CRC), at the same commit-log offset and the
//! same queue offset, that every queue is dense, that the index finds them by unique key,
//! and that the store accepts new appends.
//! Rounds alternate between the parent recovering the crashed store and the next child doing
//! it, so recovery runs both after verification and on top of another crash.
//!
//! What this proves: no record is acknowledged before it is written and published, torn
//! tails from a killed writer are cut, and consume queues are rebuilt. What it does not prove:
//! durability across power loss — SIGKILL keeps the page cache, so fsync ordering is not
//! exercised here.
//!
//! Replay a run with `APOGEE_CRASH_SEED=<seed>`; `APOGEE_CRASH_ROUNDS` sets the rounds.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apogee_protocol::message::{properties, record};
use apogee_store::{FlushDiskType, MessageStore, PutMessage, PutStatus, StoreConfig};
use rand::{Rng, SeedableRng};

const CHILD_ENV: &str = "APOGEE_CRASH_CHILD_DIR";
const TEST_NAME: &str = "sigkill_never_loses_acknowledged_records";
/// The child stops by itself after this long, should the parent fail to kill it.
const CHILD_LIFETIME_MAX: Duration = Duration::from_secs(30);
const TOPICS: [&str; 2] = ["CrashA", "CrashB"];
const QUEUES: i32 = 3;

fn config(dir: &Path) -> StoreConfig {
    let mut config = common::small_config(dir);
    config.mapped_file_size_commit_log = 256 * 1024;
    config.flush_disk_type = FlushDiskType::SyncFlush;
    config
}

/// One acknowledged put, as the child reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    topic: String,
    queue: i32,
    queue_offset: u64,
    phy_offset: u64,
    key: String,
    body: Vec<u8>,
}

fn uniq_key(writer: u64, seq: u64) -> String {
    format!("W{writer}S{seq}")
}

fn body_for(writer: u64, seq: u64, len: usize) -> Vec<u8> {
    let mut body = format!("w{writer}-s{seq}-").into_bytes();
    let fill = (writer * 31 + seq) as u8;
    body.resize(len.max(body.len()), fill);
    body
}

#[test]
fn sigkill_never_loses_acknowledged_records() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let seed = std::env::var("APOGEE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let rounds: usize = std::env::var("APOGEE_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    eprintln!("crash test seed {seed} (replay with APOGEE_CRASH_SEED={seed}), {rounds} rounds");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acks: Vec<Ack> = Vec::new();
    for round in 0..rounds {
        let kill_after = Duration::from_millis(rng.random_range(20..400));
        let new = run_child_and_kill(dir.path(), round as u64, kill_after);
        eprintln!(
            "round {round}: killed after {kill_after:?}, {} acks",
            new.len()
        );
        acks.extend(new);
        if round % 2 == 0 || round + 1 == rounds {
            verify(dir.path(), &acks);
        }
    }
    assert!(
        acks.len() > 100,
        "the children acknowledged too little to prove anything"
    );
}

/// Runs one child until `kill_after` past its first ack, kills it, and returns its acks.
fn run_child_and_kill(dir: &Path, round: u64, kill_after: Duration) -> Vec<Ack> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, dir)
        .env("APOGEE_CRASH_ROUND", round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let acks = Arc::new(Mutex::new(Vec::new()));
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let reader = {
        let acks = acks.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(ack) = parse_ack(&line) {
                    let mut acks = acks.lock().expect("acks");
                    if acks.is_empty() {
                        let _ = first_tx.send(());
                    }
                    acks.push(ack);
                }
            }
        })
    };
    // Wait for the child to be up and acknowledging, then let it run a random while.
    let started = first_rx.recv_timeout(Duration::from_secs(60));
    assert!(started.is_ok(), "child never acknowledged anything");
    std::thread::sleep(kill_after);
    child.kill().expect("SIGKILL child");
    child.wait().expect("reap child");
    reader.join().expect("reader");
    acks.lock().expect("acks").clone()
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ACK ")?.split(' ');
    let topic = parts.next()?.to_owned();
    let queue = parts.next()?.parse().ok()?;
    let queue_offset = parts.next()?.parse().ok()?;
    let phy_offset = parts.next()?.parse().ok()?;
    let writer = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let len = parts.next()?.parse().ok()?;
    Some(Ack {
        topic,
        queue,
        queue_offset,
        phy_offset,
        key: uniq_key(writer, seq),
        body: body_for(writer, seq, len),
    })
}

/// Reopens the store (recovering it) and checks every ack, queue density and a new append.
fn verify(dir: &Path, acks: &[Ack]) {
    let store = MessageStore::open(config(dir)).expect("store recovers");
    for ack in acks {
        let bytes = store
            .record_at(ack.phy_offset)
            .expect("record intact")
            .unwrap_or_else(|| panic!("acknowledged record missing: {ack:?}"));
        let view = record::decode(&bytes).expect("decodes");
        assert_eq!(view.topic, ack.topic);
        assert_eq!(view.queue_id, ack.queue);
        assert_eq!(view.queue_offset as u64, ack.queue_offset);
        assert_eq!(view.body, ack.body.as_slice());
        let got = store
            .get_messages(
                &ack.topic,
                ack.queue,
                ack.queue_offset,
                1,
                usize::MAX,
                &|_| true,
            )
            .expect("get");
        assert_eq!(
            got.messages.first().map(|m| m.physical_offset),
            Some(ack.phy_offset)
        );
    }
    // The index is rebuilt too: a sample of acknowledged messages is found by unique key.
    for ack in acks.iter().step_by(25) {
        let found = store
            .query_by_key(&ack.topic, &ack.key, 4, 0, i64::MAX)
            .expect("query");
        assert_eq!(found.len(), 1, "index lost {ack:?}");
        assert_eq!(
            record::decode(&found[0]).expect("decodes").body,
            ack.body.as_slice()
        );
    }
    check_queues_dense(&store);
    let rt = common::runtime();
    let next = store.max_offset(TOPICS[0], 0);
    let put = rt
        .block_on(store.put_message(&PutMessage::new(TOPICS[0], 0, "after-crash")))
        .expect("store accepts appends after recovery");
    assert_eq!(put.status, PutStatus::PutOk);
    assert_eq!(put.append.queue_offset, next);
    store.shutdown().expect("clean shutdown");
}

/// Every queue holds offsets min..max with no hole, each record carrying its own offset.
fn check_queues_dense(store: &MessageStore) {
    for topic in TOPICS {
        for queue in 0..QUEUES {
            let (min, max) = (
                store.min_offset(topic, queue),
                store.max_offset(topic, queue),
            );
            let mut expected = min;
            while expected < max {
                let got = store
                    .get_messages(topic, queue, expected, 1024, usize::MAX, &|_| true)
                    .expect("get");
                for m in &got.messages {
                    assert_eq!(m.queue_offset, expected);
                    let view = record::decode(&m.bytes).expect("decodes");
                    assert_eq!(view.queue_offset as u64, expected, "{topic}/{queue}");
                    expected += 1;
                }
                assert!(
                    !got.messages.is_empty(),
                    "hole in {topic}/{queue} at {expected}"
                );
            }
        }
    }
}

/// The child: append from several tasks until killed, printing each acknowledgement.
fn child(dir: &Path) {
    let round: u64 = std::env::var("APOGEE_CRASH_ROUND")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let store = Arc::new(MessageStore::open(config(dir)).expect("child opens store"));
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let deadline = Instant::now() + CHILD_LIFETIME_MAX;
    rt.block_on(async {
        let mut tasks = Vec::new();
        for task in 0..4u64 {
            let (store, stdout) = (store.clone(), stdout.clone());
            let writer = round * 100 + task;
            tasks.push(tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(writer);
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    let topic = TOPICS[rng.random_range(0..TOPICS.len())];
                    let queue = rng.random_range(0..QUEUES);
                    let len = rng.random_range(1..3000);
                    let mut msg = PutMessage::new(topic, queue, body_for(writer, seq, len));
                    msg.properties = properties::encode([(
                        properties::UNIQ_KEY,
                        uniq_key(writer, seq).as_str(),
                    )]);
                    let put = store.put_message(&msg).await.expect("child put");
                    assert_eq!(put.status, PutStatus::PutOk);
                    let line = format!(
                        "ACK {topic} {queue} {} {} {writer} {seq} {len}\n",
                        put.append.queue_offset, put.append.physical_offsets[0]
                    );
                    let mut out = stdout.lock().expect("stdout");
                    out.write_all(line.as_bytes()).expect("write ack");
                    out.flush().expect("flush ack");
                    seq += 1;
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer task");
        }
    });
}
