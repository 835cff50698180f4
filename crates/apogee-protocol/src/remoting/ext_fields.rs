//! `extFields`: the string→string map that carries a command's custom header.
//!
//! RocketMQ sends every header field as a string (`makeCustomHeaderToNet`: numbers in decimal,
//! booleans `"true"`/`"false"`, null fields omitted). The typed accessors here are what request
//! header decoding is built from; their errors name the field so the broker can answer with a
//! precise remark instead of a generic failure.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use super::error::ExtFieldError;

/// How many characters of an unparseable value an [`ExtFieldError::Invalid`] (or a JSON
/// header's `HeaderError::BadField`) keeps. The error text goes back to the client in a response
/// remark or a log line, so a huge value must not be echoed whole; 64 characters show any
/// realistic number or flag in full.
pub const ERROR_VALUE_CHARS_MAX: usize = 64;

/// A command's `extFields`, ordered by key.
///
/// Java uses a `HashMap`, so key order carries no meaning on the wire; ordering by key makes our
/// encoding deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtFields(BTreeMap<String, String>);

impl ExtFields {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw value of `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Fields in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The underlying map.
    #[must_use]
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Sets `key` to the string form of `value` (`to_string()`, which writes numbers in decimal
    /// and booleans as `true`/`false`, exactly as Java does), replacing any previous value.
    pub fn put(&mut self, key: impl Into<String>, value: impl ToString) -> &mut Self {
        self.0.insert(key.into(), value.to_string());
        self
    }

    /// Sets `key` when `value` is `Some`; does nothing for `None`, the way Java omits null
    /// header fields.
    pub fn put_some<V: ToString>(&mut self, key: impl Into<String>, value: Option<V>) -> &mut Self {
        if let Some(value) = value {
            self.put(key, value);
        }
        self
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of a required string field.
    ///
    /// # Errors
    /// [`ExtFieldError::Missing`] if `key` is absent.
    pub fn required_str(&self, key: &'static str) -> Result<&str, ExtFieldError> {
        self.get(key).ok_or(ExtFieldError::Missing { key })
    }

    /// The value of an optional string field.
    #[must_use]
    pub fn optional_str(&self, key: &str) -> Option<&str> {
        self.get(key)
    }

    /// A required Java `int` field.
    ///
    /// # Errors
    /// [`ExtFieldError::Missing`] if absent, [`ExtFieldError::Invalid`] if not a decimal i32.
    pub fn required_i32(&self, key: &'static str) -> Result<i32, ExtFieldError> {
        parse_number(key, self.required_str(key)?, "int")
    }

    /// An optional Java `Integer` field.
    ///
    /// # Errors
    /// [`ExtFieldError::Invalid`] if present but not a decimal i32.
    pub fn optional_i32(&self, key: &'static str) -> Result<Option<i32>, ExtFieldError> {
        self.get(key)
            .map(|v| parse_number(key, v, "int"))
            .transpose()
    }

    /// A required Java `long` field.
    ///
    /// # Errors
    /// [`ExtFieldError::Missing`] if absent, [`ExtFieldError::Invalid`] if not a decimal i64.
    pub fn required_i64(&self, key: &'static str) -> Result<i64, ExtFieldError> {
        parse_number(key, self.required_str(key)?, "long")
    }

    /// An optional Java `Long` field.
    ///
    /// # Errors
    /// [`ExtFieldError::Invalid`] if present but not a decimal i64.
    pub fn optional_i64(&self, key: &'static str) -> Result<Option<i64>, ExtFieldError> {
        self.get(key)
            .map(|v| parse_number(key, v, "long"))
            .transpose()
    }

    /// A required Java `boolean` field: `true`/`false`/`1`/`0`, ASCII case ignored.
    ///
    /// # Errors
    /// [`ExtFieldError::Missing`] if absent, [`ExtFieldError::Invalid`] for any other text.
    pub fn required_bool(&self, key: &'static str) -> Result<bool, ExtFieldError> {
        parse_bool(key, self.required_str(key)?)
    }

    /// An optional Java `Boolean` field, accepting what [`Self::required_bool`] accepts.
    ///
    /// # Errors
    /// [`ExtFieldError::Invalid`] if present but not a boolean.
    pub fn optional_bool(&self, key: &'static str) -> Result<Option<bool>, ExtFieldError> {
        self.get(key).map(|v| parse_bool(key, v)).transpose()
    }
}

/// Parses a decimal integer. Surrounding white space is tolerated because lenient peers produce
/// it and it cannot change the meaning.
fn parse_number<T: FromStr>(
    key: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<T, ExtFieldError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, expected))
}

fn parse_bool(key: &'static str, value: &str) -> Result<bool, ExtFieldError> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Ok(false)
    } else {
        Err(invalid(key, value, "boolean"))
    }
}

fn invalid(key: &'static str, value: &str, expected: &'static str) -> ExtFieldError {
    ExtFieldError::Invalid {
        key,
        value: value.chars().take(ERROR_VALUE_CHARS_MAX).collect(),
        expected,
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl From<BTreeMap<String, String>> for ExtFields {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

impl IntoIterator for ExtFields {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Display for ExtFields {
    /// Writes `{k=v, ...}` like Java's `HashMap.toString`, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> ExtFields {
        pairs.iter().copied().collect()
    }

    /// Typed accessors parse what Java writes and name the key when a field is missing.
    #[test]
    fn typed_accessors() {
        let f = fields(&[
            ("queueId", "3"),
            ("bornTimestamp", "1700000000123"),
            ("topic", "T"),
        ]);
        assert_eq!(f.required_str("topic"), Ok("T"));
        assert_eq!(f.required_i32("queueId"), Ok(3));
        assert_eq!(f.required_i64("bornTimestamp"), Ok(1_700_000_000_123));
        assert_eq!(f.optional_i32("reconsumeTimes"), Ok(None));
        assert_eq!(f.optional_i64("queueId"), Ok(Some(3)));
        assert_eq!(f.optional_str("properties"), None);
        assert_eq!(
            f.required_str("producerGroup"),
            Err(ExtFieldError::Missing {
                key: "producerGroup"
            })
        );
        let err = f
            .required_i32("bornTimestamp")
            .expect_err("too big for i32");
        assert!(matches!(
            err,
            ExtFieldError::Invalid {
                key: "bornTimestamp",
                ..
            }
        ));
        assert_eq!(
            ExtFieldError::Missing { key: "topic" }.to_string(),
            "the custom field <topic> is null"
        );
    }

    /// Booleans accept true/false/1/0 in any case and reject anything else.
    #[test]
    fn booleans() {
        let f = fields(&[
            ("a", "TRUE"),
            ("b", "false"),
            ("c", "1"),
            ("d", "0"),
            ("e", "yes"),
        ]);
        assert_eq!(f.required_bool("a"), Ok(true));
        assert_eq!(f.required_bool("b"), Ok(false));
        assert_eq!(f.optional_bool("c"), Ok(Some(true)));
        assert_eq!(f.optional_bool("d"), Ok(Some(false)));
        assert_eq!(f.optional_bool("z"), Ok(None));
        assert!(matches!(
            f.required_bool("e"),
            Err(ExtFieldError::Invalid {
                key: "e",
                expected: "boolean",
                ..
            })
        ));
    }

    /// `put` writes Java's string forms; `put_some` omits `None`; errors cut long values.
    #[test]
    fn setters_and_error_values() {
        let mut f = ExtFields::new();
        f.put("queueId", 7)
            .put("unitMode", false)
            .put_some("flag", None::<i32>);
        f.put_some("sysFlag", Some(-1));
        assert_eq!(f.to_string(), "{queueId=7, sysFlag=-1, unitMode=false}");
        f.put("big", "9".repeat(1000));
        let Err(ExtFieldError::Invalid { value, .. }) = f.required_i64("big") else {
            panic!("expected an invalid-value error");
        };
        assert_eq!(value.len(), ERROR_VALUE_CHARS_MAX);
    }
}
