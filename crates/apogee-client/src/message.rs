//! Messages as the application sees them: [`Message`] to send, [`MessageExt`] as received,
//! and [`MessageQueue`], one queue of a topic on one broker.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use apogee_protocol::DecodeError;
use apogee_protocol::message::properties::{self, KEY_SEPARATOR, KEYS, TAGS, UNIQ_KEY};
use apogee_protocol::message::{message_id, record};
use bytes::Bytes;

pub use apogee_protocol::body::MessageQueue;

/// A message to send (RocketMQ's `Message`): topic, body, flag and properties, of which tags
/// and keys are two well-known ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The destination topic.
    pub topic: String,
    /// The payload.
    pub body: Bytes,
    /// An application flag stored with the message, untouched by the broker.
    pub flag: i32,
    /// Properties, user-defined and system ones (`TAGS`, `KEYS`, ...).
    pub properties: BTreeMap<String, String>,
}

impl Message {
    /// A message for `topic` with `body` and no properties.
    #[must_use]
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            topic: topic.into(),
            body: body.into(),
            flag: 0,
            properties: BTreeMap::new(),
        }
    }

    /// Sets the tag consumers filter on (`TAGS`).
    #[must_use]
    pub fn with_tags(mut self, tags: impl Into<String>) -> Self {
        self.properties.insert(TAGS.to_owned(), tags.into());
        self
    }

    /// Sets the keys the message can be found by (`KEYS`, space-separated).
    #[must_use]
    pub fn with_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = keys
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>()
            .join(&KEY_SEPARATOR.to_string());
        self.properties.insert(KEYS.to_owned(), joined);
        self
    }

    /// Sets a user property.
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    /// Sets the application flag.
    #[must_use]
    pub fn with_flag(mut self, flag: i32) -> Self {
        self.flag = flag;
        self
    }

    /// The tag, if set.
    #[must_use]
    pub fn tags(&self) -> Option<&str> {
        self.properties.get(TAGS).map(String::as_str)
    }

    /// The keys, if any.
    #[must_use]
    pub fn keys(&self) -> Vec<&str> {
        split_keys(self.properties.get(KEYS).map(String::as_str))
    }

    /// A property by name.
    #[must_use]
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// The properties in RocketMQ's wire form (`name\x01value\x02...`).
    #[must_use]
    pub fn encoded_properties(&self) -> String {
        properties::encode(
            self.properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }
}

fn split_keys(keys: Option<&str>) -> Vec<&str> {
    keys.map(|k| k.split(KEY_SEPARATOR).filter(|k| !k.is_empty()).collect())
        .unwrap_or_default()
}

/// A message as stored and delivered (RocketMQ's `MessageExt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    /// The topic it was stored under.
    pub topic: String,
    /// The payload, as the producer sent it (possibly compressed: see [`MessageExt::sys_flag`]).
    pub body: Bytes,
    /// The application flag.
    pub flag: i32,
    /// Every property.
    pub properties: BTreeMap<String, String>,
    /// The broker it was read from.
    pub broker_name: String,
    /// Its queue.
    pub queue_id: i32,
    /// Its offset in the queue.
    pub queue_offset: i64,
    /// Its offset in the broker's commit log.
    pub commit_log_offset: i64,
    /// The message sysflag (compression, transaction type).
    pub sys_flag: i32,
    /// When the producer created it, ms since the epoch.
    pub born_timestamp: i64,
    /// The producer's address.
    pub born_host: SocketAddr,
    /// When the broker stored it, ms since the epoch.
    pub store_timestamp: i64,
    /// The broker's address as stored in the record.
    pub store_host: SocketAddr,
    /// How many times it was consumed and sent back before.
    pub reconsume_times: i32,
    /// For transactional messages: the half message's commit-log offset.
    pub prepared_transaction_offset: i64,
    /// The offset message id (store host + commit-log offset), RocketMQ's `offsetMsgId`.
    pub offset_msg_id: String,
}

impl MessageExt {
    /// Decodes every record in a pull response body (records laid end to end, as the broker
    /// stores them), checking each body's CRC.
    ///
    /// # Errors
    /// The first record that does not decode or fails its CRC.
    pub fn decode_all(body: &Bytes, broker_name: &str) -> Result<Vec<Self>, DecodeError> {
        let mut out = Vec::new();
        let mut at = 0usize;
        while at < body.len() {
            let view = record::decode(&body[at..])?;
            view.verify_crc()?;
            let body_start = at + (view.body.as_ptr() as usize - body[at..].as_ptr() as usize);
            out.push(Self {
                topic: view.topic.to_owned(),
                body: body.slice(body_start..body_start + view.body.len()),
                flag: view.flag,
                properties: properties::iter(view.properties)
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                broker_name: broker_name.to_owned(),
                queue_id: view.queue_id,
                queue_offset: view.queue_offset,
                commit_log_offset: view.physical_offset,
                sys_flag: view.sys_flag,
                born_timestamp: view.born_timestamp,
                born_host: view.born_host,
                store_timestamp: view.store_timestamp,
                store_host: view.store_host,
                reconsume_times: view.reconsume_times,
                prepared_transaction_offset: view.prepared_transaction_offset,
                offset_msg_id: message_id::encode_offset_msg_id(
                    view.store_host,
                    view.physical_offset,
                ),
            });
            at += view.total_size;
        }
        Ok(out)
    }

    /// The message id applications see: the producer-assigned `UNIQ_KEY`, else the offset id
    /// (RocketMQ's `MessageClientExt.getMsgId`).
    #[must_use]
    pub fn msg_id(&self) -> &str {
        self.property(UNIQ_KEY).unwrap_or(&self.offset_msg_id)
    }

    /// The tag, if set.
    #[must_use]
    pub fn tags(&self) -> Option<&str> {
        self.property(TAGS)
    }

    /// The keys, if any.
    #[must_use]
    pub fn keys(&self) -> Vec<&str> {
        split_keys(self.property(KEYS))
    }

    /// A property by name.
    #[must_use]
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// The queue this message was read from.
    #[must_use]
    pub fn queue(&self) -> MessageQueue {
        MessageQueue {
            topic: self.topic.clone(),
            broker_name: self.broker_name.clone(),
            queue_id: self.queue_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builder setters land in the properties under RocketMQ's names, and read back.
    #[test]
    fn builder_and_accessors() {
        let m = Message::new("T", &b"x"[..])
            .with_tags("TagA")
            .with_keys(["k1", "", "k2"])
            .with_property("color", "red")
            .with_flag(7);
        assert_eq!(m.tags(), Some("TagA"));
        assert_eq!(m.keys(), vec!["k1", "k2"]);
        assert_eq!(m.property("color"), Some("red"));
        assert_eq!(m.flag, 7);
        let encoded = m.encoded_properties();
        assert_eq!(properties::get(&encoded, KEYS), Some("k1 k2"));
        assert_eq!(properties::get(&encoded, TAGS), Some("TagA"));
    }
}
