//! Store behaviour through its public API: puts, reads, offsets, batches, limits, reopen.

mod common;

use apogee_store::{GetStatus, MessageStore, PutMessage, PutStatus, StoreError};
use common::{body_of, message, open, runtime, small_config, wait_dispatched};

/// Messages put on several queues come back in order with their bodies, across many
/// segments and consume-queue files.
#[test]
fn put_then_get_across_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    for seq in 0..300 {
        let result = rt
            .block_on(store.put_message(&message("T", (seq % 3) as i32, seq, 700)))
            .expect("put");
        assert_eq!(result.status, PutStatus::PutOk);
        assert_eq!(result.append.queue_offset, seq / 3);
    }
    wait_dispatched(&store);
    assert!(
        store.positions().published > 3 * 64 * 1024,
        "several segments"
    );
    for queue in 0..3 {
        assert_eq!(store.max_offset("T", queue), 100);
        let got = store
            .get_messages("T", queue, 0, 1000, usize::MAX, &|_| true)
            .expect("get");
        assert_eq!(got.status, GetStatus::Found);
        assert_eq!(got.messages.len(), 100);
        for (i, m) in got.messages.iter().enumerate() {
            let seq = i as u64 * 3 + queue as u64;
            assert!(body_of(&m.bytes).starts_with(format!("T:{queue}:{seq}:").as_bytes()));
            assert_eq!(m.queue_offset, i as u64);
        }
        assert_eq!(got.next_begin_offset, 100);
    }
}

/// Read statuses follow RocketMQ: too small, overflow by one, overflow badly, unknown queue,
/// and tag filtering.
#[test]
fn read_statuses_and_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    for seq in 0..5 {
        rt.block_on(store.put_message(&message("T", 0, seq, 10)))
            .expect("put");
    }
    wait_dispatched(&store);
    let get = |offset| {
        store
            .get_messages("T", 0, offset, 32, usize::MAX, &|_| true)
            .expect("get")
    };
    assert_eq!(get(5).status, GetStatus::OffsetOverflowOne);
    assert_eq!(get(5).next_begin_offset, 5);
    assert_eq!(get(9).status, GetStatus::OffsetOverflowBadly);
    assert_eq!(get(9).next_begin_offset, 5);
    let missing = store
        .get_messages("U", 0, 0, 32, usize::MAX, &|_| true)
        .expect("get");
    assert_eq!(missing.status, GetStatus::NoMatchedLogicQueue);
    let filtered = store
        .get_messages("T", 0, 0, 32, usize::MAX, &|code| code == 12345)
        .expect("get");
    assert_eq!(filtered.status, GetStatus::NoMatchedMessage);
    assert_eq!(filtered.next_begin_offset, 5);
    let tag_a = apogee_protocol::message::java_hash::tags_code(Some("TagA"));
    let matched = store
        .get_messages("T", 0, 2, 2, usize::MAX, &|code| code == tag_a)
        .expect("get");
    assert_eq!(matched.messages.len(), 2);
    assert_eq!(matched.next_begin_offset, 4);
}

/// A batch lands contiguously with consecutive queue offsets; invalid input is refused with
/// a typed error and stores nothing.
#[test]
fn batches_and_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    rt.block_on(store.put_message(&message("B", 1, 0, 10)))
        .expect("put");
    let batch: Vec<PutMessage> = (1..=10).map(|s| message("B", 1, s, 100)).collect();
    let result = rt.block_on(store.put_messages(&batch)).expect("batch");
    assert_eq!(result.append.queue_offset, 1);
    assert_eq!(result.append.physical_offsets.len(), 10);
    let offsets = &result.append.physical_offsets;
    assert!(offsets.windows(2).all(|w| w[1] > w[0]));

    let published = store.positions().published;
    let too_big = PutMessage::new("B", 1, vec![0u8; 16 * 1024 + 1]);
    assert!(matches!(
        rt.block_on(store.put_message(&too_big)),
        Err(StoreError::MessageTooLarge { .. })
    ));
    let bad_topic = PutMessage::new("bad topic", 0, "x");
    assert!(matches!(
        rt.block_on(store.put_message(&bad_topic)),
        Err(StoreError::InvalidName(_))
    ));
    let bad_queue = PutMessage::new("B", 5000, "x");
    assert!(matches!(
        rt.block_on(store.put_message(&bad_queue)),
        Err(StoreError::InvalidQueueId { .. })
    ));
    let mixed = vec![message("B", 1, 1, 1), message("C", 1, 2, 1)];
    assert!(matches!(
        rt.block_on(store.put_messages(&mixed)),
        Err(StoreError::InvalidBatch { .. })
    ));
    assert!(matches!(
        rt.block_on(store.put_messages(&[])),
        Err(StoreError::InvalidBatch { .. })
    ));
    assert_eq!(store.positions().published, published, "nothing stored");
}

/// After a clean shutdown every queue's offsets, and every message, come back exactly.
#[test]
fn reopen_after_clean_shutdown_restores_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_config(dir.path());
    let rt = runtime();
    let (published, maxes) = {
        let store = open(&config);
        for seq in 0..200 {
            let topic = if seq % 2 == 0 { "Even" } else { "Odd" };
            rt.block_on(store.put_message(&message(topic, (seq % 4) as i32, seq, 300)))
                .expect("put");
        }
        store.shutdown().expect("shutdown");
        let maxes: Vec<u64> = (0..4)
            .flat_map(|q| [store.max_offset("Even", q), store.max_offset("Odd", q)])
            .collect();
        (store.positions().published, maxes)
    };
    assert!(!dir.path().join("abort").exists(), "clean marker");
    let store = open(&config);
    let report = store.recovery_report().clone();
    assert!(report.clean_shutdown);
    assert_eq!(report.log_end, published);
    assert_eq!(
        report.records_scanned, 0,
        "nothing to rescan after a clean stop"
    );
    let again: Vec<u64> = (0..4)
        .flat_map(|q| [store.max_offset("Even", q), store.max_offset("Odd", q)])
        .collect();
    assert_eq!(again, maxes);
    // New appends continue each queue where it stopped.
    let next = rt
        .block_on(store.put_message(&message("Even", 0, 1000, 10)))
        .expect("put");
    assert_eq!(next.append.queue_offset, maxes[0]);
    assert_eq!(next.append.physical_offsets[0], published);
}

/// Two stores cannot share a directory; a shut-down store lets go of it.
#[test]
fn directory_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_config(dir.path());
    let store = open(&config);
    assert!(matches!(
        MessageStore::open(config.clone()),
        Err(StoreError::Locked { .. })
    ));
    // Shutdown releases the directory even while the handle still exists.
    store.shutdown().expect("shutdown");
    let _again = open(&config);
}

/// With SYNC_FLUSH a put returns only once the flushed position covers its record.
#[test]
fn sync_flush_acknowledges_only_flushed_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = small_config(dir.path());
    config.flush_disk_type = apogee_store::FlushDiskType::SyncFlush;
    let store = open(&config);
    let rt = runtime();
    for seq in 0..50 {
        let put = rt
            .block_on(store.put_message(&message("S", 0, seq, 500)))
            .expect("put");
        assert_eq!(put.status, PutStatus::PutOk);
        assert!(store.positions().flushed >= put.append.end_offset());
    }
}

/// With ASYNC_FLUSH the background flusher catches up on its own (4 dirty pages, 500 ms).
#[test]
fn async_flush_catches_up_in_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    for seq in 0..40 {
        rt.block_on(store.put_message(&message("A", 0, seq, 1000)))
            .expect("put");
    }
    let published = store.positions().published;
    assert!(published > 4 * 4096);
    for _ in 0..1000 {
        if store.positions().flushed >= published {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("flusher never caught up: {:?}", store.positions());
}

/// Searching a queue by store time finds the first message at or after the time.
#[test]
fn offset_by_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    let mut stamps = Vec::new();
    for seq in 0..6 {
        let put = rt
            .block_on(store.put_message(&message("Time", 0, seq, 10)))
            .expect("put");
        stamps.push(put.append.store_timestamp);
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    wait_dispatched(&store);
    let at = |ts| store.offset_by_time("Time", 0, ts).expect("search");
    assert_eq!(at(0), 0);
    assert_eq!(at(stamps[3]), 3);
    // Puts are at least 3 ms apart, so any time between two stamps finds the later message.
    assert_eq!(at(stamps[3] - 1), 3);
    assert_eq!(at(stamps[2] + 1), 3);
    assert_eq!(at(i64::MAX), 6);
    assert_eq!(store.offset_by_time("Nope", 0, 0).expect("search"), 0);
}

/// A record is found again by its offset message id, and by key and unique id through the
/// index, within a time range.
#[test]
fn lookups_by_id_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&small_config(dir.path()));
    let rt = runtime();
    let mut puts = Vec::new();
    for seq in 0..20 {
        puts.push(
            rt.block_on(store.put_message(&message("K", (seq % 2) as i32, seq, 50)))
                .expect("put"),
        );
    }
    wait_dispatched(&store);
    let host = "127.0.0.1:0".parse().expect("addr");
    let id = apogee_protocol::message::message_id::encode_offset_msg_id(
        host,
        puts[7].append.physical_offsets[0] as i64,
    );
    let record = store
        .record_by_offset_id(&id)
        .expect("read")
        .expect("found");
    assert!(body_of(&record).starts_with(b"K:1:7:"));
    assert_eq!(
        store.record_at(3).expect("read"),
        None,
        "not a record start"
    );
    assert!(matches!(
        store.record_by_offset_id("not-an-id"),
        Err(StoreError::InvalidMessageId(_))
    ));

    let by_key = store
        .query_by_key("K", "order-7", 10, 0, i64::MAX)
        .expect("query");
    assert_eq!(by_key.len(), 1);
    assert!(body_of(&by_key[0]).starts_with(b"K:1:7:"));
    let by_uniq = store
        .query_by_key("K", &format!("{:032X}", 12), 10, 0, i64::MAX)
        .expect("query");
    assert_eq!(by_uniq.len(), 1);
    let shared = store
        .query_by_key("K", "shared", 5, 0, i64::MAX)
        .expect("query");
    assert_eq!(shared.len(), 5, "max results");
    assert!(body_of(&shared[0]).starts_with(b"K:1:19:"), "newest first");
    let none = store
        .query_by_key("K", "order-7", 10, 0, puts[0].append.store_timestamp - 1)
        .expect("query");
    assert!(none.is_empty(), "outside the time range");
    assert!(
        store
            .query_by_key("Other", "order-7", 10, 0, i64::MAX)
            .expect("query")
            .is_empty()
    );
}

/// The first append of a fresh store races the background allocator preparing the same
/// first segment; whichever wins, the segment is whole and the data is there.
#[test]
fn first_append_races_the_segment_allocator() {
    let rt = runtime();
    for round in 0..10 {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = small_config(dir.path());
        let store = open(&config);
        for seq in 0..200 {
            rt.block_on(store.put_message(&message("R", 0, seq, 900)))
                .unwrap_or_else(|e| panic!("round {round}, put {seq}: {e}"));
        }
        store.shutdown().expect("shutdown");
        drop(store);
        let store = open(&config);
        assert_eq!(store.verify_all().expect("intact"), 200, "round {round}");
    }
}

/// A long-poll waiter wakes when a message arrives on its queue (even one that did not exist
/// when it started waiting), and times out when none does.
#[test]
fn wait_for_message_wakes_on_arrival() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(open(&small_config(dir.path())));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let short = std::time::Duration::from_millis(50);
        assert!(
            !store.wait_for_message("W", 0, 0, short).await,
            "nothing there yet"
        );
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .wait_for_message("W", 0, 0, std::time::Duration::from_secs(10))
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        store
            .put_message(&message("W", 0, 0, 10))
            .await
            .expect("put");
        assert!(
            waiter.await.expect("join"),
            "woken by the new queue's first message"
        );
        assert!(
            store.wait_for_message("W", 0, 0, short).await,
            "already there"
        );
        assert!(
            !store.wait_for_message("W", 0, 1, short).await,
            "nothing beyond"
        );
        let waiter = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .wait_for_message("W", 0, 1, std::time::Duration::from_secs(10))
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        store
            .put_message(&message("W", 0, 1, 10))
            .await
            .expect("put");
        assert!(waiter.await.expect("join"));
    });
}
