use std::collections::BTreeSet;

use super::*;

fn queues(brokers: &[&str], per_broker: i32) -> Vec<MessageQueue> {
    brokers
        .iter()
        .flat_map(|b| {
            (0..per_broker).map(move |queue_id| MessageQueue {
                topic: "T".to_owned(),
                broker_name: (*b).to_owned(),
                queue_id,
            })
        })
        .collect()
}

fn strategy(enabled: bool) -> (MqFaultStrategy, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_000));
    (MqFaultStrategy::with_clock(enabled, clock.clone()), clock)
}

fn brokers_chosen(
    s: &MqFaultStrategy,
    qs: &[MessageQueue],
    counter: &AtomicUsize,
    n: usize,
) -> BTreeSet<String> {
    (0..n)
        .map(|_| s.select(qs, counter, None).expect("a queue").broker_name)
        .collect()
}

/// Each latency threshold maps to RocketMQ's duration; below 550 ms nothing is avoided.
#[test]
fn thresholds_to_durations() {
    let cases = [
        (0, 0),
        (49, 0),
        (50, 0),
        (549, 0),
        (550, 30_000),
        (999, 30_000),
        (1_000, 60_000),
        (2_000, 120_000),
        (2_999, 120_000),
        (3_000, 180_000),
        (15_000, 600_000),
        (u64::MAX, 600_000),
    ];
    for (latency, duration) in cases {
        assert_eq!(
            MqFaultStrategy::not_available_duration(latency),
            duration,
            "latency {latency}"
        );
    }
    assert_eq!(
        MqFaultStrategy::not_available_duration(ISOLATION_LATENCY_MS),
        600_000
    );
}

/// A slow broker is unavailable for exactly its duration, then usable again.
#[test]
fn isolation_expires_with_the_clock() {
    let (s, clock) = strategy(true);
    s.update_fault_item("a", 1_200, false);
    assert!(!s.is_available("a"));
    assert!(s.is_available("never-seen"));
    clock.advance(59_999);
    assert!(!s.is_available("a"));
    clock.advance(1);
    assert!(s.is_available("a"));
    // A fast send clears nothing to wait for; a failure isolates for the 30 s latency class.
    s.update_fault_item("a", 10, false);
    assert!(s.is_available("a"));
    s.update_fault_item("a", 5, true);
    assert!(!s.is_available("a"));
    assert_eq!(
        s.tolerance().item("a").map(|i| i.current_latency_ms),
        Some(5)
    );
    clock.advance(600_000);
    assert!(s.is_available("a"));
}

/// With fault avoidance off nothing is recorded and every broker stays available.
#[test]
fn disabled_records_nothing() {
    let (s, _clock) = strategy(false);
    s.update_fault_item("a", 20_000, true);
    assert!(s.is_available("a"));
    assert_eq!(s.tolerance().item("a"), None);
    let qs = queues(&["a", "b"], 2);
    let counter = AtomicUsize::new(0);
    assert_eq!(brokers_chosen(&s, &qs, &counter, 4).len(), 2);
}

/// Round-robin covers every queue; an isolated broker is skipped until it recovers.
#[test]
fn isolated_broker_is_skipped() {
    let (s, clock) = strategy(true);
    let qs = queues(&["a", "b", "c"], 2);
    let counter = AtomicUsize::new(0);
    let all: BTreeSet<_> = (0..6)
        .map(|_| s.select(&qs, &counter, None).expect("q"))
        .map(|q| (q.broker_name, q.queue_id))
        .collect();
    assert_eq!(all.len(), 6, "round robin reaches every queue");

    s.update_fault_item("b", 100, true);
    let chosen = brokers_chosen(&s, &qs, &counter, 30);
    assert_eq!(chosen, BTreeSet::from(["a".to_owned(), "c".to_owned()]));
    // A failure counts as 30 s of latency: 600 s away.
    clock.advance(599_999);
    assert!(!brokers_chosen(&s, &qs, &counter, 30).contains("b"));
    clock.advance(1);
    assert!(brokers_chosen(&s, &qs, &counter, 30).contains("b"));
}

/// When every broker is isolated a queue is still chosen: the broker free again soonest.
#[test]
fn all_isolated_still_picks_one() {
    let (s, _clock) = strategy(true);
    let qs = queues(&["a", "b"], 2);
    let counter = AtomicUsize::new(7);
    s.update_fault_item("a", 20_000, false); // 600 s
    s.update_fault_item("b", 1_000, false); // 60 s
    for _ in 0..5 {
        let q = s.select(&qs, &counter, None).expect("still a queue");
        assert_eq!(q.broker_name, "b");
    }
    // A retry after a failure on b prefers another broker, even one isolated for longer;
    // with b alone, b it is.
    let q = s.select(&qs, &counter, Some("b")).expect("q");
    assert_eq!(q.broker_name, "a");
    let single = queues(&["b"], 1);
    let q = s.select(&single, &counter, Some("b")).expect("q");
    assert_eq!(q.broker_name, "b");
}

/// A retry goes to another broker when there is one, with or without fault avoidance.
#[test]
fn retry_avoids_the_last_broker() {
    for enabled in [false, true] {
        let (s, _clock) = strategy(enabled);
        let qs = queues(&["a", "b"], 4);
        let counter = AtomicUsize::new(0);
        for _ in 0..10 {
            let q = s.select(&qs, &counter, Some("a")).expect("q");
            assert_eq!(q.broker_name, "b", "enabled={enabled}");
        }
        let only_a = queues(&["a"], 2);
        let q = s.select(&only_a, &counter, Some("a")).expect("q");
        assert_eq!(q.broker_name, "a");
        assert_eq!(s.select(&[], &counter, None), None);
    }
}
