//! JSON body encoding and lenient decoding.
//!
//! We write standard JSON (quoted keys), which every client parses: fastjson-based Java clients
//! accept it too. We read what Java writes, which is not always JSON: fastjson's default
//! encoder writes the integer keys of a `Map<Long, _>` or `Map<Integer, _>` unquoted
//! (`"brokerAddrs":{0:"10.0.0.1:10911"}`), as in `ClusterInfo`, consumer-offset tables and
//! route data for old clients. [`decode`] first parses strictly; if that fails it quotes such
//! keys with [`quote_integer_keys`] and parses again.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// A body that does not decode as the expected JSON type.
#[derive(Debug, Error)]
pub enum BodyError {
    /// The bytes are not JSON of the expected shape, even after quoting integer keys.
    #[error("malformed {body} body: {source}")]
    Json {
        /// The Rust type being decoded (its last path segment).
        body: &'static str,
        /// What the JSON parser reported.
        #[source]
        source: serde_json::Error,
    },
}

/// Encodes `value` as standard JSON, quoted keys and all.
///
/// Every body type in this module serializes infallibly (string or integer map keys, no
/// non-finite floats); should a caller's type fail anyway, the result is `null`, which the
/// peer rejects, rather than a panic.
#[must_use]
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

/// Decodes a JSON body, accepting fastjson's unquoted integer map keys.
///
/// Invalid UTF-8 is replaced by U+FFFD on the lenient path, as Java's `new String(bytes, UTF_8)`
/// does. Missing fields take their Java defaults and unknown fields are ignored (per type).
///
/// # Errors
/// [`BodyError::Json`] when neither the bytes nor their key-quoted rewrite parse as `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let strict = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    let text = String::from_utf8_lossy(bytes);
    let lossy = matches!(text, Cow::Owned(_));
    let quoted = quote_integer_keys(&text);
    if !lossy && matches!(quoted, Cow::Borrowed(_)) {
        return Err(json_error::<T>(strict));
    }
    serde_json::from_str(&quoted).map_err(json_error::<T>)
}

fn json_error<T>(source: serde_json::Error) -> BodyError {
    // `a::b::Name<c::D>` → `Name`: enough to tell which body failed without the noise.
    let full = std::any::type_name::<T>();
    let path = full.split('<').next().unwrap_or(full);
    let body = path.rsplit("::").next().unwrap_or(path);
    BodyError::Json { body, source }
}

/// Quotes bare integer object keys: an optionally negative run of digits, outside any string
/// literal, that follows `{` or `,` and precedes `:` (white space allowed around it).
///
/// String contents, escapes included, are never touched, and nor are numbers in arrays or
/// values. Returns the input unchanged (borrowed) when there is nothing to quote.
#[must_use]
pub fn quote_integer_keys(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Everything before `copied` is already in `out`.
    let mut copied = 0;
    // The last byte outside strings that is not white space; keys follow `{` or `,`.
    let mut prev = 0u8;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                // Skip the escaped byte, which may be a quote.
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                prev = b;
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'-' | b'0'..=b'9' if prev == b'{' || prev == b',' => {
                let end = integer_end(bytes, i);
                if end > i && next_significant(bytes, end) == Some(b':') {
                    let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
                    // `i` and `end` sit on ASCII bytes, so both are char boundaries.
                    buf.push_str(&text[copied..i]);
                    buf.push('"');
                    buf.push_str(&text[i..end]);
                    buf.push('"');
                    copied = end;
                }
                prev = b'0';
                i = end.max(i + 1);
                continue;
            }
            _ => prev = b,
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// The end of an optionally negative digit run starting at `start`, or `start` if there are no
/// digits.
fn integer_end(bytes: &[u8], start: usize) -> usize {
    let digits = if bytes.get(start) == Some(&b'-') {
        start + 1
    } else {
        start
    };
    let end = digits
        + bytes[digits..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    if end == digits { start } else { end }
}

/// The first byte at or after `from` that is not JSON white space.
fn next_significant(bytes: &[u8], from: usize) -> Option<u8> {
    bytes[from..]
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
#[path = "json_test.rs"]
mod tests;
