//! Tag expressions (`*`, `TagA || TagB`) turned into the [`SubscriptionData`] heartbeats carry
//! (RocketMQ's `FilterAPI.buildSubscriptionData`), and the client-side tag re-check
//! (`PullAPIWrapper.processPullResult`).

use std::time::{SystemTime, UNIX_EPOCH};

use apogee_protocol::body::SubscriptionData;
use apogee_protocol::body::heartbeat::{EXPRESSION_TYPE_TAG, SUB_ALL};
use apogee_protocol::message::java_hash::java_string_hash;

use super::error::ConsumerError;

/// Builds the subscription of `topic` to a tag expression: `*` (or empty) for every message,
/// else tags separated by `||`, each with its Java `String.hashCode` in `codeSet`.
///
/// # Errors
/// [`ConsumerError::InvalidExpression`] for an expression with separators but no tag, and an
/// invalid topic name.
pub fn build_subscription(
    topic: &str,
    expression: &str,
) -> Result<SubscriptionData, ConsumerError> {
    apogee_protocol::names::validate_topic(topic)?;
    let expression = expression.trim();
    let mut data = SubscriptionData {
        topic: topic.to_owned(),
        sub_version: now_ms(),
        expression_type: EXPRESSION_TYPE_TAG.to_owned(),
        ..SubscriptionData::default()
    };
    if expression.is_empty() || expression == SUB_ALL {
        data.sub_string = SUB_ALL.to_owned();
        return Ok(data);
    }
    data.sub_string = expression.to_owned();
    for tag in expression
        .split("||")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if tag == SUB_ALL {
            return Err(ConsumerError::InvalidExpression {
                topic: topic.to_owned(),
                expression: expression.to_owned(),
                reason: "`*` cannot be combined with tags",
            });
        }
        if !data.tags_set.iter().any(|t| t == tag) {
            data.tags_set.push(tag.to_owned());
            data.code_set.push(java_string_hash(tag));
        }
    }
    if data.tags_set.is_empty() {
        return Err(ConsumerError::InvalidExpression {
            topic: topic.to_owned(),
            expression: expression.to_owned(),
            reason: "no tag between the `||` separators",
        });
    }
    Ok(data)
}

/// Whether a message with `tags` passes `subscription` on the client: everything passes `*`;
/// otherwise the tag must be one of the subscribed ones (a message without a tag does not
/// pass), as the Java client re-checks after the broker's hash-code filter.
#[must_use]
pub fn tags_match(subscription: &SubscriptionData, tags: Option<&str>) -> bool {
    if subscription.tags_set.is_empty() || subscription.class_filter_mode {
        return true;
    }
    tags.is_some_and(|t| subscription.tags_set.iter().any(|s| s == t))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `*` and empty subscribe to everything; tags are trimmed, deduplicated and hashed.
    #[test]
    fn expressions() {
        let all = build_subscription("T", "*").expect("all");
        assert_eq!(all.sub_string, "*");
        assert!(all.tags_set.is_empty() && all.code_set.is_empty());
        assert_eq!(build_subscription("T", " ").expect("empty").sub_string, "*");

        let two = build_subscription("T", "TagA || TagB ||TagA").expect("tags");
        assert_eq!(two.sub_string, "TagA || TagB ||TagA");
        assert_eq!(two.tags_set, vec!["TagA", "TagB"]);
        assert_eq!(two.code_set, vec![2_598_919, 2_598_920]);
        assert_eq!(two.expression_type, "TAG");
        assert!(two.sub_version > 0);

        assert!(build_subscription("T", "||").is_err());
        assert!(build_subscription("T", "TagA || *").is_err());
        assert!(build_subscription("bad topic", "*").is_err());
    }

    /// The client-side check: `*` passes all, tags must match exactly, no tag fails.
    #[test]
    fn client_side_check() {
        let all = build_subscription("T", "*").expect("all");
        assert!(tags_match(&all, None));
        let two = build_subscription("T", "TagA || TagB").expect("tags");
        assert!(tags_match(&two, Some("TagB")));
        assert!(!tags_match(&two, Some("TagC")));
        assert!(!tags_match(&two, None));
    }
}
