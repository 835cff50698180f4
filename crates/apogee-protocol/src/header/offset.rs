//! Consumer-offset and queue-offset headers: QUERY_CONSUMER_OFFSET (14),
//! UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30) and
//! GET_MIN_OFFSET (31).

use super::ExtValue;
use crate::remoting::{ExtFieldError, ExtFields};

command_header! {
    /// Asks for a group's committed offset of a queue (`QueryConsumerOffsetRequestHeader`).
    pub struct QueryConsumerOffsetRequestHeader {
        /// The consumer group.
        required consumer_group: String => "consumerGroup",
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
        /// 5.x: answer 0 instead of QUERY_NOT_FOUND when no offset is stored.
        optional set_zero_if_not_found: bool => "setZeroIfNotFound",
    }
}

command_header! {
    /// Commits a group's offset of a queue (`UpdateConsumerOffsetRequestHeader`); usually
    /// oneway.
    pub struct UpdateConsumerOffsetRequestHeader {
        /// The consumer group.
        required consumer_group: String => "consumerGroup",
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
        /// The offset to store (the next message to consume).
        required commit_offset: i64 => "commitOffset",
    }
}

command_header! {
    /// Asks for a queue's max offset, the next offset to be written (`GetMaxOffsetRequestHeader`).
    pub struct GetMaxOffsetRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
        /// 5.x: count only committed (replicated) messages; absent means true.
        optional committed: bool => "committed",
    }
}

command_header! {
    /// Asks for a queue's min offset (`GetMinOffsetRequestHeader`).
    pub struct GetMinOffsetRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
    }
}

command_header! {
    /// Finds the queue offset of the first message stored at or after a time
    /// (`SearchOffsetRequestHeader`).
    pub struct SearchOffsetRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// The queue.
        required queue_id: i32 => "queueId",
        /// The time, in ms since the epoch.
        required timestamp: i64 => "timestamp",
        /// 5.x: which end of a run of equal timestamps to answer; absent means lower.
        optional boundary_type: BoundaryType => "boundaryType",
    }
}

command_header! {
    /// The answer to every offset request: one offset (`QueryConsumerOffsetResponseHeader`,
    /// `GetMaxOffsetResponseHeader`, `GetMinOffsetResponseHeader`,
    /// `SearchOffsetResponseHeader` all have exactly this shape).
    pub struct OffsetResponseHeader {
        /// The offset.
        required offset: i64 => "offset",
    }
}

/// The answer to QUERY_CONSUMER_OFFSET.
pub type QueryConsumerOffsetResponseHeader = OffsetResponseHeader;
/// The answer to GET_MAX_OFFSET.
pub type GetMaxOffsetResponseHeader = OffsetResponseHeader;
/// The answer to GET_MIN_OFFSET.
pub type GetMinOffsetResponseHeader = OffsetResponseHeader;
/// The answer to SEARCH_OFFSET_BY_TIMESTAMP.
pub type SearchOffsetResponseHeader = OffsetResponseHeader;

/// Which offset a timestamp search returns when several messages share the time (5.x
/// `BoundaryType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum BoundaryType {
    /// The first matching message (the 4.x behaviour).
    #[default]
    Lower,
    /// The last matching message.
    Upper,
}

impl BoundaryType {
    /// The Java enum name, which is what `toString()` puts on the wire.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Lower => "LOWER",
            Self::Upper => "UPPER",
        }
    }

    /// Parses as Java's `BoundaryType.getType`: `upper` in any case is [`Self::Upper`],
    /// anything else [`Self::Lower`].
    #[must_use]
    pub fn parse_lenient(value: &str) -> Self {
        if value.trim().eq_ignore_ascii_case("upper") {
            Self::Upper
        } else {
            Self::Lower
        }
    }
}

impl ExtValue for BoundaryType {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        Ok(ext.optional_str(key).map(Self::parse_lenient))
    }
    fn write(&self) -> String {
        self.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::test_util::{assert_fixture, assert_invalid, assert_required};

    /// QUERY_CONSUMER_OFFSET and UPDATE_CONSUMER_OFFSET match Java's fields.
    #[test]
    fn consumer_offsets() {
        let query = &[("consumerGroup", "g1"), ("topic", "T1"), ("queueId", "3")];
        let header = QueryConsumerOffsetRequestHeader {
            consumer_group: "g1".into(),
            topic: "T1".into(),
            queue_id: 3,
            set_zero_if_not_found: None,
        };
        assert_fixture(query, &header);
        assert_required::<QueryConsumerOffsetRequestHeader>(
            query,
            &["consumerGroup", "topic", "queueId"],
        );
        let update = &[
            ("consumerGroup", "g1"),
            ("topic", "T1"),
            ("queueId", "3"),
            ("commitOffset", "42"),
        ];
        let header = UpdateConsumerOffsetRequestHeader {
            consumer_group: "g1".into(),
            topic: "T1".into(),
            queue_id: 3,
            commit_offset: 42,
        };
        assert_fixture(update, &header);
        assert_required::<UpdateConsumerOffsetRequestHeader>(
            update,
            &["consumerGroup", "topic", "queueId", "commitOffset"],
        );
        assert_invalid::<UpdateConsumerOffsetRequestHeader>(update, "commitOffset");
    }

    /// GET_MAX_OFFSET, GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP match Java's fields,
    /// including the 5.x optional keys.
    #[test]
    fn queue_offsets() {
        let max = &[("topic", "T1"), ("queueId", "0"), ("committed", "true")];
        let header = GetMaxOffsetRequestHeader {
            topic: "T1".into(),
            queue_id: 0,
            committed: Some(true),
        };
        assert_fixture(max, &header);
        assert_required::<GetMaxOffsetRequestHeader>(max, &["topic", "queueId"]);
        let min = &[("topic", "T1"), ("queueId", "0")];
        let header = GetMinOffsetRequestHeader {
            topic: "T1".into(),
            queue_id: 0,
        };
        assert_fixture(min, &header);
        assert_required::<GetMinOffsetRequestHeader>(min, &["topic", "queueId"]);
        let search = &[
            ("topic", "T1"),
            ("queueId", "0"),
            ("timestamp", "1700000000000"),
            ("boundaryType", "UPPER"),
        ];
        let header = SearchOffsetRequestHeader {
            topic: "T1".into(),
            queue_id: 0,
            timestamp: 1_700_000_000_000,
            boundary_type: Some(BoundaryType::Upper),
        };
        assert_fixture(search, &header);
        assert_required::<SearchOffsetRequestHeader>(search, &["topic", "queueId", "timestamp"]);
    }

    /// Every offset answer is `{offset}`; the boundary type parses like Java's `getType`.
    #[test]
    fn offset_response_and_boundary() {
        assert_fixture(&[("offset", "-1")], &OffsetResponseHeader { offset: -1 });
        assert_required::<OffsetResponseHeader>(&[("offset", "5")], &["offset"]);
        assert_eq!(BoundaryType::parse_lenient("upper"), BoundaryType::Upper);
        assert_eq!(BoundaryType::parse_lenient("LOWER"), BoundaryType::Lower);
        assert_eq!(BoundaryType::parse_lenient("sideways"), BoundaryType::Lower);
    }
}
