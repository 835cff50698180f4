//! Process figures from `/proc`: resident memory (`VmRSS`, `VmHWM` in `/proc/PID/status`)
//! and CPU time (`utime + stime` in `/proc/PID/stat`, all threads, in clock ticks).
//!
//! The same source is used for the broker and for this process, so the two CPU figures are
//! comparable; the resolution is one clock tick (10 ms at the usual 100 Hz), fine over runs
//! of seconds.

use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Whose figures to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proc {
    /// This process (`/proc/self`).
    Myself,
    /// Another process by id.
    Pid(u32),
}

impl Proc {
    /// The `/proc` directory of this process.
    fn dir(self) -> String {
        match self {
            Proc::Myself => "/proc/self".to_owned(),
            Proc::Pid(pid) => format!("/proc/{pid}"),
        }
    }
}

/// One reading of a process's memory and CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Resident set size now, KiB (file-backed pages included: a broker appending through
    /// memory maps counts the log pages it touched).
    pub rss_kib: u64,
    /// Anonymous resident memory now (`RssAnon`: heap and stacks), KiB.
    pub rss_anon_kib: u64,
    /// Peak resident set size over the process's life, KiB.
    pub hwm_kib: u64,
    /// User plus system CPU time over the process's life, all threads.
    pub cpu: Duration,
}

/// Reads `proc`'s memory and CPU time.
///
/// # Errors
/// If the process is gone or `/proc` cannot be read or parsed.
pub fn sample(proc: Proc) -> Result<Sample> {
    let dir = proc.dir();
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("cannot read {dir}/status"))?;
    let stat = std::fs::read_to_string(format!("{dir}/stat"))
        .with_context(|| format!("cannot read {dir}/stat"))?;
    Ok(Sample {
        rss_kib: status_kib(&status, "VmRSS:")?,
        rss_anon_kib: status_kib(&status, "RssAnon:")?,
        hwm_kib: status_kib(&status, "VmHWM:")?,
        cpu: cpu_time(&stat)?,
    })
}

/// The value in KiB of the `key` line (`VmRSS:    1234 kB`) of a `/proc/PID/status` text.
fn status_kib(status: &str, key: &str) -> Result<u64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .with_context(|| format!("no {key} line in /proc status"))?;
    let number = line.split_whitespace().next().unwrap_or_default();
    number
        .parse()
        .with_context(|| format!("bad {key} value {line:?} in /proc status"))
}

/// `utime + stime` of a `/proc/PID/stat` text as a duration.
fn cpu_time(stat: &str) -> Result<Duration> {
    // The command name (field 2) is in parentheses and may contain spaces: count fields
    // from the last ')'. Field 3 (state) is then index 0, utime (14) index 11, stime 12.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        bail!("malformed /proc stat: no ')'");
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |index: usize, name: &str| -> Result<u64> {
        fields
            .get(index)
            .with_context(|| format!("no {name} field in /proc stat"))?
            .parse::<u64>()
            .with_context(|| format!("bad {name} field in /proc stat"))
    };
    let ticks = field(11, "utime")? + field(12, "stime")?;
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// CPU time per message, µs: `cpu` spread over `messages` (`None` for no messages).
#[must_use]
pub fn cpu_us_per_msg(cpu: Duration, messages: u64) -> Option<f64> {
    (messages > 0).then(|| cpu.as_secs_f64() * 1e6 / messages as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses the lines the kernel writes.
    #[test]
    fn parses_status_and_stat() {
        let status = "Name:\tapogee\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t 512 kB\n";
        assert_eq!(status_kib(status, "VmRSS:").expect("rss"), 10_240);
        assert_eq!(status_kib(status, "VmHWM:").expect("hwm"), 20_480);
        assert_eq!(status_kib(status, "RssAnon:").expect("anon"), 512);
        assert!(status_kib(status, "VmSwap:").is_err());
        let ticks = rustix::param::clock_ticks_per_second();
        let stat = format!(
            "42 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 {} {} 0 0",
            ticks * 2,
            ticks
        );
        assert_eq!(cpu_time(&stat).expect("cpu"), Duration::from_secs(3));
        assert!(cpu_time("garbage").is_err());
    }

    /// This process can be sampled and has some memory.
    #[test]
    fn samples_this_process() {
        let sample = sample(Proc::Myself).expect("sample");
        assert!(sample.rss_kib > 0 && sample.hwm_kib >= sample.rss_kib);
        assert_eq!(cpu_us_per_msg(Duration::from_millis(1), 0), None);
        assert_eq!(cpu_us_per_msg(Duration::from_millis(1), 10), Some(100.0));
    }
}
