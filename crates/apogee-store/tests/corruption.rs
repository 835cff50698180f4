//! Damaged files: a torn tail is cut; flipped bytes anywhere are detected and reported,
//! never served and never silently skipped.

mod common;

use std::path::{Path, PathBuf};

use apogee_store::{MessageStore, StoreError};
use common::{message, open, runtime, small_config};

/// Where the body starts in a record with IPv4 hosts (the CRC covers the body only, as in
/// RocketMQ's format).
const BODY_AT: u64 = 88;

/// Puts `count` messages, shuts down cleanly, and returns each record's (offset, size).
fn fill(dir: &Path, count: u64) -> Vec<(u64, usize)> {
    let store = open(&small_config(dir));
    let rt = runtime();
    let mut records = Vec::new();
    for seq in 0..count {
        let put = rt
            .block_on(store.put_message(&message("T", 0, seq, 200)))
            .expect("put");
        records.push((put.append.physical_offsets[0], put.append.wrote_bytes));
    }
    store.shutdown().expect("shutdown");
    records
}

fn segment_path(dir: &Path, offset: u64) -> (PathBuf, u64) {
    let seg = 64 * 1024;
    let start = offset - offset % seg;
    (
        dir.join("commitlog").join(format!("{start:020}")),
        offset - start,
    )
}

fn patch(dir: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let (path, local) = segment_path(dir, offset);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open segment");
    file.write_all_at(bytes, local).expect("patch");
}

fn read(dir: &Path, offset: u64, len: usize) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let (path, local) = segment_path(dir, offset);
    let file = std::fs::File::open(path).expect("open segment");
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, local).expect("read");
    buf
}

/// Simulates a crash: the abort marker is back, as if the process died.
fn mark_crashed(dir: &Path) {
    std::fs::write(dir.join("abort"), b"").expect("abort marker");
}

/// A record half-written at the end (a crash mid-append) is cut; everything before it stays,
/// and the next append goes exactly where the torn record was.
#[test]
fn torn_tail_is_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = fill(dir.path(), 30);
    let (last_offset, last_size) = *records.last().expect("records");
    let end = last_offset + last_size as u64;
    // A torn copy of the last record (header and half its body) right after the end.
    let torn = read(dir.path(), last_offset, last_size / 2);
    patch(dir.path(), end, &torn);
    mark_crashed(dir.path());
    std::fs::remove_file(dir.path().join("checkpoint")).expect("drop checkpoint");

    let store = open(&small_config(dir.path()));
    let report = store.recovery_report().clone();
    assert!(!report.clean_shutdown);
    assert!(report.torn_tail);
    assert_eq!(report.log_end, end);
    assert_eq!(report.records_scanned, 30);
    assert_eq!(store.max_offset("T", 0), 30);
    assert_eq!(store.verify_all().expect("intact"), 30);
    let put = runtime()
        .block_on(store.put_message(&message("T", 0, 99, 10)))
        .expect("append after recovery");
    assert_eq!(put.append.physical_offsets[0], end);
    assert_eq!(put.append.queue_offset, 30);
}

/// A flipped body byte in the middle of the log, past the checkpoint, stops the store from
/// opening with an error naming the offset: cutting there would drop acknowledged messages.
#[test]
fn flipped_byte_mid_log_refuses_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = fill(dir.path(), 30);
    let (offset, _) = records[10];
    let mut body_byte = read(dir.path(), offset + BODY_AT + 50, 1);
    body_byte[0] ^= 0x20;
    patch(dir.path(), offset + BODY_AT + 50, &body_byte);
    mark_crashed(dir.path());
    std::fs::remove_file(dir.path().join("checkpoint")).expect("force a full scan");

    match MessageStore::open(small_config(dir.path())) {
        Err(StoreError::CorruptRecord { offset: at, .. }) => assert_eq!(at, offset),
        other => panic!("expected CorruptRecord at {offset}, got {other:?}"),
    }
}

/// A damaged size field in the middle is corruption too, not a torn tail.
#[test]
fn damaged_header_mid_log_refuses_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = fill(dir.path(), 30);
    let (offset, _) = records[5];
    patch(dir.path(), offset, &[0x00, 0x7F, 0xFF, 0xFF]);
    std::fs::remove_file(dir.path().join("checkpoint")).expect("force a full scan");
    assert!(matches!(
        MessageStore::open(small_config(dir.path())),
        Err(StoreError::CorruptRecord { .. })
    ));
}

/// Damage before the checkpoint is not rescanned at open, but a read of that record fails
/// with a typed error instead of serving it, and the scrub finds it.
#[test]
fn flipped_byte_before_checkpoint_is_never_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = fill(dir.path(), 30);
    let (offset, _) = records[10];
    let mut byte = read(dir.path(), offset + BODY_AT + 7, 1);
    byte[0] ^= 0x01;
    patch(dir.path(), offset + BODY_AT + 7, &byte);

    let store = open(&small_config(dir.path()));
    let good = store
        .get_messages("T", 0, 0, 10, usize::MAX, &|_| true)
        .expect("records before the damage are served");
    assert_eq!(good.messages.len(), 10);
    assert!(matches!(
        store.get_messages("T", 0, 10, 10, usize::MAX, &|_| true),
        Err(StoreError::CorruptRecord { .. })
    ));
    assert!(matches!(
        store.record_at(offset),
        Err(StoreError::CorruptRecord { .. })
    ));
    assert!(matches!(
        store.verify_all(),
        Err(StoreError::CorruptRecord { offset: at, .. }) if at == offset
    ));
}
