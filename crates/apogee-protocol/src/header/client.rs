//! Client membership headers: UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38),
//! NOTIFY_CONSUMER_IDS_CHANGED (40, broker → consumer), and CONSUMER_SEND_MSG_BACK (36).

command_header! {
    /// Lists the client ids of a consumer group (`GetConsumerListByGroupRequestHeader`); the
    /// answer is a [`crate::body::ConsumerListBody`].
    pub struct GetConsumerListByGroupRequestHeader {
        /// The consumer group.
        required consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// A client leaving its groups (`UnregisterClientRequestHeader`).
    pub struct UnregisterClientRequestHeader {
        /// The client id, `ip@instance` (the key is `clientID`, upper-case `ID`, as in Java).
        required client_id: String => "clientID",
        /// The producer group being left, if any.
        optional producer_group: String => "producerGroup",
        /// The consumer group being left, if any.
        optional consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// Broker → consumer, oneway: the group's membership or subscription changed, rebalance
    /// now (`NotifyConsumerIdsChangedRequestHeader`).
    pub struct NotifyConsumerIdsChangedRequestHeader {
        /// The consumer group that changed.
        required consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// A consumer hands a message back for retry or the dead-letter queue
    /// (`ConsumerSendMsgBackRequestHeader`).
    pub struct ConsumerSendMsgBackRequestHeader {
        /// The message's commit-log (physical) offset.
        required offset: i64 => "offset",
        /// The consumer group.
        required group: String => "group",
        /// The delay level: 0 lets the broker choose, −1 sends straight to the DLQ.
        required delay_level: i32 => "delayLevel",
        /// The original message id (offset id).
        optional origin_msg_id: String => "originMsgId",
        /// The original topic.
        optional origin_topic: String => "originTopic",
        /// Unit mode; Java always sends it (a primitive), `false` by default.
        optional unit_mode: bool => "unitMode",
        /// Retries allowed before the DLQ; honoured for request versions ≥ V3_4_9.
        optional max_reconsume_times: i32 => "maxReconsumeTimes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::test_util::{assert_fixture, assert_invalid, assert_required};

    /// The one-field group headers carry `consumerGroup`.
    #[test]
    fn group_headers() {
        let fixture = &[("consumerGroup", "g1")];
        let list = GetConsumerListByGroupRequestHeader {
            consumer_group: "g1".into(),
        };
        assert_fixture(fixture, &list);
        assert_required::<GetConsumerListByGroupRequestHeader>(fixture, &["consumerGroup"]);
        let notify = NotifyConsumerIdsChangedRequestHeader {
            consumer_group: "g1".into(),
        };
        assert_fixture(fixture, &notify);
        assert_required::<NotifyConsumerIdsChangedRequestHeader>(fixture, &["consumerGroup"]);
    }

    /// UNREGISTER_CLIENT uses the key `clientID`; the groups are optional.
    #[test]
    fn unregister_client() {
        let fixture = &[
            ("clientID", "10.0.0.5@12345#98765432100"),
            ("consumerGroup", "g1"),
        ];
        let header = UnregisterClientRequestHeader {
            client_id: "10.0.0.5@12345#98765432100".into(),
            producer_group: None,
            consumer_group: Some("g1".into()),
        };
        assert_fixture(fixture, &header);
        assert_required::<UnregisterClientRequestHeader>(fixture, &["clientID"]);
    }

    /// CONSUMER_SEND_MSG_BACK as a 4.9.8 push consumer sends it.
    #[test]
    fn send_msg_back() {
        let fixture = &[
            ("offset", "123456"),
            ("group", "g1"),
            ("delayLevel", "0"),
            ("originMsgId", "0A0000010000291F000000000001E240"),
            ("originTopic", "T1"),
            ("unitMode", "false"),
            ("maxReconsumeTimes", "16"),
        ];
        let header = ConsumerSendMsgBackRequestHeader {
            offset: 123_456,
            group: "g1".into(),
            delay_level: 0,
            origin_msg_id: Some("0A0000010000291F000000000001E240".into()),
            origin_topic: Some("T1".into()),
            unit_mode: Some(false),
            max_reconsume_times: Some(16),
        };
        assert_fixture(fixture, &header);
        assert_required::<ConsumerSendMsgBackRequestHeader>(
            fixture,
            &["offset", "group", "delayLevel"],
        );
        assert_invalid::<ConsumerSendMsgBackRequestHeader>(fixture, "delayLevel");
    }
}
