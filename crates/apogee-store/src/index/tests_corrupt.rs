//! Damaged files: refused at open when the header is bad, harmless in slots and entries.

use proptest::prelude::*;

use super::file::HEADER_BYTES;
use super::tests::{ALL, fill, msg, open, q};
use super::*;

/// Bad sizes, headers and names are refused; a blank newest file is dropped.
#[test]
fn bad_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = |svc: Result<IndexService>| matches!(svc, Err(StoreError::BadFile { .. }));
    assert!(matches!(
        IndexService::open(dir.path(), 0, 8),
        Err(StoreError::Config { .. })
    ));
    assert!(matches!(
        IndexService::open(dir.path(), 4, 1),
        Err(StoreError::Config { .. })
    ));
    fill(&open(dir.path(), 4, 8), 6); // files at 0, 200, 400
    assert!(bad(IndexService::open(dir.path(), 4, 9)), "size");
    let path = dir.path().join(crate::segment_files::name(200));
    let good = std::fs::read(&path).expect("read");
    let mut raw = good.clone();
    raw[36..40].copy_from_slice(&100i32.to_be_bytes());
    std::fs::write(&path, &raw).expect("write");
    assert!(bad(IndexService::open(dir.path(), 4, 8)), "indexCount");
    std::fs::write(&path, &good).expect("write");
    std::fs::rename(&path, dir.path().join(crate::segment_files::name(250))).expect("rename");
    assert!(bad(IndexService::open(dir.path(), 4, 8)), "name");
    std::fs::rename(dir.path().join(crate::segment_files::name(250)), &path).expect("rename");
    raw = good.clone();
    raw[..HEADER_BYTES].fill(0);
    std::fs::write(&path, &raw).expect("write");
    assert!(
        bad(IndexService::open(dir.path(), 4, 8)),
        "blank but not newest"
    );
    std::fs::write(&path, &good).expect("write");
    let newest = dir.path().join(crate::segment_files::name(400));
    let mut blank = std::fs::read(&newest).expect("read");
    blank[..HEADER_BYTES].fill(0);
    std::fs::write(&newest, &blank).expect("write");
    let svc = open(dir.path(), 4, 8);
    assert_eq!(
        (svc.file_count(), svc.indexed_below()),
        (2, 301),
        "re-dispatch from file 200's end"
    );
    assert!(!newest.exists());
}

/// Chain links that point forward, at themselves or past `indexCount` end the walk.
#[test]
fn corrupt_chain_links_end_the_walk() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..3u64 {
        msg("T", "", "k").put(&open(dir.path(), 1, 8), i * 100);
    }
    let path = dir.path().join(crate::segment_files::name(0));
    let good = std::fs::read(&path).expect("read");
    let patch = |pos: usize, value: i32| {
        let mut raw = good.clone();
        raw[pos..pos + 4].copy_from_slice(&value.to_be_bytes());
        std::fs::write(&path, &raw).expect("write");
        q(&open(dir.path(), 1, 8), "T", "k")
    };
    let prev = |index: usize| HEADER_BYTES + 4 + index * 20 + 16;
    assert_eq!(patch(prev(1), 0), vec![200, 100, 0], "intact");
    assert_eq!(patch(prev(2), 3), vec![200, 100], "forward link");
    assert_eq!(patch(prev(3), 3), vec![200], "self link");
    assert_eq!(patch(prev(2), -7), vec![200, 100], "negative link");
    assert!(patch(HEADER_BYTES, 99).is_empty(), "slot past indexCount");
    assert!(patch(HEADER_BYTES, -1).is_empty(), "negative slot");
    assert!(patch(HEADER_BYTES, 0).is_empty(), "empty slot");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random bytes over slots and entries (or the header) never make open, query or
    /// dispatch panic or loop.
    #[test]
    fn corrupt_file_never_panics(
        patches in prop::collection::vec((0usize..2000, prop::collection::vec(any::<u8>(), 1..24)), 1..12),
        header_too in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        fill(&open(dir.path(), 8, 48), 12);
        let path = dir.path().join(crate::segment_files::name(0));
        let mut raw = std::fs::read(&path).expect("read");
        let start = if header_too { 0 } else { HEADER_BYTES };
        let span = raw.len() - start;
        for (pos, bytes) in &patches {
            let at = start + pos % span;
            let end = (at + bytes.len()).min(raw.len());
            raw[at..end].copy_from_slice(&bytes[..end - at]);
        }
        std::fs::write(&path, &raw).expect("write");
        let Ok(svc) = IndexService::open(dir.path(), 8, 48) else {
            prop_assert!(header_too, "only a corrupt header may refuse to open");
            return Ok(());
        };
        for i in 0..14u64 {
            for key in [format!("k{i}"), format!("u{i}"), "all".to_owned()] {
                let found = svc.query("T", &key, 64, ALL.0, ALL.1);
                prop_assert!(found.len() <= INDEX_QUERY_RESULTS_MAX);
                prop_assert!(found.windows(2).all(|w| w[0] > w[1]));
            }
        }
        msg("T", "", "after").put(&svc, svc.indexed_below() + 100);
    }
}
