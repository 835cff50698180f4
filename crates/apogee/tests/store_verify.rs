//! `apogee store verify` run as a real process against a real store directory.

use std::os::unix::fs::FileExt;
use std::process::Command;

use apogee_store::{MessageStore, PutMessage, StoreConfig};

fn apogee(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(args)
        .output()
        .expect("run apogee")
}

/// A healthy store verifies with every record counted; a flipped body byte makes the command
/// fail with the offset of the damaged record.
#[test]
fn verify_reports_intact_and_corrupt_stores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = StoreConfig::with_root(dir.path());
    // The host disk is shared: never refuse writes because of its fill level.
    config.disk_max_used_space_ratio = 99;
    config.mapped_file_size_commit_log = 64 * 1024;
    config.max_message_size = 16 * 1024;
    config.max_index_num = 1000;
    config.max_hash_slot_num = 100;
    let mut offsets = Vec::new();
    {
        let store = MessageStore::open(config).expect("open");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for i in 0..100 {
            let put = rt
                .block_on(store.put_message(&PutMessage::new("T", 0, vec![b'a'; 500 + i])))
                .expect("put");
            offsets.push(put.append.physical_offsets[0]);
        }
    }
    let root = dir.path().to_str().expect("utf-8 path");
    let settings = [
        "--set",
        "mappedFileSizeCommitLog=65536",
        "--set",
        "maxMessageSize=16384",
        "--set",
        "maxIndexNum=1000",
        "--set",
        "maxHashSlotNum=100",
    ];
    let verify = |dir: &str| {
        let mut args = vec!["store", "verify", "--dir", dir];
        args.extend(settings);
        apogee(&args)
    };
    let ok = verify(root);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("verified 100 records"), "{stdout}");
    assert!(stdout.contains("clean shutdown"), "{stdout}");

    // Flip a body byte of record 42 (the body starts 88 bytes into a record with IPv4 hosts).
    let target = offsets[42] + 88 + 10;
    let segment = target - target % (64 * 1024);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join("commitlog").join(format!("{segment:020}")))
        .expect("segment");
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, target - segment)
        .expect("read");
    byte[0] ^= 0x40;
    file.write_all_at(&byte, target - segment).expect("write");

    let bad = verify(root);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        stderr.contains(&format!("offset {}", offsets[42])),
        "{stderr}"
    );
    assert!(stderr.contains("CRC"), "{stderr}");

    let missing = verify("/nonexistent/apogee");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("holds no store"));
}
