//! Human output of `bench produce`, `consume` and `all`: one cell in detail, or the matrix
//! as two tables (produce, consume), each row beside the ceilings measured in the same run.

use std::collections::BTreeMap;

use super::figures::{BrokerUsage, Cell, ConsumeRun, ProduceRun};
use super::limits::QuickLimits;
use super::report::{Figure, format_comparison, format_figure, format_figure_with_note};

/// KiB in one MiB, for memory figures.
const KIB_PER_MIB: f64 = 1024.0;

/// Prints the quick ceilings measured at the start.
pub fn print_limits(limits: &QuickLimits, dir: &str) {
    let rtt = &limits.rtt;
    println!("ceilings measured in this run:");
    let note = format!("{} x 1-byte ping-pong, TCP_NODELAY", rtt.round_trips);
    println!(
        "  {}",
        format_figure_with_note(&fig("loopback RTT mean", rtt.mean_us, "µs"), &note)
    );
    println!(
        "  {}",
        format_figure(&fig("loopback RTT p99", rtt.p99_us, "µs"))
    );
    let note = format!(
        "{} x pwrite 4 KiB + fdatasync in {dir}",
        limits.fsync_4k_count
    );
    let mean = fig("4 KiB sync mean", limits.fsync_4k_mean_us, "µs");
    println!("  {}", format_figure_with_note(&mean, &note));
    println!(
        "  {}",
        format_figure(&fig("4 KiB sync p99", limits.fsync_4k_p99_us, "µs"))
    );
}

/// Prints one cell in detail: produce figures, ceiling, broker usage, then consume.
pub fn print_cell(cell: &Cell) {
    let p = &cell.produce;
    println!(
        "produce: {} {} sender(s){}, {}-byte messages, topic {} ({} queues), {}",
        p.concurrency,
        serde_name(&p.mode),
        inflight_note(p),
        p.size,
        p.topic,
        p.queues,
        serde_name(&p.flush)
    );
    let rate = fig("produce", p.msgs_per_s, "msg/s");
    let ceiling = cell.ceiling.map(|c| fig(c.formula, c.msgs_per_s, "msg/s"));
    match &ceiling {
        Some(ceiling) => println!("  {}", format_comparison(&rate, Some(ceiling), None)),
        None => println!("  {}", format_figure(&rate)),
    }
    println!("  {}", format_figure(&fig("produce", p.mb_per_s, "MB/s")));
    println!(
        "  {} messages in {:.2} s; latency µs: mean {:.0}, p50 {:.0}, p99 {:.0}, p999 {:.0}, \
         max {:.0}",
        p.messages,
        p.elapsed_s,
        p.latency_us.mean,
        p.latency_us.p50,
        p.latency_us.p99,
        p.latency_us.p999,
        p.latency_us.max
    );
    print_errors(p.errors, &p.errors_by_kind);
    print_usage(&p.broker, p.client_cpu_us_per_msg);
    if let Some(c) = &cell.consume {
        print_consume(c);
    }
}

/// Prints one consume run in detail.
pub fn print_consume(c: &ConsumeRun) {
    println!("consume: topic {}, pulls of up to {}", c.topic, c.batch);
    println!(
        "  {}",
        format_figure(&fig("consume", c.msgs_per_s, "msg/s"))
    );
    println!("  {}", format_figure(&fig("consume", c.mb_per_s, "MB/s")));
    let verdict = if c.count_matches { "match" } else { "MISMATCH" };
    println!(
        "  {} messages in {:.2} s, {} expected: {verdict}",
        c.messages, c.elapsed_s, c.expected
    );
    print_errors(c.errors, &c.errors_by_kind);
    print_usage(&c.broker, c.client_cpu_us_per_msg);
}

/// Prints the matrix: a produce table and a consume table, one row per cell.
pub fn print_matrix(cells: &[Cell]) {
    println!(
        "{:<11} {:>4} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>6} {:>8} {:>8} {:>9} {:>8}",
        "flush",
        "snd",
        "msg/s",
        "MB/s",
        "p50µs",
        "p99µs",
        "p999µs",
        "maxµs",
        "errors",
        "ceiling",
        "ratio",
        "brkµs/m",
        "cliµs/m",
        "rssMiB",
        "anonMiB"
    );
    for cell in cells {
        let p = &cell.produce;
        let (ceiling, ratio) = match cell.ceiling {
            Some(c) => (format!("{:.0}", c.msgs_per_s), format!("{:.2}", c.ratio)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{:<11} {:>4} {:>9.0} {:>7.1} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>6} {:>9} {:>6} \
             {:>8} {:>8} {:>9} {:>8}",
            serde_name(&p.flush),
            p.concurrency,
            p.msgs_per_s,
            p.mb_per_s,
            p.latency_us.p50,
            p.latency_us.p99,
            p.latency_us.p999,
            p.latency_us.max,
            p.errors,
            ceiling,
            ratio,
            opt(p.broker.cpu_us_per_msg),
            opt(p.client_cpu_us_per_msg),
            rss_pair(p.broker.rss_idle_kib, p.broker.rss_peak_kib),
            rss_pair(p.broker.rss_anon_idle_kib, p.broker.rss_anon_peak_kib)
        );
    }
    let consumed: Vec<(&ProduceRun, &ConsumeRun)> = cells
        .iter()
        .filter_map(|cell| Some((&cell.produce, cell.consume.as_ref()?)))
        .collect();
    if consumed.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<11} {:>4} {:>9} {:>9} {:>7} {:>9} {:>6} {:>8} {:>8}",
        "consume of",
        "snd",
        "messages",
        "msg/s",
        "MB/s",
        "expected",
        "errors",
        "brkµs/m",
        "cliµs/m"
    );
    for (p, c) in consumed {
        let expected = if c.count_matches {
            "match".to_owned()
        } else {
            format!("!{}", c.expected)
        };
        println!(
            "{:<11} {:>4} {:>9} {:>9.0} {:>7.1} {:>9} {:>6} {:>8} {:>8}",
            serde_name(&p.flush),
            p.concurrency,
            c.messages,
            c.msgs_per_s,
            c.mb_per_s,
            expected,
            c.errors,
            opt(c.broker.cpu_us_per_msg),
            opt(c.client_cpu_us_per_msg)
        );
    }
}

/// Shorthand for a [`Figure`].
fn fig<'a>(label: &'a str, value: f64, unit: &'a str) -> Figure<'a> {
    Figure { label, value, unit }
}

/// `, N in flight each` for async senders.
fn inflight_note(p: &ProduceRun) -> String {
    match p.mode {
        super::load::Mode::Async => format!(", {} in flight each", p.inflight),
        super::load::Mode::Sync => String::new(),
    }
}

/// The error count and, if any, the kinds.
fn print_errors(total: u64, by_kind: &BTreeMap<String, u64>) {
    if total == 0 {
        println!("  errors: 0");
        return;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    println!("  errors: {total} ({})", kinds.join(", "));
}

/// Broker memory and CPU, and client CPU.
fn print_usage(broker: &BrokerUsage, client_cpu: Option<f64>) {
    let mib = |kib: Option<u64>| {
        kib.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1}", k as f64 / KIB_PER_MIB),
        )
    };
    println!(
        "  broker RSS MiB: idle {}, peak {}, after {} (anonymous: {}, {}, {}); CPU µs/msg: \
         broker {}, client {}",
        mib(broker.rss_idle_kib),
        mib(broker.rss_peak_kib),
        mib(broker.rss_after_kib),
        mib(broker.rss_anon_idle_kib),
        mib(broker.rss_anon_peak_kib),
        mib(broker.rss_anon_after_kib),
        opt(broker.cpu_us_per_msg),
        opt(client_cpu)
    );
}

/// `idle/peak` memory in MiB for the table.
fn rss_pair(idle: Option<u64>, peak: Option<u64>) -> String {
    match (idle, peak) {
        (Some(idle), Some(peak)) => format!(
            "{:.0}/{:.0}",
            idle as f64 / KIB_PER_MIB,
            peak as f64 / KIB_PER_MIB
        ),
        _ => "n/a".to_owned(),
    }
}

/// An optional figure with one decimal, or `n/a`.
fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}"))
}

/// The serialized name of a unit enum (`ASYNC_FLUSH`, `sync`).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
