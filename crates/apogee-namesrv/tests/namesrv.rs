//! The name server over real sockets: brokers register, clients get routes and cluster info,
//! bad requests get RocketMQ's error codes, and a broker whose connection closes disappears.

use std::sync::Arc;
use std::time::Duration;

use apogee_namesrv::{NameServer, NamesrvConfig};
use apogee_protocol::body::{
    self, ClusterInfo, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper, TopicRouteData,
};
use apogee_protocol::header::{
    CommandHeader, GetRouteInfoRequestHeader, RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader,
};
use apogee_protocol::remoting::codes::{request, response};
use apogee_protocol::remoting::{ExtFields, RemotingCommand};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig};

const TIMEOUT: Duration = Duration::from_secs(5);

async fn start() -> (NameServer, String) {
    let config = NamesrvConfig {
        listen_port: 0,
        listen_addr: "127.0.0.1".into(),
        ..NamesrvConfig::default()
    };
    let server = NameServer::start(config).await.expect("start");
    let addr = server.local_addr().to_string();
    (server, addr)
}

fn client() -> RemotingClient {
    RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests))
}

fn register(name: &str, addr: &str, id: i64, topics: &[&str]) -> RemotingCommand {
    let mut wrapper = TopicConfigSerializeWrapper::default();
    for topic in topics {
        let config = TopicConfig {
            topic_name: (*topic).into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            ..TopicConfig::default()
        };
        wrapper.topic_config_table.insert((*topic).into(), config);
    }
    let body = body::encode(&RegisterBrokerBody {
        topic_config_serialize_wrapper: wrapper,
        ..RegisterBrokerBody::default()
    });
    let header = RegisterBrokerRequestHeader {
        broker_name: name.into(),
        broker_addr: addr.into(),
        cluster_name: "DefaultCluster".into(),
        ha_server_addr: format!("{addr}0"),
        broker_id: id,
        compressed: Some(false),
        body_crc32: Some((crc32fast::hash(&body) & 0x7FFF_FFFF) as i32),
        ..RegisterBrokerRequestHeader::default()
    };
    RemotingCommand::request(request::REGISTER_BROKER, header.to_ext()).with_body(body)
}

fn route_request(topic: &str) -> RemotingCommand {
    let header = GetRouteInfoRequestHeader {
        topic: topic.into(),
        accept_standard_json_only: None,
    };
    RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, header.to_ext())
}

/// Registered master and slave appear in routes and cluster info; the slave learns its
/// master's address.
#[tokio::test]
async fn register_then_route() {
    let (server, addr) = start().await;
    let broker = client();
    let master = broker
        .invoke(
            &addr,
            register("broker-a", "127.0.0.1:10911", 0, &["T"]),
            TIMEOUT,
        )
        .await
        .expect("master registers");
    assert_eq!(master.code, response::SUCCESS);
    let slave = broker
        .invoke(
            &addr,
            register("broker-a", "127.0.0.1:20911", 1, &["T"]),
            TIMEOUT,
        )
        .await
        .expect("slave registers");
    let header = RegisterBrokerResponseHeader::from_ext(&slave.ext_fields).expect("header");
    assert_eq!(header.master_addr.as_deref(), Some("127.0.0.1:10911"));

    let reader = client();
    let route = reader
        .invoke(&addr, route_request("T"), TIMEOUT)
        .await
        .expect("route");
    assert_eq!(route.code, response::SUCCESS);
    let route: TopicRouteData = body::decode(&route.body).expect("route body");
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "127.0.0.1:10911");
    assert_eq!(route.broker_datas[0].broker_addrs[&1], "127.0.0.1:20911");

    let info = reader
        .invoke(
            &addr,
            RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO, ExtFields::default()),
            TIMEOUT,
        )
        .await
        .expect("cluster");
    let info: ClusterInfo = body::decode(&info.body).expect("cluster body");
    assert_eq!(
        info.cluster_addr_table["DefaultCluster"],
        vec!["broker-a".to_owned()]
    );
    reader.shutdown().await;
    broker.shutdown().await;
    server.shutdown().await;
}

/// Unknown topics, unknown codes, missing header fields and corrupt bodies get RocketMQ's
/// error codes with a remark, and the server carries on.
#[tokio::test]
async fn errors() {
    let (server, addr) = start().await;
    let c = client();
    let missing = c
        .invoke(&addr, route_request("Nope"), TIMEOUT)
        .await
        .expect("answer");
    assert_eq!(missing.code, response::TOPIC_NOT_EXIST);
    assert!(missing.remark.expect("remark").contains("Nope"));

    let unknown = RemotingCommand::request(4242, ExtFields::default());
    let unknown = c.invoke(&addr, unknown, TIMEOUT).await.expect("answer");
    assert_eq!(unknown.code, response::REQUEST_CODE_NOT_SUPPORTED);

    let no_topic = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, ExtFields::default());
    let no_topic = c.invoke(&addr, no_topic, TIMEOUT).await.expect("answer");
    assert_eq!(no_topic.code, response::SYSTEM_ERROR);
    assert!(no_topic.remark.expect("remark").contains("topic"));

    let mut corrupt = register("broker-a", "127.0.0.1:10911", 0, &["T"]);
    corrupt.body = b"{garbage".to_vec().into();
    let corrupt = c.invoke(&addr, corrupt, TIMEOUT).await.expect("answer");
    assert_eq!(
        corrupt.code,
        response::SYSTEM_ERROR,
        "CRC no longer matches"
    );

    let ok = c
        .invoke(
            &addr,
            register("broker-a", "127.0.0.1:10911", 0, &["T"]),
            TIMEOUT,
        )
        .await
        .expect("answer");
    assert_eq!(ok.code, response::SUCCESS);
    c.shutdown().await;
    server.shutdown().await;
}

/// A broker whose connection closes is unregistered at once.
#[tokio::test]
async fn closed_connection_unregisters() {
    let (server, addr) = start().await;
    let broker = client();
    broker
        .invoke(
            &addr,
            register("broker-a", "127.0.0.1:10911", 0, &["T"]),
            TIMEOUT,
        )
        .await
        .expect("registers");
    assert!(server.table().route("T").is_some());
    broker.shutdown().await;
    for _ in 0..200 {
        if server.table().route("T").is_none() {
            server.shutdown().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("route still present after the broker's connection closed");
}
