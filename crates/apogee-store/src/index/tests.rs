use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use apogee_protocol::message::properties::{self as props, KEYS, UNIQ_KEY};
use apogee_protocol::message::record::{RecordDraft, Stamp, body_crc, decode, encode};

use super::*;

pub(super) const T0: i64 = 1_700_000_000_000;
pub(super) const ALL: (i64, i64) = (0, i64::MAX);

/// A message to dispatch.
#[derive(Clone, Copy)]
pub(super) struct Msg<'a> {
    pub topic: &'a str,
    pub uniq: &'a str,
    pub keys: &'a str,
    pub ts: i64,
    pub sys_flag: i32,
}

pub(super) fn msg<'a>(topic: &'a str, uniq: &'a str, keys: &'a str) -> Msg<'a> {
    Msg {
        topic,
        uniq,
        keys,
        ts: T0,
        sys_flag: 0,
    }
}

impl Msg<'_> {
    pub(super) fn at(mut self, ts: i64) -> Self {
        self.ts = ts;
        self
    }

    pub(super) fn encode(&self, phy: u64) -> Vec<u8> {
        let properties = props::encode([(UNIQ_KEY, self.uniq), (KEYS, self.keys)]);
        let draft = RecordDraft {
            topic: self.topic,
            queue_id: 0,
            flag: 0,
            sys_flag: self.sys_flag,
            born_timestamp: self.ts,
            born_host: "127.0.0.1:1000".parse().expect("addr"),
            store_host: "127.0.0.1:10911".parse().expect("addr"),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: b"body",
            properties: &properties,
        };
        let stamp = Stamp {
            queue_offset: 0,
            physical_offset: phy as i64,
            store_timestamp: self.ts,
        };
        let mut buf = vec![0; draft.encoded_len()];
        encode(&draft, body_crc(draft.body), &stamp, &mut buf);
        buf
    }

    pub(super) fn put(&self, svc: &IndexService, phy: u64) {
        let buf = self.encode(phy);
        let view = decode(&buf).expect("decode");
        svc.dispatch(phy, &view).expect("dispatch");
    }
}

pub(super) fn open(dir: &Path, slot_num: usize, index_num: usize) -> IndexService {
    IndexService::open(dir, slot_num, index_num).expect("open")
}

pub(super) fn q(svc: &IndexService, topic: &str, key: &str) -> Vec<u64> {
    svc.query(topic, key, 64, ALL.0, ALL.1)
}

pub(super) fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// Records `i` in `0..n` at offset `i * 100`, key `k{i}`, shared key `all`, unique id `u{i}`.
pub(super) fn fill(svc: &IndexService, n: u64) {
    for i in 0..n {
        let (uniq, key) = (format!("u{i}"), format!("k{i} all"));
        msg("T", &uniq, &key)
            .at(T0 + i as i64 * 1000)
            .put(svc, i * 100);
    }
}

/// Keys and unique ids are found in their own topic only.
#[test]
fn lookup_by_key_and_uniq_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 16, 64);
    assert_eq!(svc.indexed_below(), 0);
    msg("T", "U1", "k1").put(&svc, 0);
    msg("T", "U2", "k2").put(&svc, 100);
    msg("Other", "U3", "k1").put(&svc, 200);
    assert_eq!(q(&svc, "T", "k1"), vec![0]);
    assert_eq!(q(&svc, "T", "U2"), vec![100]);
    assert_eq!(q(&svc, "Other", "k1"), vec![200]);
    assert_eq!(q(&svc, "Other", "k2"), Vec::<u64>::new());
    assert_eq!(q(&svc, "T", "nope"), Vec::<u64>::new());
    assert_eq!(svc.indexed_below(), 201);
    assert_eq!(svc.file_count(), 1);
    assert_eq!(names(dir.path()), vec!["00000000000000000000"]);
}

/// Every non-empty KEYS token is indexed once; keys beyond the per-message cap are dropped.
#[test]
fn several_keys_per_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 16, 128);
    msg("T", "U", "a b  c a").put(&svc, 0);
    for key in ["U", "a", "b", "c"] {
        assert_eq!(q(&svc, "T", key), vec![0], "key {key}");
    }
    assert_eq!(q(&svc, "T", ""), Vec::<u64>::new());
    assert_eq!(svc.files.read()[0].header().index_count, 5, "U, a, b, c");

    let many: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    msg("T", "U2", &many.join(" ")).put(&svc, 100);
    let last = INDEX_KEYS_PER_MESSAGE_MAX - 2; // UNIQ_KEY takes one of the keys
    assert_eq!(q(&svc, "T", &format!("m{last}")), vec![100]);
    assert!(q(&svc, "T", &format!("m{}", last + 1)).is_empty());
    let count = svc.files.read()[0].header().index_count as usize;
    assert_eq!(count, 5 + INDEX_KEYS_PER_MESSAGE_MAX);
}

/// Only entries whose time overlaps the query are returned, to the second.
#[test]
fn time_range_filtering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 16, 64);
    for i in 0..10u64 {
        msg("T", "", "k")
            .at(T0 + i as i64 * 10_000)
            .put(&svc, i * 100);
    }
    msg("T", "", "odd").at(T0 + 101_500).put(&svc, 1000);
    assert_eq!(
        svc.query("T", "k", 64, T0 + 25_000, T0 + 55_000),
        vec![500, 400, 300]
    );
    assert_eq!(svc.query("T", "k", 64, T0 + 30_000, T0 + 30_000), vec![300]);
    assert!(svc.query("T", "k", 64, 0, T0 - 1).is_empty());
    assert!(svc.query("T", "k", 64, T0 + 200_000, i64::MAX).is_empty());
    assert!(
        svc.query("T", "k", 64, T0 + 10, T0).is_empty(),
        "empty range"
    );
    assert_eq!(
        svc.query("T", "odd", 64, T0 + 101_500, T0 + 101_500),
        vec![1000]
    );
}

/// Results are capped, newest first.
#[test]
fn max_results_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 64, 1024);
    fill(&svc, 100);
    let ten: Vec<u64> = (90..100).rev().map(|i| i * 100).collect();
    assert_eq!(svc.query("T", "all", 10, ALL.0, ALL.1), ten);
    let capped = svc.query("T", "all", 1000, ALL.0, ALL.1);
    assert_eq!(capped.len(), INDEX_QUERY_RESULTS_MAX);
    assert_eq!(capped[0], 9900);
    assert!(capped.windows(2).all(|w| w[0] > w[1]));
    assert!(svc.query("T", "all", 0, ALL.0, ALL.1).is_empty());
}

/// Rolled-back records are skipped but still covered; other transaction types are indexed.
#[test]
fn rollback_not_indexed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 16, 64);
    let mut m = msg("T", "U", "k");
    m.sys_flag = sysflag::TRANSACTION_ROLLBACK;
    m.put(&svc, 0);
    assert!(q(&svc, "T", "k").is_empty());
    assert_eq!((svc.file_count(), svc.indexed_below()), (0, 1));
    m.sys_flag = sysflag::TRANSACTION_PREPARED;
    m.put(&svc, 100);
    m.sys_flag = sysflag::TRANSACTION_COMMIT;
    m.put(&svc, 200);
    assert_eq!(q(&svc, "T", "k"), vec![200, 100]);
}

/// A full file rolls to a new one named by the record's offset; all files are searched.
#[test]
fn rolls_over_to_new_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 4, 4); // 3 entries per file; 3 keys per record
    fill(&svc, 5);
    assert_eq!(svc.file_count(), 5);
    let expected: Vec<String> = (0..5).map(|i| format!("{:020}", i * 100)).collect();
    assert_eq!(names(dir.path()), expected);
    assert_eq!(q(&svc, "T", "all"), vec![400, 300, 200, 100, 0]);
    assert_eq!(q(&svc, "T", "k2"), vec![200]);
    assert_eq!(q(&svc, "T", "u3"), vec![300]);
    msg("T", "", "a b c d e").put(&svc, 500);
    assert_eq!(q(&svc, "T", "c"), vec![500]);
    assert!(
        q(&svc, "T", "d").is_empty(),
        "capped at one file's capacity"
    );
}

/// Files, entries and coverage survive a reopen, flushed or not.
#[test]
fn reopen_restores_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 4, 8);
    fill(&svc, 10);
    svc.flush().expect("flush");
    let (files, below, all) = (svc.file_count(), svc.indexed_below(), q(&svc, "T", "all"));
    assert_eq!(below, 901);
    drop(svc);
    let svc = open(dir.path(), 4, 8);
    assert_eq!((svc.file_count(), svc.indexed_below()), (files, below));
    assert_eq!(q(&svc, "T", "all"), all);
    assert_eq!(q(&svc, "T", "k7"), vec![700]);
    msg("T", "", "k10").put(&svc, 1000);
    drop(svc);
    let svc = open(dir.path(), 4, 8);
    assert_eq!(q(&svc, "T", "k10"), vec![1000]);
    assert_eq!(svc.indexed_below(), 1001);
}

/// Records below `indexed_below` are ignored, before and after a reopen.
#[test]
fn redispatch_adds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 4, 16);
    fill(&svc, 10);
    let count = |svc: &IndexService| {
        let files = svc.files.read();
        files
            .iter()
            .map(|f| f.header().index_count)
            .collect::<Vec<_>>()
    };
    let before = count(&svc);
    fill(&svc, 10);
    msg("T", "", "late").put(&svc, 500);
    assert_eq!(count(&svc), before);
    drop(svc);
    let svc = open(dir.path(), 4, 16);
    fill(&svc, 10);
    assert_eq!(count(&svc), before);
    let all = q(&svc, "T", "all");
    assert_eq!(all, (0..10).rev().map(|i| i * 100).collect::<Vec<_>>());
    assert!(q(&svc, "T", "late").is_empty());
}

/// Truncation drops files past the log end and lets new records at cut offsets be indexed.
#[test]
fn truncate_then_redispatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 8, 7); // two records (3 keys each) per file
    fill(&svc, 10);
    assert_eq!(svc.file_count(), 5);
    svc.truncate(500).expect("truncate");
    assert_eq!((svc.file_count(), svc.indexed_below()), (3, 500));
    let raw = std::fs::read(dir.path().join(crate::segment_files::name(400))).expect("read");
    assert_eq!(i64::from_be_bytes(raw[24..32].try_into().expect("8")), 499);
    drop(svc);
    let svc = open(dir.path(), 8, 7);
    assert_eq!(svc.indexed_below(), 500, "lowered end is durable");
    for i in 5..8u64 {
        msg("T", "", &format!("new{i}")).put(&svc, i * 100);
    }
    assert_eq!(q(&svc, "T", "new5"), vec![500]);
    assert_eq!(q(&svc, "T", "new7"), vec![700]);
    assert_eq!(q(&svc, "T", "k4"), vec![400]);
    assert_eq!(
        q(&svc, "T", "k5"),
        vec![500],
        "stale candidate, verified by callers"
    );
    assert!(q(&svc, "T", "k6").is_empty());
    drop(svc);
    let svc = open(dir.path(), 8, 7);
    assert_eq!(svc.indexed_below(), 701);
    svc.truncate(10_000).expect("no-op");
    assert_eq!((svc.file_count(), svc.indexed_below()), (4, 701));
    svc.truncate(0).expect("truncate all");
    assert_eq!((svc.file_count(), svc.indexed_below()), (0, 0));
    assert!(names(dir.path()).is_empty());
}

/// Retention deletes whole old files, never the newest.
#[test]
fn delete_files_below_keeps_newest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 8, 7);
    fill(&svc, 10); // files at 0, 200, 400, 600, 800
    assert_eq!(
        svc.delete_files_below(300).expect("delete"),
        1,
        "file 200 holds 300"
    );
    assert_eq!(svc.delete_files_below(301).expect("delete"), 1);
    assert_eq!(svc.delete_files_below(450).expect("delete"), 0);
    assert_eq!(
        names(dir.path()),
        vec![
            crate::segment_files::name(400),
            crate::segment_files::name(600),
            crate::segment_files::name(800)
        ]
    );
    assert!(q(&svc, "T", "k1").is_empty());
    assert_eq!(q(&svc, "T", "k4"), vec![400]);
    assert_eq!(svc.delete_files_below(u64::MAX).expect("delete"), 2);
    assert_eq!(svc.file_count(), 1);
    assert_eq!(q(&svc, "T", "all"), vec![900, 800]);
    assert_eq!(svc.indexed_below(), 901);
}

/// Keys sharing one slot, or even one hash, stay apart or come back as candidates.
#[test]
fn hash_collisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 1, 64);
    for i in 0..20u64 {
        msg("T", "", &format!("key{i}")).put(&svc, i * 100);
    }
    for i in 0..20u64 {
        assert_eq!(q(&svc, "T", &format!("key{i}")), vec![i * 100]);
    }
    assert_eq!(
        key_hash("T", "Aa"),
        key_hash("T", "BB"),
        "Java hashes collide"
    );
    msg("T", "", "Aa").put(&svc, 2000);
    msg("T", "", "BB").put(&svc, 2100);
    assert_eq!(q(&svc, "T", "Aa"), vec![2100, 2000]);
}

/// Hashes are made non-negative as RocketMQ does.
#[test]
fn key_hash_is_non_negative() {
    for i in 0..1000 {
        let key = format!("some-longer-key-{i}");
        let java = java_string_hash(&format!("T#{key}"));
        assert_eq!(key_hash("T", &key), java.checked_abs().unwrap_or(0));
        assert!(key_hash("T", &key) >= 0);
    }
}

/// The bytes on disk follow RocketMQ's layout.
#[test]
fn on_disk_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = open(dir.path(), 4, 4);
    msg("T", "", "k").at(T0 + 2500).put(&svc, 0);
    msg("T", "", "k").at(T0 + 7000).put(&svc, 100);
    drop(svc);
    let raw = std::fs::read(dir.path().join(crate::segment_files::name(0))).expect("read");
    assert_eq!(raw.len(), 40 + 4 * 4 + 4 * 20);
    let i64_at = |p: usize| i64::from_be_bytes(raw[p..p + 8].try_into().expect("8"));
    let i32_at = |p: usize| i32::from_be_bytes(raw[p..p + 4].try_into().expect("4"));
    assert_eq!(
        [i64_at(0), i64_at(8), i64_at(16), i64_at(24)],
        [T0 + 2500, T0 + 7000, 0, 100]
    );
    assert_eq!([i32_at(32), i32_at(36)], [1, 3]);
    let hash = key_hash("T", "k");
    let slot = 40 + (hash as usize % 4) * 4;
    assert_eq!(i32_at(slot), 2);
    let entry = |i: usize| 40 + 16 + i * 20;
    assert_eq!((i32_at(entry(1)), i64_at(entry(1) + 4)), (hash, 0));
    assert_eq!((i32_at(entry(1) + 12), i32_at(entry(1) + 16)), (0, 0));
    assert_eq!((i32_at(entry(2)), i64_at(entry(2) + 4)), (hash, 100));
    assert_eq!((i32_at(entry(2) + 12), i32_at(entry(2) + 16)), (4, 1));
}

/// Queries running alongside dispatch see each record once its dispatch has returned.
#[test]
fn concurrent_dispatch_and_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = Arc::new(open(dir.path(), 16, 64));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (svc, done) = (svc.clone(), done.clone());
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !done.load(Ordering::Acquire) || checks < 100 {
                    let below = svc.indexed_below();
                    let Some(i) = (below / 100).checked_sub(1 + (checks * 7 + r) % 5) else {
                        continue;
                    };
                    assert_eq!(q(&svc, "T", &format!("k{i}")), vec![i * 100]);
                    checks += 1;
                }
            })
        })
        .collect();
    fill(&svc, 1000);
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join().expect("reader");
    }
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IndexService>();
}
