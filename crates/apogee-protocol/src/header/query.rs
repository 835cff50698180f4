//! Message lookup headers: QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33).

/// The extFields key that marks a QUERY_MESSAGE as a `UNIQ_KEY` lookup
/// (`MixAll.UNIQUE_MSG_QUERY_FLAG`); its value is `"true"`. It sits beside the header's
/// fields rather than in it, as in Java.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

command_header! {
    /// Looks messages up by key in the index (`QueryMessageRequestHeader`).
    pub struct QueryMessageRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// The message key (or `UNIQ_KEY` with [`UNIQUE_KEY_QUERY`]).
        required key: String => "key",
        /// The most messages to return.
        required max_num: i32 => "maxNum",
        /// The earliest store time, ms since the epoch.
        required begin_timestamp: i64 => "beginTimestamp",
        /// The latest store time, ms since the epoch.
        required end_timestamp: i64 => "endTimestamp",
    }
}

command_header! {
    /// The answer to QUERY_MESSAGE (`QueryMessageResponseHeader`); the body is the
    /// concatenated records.
    pub struct QueryMessageResponseHeader {
        /// When the index was last updated, ms since the epoch.
        required index_last_update_timestamp: i64 => "indexLastUpdateTimestamp",
        /// The commit-log offset the index has reached.
        required index_last_update_phyoffset: i64 => "indexLastUpdatePhyoffset",
    }
}

command_header! {
    /// Reads one record by commit-log offset (`ViewMessageRequestHeader`).
    pub struct ViewMessageRequestHeader {
        /// The commit-log offset, decoded from the offset msgId.
        required offset: i64 => "offset",
        /// 5.x: the topic.
        optional topic: String => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::CommandHeader;
    use crate::header::test_util::{assert_fixture, assert_required, ext};

    /// QUERY_MESSAGE decodes with the unique-key flag beside it, which it ignores.
    #[test]
    fn query_message() {
        let fixture = &[
            ("topic", "T1"),
            ("key", "order-1"),
            ("maxNum", "32"),
            ("beginTimestamp", "0"),
            ("endTimestamp", "9223372036854775807"),
        ];
        let header = QueryMessageRequestHeader {
            topic: "T1".into(),
            key: "order-1".into(),
            max_num: 32,
            begin_timestamp: 0,
            end_timestamp: i64::MAX,
        };
        assert_fixture(fixture, &header);
        assert_required::<QueryMessageRequestHeader>(
            fixture,
            &["topic", "key", "maxNum", "beginTimestamp", "endTimestamp"],
        );
        let mut flagged = ext(fixture);
        flagged.put(UNIQUE_KEY_QUERY, "true");
        assert_eq!(QueryMessageRequestHeader::from_ext(&flagged), Ok(header));
    }

    /// The QUERY_MESSAGE answer and VIEW_MESSAGE_BY_ID match Java's fields.
    #[test]
    fn query_response_and_view() {
        let fixture = &[
            ("indexLastUpdateTimestamp", "1700000000000"),
            ("indexLastUpdatePhyoffset", "65536"),
        ];
        let header = QueryMessageResponseHeader {
            index_last_update_timestamp: 1_700_000_000_000,
            index_last_update_phyoffset: 65536,
        };
        assert_fixture(fixture, &header);
        assert_required::<QueryMessageResponseHeader>(
            fixture,
            &["indexLastUpdateTimestamp", "indexLastUpdatePhyoffset"],
        );
        let view = &[("offset", "4096"), ("topic", "T1")];
        let header = ViewMessageRequestHeader {
            offset: 4096,
            topic: Some("T1".into()),
        };
        assert_fixture(view, &header);
        assert_required::<ViewMessageRequestHeader>(view, &["offset"]);
    }
}
