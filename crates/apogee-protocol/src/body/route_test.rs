use proptest::prelude::*;

use super::*;
use crate::body::json::quote_integer_keys;
use crate::body::{decode, encode};

/// The route a 5.x name server sends a client that asked for standard JSON (reference §2.6),
/// including the 5.x-only `topicQueueMappingByBroker`, which is ignored.
const ROUTE_QUOTED: &str = r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},
 "brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],
 "filterServerTable":{},"orderTopicConf":"broker-a:4;broker-b:4",
 "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}],
 "topicQueueMappingByBroker":{}}"#;

/// The same route as the legacy encoder writes it for old clients: unquoted broker ids.
const ROUTE_LEGACY: &str = r#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},
 "brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],
 "filterServerTable":{},"orderTopicConf":"broker-a:4;broker-b:4",
 "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;

/// GET_BROKER_CLUSTER_INFO as the name server always writes it: unquoted broker ids.
const CLUSTER_LEGACY: &str = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",
 1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"},"broker-b":{"brokerAddrs":
 {0:"10.0.0.3:10911"},"brokerName":"broker-b","cluster":"DefaultCluster"}},
 "clusterAddrTable":{"DefaultCluster":["broker-a","broker-b"]}}"#;

fn broker_a() -> BrokerData {
    BrokerData {
        cluster: "DefaultCluster".into(),
        broker_name: "broker-a".into(),
        broker_addrs: [(0, "10.0.0.1:10911".into()), (1, "10.0.0.2:10911".into())].into(),
        enable_acting_master: false,
        zone_name: None,
    }
}

fn route() -> TopicRouteData {
    TopicRouteData {
        order_topic_conf: Some("broker-a:4;broker-b:4".into()),
        queue_datas: vec![QueueData {
            broker_name: "broker-a".into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            topic_sys_flag: 0,
        }],
        broker_datas: vec![broker_a()],
        filter_server_table: BTreeMap::new(),
    }
}

/// Both the standard and the legacy route decode to the same value, which encodes with quoted
/// keys.
#[test]
fn decode_java_routes() {
    assert_eq!(
        decode::<TopicRouteData>(ROUTE_QUOTED.as_bytes()).ok(),
        Some(route())
    );
    assert_eq!(
        decode::<TopicRouteData>(ROUTE_LEGACY.as_bytes()).ok(),
        Some(route())
    );
    let text = String::from_utf8(encode(&route())).expect("utf-8");
    assert!(text.contains(r#""brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#));
    assert_eq!(
        route().broker_datas[0].master_addr(),
        Some("10.0.0.1:10911")
    );
}

/// ClusterInfo with unquoted keys and without the 5.x `enableActingMaster` decodes.
#[test]
fn decode_java_cluster_info() {
    let info: ClusterInfo = decode(CLUSTER_LEGACY.as_bytes()).expect("decodes");
    assert_eq!(info.broker_addr_table["broker-a"], broker_a());
    assert_eq!(
        info.broker_addr_table["broker-b"].master_addr(),
        Some("10.0.0.3:10911")
    );
    assert_eq!(
        info.cluster_addr_table["DefaultCluster"],
        ["broker-a", "broker-b"]
    );
}

/// A missing route field defaults; a wrong type is still an error naming the body.
#[test]
fn defaults_and_errors() {
    let empty: TopicRouteData = decode(b"{}").expect("decodes");
    assert_eq!(empty, TopicRouteData::default());
    let err = decode::<TopicRouteData>(br#"{"queueDatas":5}"#).expect_err("wrong type");
    assert!(err.to_string().contains("TopicRouteData"), "{err}");
}

fn arb_broker() -> impl Strategy<Value = BrokerData> {
    (
        ".*",
        ".*",
        proptest::collection::btree_map(any::<i64>(), ".*", 0..4),
        any::<bool>(),
        proptest::option::of(".*"),
    )
        .prop_map(
            |(cluster, broker_name, broker_addrs, acting, zone_name)| BrokerData {
                cluster,
                broker_name,
                broker_addrs,
                enable_acting_master: acting,
                zone_name,
            },
        )
}

fn arb_queue() -> impl Strategy<Value = QueueData> {
    (".*", any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>()).prop_map(|(b, r, w, p, f)| {
        QueueData {
            broker_name: b,
            read_queue_nums: r,
            write_queue_nums: w,
            perm: p,
            topic_sys_flag: f,
        }
    })
}

fn arb_route() -> impl Strategy<Value = TopicRouteData> {
    (
        proptest::option::of(".*"),
        proptest::collection::vec(arb_queue(), 0..4),
        proptest::collection::vec(arb_broker(), 0..4),
        proptest::collection::btree_map(".*", proptest::collection::vec(".*", 0..3), 0..3),
    )
        .prop_map(|(order, queues, brokers, filters)| TopicRouteData {
            order_topic_conf: order,
            queue_datas: queues,
            broker_datas: brokers,
            filter_server_table: filters,
        })
}

/// Removes the quotes around integer object keys, as fastjson's legacy encoder writes them.
/// Only a quote right after `{` or `,` can open a key, so string contents are never matched.
fn unquote_integer_keys(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(pos) = rest.find(['{', ',']) {
        out.push_str(&rest[..=pos]);
        rest = &rest[pos + 1..];
        let Some(body) = rest.strip_prefix('"') else {
            continue;
        };
        let len = body.find('"').unwrap_or(0);
        let key = &body[..len];
        let digits = key.strip_prefix('-').unwrap_or(key);
        if len > 0 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(after) = body[len + 1..].strip_prefix(':') {
                out.push_str(key);
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

proptest! {
    /// Encoding then decoding is the identity, also through the legacy unquoted form; the
    /// quoting pass leaves our own (standard) output untouched.
    #[test]
    fn route_round_trip(route in arb_route()) {
        let bytes = encode(&route);
        prop_assert_eq!(decode::<TopicRouteData>(&bytes).ok(), Some(route.clone()));
        let text = String::from_utf8(bytes).expect("utf-8");
        prop_assert!(matches!(quote_integer_keys(&text), std::borrow::Cow::Borrowed(_)));
        let legacy = unquote_integer_keys(&text);
        prop_assert_eq!(decode::<TopicRouteData>(legacy.as_bytes()).ok(), Some(route));
    }

    /// Decoding arbitrary bytes returns a value or an error, never a panic.
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode::<TopicRouteData>(&bytes);
        let _ = decode::<ClusterInfo>(&bytes);
    }

    /// Arbitrary JSON-ish text (structural characters, digits, quotes, escapes) never makes
    /// the decoder panic either.
    #[test]
    fn decode_never_panics_on_json_like_text(text in r#"[{}\[\]:,"\\0-9a-z \-]{0,64}"#) {
        let _ = decode::<ClusterInfo>(text.as_bytes());
        let _ = quote_integer_keys(&text);
    }
}
