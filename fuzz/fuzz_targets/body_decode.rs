//! JSON bodies (`apogee_protocol::body`) on arbitrary bytes: route, cluster info, topic list,
//! broker registration, heartbeat, consumer list, lock/unlock bodies, offset table.
//! Invariants: never panics; a body that decodes re-encodes to JSON that decodes to the same
//! value.
#![no_main]

use apogee_protocol::body::{
    ClusterInfo, ConsumerListBody, ConsumerOffsetTable, HeartbeatData, KvTable,
    LockBatchRequestBody, LockBatchResponseBody, RegisterBrokerBody, TopicConfigSerializeWrapper,
    TopicList, TopicRouteData, UnlockBatchRequestBody, decode, encode,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn check<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(body) = decode::<T>(data) {
        let again: T = decode(&encode(&body)).expect("own encoding decodes");
        assert_eq!(again, body);
    }
}

fuzz_target!(|data: &[u8]| {
    check::<TopicRouteData>(data);
    check::<ClusterInfo>(data);
    check::<TopicList>(data);
    check::<RegisterBrokerBody>(data);
    check::<TopicConfigSerializeWrapper>(data);
    check::<KvTable>(data);
    check::<HeartbeatData>(data);
    check::<ConsumerListBody>(data);
    check::<LockBatchRequestBody>(data);
    check::<LockBatchResponseBody>(data);
    check::<UnlockBatchRequestBody>(data);
    check::<ConsumerOffsetTable>(data);
});
