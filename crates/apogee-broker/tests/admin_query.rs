//! Topic administration (17, 215, 21) and message lookups (12, 33) over real sockets: a
//! broker context on a temp-dir store served on 127.0.0.1:0, a remoting client sending what
//! `mqadmin` sends, and answers checked code by code and record by record.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apogee_broker::consumer_offset::ConsumerOffsets;
use apogee_broker::json_file::JsonFile;
use apogee_broker::topic_config::TopicTable;
use apogee_broker::{BrokerConfig, BrokerContext, BrokerProcessor};
use apogee_protocol::body::{self, TopicConfigSerializeWrapper};
use apogee_protocol::header::query::UNIQUE_KEY_QUERY;
use apogee_protocol::header::{
    CommandHeader, CreateTopicRequestHeader, DeleteTopicRequestHeader, QueryMessageRequestHeader,
    QueryMessageResponseHeader, TopicFilterType, ViewMessageRequestHeader,
};
use apogee_protocol::message::properties;
use apogee_protocol::message::record::{self, RecordView};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig, RemotingServer};
use apogee_store::{MessageStore, PutMessage, StoreConfig};

const TIMEOUT: Duration = Duration::from_secs(5);

struct Broker {
    ctx: Arc<BrokerContext>,
    server: RemotingServer,
    client: RemotingClient,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Broker {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store_config = StoreConfig::with_root(dir.path().join("store"));
        // The host disk is shared: never refuse writes because of its fill level.
        store_config.disk_max_used_space_ratio = 99;
        store_config.mapped_file_size_commit_log = 64 * 1024;
        store_config.max_message_size = 16 * 1024;
        store_config.max_hash_slot_num = 64;
        store_config.max_index_num = 200;
        let store = MessageStore::open(store_config).expect("store opens");
        let config_dir = dir.path().join("config");
        let ctx = Arc::new(BrokerContext {
            config: BrokerConfig::default(),
            store: Arc::new(store),
            topics: TopicTable::load(JsonFile::new(config_dir.join("topics.json")), true)
                .expect("topics"),
            offsets: ConsumerOffsets::load(JsonFile::new(config_dir.join("consumerOffset.json")))
                .expect("offsets"),
            // The registry is being rewritten; `Default` is the constructor that survives it.
            clients: Default::default(),
            store_host: "127.0.0.1:10911".parse().expect("address"),
        });
        let handler = Arc::new(BrokerProcessor::new(ctx.clone()));
        let server = RemotingServer::bind("127.0.0.1:0", handler, RemotingConfig::default())
            .await
            .expect("bind");
        let addr = server.local_addr().to_string();
        let client = RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests));
        Self {
            ctx,
            server,
            client,
            addr,
            _dir: dir,
        }
    }

    async fn call(&self, request: RemotingCommand) -> RemotingCommand {
        self.client
            .invoke(&self.addr, request, TIMEOUT)
            .await
            .expect("response")
    }

    async fn all_topics(&self) -> TopicConfigSerializeWrapper {
        let answer = self
            .call(RemotingCommand::request(
                request::GET_ALL_TOPIC_CONFIG,
                Default::default(),
            ))
            .await;
        assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
        body::decode(&answer.body).expect("topic table JSON")
    }

    async fn stop(self) {
        self.client.shutdown().await;
        self.server.shutdown().await;
    }
}

fn create(topic: &str, read: i32, write: i32, perm: i32) -> RemotingCommand {
    let header = CreateTopicRequestHeader {
        topic: topic.into(),
        default_topic: "TBW102".into(),
        read_queue_nums: read,
        write_queue_nums: write,
        perm,
        topic_filter_type: TopicFilterType::SingleTag,
        topic_sys_flag: Some(0),
        order: false,
        attributes: None,
        force: None,
    };
    RemotingCommand::request(request::UPDATE_AND_CREATE_TOPIC, header.to_ext())
}

fn delete(topic: &str) -> RemotingCommand {
    let header = DeleteTopicRequestHeader {
        topic: topic.into(),
    };
    RemotingCommand::request(request::DELETE_TOPIC_IN_BROKER, header.to_ext())
}

fn query(topic: &str, key: &str, max_num: i32, unique: bool) -> RemotingCommand {
    let header = QueryMessageRequestHeader {
        topic: topic.into(),
        key: key.into(),
        max_num,
        begin_timestamp: 0,
        end_timestamp: i64::MAX,
    };
    let mut ext = header.to_ext();
    if unique {
        ext.put(UNIQUE_KEY_QUERY, "true");
    }
    RemotingCommand::request(request::QUERY_MESSAGE, ext)
}

fn view(offset: i64) -> RemotingCommand {
    let header = ViewMessageRequestHeader {
        offset,
        topic: None,
    };
    RemotingCommand::request(request::VIEW_MESSAGE_BY_ID, header.to_ext())
}

/// Splits a concatenation of raw records into decoded views.
fn records(mut bytes: &[u8]) -> Vec<RecordView<'_>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let view = record::decode(bytes).expect("a whole record");
        view.verify_crc().expect("crc");
        bytes = &bytes[view.total_size..];
        out.push(view);
    }
    out
}

/// Stores a message on `topic` queue 0 with the given KEYS and UNIQ_KEY; returns its offset.
async fn put(ctx: &BrokerContext, topic: &str, keys: &str, uniq: &str, body: &str) -> u64 {
    let mut msg = PutMessage::new(topic, 0, body.as_bytes().to_vec());
    msg.store_host = ctx.store_host;
    msg.born_host = SocketAddr::from(([127, 0, 0, 1], 50000));
    msg.properties = properties::encode([("KEYS", keys), ("UNIQ_KEY", uniq)]);
    let put = ctx.store.put_message(&msg).await.expect("put");
    put.append.physical_offsets[0]
}

/// Waits (bounded) until consume queues and index cover everything published.
async fn wait_dispatched(store: &MessageStore) {
    for _ in 0..1000 {
        let p = store.positions();
        if p.dispatched == p.published {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("dispatcher did not catch up: {:?}", store.positions());
}

/// A created topic is listed with its queue counts; re-sending it unchanged keeps the data
/// version, changing it bumps the version; deleting it drops config and offsets, twice over.
#[tokio::test]
async fn create_list_update_delete() {
    let broker = Broker::start().await;
    let answer = broker.call(create("OrderTopic", 4, 8, 6)).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    let table = broker.all_topics().await;
    let config = &table.topic_config_table["OrderTopic"];
    assert_eq!((config.read_queue_nums, config.write_queue_nums), (4, 8));
    assert_eq!(config.perm, 6);
    assert!(table.topic_config_table.contains_key("TBW102"));
    let version = table.data_version.counter;

    let same = broker.call(create("OrderTopic", 4, 8, 6)).await;
    assert_eq!(same.code, response::SUCCESS);
    assert_eq!(broker.all_topics().await.data_version.counter, version);
    let bigger = broker.call(create("OrderTopic", 16, 16, 4)).await;
    assert_eq!(bigger.code, response::SUCCESS);
    let table = broker.all_topics().await;
    assert!(table.data_version.counter > version);
    assert_eq!(table.topic_config_table["OrderTopic"].write_queue_nums, 16);
    assert_eq!(table.topic_config_table["OrderTopic"].perm, 4);

    broker.ctx.offsets.commit("g1", "OrderTopic", 0, 42);
    broker.ctx.offsets.commit("g1", "Other", 0, 7);
    let answer = broker.call(delete("OrderTopic")).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    assert!(
        !broker
            .all_topics()
            .await
            .topic_config_table
            .contains_key("OrderTopic")
    );
    assert_eq!(broker.ctx.offsets.query("g1", "OrderTopic", 0), None);
    assert_eq!(broker.ctx.offsets.query("g1", "Other", 0), Some(7));
    let again = broker.call(delete("OrderTopic")).await;
    assert_eq!(
        again.code,
        response::SUCCESS,
        "deleting a missing topic succeeds"
    );
    broker.stop().await;
}

/// Bad names, system topics, queue counts outside 1..=1024 and invalid perms are refused with
/// INVALID_PARAMETER and a remark saying why; the bounds themselves are accepted.
#[tokio::test]
async fn create_and_delete_refusals() {
    let broker = Broker::start().await;
    let long = "t".repeat(128);
    let refused = [
        (create("a b", 4, 4, 6), "' '"),
        (create("", 4, 4, 6), "empty"),
        (create(&long, 4, 4, 6), "maximum is 127"),
        (create("TBW102", 4, 4, 6), "conflict with system topic"),
        (create("RMQ_SYS_TRACE_TOPIC", 4, 4, 6), "system topic"),
        (create("T", 0, 4, 6), "readQueueNums 0"),
        (create("T", 4, 1025, 6), "writeQueueNums 1025"),
        (create("T", -1, 4, 6), "readQueueNums -1"),
        (create("T", 4, 4, 8), "perm 8"),
        (create("T", 4, 4, -1), "perm -1"),
        (delete("TBW102"), "system topic"),
        (delete("SCHEDULE_TOPIC_XXXX"), "system topic"),
        (delete("RMQ_SYS_TRANS_HALF_TOPIC"), "system topic"),
        (delete("bad/name"), "'/'"),
    ];
    for (request, why) in refused {
        let answer = broker.call(request).await;
        assert_eq!(answer.code, response::INVALID_PARAMETER, "{why}");
        let remark = answer.remark.unwrap_or_default();
        assert!(remark.contains(why), "{remark:?} should mention {why:?}");
    }
    let mut missing = create("T", 4, 4, 6);
    missing.ext_fields.remove("readQueueNums");
    let answer = broker.call(missing).await;
    assert_eq!(
        answer.code,
        response::SYSTEM_ERROR,
        "a missing header field"
    );
    let table = broker.all_topics().await;
    assert!(!table.topic_config_table.contains_key("T"));
    assert_eq!(table.topic_config_table["TBW102"].write_queue_nums, 8);

    let answer = broker.call(create("T", 1, 1024, 0)).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    assert_eq!(
        broker.all_topics().await.topic_config_table["T"].write_queue_nums,
        1024
    );
    broker.stop().await;
}

/// Records come back raw by KEYS and by UNIQ_KEY (whose flag overrides maxNum with 32);
/// unknown keys and empty time ranges give QUERY_NOT_FOUND; the response header reports how
/// far the index is built.
#[tokio::test]
async fn query_by_key_and_unique_key() {
    let broker = Broker::start().await;
    let uniq = "7F000001C35000000000000000000001";
    put(&broker.ctx, "QT", "order-1 shared", uniq, "first").await;
    put(
        &broker.ctx,
        "QT",
        "order-2 shared",
        "7F000001C35000000000000000000002",
        "b",
    )
    .await;
    // A producer retry: the same UNIQ_KEY stored twice more.
    put(&broker.ctx, "QT", "", uniq, "first-retry").await;
    put(&broker.ctx, "QT", "", uniq, "first-retry-2").await;
    put(&broker.ctx, "Other", "order-1", "", "other topic").await;
    wait_dispatched(&broker.ctx.store).await;

    let answer = broker.call(query("QT", "order-1", 32, false)).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    let found = records(&answer.body);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].topic, found[0].body), ("QT", &b"first"[..]));
    let header = QueryMessageResponseHeader::from_ext(&answer.ext_fields).expect("header");
    let published = broker.ctx.store.positions().published;
    assert_eq!(header.index_last_update_phyoffset, published as i64);

    let shared = broker.call(query("QT", "shared", 1, false)).await;
    assert_eq!(records(&shared.body).len(), 1, "maxNum is honoured");
    let shared = broker.call(query("QT", "shared", 10, false)).await;
    assert_eq!(records(&shared.body).len(), 2);

    let plain = broker.call(query("QT", uniq, 1, false)).await;
    assert_eq!(records(&plain.body).len(), 1);
    let unique = broker.call(query("QT", uniq, 1, true)).await;
    assert_eq!(unique.code, response::SUCCESS);
    let found = records(&unique.body);
    assert_eq!(found.len(), 3, "the unique-key flag forces maxNum 32");
    assert!(
        found
            .iter()
            .all(|r| properties::get(r.properties, "UNIQ_KEY") == Some(uniq))
    );

    for missing in [
        query("QT", "nope", 32, false),
        query("Nope", "order-1", 32, false),
        query("QT", "order-1", -1, false),
    ] {
        let answer = broker.call(missing).await;
        assert_eq!(answer.code, response::QUERY_NOT_FOUND);
        assert_eq!(
            answer.remark.as_deref(),
            Some("can not find message, maybe time range not correct")
        );
        assert!(answer.body.is_empty());
        assert!(QueryMessageResponseHeader::from_ext(&answer.ext_fields).is_ok());
    }
    let mut old = query("QT", "order-1", 32, false);
    old.ext_fields.put("endTimestamp", "1000");
    assert_eq!(broker.call(old).await.code, response::QUERY_NOT_FOUND);
    broker.stop().await;
}

/// VIEW_MESSAGE_BY_ID returns the raw record at a commit-log offset; an offset where no record
/// starts gives SYSTEM_ERROR with RocketMQ's remark.
#[tokio::test]
async fn view_by_offset() {
    let broker = Broker::start().await;
    put(&broker.ctx, "VT", "k0", "", "zero").await;
    let offset = put(&broker.ctx, "VT", "k1", "", "one").await;
    assert!(offset > 0);

    let answer = broker.call(view(offset as i64)).await;
    assert_eq!(answer.code, response::SUCCESS, "{:?}", answer.remark);
    let found = records(&answer.body);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].physical_offset, offset as i64);
    assert_eq!((found[0].topic, found[0].body), ("VT", &b"one"[..]));
    assert_eq!(found[0].store_host, broker.ctx.store_host);

    for bogus in [offset as i64 + 1, -5, 1 << 40] {
        let answer = broker.call(view(bogus)).await;
        assert_eq!(answer.code, response::SYSTEM_ERROR, "offset {bogus}");
        assert_eq!(
            answer.remark,
            Some(format!("can not find message by the offset, {bogus}"))
        );
        assert!(answer.body.is_empty());
    }
    broker.stop().await;
}
