//! The individual measurements of `apogee bench store` (see [`super::store`]).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use apogee_store::{FlushDiskType, MessageStore, PutMessage, PutStatus, StoreConfig};
use hdrhistogram::Histogram;
use serde::Serialize;

/// Body size of every benchmark record.
const BODY_BYTES: usize = 1024;
/// Approximate stored size of one benchmark record (header, topic, properties, body).
pub(super) const RECORD_BYTES: u64 = 1150;

pub(super) fn remove(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

fn config(dir: &Path, flush: FlushDiskType) -> StoreConfig {
    let mut config = StoreConfig::with_root(dir);
    config.flush_disk_type = flush;
    // The bench store is temporary and the machine's disk may be shared and fuller than
    // RocketMQ's 75% default allows (the bench checks free space for its own data first).
    config.disk_max_used_space_ratio = 95;
    config
}

fn message(seq: u64) -> PutMessage {
    let mut msg = PutMessage::new("BenchTopic", (seq % 4) as i32, vec![b'x'; BODY_BYTES]);
    msg.properties = format!("TAGS\u{1}TagA\u{2}KEYS\u{1}k{seq}\u{2}");
    msg
}

/// Latencies in nanoseconds, from 1 ns to 60 s, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// Figures of one append run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct AppendRun {
    /// Concurrent appenders.
    pub appenders: u64,
    /// Records appended.
    pub records: u64,
    /// Record bytes per second (10^6 bytes), over the whole run.
    pub mb_s: f64,
    /// Records per second.
    pub records_s: f64,
    /// Mean time of one append (one put, for SYNC_FLUSH including its flush), µs.
    pub mean_us: f64,
    /// 99th percentile of the same, µs.
    pub p99_us: f64,
    /// Puts answered FLUSH_DISK_TIMEOUT.
    pub flush_timeouts: u64,
    /// Records per commit-log flush (the group-commit batch size, for SYNC_FLUSH).
    pub records_per_flush: f64,
    /// Mean duration of one commit-log flush (msync), µs.
    pub flush_mean_us: f64,
}

/// Figures of the sequential read run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ReadRun {
    /// Record bytes per second (10^6 bytes).
    pub mb_s: f64,
    /// Records per second.
    pub records_s: f64,
}

/// Figures of the recovery run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RecoveryRun {
    /// Commit-log bytes when the writer was killed.
    pub log_bytes: u64,
    /// Time to open the store after the kill, s.
    pub kill9_s: f64,
    /// Records recovery validated after the kill (those past the checkpoint).
    pub records_rescanned: u64,
    /// Time to open with no checkpoint, consume queues or index (everything rebuilt), s.
    pub full_rebuild_s: f64,
}

fn append_run(
    store: &MessageStore,
    appenders: u64,
    hist: &Histogram<u64>,
    bytes: u64,
    secs: f64,
) -> AppendRun {
    let records = hist.len();
    let positions = store.positions();
    let flushes = positions.flushes.max(1);
    AppendRun {
        appenders,
        records,
        mb_s: bytes as f64 / secs / 1e6,
        records_s: records as f64 / secs,
        mean_us: hist.mean() / 1e3,
        p99_us: hist.value_at_quantile(0.99) as f64 / 1e3,
        flush_timeouts: 0,
        records_per_flush: records as f64 / flushes as f64,
        flush_mean_us: positions.flush_micros as f64 / flushes as f64,
    }
}

/// One appender, no waiting per put; timed until the final flush covers everything.
pub(super) fn async_append(dir: &Path, records: u64) -> Result<AppendRun> {
    let store = MessageStore::open(config(dir, FlushDiskType::AsyncFlush))?;
    let mut hist = histogram();
    let mut bytes = 0u64;
    let start = Instant::now();
    for seq in 0..records {
        let t = Instant::now();
        let appended = store.append(std::slice::from_ref(&message(seq)))?;
        hist.saturating_record(t.elapsed().as_nanos() as u64);
        bytes += appended.wrote_bytes as u64;
        if seq % 500_000 == 0 && seq > 0 {
            eprintln!("[bench store]   {seq} records");
        }
    }
    store.shutdown()?; // Flushes everything: part of the sustained figure.
    let secs = start.elapsed().as_secs_f64();
    Ok(append_run(&store, 1, &hist, bytes, secs))
}

/// Reads every record of the benchmark topic back through the consume queues.
pub(super) fn sequential_read(dir: &Path) -> Result<ReadRun> {
    let store = MessageStore::open(config(dir, FlushDiskType::AsyncFlush))?;
    let (mut bytes, mut records) = (0u64, 0u64);
    let start = Instant::now();
    for queue in store.queue_ids("BenchTopic") {
        let mut offset = store.min_offset("BenchTopic", queue);
        loop {
            let got = store.get_messages("BenchTopic", queue, offset, 1024, 4 << 20, &|_| true)?;
            if got.messages.is_empty() {
                break;
            }
            records += got.messages.len() as u64;
            bytes += got
                .messages
                .iter()
                .map(|m| m.bytes.len() as u64)
                .sum::<u64>();
            offset = got.next_begin_offset;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(ReadRun {
        mb_s: bytes as f64 / secs / 1e6,
        records_s: records as f64 / secs,
    })
}

/// `appenders` concurrent tasks, each putting `puts_each` records with SYNC_FLUSH and
/// waiting for each put before the next.
pub(super) async fn sync_append(dir: &Path, appenders: u64, puts_each: u64) -> Result<AppendRun> {
    let store = Arc::new(MessageStore::open(config(dir, FlushDiskType::SyncFlush))?);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..appenders {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let (mut bytes, mut timeouts) = (0u64, 0u64);
            for i in 0..puts_each {
                let t = Instant::now();
                let put = store.put_message(&message(task * 1_000_000 + i)).await?;
                hist.saturating_record(t.elapsed().as_nanos() as u64);
                bytes += put.append.wrote_bytes as u64;
                timeouts += u64::from(put.status == PutStatus::FlushDiskTimeout);
            }
            anyhow::Ok((hist, bytes, timeouts))
        }));
    }
    let (mut hist, mut bytes, mut timeouts) = (histogram(), 0u64, 0u64);
    for task in tasks {
        let (h, b, t) = task.await??;
        hist.add(h)?;
        bytes += b;
        timeouts += t;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut run = append_run(&store, appenders, &hist, bytes, secs);
    run.flush_timeouts = timeouts;
    store.shutdown()?;
    Ok(run)
}

/// The child side: appends `bytes` of records with ASYNC_FLUSH, says so, and waits to be killed.
pub(super) fn kill_me_writer(dir: &Path, bytes: u64) -> Result<()> {
    let store = MessageStore::open(config(dir, FlushDiskType::AsyncFlush))?;
    let mut seq = 0;
    while store.positions().published < bytes {
        store.append(std::slice::from_ref(&message(seq)))?;
        seq += 1;
    }
    println!("WRITTEN {}", store.positions().published);
    std::thread::sleep(Duration::from_secs(600));
    bail!("writer was not killed")
}

/// Kills a writer process with SIGKILL after it wrote `bytes`, then times recovery; then times
/// the worst case (no checkpoint, consume queues or index).
pub(super) fn recovery(dir: &Path, bytes: u64) -> Result<RecoveryRun> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["bench", "store", "--kill-me-writer", "--recovery-bytes"])
        .arg(bytes.to_string())
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the writer process")?;
    let mut line = String::new();
    let stdout = child.stdout.take().context("writer stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    child.kill()?; // SIGKILL
    child.wait()?;
    if !line.starts_with("WRITTEN") {
        bail!("writer failed before writing its log");
    }
    let start = Instant::now();
    let store = MessageStore::open(config(dir, FlushDiskType::AsyncFlush))?;
    let kill9 = start.elapsed().as_secs_f64();
    let report = store.recovery_report().clone();
    store.shutdown()?;
    drop(store);
    std::fs::remove_file(dir.join("checkpoint"))?;
    remove(&dir.join("consumequeue"))?;
    remove(&dir.join("index"))?;
    std::fs::write(dir.join("abort"), b"")?;
    let start = Instant::now();
    let store = MessageStore::open(config(dir, FlushDiskType::AsyncFlush))?;
    let rebuild = start.elapsed().as_secs_f64();
    store.shutdown()?;
    Ok(RecoveryRun {
        log_bytes: report.log_end,
        kill9_s: kill9,
        records_rescanned: report.records_scanned,
        full_rebuild_s: rebuild,
    })
}
