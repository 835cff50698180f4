//! Name-server headers: REGISTER_BROKER (103), UNREGISTER_BROKER (104),
//! GET_ROUTEINFO_BY_TOPIC (105) and DELETE_TOPIC_IN_NAMESRV (216).

command_header! {
    /// Asks the name server for a topic's route (`GetRouteInfoRequestHeader`); the answer is a
    /// [`crate::body::TopicRouteData`].
    pub struct GetRouteInfoRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// 4.9.x+: ask for standard JSON (quoted map keys) regardless of the request version.
        optional accept_standard_json_only: bool => "acceptStandardJsonOnly",
    }
}

command_header! {
    /// A broker registers (and refreshes) itself and its topics (`RegisterBrokerRequestHeader`);
    /// the body is a [`crate::body::RegisterBrokerBody`].
    pub struct RegisterBrokerRequestHeader {
        /// The broker name (shared by a master and its slaves).
        required broker_name: String => "brokerName",
        /// The broker's `ip:port`.
        required broker_addr: String => "brokerAddr",
        /// The cluster.
        required cluster_name: String => "clusterName",
        /// The broker's HA `ip:port`.
        required ha_server_addr: String => "haServerAddr",
        /// 0 for a master, > 0 for a slave.
        required broker_id: i64 => "brokerId",
        /// 5.x: how long the name server waits for the next registration, in ms.
        optional heartbeat_timeout_millis: i64 => "heartbeatTimeoutMillis",
        /// 5.x: whether slave-acting-master is on.
        optional enable_acting_master: bool => "enableActingMaster",
        /// Whether the body is the zlib-compressed form; Java always sends it (a primitive).
        optional compressed: bool => "compressed",
        /// CRC32 of the body masked with `0x7FFFFFFF` (`UtilAll.crc32`); 0 means unchecked.
        /// Java always sends it.
        optional body_crc32: i32 => "bodyCrc32",
    }
}

command_header! {
    /// The name server's answer to a registration (`RegisterBrokerResponseHeader`); the body
    /// is the `ORDER_TOPIC_CONFIG` [`crate::body::KvTable`].
    pub struct RegisterBrokerResponseHeader {
        /// The master's HA address, for a slave.
        optional ha_server_addr: String => "haServerAddr",
        /// The master's address, for a slave.
        optional master_addr: String => "masterAddr",
    }
}

command_header! {
    /// A broker leaves the name server (`UnRegisterBrokerRequestHeader`).
    pub struct UnregisterBrokerRequestHeader {
        /// The broker name.
        required broker_name: String => "brokerName",
        /// The broker's `ip:port`.
        required broker_addr: String => "brokerAddr",
        /// The cluster.
        required cluster_name: String => "clusterName",
        /// 0 for a master, > 0 for a slave.
        required broker_id: i64 => "brokerId",
    }
}

command_header! {
    /// Removes a topic's route from the name server (DELETE_TOPIC_IN_NAMESRV, 216;
    /// `DeleteTopicFromNamesrvRequestHeader`).
    pub struct DeleteTopicFromNamesrvRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// Limit the deletion to one cluster's brokers.
        optional cluster_name: String => "clusterName",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::test_util::{assert_fixture, assert_invalid, assert_required};

    /// GET_ROUTEINFO_BY_TOPIC with the 4.9.x standard-JSON flag.
    #[test]
    fn route_request() {
        let fixture = &[("topic", "T1"), ("acceptStandardJsonOnly", "true")];
        let header = GetRouteInfoRequestHeader {
            topic: "T1".into(),
            accept_standard_json_only: Some(true),
        };
        assert_fixture(fixture, &header);
        assert_required::<GetRouteInfoRequestHeader>(fixture, &["topic"]);
    }

    /// REGISTER_BROKER as a 4.9.8 broker sends it, then with the 5.x keys.
    #[test]
    fn register_broker() {
        let fixture = &[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.1:10911"),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "10.0.0.1:10912"),
            ("brokerId", "0"),
            ("compressed", "false"),
            ("bodyCrc32", "1234567"),
        ];
        let header = RegisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "10.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: "10.0.0.1:10912".into(),
            broker_id: 0,
            compressed: Some(false),
            body_crc32: Some(1_234_567),
            ..RegisterBrokerRequestHeader::default()
        };
        assert_fixture(fixture, &header);
        assert_required::<RegisterBrokerRequestHeader>(
            fixture,
            &[
                "brokerName",
                "brokerAddr",
                "clusterName",
                "haServerAddr",
                "brokerId",
            ],
        );
        assert_invalid::<RegisterBrokerRequestHeader>(fixture, "brokerId");
        let mut v5 = fixture.to_vec();
        v5.push(("heartbeatTimeoutMillis", "120000"));
        v5.push(("enableActingMaster", "false"));
        let header = RegisterBrokerRequestHeader {
            heartbeat_timeout_millis: Some(120_000),
            enable_acting_master: Some(false),
            ..header
        };
        assert_fixture(&v5, &header);
    }

    /// The registration answer, UNREGISTER_BROKER and DELETE_TOPIC_IN_NAMESRV.
    #[test]
    fn other_namesrv_headers() {
        let response = &[
            ("haServerAddr", "10.0.0.1:10912"),
            ("masterAddr", "10.0.0.1:10911"),
        ];
        let header = RegisterBrokerResponseHeader {
            ha_server_addr: Some("10.0.0.1:10912".into()),
            master_addr: Some("10.0.0.1:10911".into()),
        };
        assert_fixture(response, &header);
        assert_fixture(&[], &RegisterBrokerResponseHeader::default());
        let unregister = &[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.1:10911"),
            ("clusterName", "DefaultCluster"),
            ("brokerId", "1"),
        ];
        let header = UnregisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "10.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            broker_id: 1,
        };
        assert_fixture(unregister, &header);
        assert_required::<UnregisterBrokerRequestHeader>(
            unregister,
            &["brokerName", "brokerAddr", "clusterName", "brokerId"],
        );
        let delete = &[("topic", "T1"), ("clusterName", "DefaultCluster")];
        let header = DeleteTopicFromNamesrvRequestHeader {
            topic: "T1".into(),
            cluster_name: Some("DefaultCluster".into()),
        };
        assert_fixture(delete, &header);
        assert_required::<DeleteTopicFromNamesrvRequestHeader>(delete, &["topic"]);
    }
}
