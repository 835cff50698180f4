//! PULL_MESSAGE (11) headers and the pull sysflag bits.

command_header! {
    /// The request header of a pull (`PullMessageRequestHeader`).
    pub struct PullMessageRequestHeader {
        /// The consumer group pulling.
        required consumer_group: String => "consumerGroup",
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
        /// The consume-queue offset to read from.
        required queue_offset: i64 => "queueOffset",
        /// The most messages to return; the client's `pullBatchSize` defaults to 32.
        required max_msg_nums: i32 => "maxMsgNums",
        /// [`PullSysFlag`] bits.
        required sys_flag: i32 => "sysFlag",
        /// The consumer's committed offset, piggy-backed; stored only with
        /// [`PullSysFlag::COMMIT_OFFSET`].
        required commit_offset: i64 => "commitOffset",
        /// How long the broker may hold the pull when nothing is there; clients send 15000 ms.
        required suspend_timeout_millis: i64 => "suspendTimeoutMillis",
        /// The subscription expression; only meaningful with [`PullSysFlag::SUBSCRIPTION`].
        optional subscription: String => "subscription",
        /// The version (timestamp) of the client's subscription.
        required sub_version: i64 => "subVersion",
        /// `TAG` or `SQL92`.
        optional expression_type: String => "expressionType",
        /// 5.x: the most bytes to return.
        optional max_msg_bytes: i32 => "maxMsgBytes",
        /// 5.x: where the request came from (proxy use).
        optional request_source: i32 => "requestSource",
        /// 5.x: the client a proxy pulls for (the key's misspelling is Java's).
        optional proxy_forward_client_id: String => "proxyFrowardClientId",
    }
}

impl PullMessageRequestHeader {
    /// The request's sysflag as [`PullSysFlag`].
    #[must_use]
    pub fn pull_sys_flag(&self) -> PullSysFlag {
        PullSysFlag(self.sys_flag)
    }
}

command_header! {
    /// The response header of a pull (`PullMessageResponseHeader`), sent with every pull
    /// status, found or not.
    pub struct PullMessageResponseHeader {
        /// The broker id the client should pull from next (0 = master).
        required suggest_which_broker_id: i64 => "suggestWhichBrokerId",
        /// The offset to pull from next.
        required next_begin_offset: i64 => "nextBeginOffset",
        /// The queue's min offset.
        required min_offset: i64 => "minOffset",
        /// The queue's max offset (the next offset to be written).
        required max_offset: i64 => "maxOffset",
        /// 5.x static topics: the logical offset delta.
        optional offset_delta: i64 => "offsetDelta",
        /// 5.x: the topic's sysflag.
        optional topic_sys_flag: i32 => "topicSysFlag",
        /// 5.x: the group's sysflag.
        optional group_sys_flag: i32 => "groupSysFlag",
        /// 5.x: why the pull was forbidden.
        optional forbidden_type: i32 => "forbiddenType",
    }
}

/// The `sysFlag` of a pull request (`PullSysFlag.java`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PullSysFlag(pub i32);

impl PullSysFlag {
    /// The broker may store the request's `commitOffset`; cleared when pulling from a slave.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// The broker may hold the request (long polling) when there is nothing to return.
    pub const SUSPEND: i32 = 0x2;
    /// Use the request's `subscription` instead of the one registered by heartbeat.
    pub const SUBSCRIPTION: i32 = 0x4;
    /// Class filter mode (deprecated upstream).
    pub const CLASS_FILTER: i32 = 0x8;
    /// The request comes from a lite pull consumer.
    pub const LITE_PULL: i32 = 0x10;

    /// Builds a flag from its parts, as Java's `buildSysFlag`.
    #[must_use]
    pub fn build(
        commit_offset: bool,
        suspend: bool,
        subscription: bool,
        class_filter: bool,
    ) -> Self {
        let bit = |on: bool, bit: i32| if on { bit } else { 0 };
        Self(
            bit(commit_offset, Self::COMMIT_OFFSET)
                | bit(suspend, Self::SUSPEND)
                | bit(subscription, Self::SUBSCRIPTION)
                | bit(class_filter, Self::CLASS_FILTER),
        )
    }

    /// Whether every bit of `bits` is set.
    #[must_use]
    pub fn has(self, bits: i32) -> bool {
        self.0 & bits == bits
    }

    /// Whether [`Self::COMMIT_OFFSET`] is set.
    #[must_use]
    pub fn has_commit_offset(self) -> bool {
        self.has(Self::COMMIT_OFFSET)
    }

    /// Whether [`Self::SUSPEND`] is set.
    #[must_use]
    pub fn has_suspend(self) -> bool {
        self.has(Self::SUSPEND)
    }

    /// Whether [`Self::SUBSCRIPTION`] is set.
    #[must_use]
    pub fn has_subscription(self) -> bool {
        self.has(Self::SUBSCRIPTION)
    }

    /// Whether [`Self::CLASS_FILTER`] is set.
    #[must_use]
    pub fn has_class_filter(self) -> bool {
        self.has(Self::CLASS_FILTER)
    }

    /// Whether [`Self::LITE_PULL`] is set.
    #[must_use]
    pub fn has_lite_pull(self) -> bool {
        self.has(Self::LITE_PULL)
    }

    /// The flag with `bits` set.
    #[must_use]
    pub fn with(self, bits: i32) -> Self {
        Self(self.0 | bits)
    }

    /// The flag with `bits` cleared (e.g. [`Self::COMMIT_OFFSET`] for a slave pull).
    #[must_use]
    pub fn without(self, bits: i32) -> Self {
        Self(self.0 & !bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::test_util::{assert_fixture, assert_invalid, assert_required};

    /// What a Java push consumer sends: commit-offset and suspend bits, no subscription.
    const REQUEST: &[(&str, &str)] = &[
        ("consumerGroup", "g1"),
        ("topic", "T1"),
        ("queueId", "1"),
        ("queueOffset", "120"),
        ("maxMsgNums", "32"),
        ("sysFlag", "3"),
        ("commitOffset", "118"),
        ("suspendTimeoutMillis", "15000"),
        ("subVersion", "1700000000000"),
        ("expressionType", "TAG"),
    ];

    /// The pull request decodes from Java's fixture, round-trips and names missing keys.
    #[test]
    fn request_fixture() {
        let header = PullMessageRequestHeader {
            consumer_group: "g1".into(),
            topic: "T1".into(),
            queue_id: 1,
            queue_offset: 120,
            max_msg_nums: 32,
            sys_flag: 3,
            commit_offset: 118,
            suspend_timeout_millis: 15000,
            sub_version: 1_700_000_000_000,
            expression_type: Some("TAG".into()),
            ..PullMessageRequestHeader::default()
        };
        assert_fixture(REQUEST, &header);
        assert_required::<PullMessageRequestHeader>(
            REQUEST,
            &[
                "consumerGroup",
                "topic",
                "queueId",
                "queueOffset",
                "maxMsgNums",
                "sysFlag",
                "commitOffset",
                "suspendTimeoutMillis",
                "subVersion",
            ],
        );
        assert_invalid::<PullMessageRequestHeader>(REQUEST, "queueOffset");
        let flag = header.pull_sys_flag();
        assert!(flag.has_commit_offset() && flag.has_suspend() && !flag.has_subscription());
    }

    /// The response header carries the four offsets Java always writes.
    #[test]
    fn response_fixture() {
        let fixture = &[
            ("suggestWhichBrokerId", "0"),
            ("nextBeginOffset", "121"),
            ("minOffset", "0"),
            ("maxOffset", "121"),
        ];
        let header = PullMessageResponseHeader {
            next_begin_offset: 121,
            max_offset: 121,
            ..PullMessageResponseHeader::default()
        };
        assert_fixture(fixture, &header);
        assert_required::<PullMessageResponseHeader>(
            fixture,
            &[
                "suggestWhichBrokerId",
                "nextBeginOffset",
                "minOffset",
                "maxOffset",
            ],
        );
    }

    /// The flag helpers match Java's `buildSysFlag` and `clearCommitOffsetFlag`.
    #[test]
    fn sys_flag_bits() {
        assert_eq!(PullSysFlag::build(true, true, false, false), PullSysFlag(3));
        assert_eq!(PullSysFlag::build(true, true, true, true), PullSysFlag(0xF));
        let flag = PullSysFlag(3).without(PullSysFlag::COMMIT_OFFSET);
        assert_eq!(flag, PullSysFlag(2));
        assert!(flag.has_suspend() && !flag.has_commit_offset());
        let lite = flag.with(PullSysFlag::LITE_PULL);
        assert!(lite.has_lite_pull() && !lite.has_class_filter());
    }
}
