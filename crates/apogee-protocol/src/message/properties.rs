//! Message properties: RocketMQ's `name 0x01 value 0x02` list, and the well-known keys.
//!
//! Properties travel and are stored in their encoded form (the send header's `properties`
//! field, the record's PROPERTIES field), so the broker and store read them with [`get`] and
//! [`iter`] without building a map.

/// Separates a property's name from its value.
pub const NAME_VALUE_SEPARATOR: char = '\u{1}';
/// Ends each name/value pair, including the last.
pub const PROPERTY_SEPARATOR: char = '\u{2}';
/// Largest encoded property list: the record stores its length as an `i16`.
pub const PROPERTIES_BYTES_MAX: usize = i16::MAX as usize;

/// Business keys, separated by [`KEY_SEPARATOR`]; indexed by the store.
pub const KEYS: &str = "KEYS";
/// Separator between the keys of [`KEYS`].
pub const KEY_SEPARATOR: char = ' ';
/// The message tag; its Java hash is the consume-queue tag code.
pub const TAGS: &str = "TAGS";
/// The client-generated unique id (the Java `SendResult.msgId`); indexed by the store.
pub const UNIQ_KEY: &str = "UNIQ_KEY";
/// `"false"` lets the sender skip waiting for flush or replication; absent means `"true"`.
pub const WAIT: &str = "WAIT";
/// Delay level (1..=18).
pub const DELAY: &str = "DELAY";
/// Original topic of a retried message.
pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
/// Real destination topic while parked in a schedule or half topic.
pub const REAL_TOPIC: &str = "REAL_TOPIC";
/// Real destination queue while parked in a schedule or half topic.
pub const REAL_QID: &str = "REAL_QID";
/// `"true"` on a transactional half message.
pub const TRAN_MSG: &str = "TRAN_MSG";
/// Producer group of a transactional message, for check-back.
pub const PGROUP: &str = "PGROUP";
/// First message id of a retried message.
pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
/// Broker cluster name, added by the broker.
pub const CLUSTER: &str = "CLUSTER";
/// Transaction id (equal to [`UNIQ_KEY`]) on half messages.
pub const TRANSACTION_ID: &str = "__transactionId__";

/// Encodes name/value pairs; a pair with an empty name or value is skipped, as Java does.
///
/// The caller must keep the result within [`PROPERTIES_BYTES_MAX`] before storing it.
#[must_use]
pub fn encode<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (name, value) in pairs {
        if name.is_empty() || value.is_empty() {
            continue;
        }
        out.push_str(name);
        out.push(NAME_VALUE_SEPARATOR);
        out.push_str(value);
        out.push(PROPERTY_SEPARATOR);
    }
    out
}

/// Iterates the pairs of an encoded list in order, skipping malformed segments as Java does
/// (no separator, an empty name or an empty value).
pub fn iter(encoded: &str) -> impl Iterator<Item = (&str, &str)> {
    encoded.split(PROPERTY_SEPARATOR).filter_map(|segment| {
        let (name, value) = segment.split_once(NAME_VALUE_SEPARATOR)?;
        (!name.is_empty() && !value.is_empty()).then_some((name, value))
    })
}

/// The value of `name`; when a name repeats, the last one wins (as Java's map does).
#[must_use]
pub fn get<'a>(encoded: &'a str, name: &str) -> Option<&'a str> {
    iter(encoded)
        .filter(|(n, _)| *n == name)
        .last()
        .map(|(_, v)| v)
}

/// Whether the sender waits for flush/replication: [`WAIT`] absent or anything but `"false"`.
#[must_use]
pub fn wait_store_ok(encoded: &str) -> bool {
    get(encoded, WAIT) != Some("false")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoding puts a 0x02 after every pair and reads back the same pairs.
    #[test]
    fn round_trip_and_layout() {
        let enc = encode([("TAGS", "TagA"), ("KEYS", "k1 k2"), ("EMPTY", "")]);
        assert_eq!(enc, "TAGS\u{1}TagA\u{2}KEYS\u{1}k1 k2\u{2}");
        let pairs: Vec<_> = iter(&enc).collect();
        assert_eq!(pairs, vec![("TAGS", "TagA"), ("KEYS", "k1 k2")]);
        assert_eq!(get(&enc, TAGS), Some("TagA"));
        assert_eq!(get(&enc, UNIQ_KEY), None);
    }

    /// Malformed segments are ignored; a repeated name keeps the last value; WAIT defaults on.
    #[test]
    fn lenient_parsing() {
        let enc = "junk\u{2}\u{1}v\u{2}A\u{1}1\u{2}A\u{1}2\u{2}WAIT\u{1}false\u{2}";
        assert_eq!(get(enc, "A"), Some("2"));
        assert_eq!(iter(enc).count(), 3);
        assert!(!wait_store_ok(enc));
        assert!(wait_store_ok(""));
        assert!(wait_store_ok("WAIT\u{1}true\u{2}"));
    }
}
