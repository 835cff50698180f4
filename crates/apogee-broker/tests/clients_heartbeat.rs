//! HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP and NOTIFY_CONSUMER_IDS_CHANGED
//! over real sockets: a broker on 127.0.0.1:0 and one remoting client per simulated consumer
//! or producer, whose handler records the notifications the broker sends.

use std::sync::Arc;
use std::time::Duration;

use apogee_broker::client_registry::ClientRegistry;
use apogee_broker::consumer_offset::ConsumerOffsets;
use apogee_broker::json_file::JsonFile;
use apogee_broker::topic_config::{RETRY_QUEUE_NUMS, TopicTable};
use apogee_broker::{BrokerConfig, BrokerContext, BrokerProcessor};
use apogee_protocol::body::{
    ConsumerData, ConsumerListBody, HeartbeatData, MessageModel, ProducerData, SubscriptionData,
    decode, encode,
};
use apogee_protocol::header::{
    CommandHeader, GetConsumerListByGroupRequestHeader, NotifyConsumerIdsChangedRequestHeader,
    UnregisterClientRequestHeader,
};
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{ExtFields, RemotingCommand};
use apogee_remoting::{
    Connection, HandlerFuture, RemotingClient, RemotingConfig, RemotingServer, RequestHandler,
};
use apogee_store::{MessageStore, StoreConfig};
use parking_lot::Mutex;

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A broker serving on 127.0.0.1:0 from a temp dir.
struct Broker {
    ctx: Arc<BrokerContext>,
    server: RemotingServer,
    _dir: tempfile::TempDir,
}

impl Broker {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let mut store_config = StoreConfig::with_root(root.join("store"));
        // The host disk is shared: never refuse writes because of its fill level.
        store_config.disk_max_used_space_ratio = 99;
        let store = MessageStore::open(store_config).expect("store");
        let topics =
            TopicTable::load(JsonFile::new(root.join("config/topics.json")), true).expect("topics");
        let offsets = ConsumerOffsets::load(JsonFile::new(root.join("config/consumerOffset.json")))
            .expect("offsets");
        let config = BrokerConfig::default();
        let clients = ClientRegistry::new(Duration::from_millis(config.channel_expired_timeout));
        let ctx = Arc::new(BrokerContext {
            config,
            store: Arc::new(store),
            topics,
            offsets,
            clients,
            store_host: "127.0.0.1:10911".parse().expect("address"),
        });
        let handler = Arc::new(BrokerProcessor::new(ctx.clone()));
        let server = RemotingServer::bind("127.0.0.1:0", handler, RemotingConfig::default())
            .await
            .expect("bind");
        Self {
            ctx,
            server,
            _dir: dir,
        }
    }

    fn addr(&self) -> String {
        self.server.local_addr().to_string()
    }
}

/// Records the group of every NOTIFY_CONSUMER_IDS_CHANGED received.
#[derive(Default)]
struct Recorder {
    groups: Mutex<Vec<String>>,
}

impl RequestHandler for Recorder {
    fn handle(&self, _connection: Arc<Connection>, request: RemotingCommand) -> HandlerFuture {
        if request.code == request::NOTIFY_CONSUMER_IDS_CHANGED && request.is_oneway() {
            let header = NotifyConsumerIdsChangedRequestHeader::from_ext(&request.ext_fields)
                .expect("notification header");
            self.groups.lock().push(header.consumer_group);
        }
        Box::pin(async { None })
    }
}

/// One simulated client: its own connection to the broker and its notifications.
struct Client {
    id: String,
    remoting: RemotingClient,
    recorder: Arc<Recorder>,
    broker: String,
}

impl Client {
    fn new(id: &str, broker: &Broker) -> Self {
        let recorder = Arc::new(Recorder::default());
        Self {
            id: id.to_owned(),
            remoting: RemotingClient::new(RemotingConfig::default(), recorder.clone()),
            recorder,
            broker: broker.addr(),
        }
    }

    async fn call(&self, command: RemotingCommand) -> RemotingCommand {
        let response = self
            .remoting
            .invoke(&self.broker, command, CALL_TIMEOUT)
            .await;
        response.expect("broker answers")
    }

    async fn heartbeat(&self, data: &HeartbeatData) -> RemotingCommand {
        let command = RemotingCommand::request(request::HEART_BEAT, ExtFields::new());
        self.call(command.with_body(encode(data))).await
    }

    /// A heartbeat of one consumer group subscribed to `topic`.
    fn consumer_heartbeat(&self, group: &str, model: MessageModel, topic: &str) -> HeartbeatData {
        HeartbeatData {
            client_id: self.id.clone(),
            consumer_data_set: vec![ConsumerData {
                group_name: group.to_owned(),
                message_model: model,
                subscription_data_set: vec![SubscriptionData {
                    topic: topic.to_owned(),
                    sub_string: "*".to_owned(),
                    sub_version: 1,
                    ..SubscriptionData::default()
                }],
                ..ConsumerData::default()
            }],
            ..HeartbeatData::default()
        }
    }

    async fn unregister(&self, consumer_group: Option<&str>, producer_group: Option<&str>) {
        let header = UnregisterClientRequestHeader {
            client_id: self.id.clone(),
            producer_group: producer_group.map(str::to_owned),
            consumer_group: consumer_group.map(str::to_owned),
        };
        let command = RemotingCommand::request(request::UNREGISTER_CLIENT, header.to_ext());
        assert_eq!(self.call(command).await.code, response::SUCCESS);
    }

    async fn consumer_list(&self, group: &str) -> RemotingCommand {
        let header = GetConsumerListByGroupRequestHeader {
            consumer_group: group.to_owned(),
        };
        let command =
            RemotingCommand::request(request::GET_CONSUMER_LIST_BY_GROUP, header.to_ext());
        self.call(command).await
    }

    async fn consumer_ids(&self, group: &str) -> Vec<String> {
        let response = self.consumer_list(group).await;
        assert_eq!(response.code, response::SUCCESS, "{:?}", response.remark);
        let body: ConsumerListBody = decode(&response.body).expect("consumer list body");
        body.consumer_id_list
    }

    fn notifications(&self) -> usize {
        self.recorder.groups.lock().len()
    }
}

/// Polls `condition` every 10 ms for up to 10 s; panics with `what` if it never holds.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Two consumers of one group: both listed (sorted), the first told when the second joins,
/// leaves by UNREGISTER_CLIENT, rejoins and then disconnects; the retry topic exists.
#[tokio::test]
async fn consumers_join_leave_and_notify() {
    let broker = Broker::start().await;
    // Ids chosen so that the sorted list is not the join order.
    let first = Client::new("10.0.0.2@first", &broker);
    let second = Client::new("10.0.0.1@second", &broker);
    let beat1 = first.consumer_heartbeat("g1", MessageModel::Clustering, "T1");
    let beat2 = second.consumer_heartbeat("g1", MessageModel::Clustering, "T1");

    assert_eq!(first.heartbeat(&beat1).await.code, response::SUCCESS);
    let retry = broker
        .ctx
        .topics
        .get("%RETRY%g1")
        .expect("retry topic created");
    assert_eq!(retry.read_queue_nums, RETRY_QUEUE_NUMS);
    assert_eq!(first.consumer_ids("g1").await, ["10.0.0.2@first"]);

    assert_eq!(second.heartbeat(&beat2).await.code, response::SUCCESS);
    wait_until("the first consumer is told", || first.notifications() == 1).await;
    assert_eq!(first.recorder.groups.lock()[0], "g1");
    assert_eq!(
        second.consumer_ids("g1").await,
        ["10.0.0.1@second", "10.0.0.2@first"]
    );
    assert_eq!(
        broker.ctx.clients.subscription("g1", "T1").map(|s| s.topic),
        Some("T1".into())
    );

    // Leaving by request.
    second.unregister(Some("g1"), None).await;
    assert_eq!(first.consumer_ids("g1").await, ["10.0.0.2@first"]);
    wait_until("the first consumer is told of the leave", || {
        first.notifications() == 2
    })
    .await;

    // Leaving by disconnecting.
    assert_eq!(second.heartbeat(&beat2).await.code, response::SUCCESS);
    wait_until("the first consumer is told of the rejoin", || {
        first.notifications() == 3
    })
    .await;
    second.remoting.shutdown().await;
    wait_until("the closed consumer is gone", || {
        broker.ctx.clients.consumer_ids("g1") == ["10.0.0.2@first"]
    })
    .await;
    wait_until("the first consumer is told of the close", || {
        first.notifications() == 4
    })
    .await;

    first.remoting.shutdown().await;
    wait_until("the group is empty", || {
        broker.ctx.clients.consumer_groups().is_empty()
    })
    .await;
    let observer = Client::new("10.0.0.3@observer", &broker);
    let response = observer.consumer_list("g1").await;
    assert_eq!(response.code, response::SYSTEM_ERROR);
    assert_eq!(
        response.remark.as_deref(),
        Some("no consumer for this group, g1")
    );
    broker.server.shutdown().await;
}

/// Producers register and leave with their connection; broadcasting groups get no retry topic.
#[tokio::test]
async fn producers_and_broadcasting() {
    let broker = Broker::start().await;
    let client = Client::new("10.0.0.5@both", &broker);
    let mut beat = client.consumer_heartbeat("gb", MessageModel::Broadcasting, "T2");
    beat.producer_data_set = vec![ProducerData {
        group_name: "pg".to_owned(),
    }];
    assert_eq!(client.heartbeat(&beat).await.code, response::SUCCESS);
    assert!(broker.ctx.topics.get("%RETRY%gb").is_none());
    assert!(broker.ctx.clients.producer_connection("pg").is_some());
    assert_eq!(client.consumer_ids("gb").await, ["10.0.0.5@both"]);

    client.unregister(None, Some("pg")).await;
    assert!(broker.ctx.clients.producer_connection("pg").is_none());
    assert_eq!(client.heartbeat(&beat).await.code, response::SUCCESS);
    assert!(broker.ctx.clients.producer_connection("pg").is_some());

    client.remoting.shutdown().await;
    wait_until("the closed client is gone", || {
        broker.ctx.clients.producer_connection("pg").is_none()
            && broker.ctx.clients.consumer_groups().is_empty()
    })
    .await;
    broker.server.shutdown().await;
}

/// Malformed bodies, bad group names and missing headers get error responses and register
/// nothing.
#[tokio::test]
async fn bad_requests_get_errors() {
    let broker = Broker::start().await;
    let client = Client::new("10.0.0.6@bad", &broker);

    let command = RemotingCommand::request(request::HEART_BEAT, ExtFields::new());
    let response = client
        .call(command.clone().with_body(&b"{not json"[..]))
        .await;
    assert_eq!(response.code, response::SYSTEM_ERROR);
    let remark = response.remark.unwrap_or_default();
    assert!(remark.contains("HeartbeatData"), "{remark}");
    assert_eq!(
        client.call(command).await.code,
        response::SYSTEM_ERROR,
        "empty body"
    );

    let mut beat = client.consumer_heartbeat("bad group", MessageModel::Clustering, "T1");
    assert_eq!(client.heartbeat(&beat).await.code, response::SYSTEM_ERROR);
    beat.consumer_data_set[0].group_name = "g".to_owned();
    beat.client_id = String::new();
    assert_eq!(client.heartbeat(&beat).await.code, response::SYSTEM_ERROR);
    assert!(broker.ctx.clients.consumer_groups().is_empty());

    let command = RemotingCommand::request(request::UNREGISTER_CLIENT, ExtFields::new());
    let response = client.call(command).await;
    assert_eq!(response.code, response::SYSTEM_ERROR);
    assert!(response.remark.unwrap_or_default().contains("clientID"));

    let command = RemotingCommand::request(request::GET_CONSUMER_LIST_BY_GROUP, ExtFields::new());
    assert_eq!(client.call(command).await.code, response::SYSTEM_ERROR);
    broker.server.shutdown().await;
}
