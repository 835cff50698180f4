//! What runs beside a load: a progress bar on stderr (hidden when stderr is not a terminal
//! or with `--json`) and a sampler of the broker's resident memory, whose peak it keeps.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::procfs::{self, Proc};

/// How often the bar is redrawn and the broker's memory sampled.
const TICK: Duration = Duration::from_millis(100);

/// When a load ends: after a number of messages or after a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// This many messages in total.
    Count(u64),
    /// This long.
    Duration(Duration),
}

/// Counters a load updates and the monitor reads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages done (acknowledged or consumed).
    pub done: AtomicU64,
    /// Failed requests.
    pub errors: AtomicU64,
}

/// A running progress bar and memory sampler; [`Monitor::finish`] stops it.
#[derive(Debug)]
pub struct Monitor {
    /// Tells the task to stop.
    stop: oneshot::Sender<()>,
    /// The task; yields the peak memory seen.
    task: JoinHandle<Option<Peak>>,
}

impl Monitor {
    /// Starts the bar (labelled `label`, shown if `visible` and stderr is a terminal) and the
    /// sampler of `broker_pid`'s memory. Must be called inside a tokio runtime.
    #[must_use]
    pub fn start(
        label: &str,
        goal: Goal,
        counters: Arc<Counters>,
        broker_pid: Option<u32>,
        visible: bool,
    ) -> Self {
        let bar = make_bar(label, goal, visible && std::io::stderr().is_terminal());
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let start = Instant::now();
            let mut peak = None;
            let mut interval = tokio::time::interval(TICK);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = interval.tick() => {}
                }
                peak = Peak::max(peak, sample_rss(broker_pid));
                draw(&bar, goal, &counters, start.elapsed());
            }
            peak = Peak::max(peak, sample_rss(broker_pid));
            bar.finish_and_clear();
            peak
        });
        Self { stop, task }
    }

    /// Stops the bar and the sampler; the peak broker memory seen, if sampled.
    pub async fn finish(self) -> Option<Peak> {
        let _ = self.stop.send(());
        self.task.await.ok().flatten()
    }
}

/// The largest memory figures sampled during a run, KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peak {
    /// Largest resident set size.
    pub rss_kib: u64,
    /// Largest anonymous resident memory.
    pub rss_anon_kib: u64,
}

impl Peak {
    /// The field-wise maximum of two optional peaks.
    #[must_use]
    pub fn max(a: Option<Peak>, b: Option<Peak>) -> Option<Peak> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Peak {
                rss_kib: a.rss_kib.max(b.rss_kib),
                rss_anon_kib: a.rss_anon_kib.max(b.rss_anon_kib),
            }),
            (a, b) => a.or(b),
        }
    }
}

/// The broker's memory now, if its pid is known and readable.
fn sample_rss(pid: Option<u32>) -> Option<Peak> {
    let sample = procfs::sample(Proc::Pid(pid?)).ok()?;
    Some(Peak {
        rss_kib: sample.rss_kib,
        rss_anon_kib: sample.rss_anon_kib,
    })
}

/// A bar for `goal`: messages out of the count, or milliseconds out of the duration.
fn make_bar(label: &str, goal: Goal, visible: bool) -> ProgressBar {
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let (len, template) = match goal {
        Goal::Count(count) => (count, "{prefix} [{bar:30}] {pos}/{len} {msg}"),
        Goal::Duration(duration) => (
            u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            "{prefix} [{bar:30}] {elapsed} {msg}",
        ),
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}

/// Redraws the bar from the counters.
fn draw(bar: &ProgressBar, goal: Goal, counters: &Counters, elapsed: Duration) {
    let done = counters.done.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
    let position = match goal {
        Goal::Count(_) => done,
        Goal::Duration(_) => u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    };
    bar.set_position(position);
    bar.set_message(format!("{done} msgs, {rate:.0} msg/s, {errors} errors"));
}
