//! Retention and disk safety: expired segments go with the queue entries that point into
//! them; a disk over its limit refuses writes with a clear error.

mod common;

use std::time::{Duration, SystemTime};

use apogee_store::{GetStatus, MessageStore, StoreError};
use common::{message, open, runtime, small_config, wait_dispatched};

/// Commit-log segment files (not the next one being prepared under a temporary name).
fn segment_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(root.join("commitlog"))
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_none())
        .collect()
}

/// Segments older than fileReservedTime are deleted oldest first, never the current one; the
/// queues' minimum offsets move past the deleted messages and the rest stay readable.
#[test]
fn expired_segments_and_their_queue_entries_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = small_config(dir.path());
    config.file_reserved_time = 72;
    let store = open(&config);
    let rt = runtime();
    for seq in 0..400 {
        rt.block_on(store.put_message(&message("T", 0, seq, 600)))
            .expect("put");
    }
    wait_dispatched(&store);
    let segments = segment_files(dir.path());
    assert!(segments.len() >= 4, "{} segments", segments.len());
    let mut sorted = segments.clone();
    sorted.sort();
    let old = SystemTime::now() - Duration::from_secs(100 * 3600);
    for path in &sorted[..2] {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(old).expect("age segment");
    }
    // Nothing is due yet an hour from now for the young segments; the two old ones go.
    let report = store
        .delete_expired_files(SystemTime::now())
        .expect("retention");
    assert_eq!(report.segments, 2);
    assert_eq!(report.min_offset, 2 * 64 * 1024);
    assert!(!sorted[0].exists() && !sorted[1].exists() && sorted[2].exists());

    let min = store.min_offset("T", 0);
    assert!(min > 0);
    let too_small = store
        .get_messages("T", 0, 0, 10, usize::MAX, &|_| true)
        .expect("get");
    assert_eq!(too_small.status, GetStatus::OffsetTooSmall);
    assert_eq!(too_small.next_begin_offset, min);
    let rest = store
        .get_messages("T", 0, min, 1000, usize::MAX, &|_| true)
        .expect("get");
    assert_eq!(rest.messages.len() as u64, 400 - min);
    assert!(rest.messages[0].physical_offset >= report.min_offset);

    // Far in the future everything but the segment being written expires.
    let later = SystemTime::now() + Duration::from_secs(1000 * 3600);
    store.delete_expired_files(later).expect("retention");
    assert_eq!(segment_files(dir.path()).len(), 1);
    drop(store);
    // The new minimum survives a restart.
    let store = open(&config);
    assert!(store.min_offset("T", 0) > min);
}

/// Above diskMaxUsedSpaceRatio writes are refused with an error that says why and what to
/// do; reads keep working.
#[test]
fn disk_over_limit_refuses_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = runtime();
    {
        let store = open(&small_config(dir.path()));
        rt.block_on(store.put_message(&message("T", 0, 0, 10)))
            .expect("put");
    }
    let used = apogee_store::disk::used_percent(dir.path()).expect("statvfs");
    if used < 1.0 {
        eprintln!("disk usage {used}% is below 1%: cannot set a limit under it; skipping");
        return;
    }
    let mut config = small_config(dir.path());
    config.disk_max_used_space_ratio = 1;
    let store = MessageStore::open(config).expect("opens");
    let err = rt
        .block_on(store.put_message(&message("T", 0, 1, 10)))
        .expect_err("refused");
    assert!(matches!(
        err,
        StoreError::DiskFull {
            limit_percent: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("diskMaxUsedSpaceRatio"), "{err}");
    assert_eq!(store.max_offset("T", 0), 1, "nothing was stored");
    let read = store
        .get_messages("T", 0, 0, 10, usize::MAX, &|_| true)
        .expect("reads still work");
    assert_eq!(read.messages.len(), 1);
}
