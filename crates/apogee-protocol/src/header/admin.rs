//! Topic administration headers: UPDATE_AND_CREATE_TOPIC (17) and DELETE_TOPIC_IN_BROKER
//! (215), and [`TopicFilterType`].

use super::ExtValue;
use crate::body::java_enum::java_enum;
use crate::remoting::ext_fields::ERROR_VALUE_CHARS_MAX;
use crate::remoting::{ExtFieldError, ExtFields};

java_enum! {
    /// How a topic's tags are filtered (`TopicFilterType.java`); sent by name.
    pub enum TopicFilterType {
        /// One tag per message (the default).
        #[default]
        SingleTag = "SINGLE_TAG",
        /// Several tags per message; the broker ORs `MULTI_TAGS` into the sysflag.
        MultiTag = "MULTI_TAG",
    }
}

impl ExtValue for TopicFilterType {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        let Some(value) = ext.optional_str(key) else {
            return Ok(None);
        };
        match Self::from_name(value.trim()) {
            Some(parsed) => Ok(Some(parsed)),
            None => Err(ExtFieldError::Invalid {
                key,
                value: value.chars().take(ERROR_VALUE_CHARS_MAX).collect(),
                expected: "topic filter type",
            }),
        }
    }
    fn write(&self) -> String {
        self.name().to_owned()
    }
}

command_header! {
    /// Creates or updates a topic on a broker (`CreateTopicRequestHeader`).
    pub struct CreateTopicRequestHeader {
        /// The topic.
        required topic: String => "topic",
        /// The template topic (Java requires it; admin tools send `TBW102`).
        required default_topic: String => "defaultTopic",
        /// Readable queue count.
        required read_queue_nums: i32 => "readQueueNums",
        /// Writable queue count.
        required write_queue_nums: i32 => "writeQueueNums",
        /// [`super::PermName`] bits.
        required perm: i32 => "perm",
        /// How tags are filtered.
        required topic_filter_type: TopicFilterType => "topicFilterType",
        /// The topic sysflag.
        optional topic_sys_flag: i32 => "topicSysFlag",
        /// Whether the topic is ordered.
        required order: bool => "order",
        /// 5.x: topic attributes, as Java's `+key=value,…` text.
        optional attributes: String => "attributes",
        /// 5.x: overwrite even if the topic's message type differs.
        optional force: bool => "force",
    }
}

command_header! {
    /// Deletes a topic from a broker (DELETE_TOPIC_IN_BROKER, 215; `DeleteTopicRequestHeader`).
    pub struct DeleteTopicRequestHeader {
        /// The topic.
        required topic: String => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::CommandHeader;
    use crate::header::test_util::{assert_fixture, assert_required, ext};

    /// UPDATE_AND_CREATE_TOPIC as `mqadmin updateTopic` sends it.
    #[test]
    fn create_topic() {
        let fixture = &[
            ("topic", "T1"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "8"),
            ("writeQueueNums", "8"),
            ("perm", "6"),
            ("topicFilterType", "SINGLE_TAG"),
            ("topicSysFlag", "0"),
            ("order", "false"),
        ];
        let header = CreateTopicRequestHeader {
            topic: "T1".into(),
            default_topic: "TBW102".into(),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: Some(0),
            order: false,
            attributes: None,
            force: None,
        };
        assert_fixture(fixture, &header);
        assert_required::<CreateTopicRequestHeader>(
            fixture,
            &[
                "topic",
                "defaultTopic",
                "readQueueNums",
                "writeQueueNums",
                "perm",
                "topicFilterType",
                "order",
            ],
        );
        let mut bad = ext(fixture);
        bad.put("topicFilterType", "NO_TAG");
        assert!(matches!(
            CreateTopicRequestHeader::from_ext(&bad),
            Err(ExtFieldError::Invalid {
                key: "topicFilterType",
                ..
            })
        ));
    }

    /// DELETE_TOPIC_IN_BROKER carries only the topic.
    #[test]
    fn delete_topic() {
        let fixture = &[("topic", "T1")];
        let header = DeleteTopicRequestHeader { topic: "T1".into() };
        assert_fixture(fixture, &header);
        assert_required::<DeleteTopicRequestHeader>(fixture, &["topic"]);
    }
}
