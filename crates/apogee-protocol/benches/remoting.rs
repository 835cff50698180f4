//! Criterion benches for the remoting header codec: a SEND_MESSAGE_V2 request as the Java
//! client writes it, decoded and encoded in both serializations.

use std::hint::black_box;

use apogee_protocol::remoting::codes::request;
use apogee_protocol::remoting::{ExtFields, RemotingCommand, json_header, rocketmq_header};
use criterion::{Criterion, criterion_group, criterion_main};

fn send_v2() -> RemotingCommand {
    let ext: ExtFields = [
        ("a", "bench-producer"),
        ("b", "BenchTopic"),
        ("c", "TBW102"),
        ("d", "4"),
        ("e", "3"),
        ("f", "0"),
        ("g", "1700000000000"),
        ("h", "0"),
        ("i", "UNIQ_KEY\u{1}7F0000010001000000000000000000AA\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}"),
        ("j", "0"),
        ("k", "false"),
        ("m", "false"),
    ]
    .into_iter()
    .collect();
    RemotingCommand::request(request::SEND_MESSAGE_V2, ext).with_opaque(42)
}

fn bench_headers(c: &mut Criterion) {
    let cmd = send_v2();
    let mut json = Vec::new();
    json_header::encode(&cmd, &mut json).expect("encode");
    let mut binary = Vec::new();
    rocketmq_header::encode(&cmd, &mut binary).expect("encode");
    let mut group = c.benchmark_group("send_v2_header");
    group.bench_function("json_decode", |b| {
        b.iter(|| json_header::decode(black_box(&json)).map(|c| c.opaque))
    });
    group.bench_function("json_encode", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(512);
            json_header::encode(black_box(&cmd), &mut out).map(|()| out.len())
        })
    });
    group.bench_function("rocketmq_decode", |b| {
        b.iter(|| rocketmq_header::decode(black_box(&binary)).map(|c| c.opaque))
    });
    group.finish();
}

criterion_group!(benches, bench_headers);
criterion_main!(benches);
