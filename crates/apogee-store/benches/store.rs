//! Criterion benches for the store's hot paths: appending a 1 KiB record (ASYNC_FLUSH, no
//! waiting), reading a consume-queue unit, and reading a message through its queue.

use std::hint::black_box;

use apogee_store::consume_queue::{CQ_UNIT_BYTES, ConsumeQueue, CqUnit};
use apogee_store::{MessageStore, PutMessage, StoreConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = StoreConfig::with_root(dir.path());
    config.mapped_file_size_commit_log = 64 << 20;
    let store = MessageStore::open(config).expect("open");
    let msg = PutMessage::new("BenchTopic", 0, vec![b'x'; 1024]);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("append_1KiB", |b| {
        b.iter(|| {
            store
                .append(std::slice::from_ref(black_box(&msg)))
                .expect("append")
        })
    });
    while store.positions().dispatched < store.positions().published {
        std::thread::yield_now();
    }
    let max = store.max_offset("BenchTopic", 0);
    let mut i = 0u64;
    group.bench_function("get_one_message", |b| {
        b.iter(|| {
            i = (i + 7919) % max;
            store
                .get_messages("BenchTopic", 0, black_box(i), 1, usize::MAX, &|_| true)
                .expect("get")
        })
    });
    group.finish();
}

fn bench_consume_queue(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cq =
        ConsumeQueue::open(&dir.path().join("q"), "T", 0, 300_000 * CQ_UNIT_BYTES).expect("open");
    for i in 0..600_000u64 {
        let unit = CqUnit {
            phy_offset: i * 1100,
            size: 1100,
            tags_code: 0,
        };
        cq.put(i, &unit).expect("put");
    }
    let mut i = 0u64;
    c.bench_function("consume_queue_lookup", |b| {
        b.iter(|| {
            i = (i + 104_729) % 600_000;
            cq.get(black_box(i))
        })
    });
}

criterion_group!(benches, bench_append, bench_consume_queue);
criterion_main!(benches);
