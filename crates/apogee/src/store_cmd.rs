//! `apogee store ...`: offline operations on a store directory.
//!
//! - `apogee store verify [--dir D]`: opens the store (running recovery, as a start would),
//!   then validates every record of the commit log — structure, position and body CRC — and
//!   reports what it found. Exit status 1 on corruption, naming the segment and offset.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use apogee_store::{MessageStore, StoreConfig};

/// Arguments of `apogee store verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The store root (`storePathRootDir`).
    #[arg(long, default_value = "./data")]
    pub dir: PathBuf,
    /// A store setting as RocketMQ names it, e.g. `mappedFileSizeCommitLog=65536`; the
    /// store's files must match the settings they were written with. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
}

/// A store configuration from `KEY=VALUE` settings (RocketMQ key names) over the defaults.
///
/// # Errors
/// A setting without `=`, an unknown key or a bad value, naming the key.
pub fn store_config(dir: &Path, settings: &[String]) -> Result<StoreConfig> {
    let mut all = settings.to_vec();
    all.push(format!("storePathRootDir={}", dir.display()));
    Ok(crate::settings::load(None, &all, &[])?.store)
}

/// Runs `apogee store verify`.
///
/// # Errors
/// If the store cannot be opened (locked, corrupt past repair) or a record is corrupt.
pub fn verify(args: &VerifyArgs) -> Result<()> {
    if !args.dir.join("commitlog").is_dir() {
        anyhow::bail!(
            "{} holds no store (no commitlog directory); pass the storePathRootDir with --dir",
            args.dir.display()
        );
    }
    let config = store_config(&args.dir, &args.settings)?;
    let store = MessageStore::open(config)
        .with_context(|| format!("opening the store at {}", args.dir.display()))?;
    let report = store.recovery_report().clone();
    println!(
        "recovery: {} shutdown, log ends at {}, {} records rescanned from {}{}",
        if report.clean_shutdown {
            "clean"
        } else {
            "unclean"
        },
        report.log_end,
        report.records_scanned,
        report.scan_from,
        if report.torn_tail {
            ", torn tail cut"
        } else {
            ""
        }
    );
    let records = store
        .verify_all()
        .context("verifying every record of the commit log")?;
    let positions = store.positions();
    println!(
        "verified {records} records in [{}, {}): every one intact",
        positions.min_offset, positions.published
    );
    store.shutdown().context("closing the store")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings use RocketMQ's key names; unknown keys and bad values are refused by name.
    #[test]
    fn settings() {
        let dir = Path::new("/tmp/x");
        let config = store_config(
            dir,
            &[
                "mappedFileSizeCommitLog=65536".into(),
                "maxMessageSize=16384".into(),
                "flushDiskType=SYNC_FLUSH".into(),
                "messageIndexEnable=false".into(),
            ],
        )
        .expect("valid");
        assert_eq!(config.mapped_file_size_commit_log, 65536);
        assert_eq!(
            config.flush_disk_type,
            apogee_store::FlushDiskType::SyncFlush
        );
        assert!(!config.message_index_enable);
        assert_eq!(config.store_path_root_dir, dir);
        let unknown = store_config(dir, &["flushDiskTyp=SYNC_FLUSH".into()]).expect_err("unknown");
        assert!(
            format!("{unknown:#}").contains("flushDiskTyp"),
            "{unknown:#}"
        );
        let bad = store_config(dir, &["flushDiskType=FAST".into()]).expect_err("bad value");
        assert!(format!("{bad:#}").contains("FAST"), "{bad:#}");
        assert!(store_config(dir, &["mappedFileSizeCommitLog=100".into()]).is_err());
        assert!(store_config(dir, &["novalue".into()]).is_err());
    }
}
