use apogee_protocol::body::TopicConfig;

use super::*;

fn topics(names: &[(&str, i32)]) -> TopicConfigSerializeWrapper {
    let mut wrapper = TopicConfigSerializeWrapper::default();
    for (name, queues) in names {
        let config = TopicConfig {
            topic_name: (*name).to_owned(),
            read_queue_nums: *queues,
            write_queue_nums: *queues,
            perm: 6,
            ..TopicConfig::default()
        };
        wrapper
            .topic_config_table
            .insert((*name).to_owned(), config);
    }
    wrapper
}

fn registration(name: &str, addr: &str, id: i64, topic_list: &[(&str, i32)]) -> Registration {
    Registration {
        cluster: "DefaultCluster".into(),
        addr: addr.into(),
        name: name.into(),
        id,
        ha_addr: format!("{addr}-ha"),
        topics: topics(topic_list),
        timeout: BROKER_EXPIRED_TIMEOUT_DEFAULT,
        connection_id: Some(id as u64 + 1),
    }
}

/// A master's topics become routes listing its queues and addresses; a slave learns its
/// master's addresses and adds its own address to the broker data.
#[test]
fn master_and_slave_routes() {
    let table = RouteTable::default();
    let now = Instant::now();
    let master = table.register(
        registration("broker-a", "10.0.0.1:10911", 0, &[("T", 4)]),
        now,
    );
    assert_eq!(master, RegistrationResult::default());
    let slave = table.register(
        registration("broker-a", "10.0.0.2:10911", 1, &[("T", 4)]),
        now,
    );
    assert_eq!(slave.master_addr.as_deref(), Some("10.0.0.1:10911"));
    assert_eq!(slave.ha_server_addr.as_deref(), Some("10.0.0.1:10911-ha"));
    let route = table.route("T").expect("route");
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
    assert_eq!(route.broker_datas[0].broker_addrs.len(), 2);
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "10.0.0.1:10911");
    assert!(table.route("Unknown").is_none());
    let info = table.cluster_info();
    assert_eq!(
        info.cluster_addr_table["DefaultCluster"],
        vec!["broker-a".to_owned()]
    );
}

/// A re-registration replaces a master's topics; a topic served by no live master has no
/// route.
#[test]
fn reregistration_replaces_topics() {
    let table = RouteTable::default();
    let now = Instant::now();
    table.register(
        registration("broker-a", "a:1", 0, &[("T", 4), ("U", 2)]),
        now,
    );
    table.register(registration("broker-b", "b:1", 0, &[("T", 8)]), now);
    assert_eq!(table.route("T").expect("route").queue_datas.len(), 2);
    table.register(registration("broker-a", "a:1", 0, &[("U", 2)]), now);
    let t = table.route("T").expect("still on b");
    assert_eq!(t.queue_datas.len(), 1);
    assert_eq!(t.queue_datas[0].broker_name, "broker-b");
    assert_eq!(table.topics(), vec!["T".to_owned(), "U".to_owned()]);
    table.delete_topic("T", None);
    assert!(table.route("T").is_none());
}

/// Silent brokers expire; a closed connection unregisters what registered over it; the last
/// address of a broker takes its broker data and cluster entry with it.
#[test]
fn expiry_and_connection_close() {
    let table = RouteTable::default();
    let start = Instant::now();
    table.register(registration("broker-a", "a:1", 0, &[("T", 4)]), start);
    table.register(registration("broker-b", "b:1", 0, &[("T", 4)]), start);
    let later = start + Duration::from_secs(100);
    assert!(table.touch("b:1", later));
    assert!(!table.touch("nobody:1", later));
    let expired = table.expire(start + Duration::from_secs(121));
    assert_eq!(expired, vec!["a:1".to_owned()]);
    let route = table.route("T").expect("b still serves");
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.broker_datas[0].broker_name, "broker-b");
    table.connection_closed(1); // broker-b registered as id 0 over connection 1
    assert!(table.route("T").is_none());
    assert!(table.cluster_info().cluster_addr_table.is_empty());
}
