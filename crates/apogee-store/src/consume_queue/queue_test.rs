use proptest::prelude::*;

use super::*;

fn unit(i: u64) -> CqUnit {
    CqUnit {
        phy_offset: i * 100,
        size: 100,
        tags_code: i as i64,
    }
}

/// Units written across many small files read back by offset after a reopen.
#[test]
fn append_read_reopen_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let qdir = dir.path().join("T/0");
    let cq = ConsumeQueue::open(&qdir, "T", 0, 5 * CQ_UNIT_BYTES).expect("open");
    for i in 0..23 {
        cq.put(i, &unit(i)).expect("put");
    }
    assert_eq!((cq.min_offset(), cq.max_offset()), (0, 23));
    assert_eq!(cq.get(22), Some(unit(22)));
    assert_eq!(cq.get(23), None);
    let read = cq.read(3, 10);
    assert_eq!(read.len(), 10);
    assert_eq!(read[0], (3, unit(3)));
    assert_eq!(read[9], (12, unit(12)));
    cq.flush().expect("flush");
    drop(cq);
    let cq = ConsumeQueue::open(&qdir, "T", 0, 5 * CQ_UNIT_BYTES).expect("reopen");
    assert_eq!((cq.min_offset(), cq.max_offset()), (0, 23));
    assert_eq!(cq.read(0, 100).len(), 23);
}

/// Gaps are refused; truncation drops units past the log end; retention deletes whole files.
#[test]
fn gaps_truncation_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cq = ConsumeQueue::open(&dir.path().join("q"), "T", 1, 4 * CQ_UNIT_BYTES).expect("open");
    for i in 0..10 {
        cq.put(i, &unit(i)).expect("put");
    }
    assert!(matches!(
        cq.put(12, &unit(12)),
        Err(StoreError::BadFile { .. })
    ));
    // Rewriting an existing unit (recovery re-dispatch) is allowed.
    cq.put(5, &unit(5)).expect("rewrite");
    assert_eq!(cq.max_offset(), 10);
    // Log ends at 750: units 0..=6 end by 700, unit 7 would end at 800.
    assert_eq!(cq.truncate_beyond(750).expect("truncate"), 3);
    assert_eq!(cq.max_offset(), 7);
    assert_eq!(cq.get(7), None);
    cq.put(7, &unit(7)).expect("append after truncate");
    // Commit log now starts at 450: file 0 (units 0..4, phy < 400) goes, min moves to 5.
    assert_eq!(cq.delete_below(450).expect("retention"), 1);
    assert_eq!(cq.min_offset(), 5);
    assert_eq!(cq.get(4), None);
    assert_eq!(cq.get(5), Some(unit(5)));
}

/// A fresh queue may start at any offset (its earlier messages were deleted).
#[test]
fn fresh_queue_starts_anywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cq = ConsumeQueue::open(&dir.path().join("q"), "T", 0, 4 * CQ_UNIT_BYTES).expect("open");
    cq.put(13, &unit(13)).expect("put");
    assert_eq!((cq.min_offset(), cq.max_offset()), (13, 14));
    cq.put(14, &unit(14)).expect("put");
    drop(cq);
    let cq = ConsumeQueue::open(&dir.path().join("q"), "T", 0, 4 * CQ_UNIT_BYTES).expect("open");
    assert_eq!((cq.min_offset(), cq.max_offset()), (13, 15));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Addressing across file boundaries: any offset reads back the unit written there,
    /// whatever the file size.
    #[test]
    fn addressing_across_boundaries(units_per_file in 1usize..9, count in 1u64..60, probe in 0u64..80) {
        let dir = tempfile::tempdir().expect("tempdir");
        let cq = ConsumeQueue::open(&dir.path().join("q"), "T", 0, units_per_file * CQ_UNIT_BYTES)
            .expect("open");
        for i in 0..count {
            cq.put(i, &unit(i)).expect("put");
        }
        prop_assert_eq!(cq.get(probe), (probe < count).then(|| unit(probe)));
        let read = cq.read(probe, 7);
        let expected: Vec<_> = (probe..count.min(probe + 7)).map(|i| (i, unit(i))).collect();
        prop_assert_eq!(read, expected);
    }
}
