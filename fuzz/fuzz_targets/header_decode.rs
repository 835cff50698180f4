//! Request headers on arbitrary bytes: the bytes as a JSON header and as a ROCKETMQ header
//! (`apogee_protocol::remoting`), then as an extFields map built from known keys, and every
//! typed header's `from_ext` on each resulting map (send long and V2, pull, offsets, client,
//! transaction, query, admin, name server).
//! Invariants: never panics; a typed header that decodes re-encodes (`to_ext`) to a map that
//! decodes to the same header.
#![no_main]

use apogee_protocol::header::{
    CheckTransactionStateRequestHeader, CommandHeader, ConsumerSendMsgBackRequestHeader,
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    EndTransactionRequestHeader, GetConsumerListByGroupRequestHeader, GetMaxOffsetRequestHeader,
    GetMinOffsetRequestHeader, GetRouteInfoRequestHeader, NotifyConsumerIdsChangedRequestHeader,
    OffsetResponseHeader, PullMessageRequestHeader, PullMessageResponseHeader,
    QueryConsumerOffsetRequestHeader, QueryMessageRequestHeader, QueryMessageResponseHeader,
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, SearchOffsetRequestHeader,
    SendMessageRequestHeader, SendMessageResponseHeader, UnregisterBrokerRequestHeader,
    UnregisterClientRequestHeader, UpdateConsumerOffsetRequestHeader, ViewMessageRequestHeader,
};
use apogee_protocol::remoting::{ExtFields, json_header, rocketmq_header};
use libfuzzer_sys::fuzz_target;

/// Every key a typed header reads, so that the synthetic maps reach the value parsers.
#[rustfmt::skip]
const KEYS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
    "acceptStandardJsonOnly", "attributes", "batch", "batchUniqId", "beginTimestamp", "bname",
    "bodyCrc32", "bornTimestamp", "boundaryType", "brokerAddr", "brokerId", "brokerName",
    "clientID", "clusterName", "commitLogOffset", "commitOffset", "commitOrRollback",
    "committed", "compressed", "consumerGroup", "defaultTopic", "defaultTopicQueueNums",
    "delayLevel", "enableActingMaster", "endTimestamp", "expressionType", "flag",
    "forbiddenType", "force", "fromTransactionCheck", "group", "groupSysFlag", "haServerAddr",
    "heartbeatTimeoutMillis", "indexLastUpdatePhyoffset", "indexLastUpdateTimestamp", "key",
    "masterAddr", "maxMsgBytes", "maxMsgNums", "maxNum", "maxOffset", "maxReconsumeTimes",
    "minOffset", "msgId", "nextBeginOffset", "offset", "offsetDelta", "offsetMsgId", "order",
    "originMsgId", "originTopic", "perm", "producerGroup", "properties", "proxyFrowardClientId",
    "queueId", "queueOffset", "readQueueNums", "recallHandle", "reconsumeTimes",
    "requestSource", "setZeroIfNotFound", "subVersion", "subscription", "suggestWhichBrokerId",
    "suspendTimeoutMillis", "sysFlag", "timestamp", "topic", "topicFilterType", "topicSysFlag",
    "tranStateTableOffset", "transactionId", "unitMode", "writeQueueNums",
];

/// A map from `data`: `0xFF`-separated entries, each a key chosen by its first byte and the
/// rest as the value (lossy UTF-8).
fn synthetic(data: &[u8]) -> ExtFields {
    let mut ext = ExtFields::new();
    for entry in data.split(|b| *b == 0xFF) {
        let Some((pick, value)) = entry.split_first() else {
            continue;
        };
        ext.put(
            KEYS[*pick as usize % KEYS.len()],
            String::from_utf8_lossy(value),
        );
    }
    ext
}

/// Decodes `T` from `ext`; if it decodes, its own encoding must decode to the same value.
fn check<T: CommandHeader + PartialEq + std::fmt::Debug>(ext: &ExtFields) {
    if let Ok(header) = T::from_ext(ext) {
        let again = T::from_ext(&header.to_ext()).expect("own encoding decodes");
        assert_eq!(again, header);
    }
}

fn check_all(ext: &ExtFields) {
    if let Ok(header) = SendMessageRequestHeader::from_ext_v2(ext) {
        let again = SendMessageRequestHeader::from_ext_v2(&header.to_ext_v2()).expect("v2");
        assert_eq!(again, header);
    }
    for code in [10, 310, 320] {
        let _ = SendMessageRequestHeader::decode_for_code(code, ext);
    }
    check::<SendMessageRequestHeader>(ext);
    check::<SendMessageResponseHeader>(ext);
    check::<PullMessageRequestHeader>(ext);
    check::<PullMessageResponseHeader>(ext);
    check::<QueryConsumerOffsetRequestHeader>(ext);
    check::<UpdateConsumerOffsetRequestHeader>(ext);
    check::<GetMaxOffsetRequestHeader>(ext);
    check::<GetMinOffsetRequestHeader>(ext);
    check::<SearchOffsetRequestHeader>(ext);
    check::<OffsetResponseHeader>(ext);
    check::<GetConsumerListByGroupRequestHeader>(ext);
    check::<UnregisterClientRequestHeader>(ext);
    check::<NotifyConsumerIdsChangedRequestHeader>(ext);
    check::<ConsumerSendMsgBackRequestHeader>(ext);
    check::<EndTransactionRequestHeader>(ext);
    check::<CheckTransactionStateRequestHeader>(ext);
    check::<QueryMessageRequestHeader>(ext);
    check::<QueryMessageResponseHeader>(ext);
    check::<ViewMessageRequestHeader>(ext);
    check::<CreateTopicRequestHeader>(ext);
    check::<DeleteTopicRequestHeader>(ext);
    check::<GetRouteInfoRequestHeader>(ext);
    check::<RegisterBrokerRequestHeader>(ext);
    check::<RegisterBrokerResponseHeader>(ext);
    check::<UnregisterBrokerRequestHeader>(ext);
    check::<DeleteTopicFromNamesrvRequestHeader>(ext);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = json_header::decode(data) {
        check_all(&cmd.ext_fields);
    }
    if let Ok(cmd) = rocketmq_header::decode(data) {
        check_all(&cmd.ext_fields);
    }
    check_all(&synthetic(data));
});
