//! The client registry on its own: change detection, subscription versions, reconnects,
//! unregistering, closed connections and expiry. Members sit on real loopback connections,
//! since a `Connection` only exists over a socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_broker::client_registry::{ClientRegistry, ConsumerMember, ProducerMember};
use apogee_protocol::body::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use apogee_remoting::{Connection, NoRequests, RemotingClient, RemotingConfig, RemotingServer};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A loopback server and one client per connection wanted.
struct Loopback {
    server: RemotingServer,
    clients: Vec<RemotingClient>,
}

impl Loopback {
    async fn start() -> Self {
        let server = RemotingServer::bind(
            "127.0.0.1:0",
            Arc::new(NoRequests),
            RemotingConfig::default(),
        )
        .await
        .expect("bind");
        Self {
            server,
            clients: Vec::new(),
        }
    }

    /// A new, distinct connection.
    async fn connection(&mut self) -> Arc<Connection> {
        let client = RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests));
        let addr = self.server.local_addr().to_string();
        let connection = client.connection(&addr).await.expect("connect");
        self.clients.push(client);
        connection
    }
}

fn consumer(id: &str, connection: &Arc<Connection>, at: Instant) -> ConsumerMember {
    ConsumerMember {
        client_id: id.to_owned(),
        connection: connection.clone(),
        last_heartbeat: at,
        consume_type: ConsumeType::ConsumePassively,
        message_model: MessageModel::Clustering,
        consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
    }
}

fn producer(id: &str, connection: &Arc<Connection>, at: Instant) -> ProducerMember {
    ProducerMember {
        client_id: id.to_owned(),
        connection: connection.clone(),
        last_heartbeat: at,
    }
}

fn sub(topic: &str, expression: &str, version: i64) -> SubscriptionData {
    SubscriptionData {
        topic: topic.to_owned(),
        sub_string: expression.to_owned(),
        sub_version: version,
        ..SubscriptionData::default()
    }
}

/// New members and added or removed topics are changes; refreshes and version bumps are not,
/// and only a newer subVersion replaces a stored subscription.
#[tokio::test]
async fn change_detection_and_sub_versions() {
    let mut net = Loopback::start().await;
    let (c1, c2) = (net.connection().await, net.connection().await);
    let registry = ClientRegistry::new(TIMEOUT);
    let now = Instant::now();
    let subs = [sub("T1", "*", 10)];

    assert!(registry.register_consumer("g", consumer("b", &c1, now), Some(&subs)));
    assert!(!registry.register_consumer("g", consumer("b", &c1, now), Some(&subs)));
    assert!(registry.register_consumer("g", consumer("a", &c2, now), Some(&subs)));
    assert_eq!(registry.consumer_ids("g"), ["a", "b"]);

    // Newer version: stored, not a change. Older version: ignored.
    assert!(!registry.register_consumer(
        "g",
        consumer("a", &c2, now),
        Some(&[sub("T1", "TagA", 11)])
    ));
    assert_eq!(
        registry.subscription("g", "T1").map(|s| s.sub_string),
        Some("TagA".into())
    );
    assert!(!registry.register_consumer(
        "g",
        consumer("a", &c2, now),
        Some(&[sub("T1", "TagB", 9)])
    ));
    assert_eq!(
        registry.subscription("g", "T1").map(|s| s.sub_version),
        Some(11)
    );

    // Topics added and removed are changes; `None` leaves the subscriptions alone.
    let two = [sub("T1", "TagA", 11), sub("T2", "*", 1)];
    assert!(registry.register_consumer("g", consumer("a", &c2, now), Some(&two)));
    assert_eq!(registry.groups_of_topic("T2"), ["g"]);
    assert!(!registry.register_consumer("g", consumer("b", &c1, now), None));
    assert_eq!(registry.subscriptions("g").len(), 2);
    assert!(registry.register_consumer("g", consumer("b", &c1, now), Some(&two[1..])));
    assert_eq!(registry.subscription("g", "T1"), None);
    assert!(registry.groups_of_topic("T1").is_empty());
    assert_eq!(registry.consumer_groups(), ["g"]);
}

/// A client id on a new connection moves there; closing the old connection leaves it in place.
#[tokio::test]
async fn reconnect_moves_the_member() {
    let mut net = Loopback::start().await;
    let (old, new) = (net.connection().await, net.connection().await);
    let registry = ClientRegistry::new(TIMEOUT);
    let now = Instant::now();
    assert!(registry.register_consumer("g", consumer("a", &old, now), Some(&[])));
    assert!(!registry.register_consumer("g", consumer("a", &new, now), Some(&[])));
    let connections = registry.consumer_connections("g");
    assert_eq!(connections.len(), 1);
    assert!(Arc::ptr_eq(&connections[0], &new));
    registry.connection_closed(&old);
    assert_eq!(registry.consumer_ids("g"), ["a"]);
}

/// Unregistering returns the members left to notify and drops an emptied group.
#[tokio::test]
async fn unregister() {
    let mut net = Loopback::start().await;
    let (c1, c2) = (net.connection().await, net.connection().await);
    let registry = ClientRegistry::new(TIMEOUT);
    let now = Instant::now();
    let subs = [sub("T1", "*", 1)];
    registry.register_consumer("g", consumer("a", &c1, now), Some(&subs));
    registry.register_consumer("g", consumer("b", &c2, now), Some(&subs));
    registry.register_producer("p", producer("a", &c1, now));

    assert!(registry.unregister_consumer("g", "zz").is_none());
    assert!(registry.unregister_consumer("nope", "a").is_none());
    let left = registry
        .unregister_consumer("g", "a")
        .expect("a was a member");
    assert_eq!(left.len(), 1);
    assert!(Arc::ptr_eq(&left[0], &c2));
    assert_eq!(
        registry.unregister_consumer("g", "b").map(|l| l.len()),
        Some(0)
    );
    assert!(registry.consumer_groups().is_empty());
    assert_eq!(registry.subscription("g", "T1"), None);

    assert!(!registry.unregister_producer("p", "zz"));
    assert!(registry.unregister_producer("p", "a"));
    assert!(registry.producer_connection("p").is_none());
    assert!(registry.producer_groups().is_empty());
}

/// A closed connection takes every membership on it, in every group, with it.
#[tokio::test]
async fn connection_closed_removes_its_members() {
    let mut net = Loopback::start().await;
    let (c1, c2) = (net.connection().await, net.connection().await);
    let registry = ClientRegistry::new(TIMEOUT);
    let now = Instant::now();
    registry.register_consumer("g1", consumer("a", &c1, now), Some(&[]));
    registry.register_consumer("g2", consumer("a", &c1, now), Some(&[]));
    registry.register_consumer("g2", consumer("b", &c2, now), Some(&[]));
    registry.register_producer("p", producer("a", &c1, now));
    registry.register_producer("p", producer("b", &c2, now));

    registry.connection_closed(&c1);
    assert_eq!(registry.consumer_groups(), ["g2"]);
    assert_eq!(registry.consumer_ids("g2"), ["b"]);
    let chosen = registry.producer_connection("p").expect("b is left");
    assert!(Arc::ptr_eq(&chosen, &c2));
    // A closed connection is never handed out, even before its removal.
    c2.close();
    assert!(registry.producer_connection("p").is_none());
    assert!(registry.consumer_ids("g2").is_empty());
    // Nor does a heartbeat that raced with the close register anything on it.
    assert!(!registry.register_consumer("g3", consumer("c", &c2, now), Some(&[])));
    registry.register_producer("p3", producer("c", &c2, now));
    assert_eq!(registry.consumer_groups(), ["g2"]);
    assert_eq!(registry.producer_groups(), ["p"]);
}

/// Members silent for more than the timeout go; their connection closes unless another
/// membership on it is still live.
#[tokio::test]
async fn expire_drops_silent_members() {
    let mut net = Loopback::start().await;
    let (c1, c2) = (net.connection().await, net.connection().await);
    let registry = ClientRegistry::new(TIMEOUT);
    assert_eq!(registry.channel_expired_timeout(), TIMEOUT);
    let t0 = Instant::now();
    let later = t0 + Duration::from_secs(60);
    registry.register_consumer("g", consumer("a", &c1, t0), Some(&[]));
    registry.register_consumer("g", consumer("b", &c2, t0), Some(&[]));
    registry.register_producer("p", producer("b", &c2, later));

    registry.expire(t0 + TIMEOUT);
    assert_eq!(
        registry.consumer_ids("g"),
        ["a", "b"],
        "exactly the timeout is not past it"
    );
    registry.expire(t0 + TIMEOUT + Duration::from_millis(1));
    assert!(registry.consumer_groups().is_empty());
    assert!(c1.is_closed(), "nothing live on c1");
    assert!(!c2.is_closed(), "the producer on c2 is still live");
    assert!(registry.producer_connection("p").is_some());

    registry.expire(later + TIMEOUT + Duration::from_millis(1));
    assert!(registry.producer_groups().is_empty());
    assert!(c2.is_closed());
}
