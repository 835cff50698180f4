//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::path::Path;

use apogee_protocol::message::properties;
use apogee_protocol::message::record;
use apogee_store::{MessageStore, PutMessage, StoreConfig};

/// A configuration with small files so tests cross segment and file boundaries quickly.
pub fn small_config(dir: &Path) -> StoreConfig {
    let mut config = StoreConfig::with_root(dir);
    // The host disk is shared: never refuse writes because of its fill level.
    config.disk_max_used_space_ratio = 99;
    config.mapped_file_size_commit_log = 64 * 1024;
    config.mapped_file_size_consume_queue = 20 * 50;
    config.max_message_size = 16 * 1024;
    config.max_hash_slot_num = 64;
    config.max_index_num = 200;
    config.flush_interval_consume_queue = 50;
    config
}

/// A message on `topic`/`queue` whose body names its sequence number, with a tag and keys.
pub fn message(topic: &str, queue: i32, seq: u64, body_len: usize) -> PutMessage {
    let mut body = format!("{topic}:{queue}:{seq}:").into_bytes();
    body.resize(body_len.max(body.len()), b'x');
    let mut msg = PutMessage::new(topic, queue, body);
    msg.properties = properties::encode([
        ("TAGS", "TagA"),
        ("KEYS", &format!("order-{seq} shared")),
        ("UNIQ_KEY", &format!("{seq:032X}")),
    ]);
    msg.born_timestamp = 1_700_000_000_000 + seq as i64;
    msg
}

/// The body of a stored record.
pub fn body_of(bytes: &[u8]) -> Vec<u8> {
    record::decode(bytes).expect("valid record").body.to_vec()
}

/// Opens a store, panicking with the error on failure.
pub fn open(config: &StoreConfig) -> MessageStore {
    MessageStore::open(config.clone()).expect("store opens")
}

/// A current-thread runtime for driving async puts from plain tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Waits until the dispatcher has built queues and index for everything published.
pub fn wait_dispatched(store: &MessageStore) {
    // The dispatcher follows the log in the background; wait for it to catch up.
    for _ in 0..2000 {
        let p = store.positions();
        if p.dispatched == p.published {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("dispatcher did not catch up: {:?}", store.positions());
}
