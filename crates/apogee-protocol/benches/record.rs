//! Criterion benches for the record codec: encode into a buffer, decode and CRC-verify.

use std::hint::black_box;

use apogee_protocol::message::record::{RecordDraft, Stamp, body_crc, decode, encode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn draft(body: &[u8]) -> RecordDraft<'_> {
    RecordDraft {
        topic: "BenchTopic",
        queue_id: 1,
        flag: 0,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        born_host: "127.0.0.1:50000".parse().expect("addr"),
        store_host: "127.0.0.1:10911".parse().expect("addr"),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body,
        properties: "TAGS\u{1}TagA\u{2}KEYS\u{1}order-1\u{2}UNIQ_KEY\u{1}7F0000010001000000000000000000AA\u{2}",
    }
}

fn bench_record(c: &mut Criterion) {
    let body = vec![0x5Au8; 1024];
    let d = draft(&body);
    let stamp = Stamp {
        queue_offset: 1,
        physical_offset: 2,
        store_timestamp: 3,
    };
    let mut buf = vec![0u8; d.encoded_len()];
    let mut group = c.benchmark_group("record_1KiB");
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.bench_function("crc", |b| b.iter(|| body_crc(black_box(&body))));
    group.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&d), 42, &stamp, black_box(&mut buf)))
    });
    encode(&d, body_crc(&body), &stamp, &mut buf);
    group.bench_function("decode", |b| {
        b.iter(|| decode(black_box(&buf)).map(|v| v.queue_offset))
    });
    group.bench_function("decode_verify_crc", |b| {
        b.iter(|| decode(black_box(&buf)).and_then(|v| v.verify_crc()))
    });
    group.finish();
}

criterion_group!(benches, bench_record);
criterion_main!(benches);
