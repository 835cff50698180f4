//! A name server and a broker on 127.0.0.1, driven over real sockets with the remoting
//! client: send (auto-creating the topic), the route appearing on the name server, pull
//! (including a long-polled one woken by a send), offsets, error responses, and a restart
//! that keeps messages and committed offsets.

use std::sync::Arc;
use std::time::Duration;

use apogee_broker::{Broker, BrokerConfig};
use apogee_namesrv::{NameServer, NamesrvConfig};
use apogee_protocol::body::{self, TopicRouteData};
use apogee_protocol::header::{
    CommandHeader, GetMaxOffsetRequestHeader, GetRouteInfoRequestHeader, OffsetResponseHeader,
    PullMessageRequestHeader, PullMessageResponseHeader, PullSysFlag,
    QueryConsumerOffsetRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use apogee_protocol::message::{properties, record};
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{ExtFields, RemotingCommand};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig};
use apogee_store::StoreConfig;

const TIMEOUT: Duration = Duration::from_secs(10);

struct Cluster {
    namesrv: NameServer,
    broker: Broker,
    client: RemotingClient,
}

async fn start(dir: &std::path::Path, namesrv: Option<NameServer>) -> Cluster {
    let namesrv = match namesrv {
        Some(n) => n,
        None => NameServer::start(NamesrvConfig {
            listen_port: 0,
            listen_addr: "127.0.0.1".into(),
            ..NamesrvConfig::default()
        })
        .await
        .expect("name server"),
    };
    let config = BrokerConfig {
        listen_port: 0,
        namesrv_addr: Some(namesrv.local_addr().to_string()),
        ..BrokerConfig::default()
    };
    let mut store = StoreConfig::with_root(dir);
    // The host disk is shared: never refuse writes because of its fill level.
    store.disk_max_used_space_ratio = 99;
    store.mapped_file_size_commit_log = 1 << 20;
    store.max_message_size = 64 * 1024;
    let broker = Broker::start(config, store).await.expect("broker");
    let client = RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests));
    Cluster {
        namesrv,
        broker,
        client,
    }
}

impl Cluster {
    fn addr(&self) -> String {
        self.broker.addr().to_string()
    }

    async fn wait_dispatched(&self) {
        let store = &self.broker.context().store;
        for _ in 0..1000 {
            let p = store.positions();
            if p.dispatched == p.published {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("dispatcher did not catch up: {:?}", store.positions());
    }

    async fn call(&self, req: RemotingCommand) -> RemotingCommand {
        self.client
            .invoke(&self.addr(), req, TIMEOUT)
            .await
            .expect("answer")
    }
}

fn send_request(topic: &str, queue_id: i32, body: &[u8]) -> RemotingCommand {
    let header = SendMessageRequestHeader {
        producer_group: "pg".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        flag: 0,
        properties: Some(properties::encode([("TAGS", "TagA"), ("KEYS", "k1")])),
        ..SendMessageRequestHeader::default()
    };
    RemotingCommand::request(request::SEND_MESSAGE_V2, header.to_ext_v2()).with_body(body.to_vec())
}

fn pull_request(topic: &str, queue_id: i32, offset: i64, suspend: bool) -> RemotingCommand {
    let mut flag = PullSysFlag::SUBSCRIPTION;
    if suspend {
        flag |= PullSysFlag::SUSPEND;
    }
    let header = PullMessageRequestHeader {
        consumer_group: "cg".into(),
        topic: topic.into(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: flag,
        commit_offset: 0,
        suspend_timeout_millis: 5_000,
        subscription: Some("*".into()),
        sub_version: 0,
        ..PullMessageRequestHeader::default()
    };
    RemotingCommand::request(request::PULL_MESSAGE, header.to_ext())
}

/// Splits a pull body into its records' bodies.
fn bodies(mut raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let view = record::decode(raw).expect("record");
        out.push(view.body.to_vec());
        raw = &raw[view.total_size..];
    }
    out
}

/// Send, route, pull and offsets work end to end, and survive a broker restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_route_pull_offsets_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start(dir.path(), None).await;
    for i in 0..3 {
        let sent = cluster
            .call(send_request("E2E", 0, format!("m{i}").as_bytes()))
            .await;
        assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
        let header = SendMessageResponseHeader::from_ext(&sent.ext_fields).expect("header");
        assert_eq!(header.queue_offset, i);
        assert_eq!(header.msg_id.len(), 32);
        assert_eq!(sent.ext_fields.get("MSG_REGION"), Some("DefaultRegion"));
    }
    // The auto-created topic reaches the name server without waiting for the 30 s period.
    let route_req = || {
        let h = GetRouteInfoRequestHeader {
            topic: "E2E".into(),
            accept_standard_json_only: None,
        };
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, h.to_ext())
    };
    let namesrv = cluster.namesrv.local_addr().to_string();
    let mut route = None;
    for _ in 0..500 {
        let r = cluster
            .client
            .invoke(&namesrv, route_req(), TIMEOUT)
            .await
            .expect("route");
        if r.code == response::SUCCESS {
            route = Some(body::decode::<TopicRouteData>(&r.body).expect("route body"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let route = route.expect("route registered");
    assert_eq!(route.broker_datas[0].broker_addrs[&0], cluster.addr());
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);

    // Consumers see messages once the dispatcher has built the consume queue.
    cluster.wait_dispatched().await;
    let pulled = cluster.call(pull_request("E2E", 0, 0, false)).await;
    assert_eq!(pulled.code, response::SUCCESS);
    assert_eq!(
        bodies(&pulled.body),
        vec![b"m0".to_vec(), b"m1".to_vec(), b"m2".to_vec()]
    );
    let ph = PullMessageResponseHeader::from_ext(&pulled.ext_fields).expect("pull header");
    assert_eq!((ph.next_begin_offset, ph.max_offset), (3, 3));

    // A held pull at the end is woken by the next send.
    let held = {
        let (client, addr) = (
            RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests)),
            cluster.addr(),
        );
        tokio::spawn(async move {
            client
                .invoke(&addr, pull_request("E2E", 0, 3, true), TIMEOUT)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    cluster.call(send_request("E2E", 0, b"m3")).await;
    let woken = held.await.expect("join").expect("answer");
    assert_eq!(woken.code, response::SUCCESS);
    assert_eq!(bodies(&woken.body), vec![b"m3".to_vec()]);

    let query = |group: &str| {
        let h = QueryConsumerOffsetRequestHeader {
            consumer_group: group.into(),
            topic: "E2E".into(),
            queue_id: 0,
            set_zero_if_not_found: None,
        };
        RemotingCommand::request(request::QUERY_CONSUMER_OFFSET, h.to_ext())
    };
    let young = cluster.call(query("cg")).await;
    assert_eq!(
        OffsetResponseHeader::from_ext(&young.ext_fields)
            .expect("offset")
            .offset,
        0
    );
    let update = UpdateConsumerOffsetRequestHeader {
        consumer_group: "cg".into(),
        topic: "E2E".into(),
        queue_id: 0,
        commit_offset: 2,
    };
    let updated = cluster
        .call(RemotingCommand::request(
            request::UPDATE_CONSUMER_OFFSET,
            update.to_ext(),
        ))
        .await;
    assert_eq!(updated.code, response::SUCCESS);

    cluster.client.shutdown().await;
    cluster.broker.shutdown().await.expect("broker shutdown");
    let restarted = start(dir.path(), Some(cluster.namesrv)).await;
    let committed = restarted.call(query("cg")).await;
    assert_eq!(
        OffsetResponseHeader::from_ext(&committed.ext_fields)
            .expect("offset")
            .offset,
        2
    );
    let max = GetMaxOffsetRequestHeader {
        topic: "E2E".into(),
        queue_id: 0,
        committed: None,
    };
    let max = restarted
        .call(RemotingCommand::request(
            request::GET_MAX_OFFSET,
            max.to_ext(),
        ))
        .await;
    assert_eq!(
        OffsetResponseHeader::from_ext(&max.ext_fields)
            .expect("offset")
            .offset,
        4
    );
    restarted.client.shutdown().await;
    restarted.broker.shutdown().await.expect("shutdown");
    restarted.namesrv.shutdown().await;
}

/// Bad sends get RocketMQ's codes with remarks that say what is wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sends_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start(dir.path(), None).await;
    let bad_name = cluster.call(send_request("bad topic", 0, b"x")).await;
    assert_eq!(bad_name.code, response::INVALID_PARAMETER);
    assert!(bad_name.remark.unwrap_or_default().contains("bad topic"));

    let too_big = cluster
        .call(send_request("Big", 0, &vec![0u8; 64 * 1024 + 1]))
        .await;
    assert_eq!(too_big.code, response::MESSAGE_ILLEGAL);
    assert!(
        too_big
            .remark
            .unwrap_or_default()
            .contains("maxMessageSize")
    );

    let bad_queue = cluster.call(send_request("Q", 99, b"x")).await;
    assert_eq!(bad_queue.code, response::INVALID_PARAMETER);

    let mut missing = send_request("M", 0, b"x");
    let mut ext = ExtFields::default();
    for (k, v) in missing.ext_fields.iter() {
        if k != "b" {
            ext.put(k, v);
        }
    }
    missing.ext_fields = ext;
    let missing = cluster.call(missing).await;
    assert_eq!(missing.code, response::SYSTEM_ERROR);
    assert!(missing.remark.unwrap_or_default().contains('b'));

    let template = cluster.call(send_request("TBW102", 0, b"x")).await;
    assert_eq!(template.code, response::NO_PERMISSION);

    let unknown = cluster
        .call(RemotingCommand::request(7777, ExtFields::default()))
        .await;
    assert_eq!(unknown.code, response::REQUEST_CODE_NOT_SUPPORTED);

    let no_sub = {
        let mut req = pull_request("Q", 0, 0, false);
        req.ext_fields.put("sysFlag", 0);
        req
    };
    let no_sub = cluster.call(no_sub).await;
    assert_eq!(no_sub.code, response::SUBSCRIPTION_NOT_EXIST);

    cluster.client.shutdown().await;
    cluster.broker.shutdown().await.expect("shutdown");
    cluster.namesrv.shutdown().await;
}

/// A SEND_BATCH_MESSAGE lands as consecutive messages, each keeping its own UNIQ_KEY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_send_keeps_each_message() {
    use apogee_protocol::message::batch::{BatchEntry, encode_batch};
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = start(dir.path(), None).await;
    let entries: Vec<BatchEntry> = (0..3)
        .map(|i| BatchEntry {
            flag: 0,
            body: format!("b{i}").into_bytes().into(),
            properties: properties::encode([("UNIQ_KEY", format!("{i:032X}").as_str())]),
        })
        .collect();
    let mut req = send_request("Batch", 1, b"");
    req.code = request::SEND_BATCH_MESSAGE;
    req.ext_fields.put("m", "true");
    req.body = encode_batch(&entries).into();
    let sent = cluster.call(req).await;
    assert_eq!(sent.code, response::SUCCESS, "{:?}", sent.remark);
    let header = SendMessageResponseHeader::from_ext(&sent.ext_fields).expect("header");
    assert_eq!(header.msg_id.split(',').count(), 3);
    assert_eq!(header.queue_offset, 0);
    cluster.wait_dispatched().await;
    let pulled = cluster.call(pull_request("Batch", 1, 0, false)).await;
    let mut raw = &pulled.body[..];
    let mut keys = Vec::new();
    while !raw.is_empty() {
        let view = record::decode(raw).expect("record");
        keys.push(properties::get(view.properties, "UNIQ_KEY").map(str::to_owned));
        raw = &raw[view.total_size..];
    }
    let expected: Vec<_> = (0..3).map(|i| Some(format!("{i:032X}"))).collect();
    assert_eq!(keys, expected);
    cluster.client.shutdown().await;
    cluster.broker.shutdown().await.expect("shutdown");
    cluster.namesrv.shutdown().await;
}
