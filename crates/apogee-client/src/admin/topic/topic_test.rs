//! Unit tests of topic classification and target selection.

use super::ops::targets;
use super::*;
use crate::admin::AdminError;
use apogee_protocol::body::BrokerData;

fn cluster() -> ClusterInfo {
    let mut info = ClusterInfo::default();
    for (name, addr) in [("broker-a", "h:1"), ("broker-b", "h:2")] {
        info.broker_addr_table.insert(
            name.to_owned(),
            BrokerData {
                cluster: "DefaultCluster".to_owned(),
                broker_name: name.to_owned(),
                broker_addrs: [(0, addr.to_owned())].into_iter().collect(),
                ..BrokerData::default()
            },
        );
    }
    info.cluster_addr_table.insert(
        "DefaultCluster".to_owned(),
        vec!["broker-a".to_owned(), "broker-b".to_owned()],
    );
    info
}

/// Retry, DLQ, reserved, prefixed and broker/cluster-named topics are told apart.
#[test]
fn kinds() {
    let c = cluster();
    let kind = |t: &str| TopicKind::of(t, &c);
    assert_eq!(kind("Orders"), TopicKind::Normal);
    assert_eq!(kind("%RETRY%g"), TopicKind::Retry);
    assert_eq!(kind("%DLQ%g"), TopicKind::DeadLetter);
    for system in [
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "rmq_sys_x",
        "broker-a",
        "DefaultCluster",
    ] {
        assert_eq!(kind(system), TopicKind::System, "{system}");
    }
    assert!(kind("%RETRY%g").is_system());
    assert_eq!(TopicKind::DeadLetter.as_str(), "dlq");
}

/// Targets: all masters, a cluster's, one address; unknown clusters are named.
#[test]
fn target_selection() {
    let c = cluster();
    let all = targets(&c, &TopicTarget::AllBrokers).expect("all");
    assert_eq!(
        all.iter().map(|t| t.addr.as_str()).collect::<Vec<_>>(),
        ["h:1", "h:2"]
    );
    let one = targets(&c, &TopicTarget::Broker("h:2".into())).expect("one");
    assert_eq!(one[0].name.as_deref(), Some("broker-b"));
    let error = targets(&c, &TopicTarget::Cluster("Nope".into()))
        .err()
        .expect("unknown cluster");
    assert!(error.to_string().contains("DefaultCluster"), "{error}");
    assert!(matches!(
        targets(&ClusterInfo::default(), &TopicTarget::AllBrokers),
        Err(AdminError::NoBrokers { .. })
    ));
}
