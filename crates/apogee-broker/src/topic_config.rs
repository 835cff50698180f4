//! The broker's topics (RocketMQ `TopicConfigManager`): queue counts and permissions per
//! topic, persisted to `config/topics.json` in RocketMQ's `TopicConfigSerializeWrapper` form,
//! with the system topics every broker has.

use std::collections::BTreeMap;

use apogee_protocol::body::{DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use apogee_protocol::header::PermName;
use apogee_protocol::names;
use parking_lot::RwLock;

use crate::error::BrokerError;
use crate::json_file::JsonFile;

/// Queues of a `%RETRY%<group>` topic (RocketMQ `retryQueueNums`).
pub const RETRY_QUEUE_NUMS: i32 = 1;
/// Queues of a `%DLQ%<group>` topic (RocketMQ `DLQ_NUMS_PER_GROUP`).
pub const DLQ_QUEUE_NUMS: i32 = 1;
/// Queues of the auto-create template `TBW102`.
pub const TEMPLATE_QUEUE_NUMS: i32 = 8;

/// Every topic of this broker.
#[derive(Debug)]
pub struct TopicTable {
    state: RwLock<TopicConfigSerializeWrapper>,
    file: JsonFile,
    /// Signalled on every change, so the broker re-registers with the name servers at once.
    changed: tokio::sync::Notify,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A topic config with `queues` read and write queues and permission `perm`.
#[must_use]
pub fn topic_config(name: &str, queues: i32, perm: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_owned(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        ..TopicConfig::default()
    }
}

impl TopicTable {
    /// Loads `file` (if it exists) and adds the system topics. `auto_create` makes the
    /// template `TBW102` inheritable, which is how clients learn that auto-creation is on.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the file exists but cannot be read or written.
    pub fn load(file: JsonFile, auto_create: bool) -> Result<Self, BrokerError> {
        let mut state: TopicConfigSerializeWrapper = file.load()?.unwrap_or_default();
        let rw = PermName::READ | PermName::WRITE;
        let template_perm = if auto_create {
            rw | PermName::INHERIT
        } else {
            rw
        };
        let template = topic_config(
            names::AUTO_CREATE_TOPIC_TEMPLATE,
            TEMPLATE_QUEUE_NUMS,
            template_perm,
        );
        state
            .topic_config_table
            .insert(template.topic_name.clone(), template);
        let table = Self {
            state: RwLock::new(state),
            file,
            changed: tokio::sync::Notify::new(),
        };
        table.persist()?;
        Ok(table)
    }

    /// The config of `topic`, if it exists.
    #[must_use]
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.state.read().topic_config_table.get(topic).cloned()
    }

    /// Creates or replaces `config` and persists the table.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the table cannot be written.
    pub fn put(&self, config: TopicConfig) -> Result<(), BrokerError> {
        {
            let mut state = self.state.write();
            state
                .topic_config_table
                .insert(config.topic_name.clone(), config);
            bump(&mut state.data_version);
        }
        self.persist()
    }

    /// Returns `topic`'s config, creating it with `queues` queues if it does not exist.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if a new topic cannot be persisted.
    pub fn get_or_create(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
    ) -> Result<TopicConfig, BrokerError> {
        if let Some(existing) = self.get(topic) {
            return Ok(existing);
        }
        let config = topic_config(topic, queues, perm);
        tracing::info!(topic, queues, "creating topic");
        self.put(config.clone())?;
        Ok(config)
    }

    /// Deletes `topic`; false if it did not exist.
    ///
    /// # Errors
    /// [`BrokerError::Metadata`] if the table cannot be written.
    pub fn remove(&self, topic: &str) -> Result<bool, BrokerError> {
        let removed = {
            let mut state = self.state.write();
            let removed = state.topic_config_table.remove(topic).is_some();
            if removed {
                bump(&mut state.data_version);
            }
            removed
        };
        if removed {
            self.persist()?;
        }
        Ok(removed)
    }

    /// The whole table, as registration and GET_ALL_TOPIC_CONFIG send it.
    #[must_use]
    pub fn snapshot(&self) -> TopicConfigSerializeWrapper {
        self.state.read().clone()
    }

    /// Topic names, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.state
            .read()
            .topic_config_table
            .keys()
            .cloned()
            .collect()
    }

    /// Signalled after every change (a permit is kept if nobody waits).
    #[must_use]
    pub fn changed(&self) -> &tokio::sync::Notify {
        &self.changed
    }

    fn persist(&self) -> Result<(), BrokerError> {
        self.file.save(&*self.state.read())?;
        self.changed.notify_one();
        Ok(())
    }
}

fn bump(version: &mut DataVersion) {
    version.counter += 1;
    version.timestamp = now_ms();
}

/// Queue counts by topic, for tests and stats.
#[must_use]
pub fn queue_counts(wrapper: &TopicConfigSerializeWrapper) -> BTreeMap<String, i32> {
    wrapper
        .topic_config_table
        .iter()
        .map(|(k, v)| (k.clone(), v.write_queue_nums))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template exists; topics are created once, persisted and reloaded; deletion works.
    #[test]
    fn create_persist_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config/topics.json");
        let table = TopicTable::load(JsonFile::new(&path), true).expect("load");
        let template = table.get("TBW102").expect("template");
        assert!(PermName(template.perm).is_inherited());
        let created = table.get_or_create("T", 4, 6).expect("create");
        assert_eq!(created.write_queue_nums, 4);
        let again = table.get_or_create("T", 8, 6).expect("existing");
        assert_eq!(again.write_queue_nums, 4, "not recreated");
        let version = table.snapshot().data_version.counter;
        assert!(version > 0);
        drop(table);
        let table = TopicTable::load(JsonFile::new(&path), false).expect("reload");
        assert_eq!(table.get("T").expect("T").write_queue_nums, 4);
        assert!(!PermName(table.get("TBW102").expect("t").perm).is_inherited());
        assert!(table.remove("T").expect("remove"));
        assert!(!table.remove("T").expect("remove"));
        assert_eq!(queue_counts(&table.snapshot()).get("T"), None);
    }
}
