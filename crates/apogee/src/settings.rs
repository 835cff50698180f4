//! Server configuration from a file and `--set KEY=VALUE` overrides, with RocketMQ's key
//! names: a TOML file (`flushDiskType = "SYNC_FLUSH"`) or a RocketMQ `broker.conf` in
//! `key=value` form, then every `--set` in order. Keys are checked against the broker and
//! store configurations: an unknown key or a bad value stops startup with a message naming the
//! key (and, for a likely typo, the key that was probably meant).

use std::path::Path;

use anyhow::{Context, Result, bail};
use apogee_broker::BrokerConfig;
use apogee_namesrv::NamesrvConfig;
use apogee_store::StoreConfig;
use serde_json::{Map, Value};

/// Keys some commands accept beyond the broker and store configurations, with their defaults
/// (e.g. `namesrvListenPort` of `apogee serve`).
pub type ExtraKeys<'a> = &'a [(&'a str, Value)];

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Broker keys.
    pub broker: BrokerConfig,
    /// Store keys.
    pub store: StoreConfig,
    /// Extra keys, with their defaults filled in.
    pub extra: Map<String, Value>,
}

/// Loads `file` (if any), then applies `overrides` (`KEY=VALUE`), and validates the result.
///
/// # Errors
/// An unreadable file, a malformed line, an unknown key, or a bad value, each naming the key.
pub fn load(file: Option<&Path>, overrides: &[String], extra: ExtraKeys<'_>) -> Result<Settings> {
    let defaults = Defaults::new(extra)?;
    let raw = collect(&defaults, file, overrides)?;
    defaults.build(raw)
}

/// Loads a name server's configuration (`listenPort`, `listenAddr`,
/// `scanNotActiveBrokerInterval`) the same way.
///
/// # Errors
/// As [`load`].
pub fn load_namesrv(file: Option<&Path>, overrides: &[String]) -> Result<NamesrvConfig> {
    let defaults = Defaults {
        broker: as_map(serde_json::to_value(NamesrvConfig::default())?),
        store: Map::new(),
        extra: Map::new(),
    };
    let raw = collect(&defaults, file, overrides)?;
    typed(raw)
}

/// The file's keys, then the overrides, each checked and typed against `defaults`.
fn collect(
    defaults: &Defaults,
    file: Option<&Path>,
    overrides: &[String],
) -> Result<Map<String, Value>> {
    let mut raw = Map::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file {}", path.display()))?;
        let source = path.display().to_string();
        for (key, value) in parse_file(&text, path)? {
            raw.insert(key.clone(), defaults.coerce(&key, value, &source)?);
        }
    }
    for setting in overrides {
        let (key, value) = setting
            .split_once('=')
            .with_context(|| format!("--set {setting:?} is not KEY=VALUE"))?;
        let key = key.trim().to_owned();
        let value = defaults.coerce(&key, Value::String(value.trim().to_owned()), "--set")?;
        raw.insert(key, value);
    }
    Ok(raw)
}

/// The default configurations, as JSON maps: the source of known keys and their types.
struct Defaults {
    broker: Map<String, Value>,
    store: Map<String, Value>,
    extra: Map<String, Value>,
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl Defaults {
    fn new(extra: ExtraKeys<'_>) -> Result<Self> {
        Ok(Self {
            broker: as_map(serde_json::to_value(BrokerConfig::default())?),
            store: as_map(serde_json::to_value(StoreConfig::default())?),
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        })
    }

    fn default_of(&self, key: &str) -> Option<&Value> {
        self.broker
            .get(key)
            .or_else(|| self.store.get(key))
            .or_else(|| self.extra.get(key))
    }

    /// Checks that `key` exists and turns a text `value` into the type its default has.
    fn coerce(&self, key: &str, value: Value, source: &str) -> Result<Value> {
        let Some(default) = self.default_of(key) else {
            let known = self
                .broker
                .keys()
                .chain(self.store.keys())
                .chain(self.extra.keys());
            let hint = closest(key, known)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            bail!("unknown configuration key `{key}` (from {source}){hint}");
        };
        let Value::String(text) = &value else {
            return Ok(value);
        };
        let coerced = match default {
            Value::Bool(_) => match text.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => bail!("`{key}` = {text:?} (from {source}): expected true or false"),
            },
            Value::Number(_) => text.parse::<u64>().map(Value::from).with_context(|| {
                format!("`{key}` = {text:?} (from {source}): expected a number")
            })?,
            _ => value,
        };
        Ok(coerced)
    }

    /// Splits `raw` into broker, store and extra keys, deserializes and validates each.
    fn build(self, raw: Map<String, Value>) -> Result<Settings> {
        let (mut broker, mut store, mut extra) = (Map::new(), Map::new(), self.extra.clone());
        for (key, value) in raw {
            let target = if self.broker.contains_key(&key) {
                &mut broker
            } else if self.store.contains_key(&key) {
                &mut store
            } else {
                &mut extra
            };
            target.insert(key, value);
        }
        let broker: BrokerConfig = typed(broker)?;
        let store: StoreConfig = typed(store)?;
        broker.validate()?;
        store.validate()?;
        Ok(Settings {
            broker,
            store,
            extra,
        })
    }
}

/// Deserializes a map, naming the key of the first value that does not fit.
fn typed<T: serde::de::DeserializeOwned>(map: Map<String, Value>) -> Result<T> {
    for (key, value) in &map {
        let single = Map::from_iter([(key.clone(), value.clone())]);
        if let Err(e) = serde_json::from_value::<T>(Value::Object(single)) {
            bail!("bad value for `{key}` = {value}: {e}");
        }
    }
    Ok(serde_json::from_value(Value::Object(map))?)
}

/// Parses TOML (a `.toml` file, or any file that parses as a TOML table) or RocketMQ's
/// `key=value` properties.
fn parse_file(text: &str, path: &Path) -> Result<Vec<(String, Value)>> {
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    if is_toml {
        let table: toml::Table = toml::from_str(text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let json = serde_json::to_value(table)?;
        return Ok(as_map(json).into_iter().collect());
    }
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            bail!(
                "{}:{}: expected key=value, found {line:?}",
                path.display(),
                number + 1
            );
        };
        out.push((
            key.trim().to_owned(),
            Value::String(value.trim().to_owned()),
        ));
    }
    Ok(out)
}

/// The known key closest to `key` (edit distance at most 2, case-insensitive), if any.
fn closest<'a>(key: &str, known: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    known
        .map(|k| (edit_distance(&key.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// `--set` overrides reach the broker and store configurations with their types.
    #[test]
    fn overrides() {
        let extra = [("namesrvListenPort", Value::from(9876))];
        let s = load(
            None,
            &sets(&[
                "storePathRootDir=/tmp/a",
                "namesrvListenPort=19876",
                "listenPort=20911",
                "flushDiskType=SYNC_FLUSH",
                "autoCreateTopicEnable=false",
                "deleteWhen=04",
            ]),
            &extra,
        )
        .expect("valid");
        assert_eq!(s.store.store_path_root_dir, Path::new("/tmp/a"));
        assert_eq!(s.broker.listen_port, 20911);
        assert!(!s.broker.auto_create_topic_enable);
        assert_eq!(
            s.store.flush_disk_type,
            apogee_store::FlushDiskType::SyncFlush
        );
        assert_eq!(s.store.delete_when, "04");
        assert_eq!(s.extra["namesrvListenPort"], Value::from(19876));
    }

    /// Unknown keys and bad values stop loading with a message naming the key.
    #[test]
    fn errors_name_the_key() {
        let err = load(None, &sets(&["flushDiskTyp=SYNC_FLUSH"]), &[]).expect_err("unknown");
        let text = format!("{err:#}");
        assert!(text.contains("flushDiskTyp") && text.contains("did you mean `flushDiskType`"));
        let err = load(None, &sets(&["flushDiskType=FAST"]), &[]).expect_err("bad enum");
        assert!(format!("{err:#}").contains("flushDiskType"), "{err:#}");
        let err = load(None, &sets(&["listenPort=abc"]), &[]).expect_err("bad number");
        assert!(format!("{err:#}").contains("listenPort"));
        let err = load(None, &sets(&["brokerId=1"]), &[]).expect_err("master with id 1");
        assert!(format!("{err:#}").contains("brokerId"));
        assert!(load(None, &sets(&["novalue"]), &[]).is_err());
    }

    /// A RocketMQ broker.conf and a TOML file both load; `--set` wins over the file.
    #[test]
    fn files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("broker.conf");
        std::fs::write(
            &conf,
            "# broker.conf\nbrokerClusterName = DefaultCluster\nbrokerName = broker-b\n\
             brokerId = 0\ndeleteWhen = 04\nfileReservedTime = 48\nbrokerRole = ASYNC_MASTER\n\
             flushDiskType = ASYNC_FLUSH\n",
        )
        .expect("write");
        let s = load(Some(&conf), &sets(&["fileReservedTime=24"]), &[]).expect("conf");
        assert_eq!(s.broker.broker_name, "broker-b");
        assert_eq!(s.store.file_reserved_time, 24);
        let toml = dir.path().join("apogee.toml");
        std::fs::write(
            &toml,
            "listenPort = 30911\nflushDiskType = \"SYNC_FLUSH\"\n",
        )
        .expect("w");
        let s = load(Some(&toml), &[], &[]).expect("toml");
        assert_eq!(s.broker.listen_port, 30911);
        let bad = dir.path().join("bad.conf");
        std::fs::write(&bad, "justakey\n").expect("write");
        assert!(format!("{:#}", load(Some(&bad), &[], &[]).expect_err("bad")).contains(":1:"));
    }
}
