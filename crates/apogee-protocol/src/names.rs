//! Topic and group names: RocketMQ's validation rules and its well-known system names.

use crate::error::NameError;

/// Longest topic name (RocketMQ `TopicValidator.TOPIC_MAX_LENGTH`); longer names would need the
/// V2 record layout, which 4.x clients cannot decode.
pub const TOPIC_BYTES_MAX: usize = 127;
/// Longest consumer or producer group name (RocketMQ `Validators.CHARACTER_MAX_LENGTH`).
pub const GROUP_BYTES_MAX: usize = 255;

/// The template topic that producers fall back to for auto-creation.
pub const AUTO_CREATE_TOPIC_TEMPLATE: &str = "TBW102";
/// Prefix of a consumer group's retry topic: `%RETRY%<group>`.
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
/// Prefix of a consumer group's dead-letter topic: `%DLQ%<group>`.
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
/// Where delayed messages wait for their delivery time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
/// Transactional half messages.
pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
/// Transactional op ("done") records.
pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
/// Half messages that exhausted their check-backs.
pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";

/// The broker self-test topic.
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
/// Where brokers report consumer offsets moved by PULL_OFFSET_MOVED.
pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";

/// System topics that no client may send to (RocketMQ `TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`):
/// only the broker itself writes them.
pub const NOT_ALLOWED_SEND_TOPICS: [&str; 6] = [
    SCHEDULE_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
];

/// Whether clients are forbidden to send to `topic` (see [`NOT_ALLOWED_SEND_TOPICS`]).
#[must_use]
pub fn is_not_allowed_send_topic(topic: &str) -> bool {
    NOT_ALLOWED_SEND_TOPICS.contains(&topic)
}

/// The retry topic of `group`.
#[must_use]
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// The dead-letter topic of `group`.
#[must_use]
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-')
}

fn validate(kind: &'static str, name: &str, max: usize) -> Result<(), NameError> {
    if name.trim().is_empty() {
        return Err(NameError::Empty { kind });
    }
    if let Some(bad) = name.chars().find(|&c| !allowed(c)) {
        return Err(NameError::BadCharacter {
            kind,
            name: name.to_owned(),
            bad,
        });
    }
    if name.len() > max {
        return Err(NameError::TooLong {
            kind,
            name: name.to_owned(),
            len: name.len(),
            max,
        });
    }
    Ok(())
}

/// Checks a topic name: non-empty, at most [`TOPIC_BYTES_MAX`] bytes of `[%|a-zA-Z0-9_-]`.
///
/// # Errors
/// The [`NameError`] naming the first rule broken.
pub fn validate_topic(name: &str) -> Result<(), NameError> {
    validate("topic", name, TOPIC_BYTES_MAX)
}

/// Checks a group name: non-empty, at most [`GROUP_BYTES_MAX`] bytes of `[%|a-zA-Z0-9_-]`.
///
/// # Errors
/// The [`NameError`] naming the first rule broken.
pub fn validate_group(name: &str) -> Result<(), NameError> {
    validate("group", name, GROUP_BYTES_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid names pass; each broken rule gets its own error.
    #[test]
    fn rules() {
        assert_eq!(validate_topic("Order_Topic-1"), Ok(()));
        assert_eq!(validate_topic("%RETRY%g|x"), Ok(()));
        assert_eq!(validate_topic(&"a".repeat(127)), Ok(()));
        assert!(matches!(validate_topic(""), Err(NameError::Empty { .. })));
        assert!(matches!(validate_topic("  "), Err(NameError::Empty { .. })));
        assert!(matches!(
            validate_topic(&"a".repeat(128)),
            Err(NameError::TooLong { len: 128, .. })
        ));
        assert!(matches!(
            validate_topic("a b"),
            Err(NameError::BadCharacter { bad: ' ', .. })
        ));
        assert!(matches!(
            validate_topic("topic.v1"),
            Err(NameError::BadCharacter { bad: '.', .. })
        ));
        assert_eq!(validate_group(&"g".repeat(255)), Ok(()));
        assert!(validate_group(&"g".repeat(256)).is_err());
        assert_eq!(retry_topic("g"), "%RETRY%g");
        assert_eq!(dlq_topic("g"), "%DLQ%g");
        assert!(is_not_allowed_send_topic(SCHEDULE_TOPIC));
        assert!(is_not_allowed_send_topic("RMQ_SYS_TRANS_HALF_TOPIC"));
        assert!(!is_not_allowed_send_topic("TopicTest"));
    }
}
