use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Bare integer keys after `{` or `,` are quoted, negative ones and spaced ones included.
#[test]
fn quotes_bare_integer_keys() {
    assert_eq!(
        quote_integer_keys(r#"{0:"a",1:"b"}"#),
        r#"{"0":"a","1":"b"}"#
    );
    assert_eq!(
        quote_integer_keys(r#"{"t":{-1:3, 12 :4}}"#),
        r#"{"t":{"-1":3, "12" :4}}"#
    );
    assert_eq!(quote_integer_keys("{\n  0 : 1\n}"), "{\n  \"0\" : 1\n}");
}

/// Numbers that are values or array elements, and already-quoted keys, are left alone.
#[test]
fn leaves_values_and_arrays_alone() {
    for text in [
        r#"{"a":1,"b":-2}"#,
        "[1,2,-3]",
        r#"{"a":[0,1],"b":{"0":1}}"#,
        "{1.5:2}",
        "{-:1}",
        "12",
    ] {
        assert!(
            matches!(quote_integer_keys(text), Cow::Borrowed(_)),
            "{text}"
        );
    }
}

/// Text inside string literals is never rewritten, escaped quotes and backslashes included.
#[test]
fn leaves_strings_alone() {
    for text in [
        r#"{"v":"{0:1}"}"#,
        r#"{"v":"a\"{0:1,2:3}"}"#,
        r#"{"v":"\\","w":",5:"}"#,
        r#"["{7:8}", ",9:"]"#,
    ] {
        assert!(
            matches!(quote_integer_keys(text), Cow::Borrowed(_)),
            "{text}"
        );
    }
    let mixed = r#"{"v":"{0:1}",0:"x\"{1:2}",1:"\\"}"#;
    assert_eq!(
        quote_integer_keys(mixed),
        r#"{"v":"{0:1}","0":"x\"{1:2}","1":"\\"}"#
    );
}

/// `decode` uses the rewrite only as a fallback; a value holding `{0:1}` survives intact.
#[test]
fn decode_falls_back_to_quoting() {
    let map: BTreeMap<i64, String> = decode(br#"{0:"{0:1}",-3:"b"}"#).expect("decodes");
    assert_eq!(map[&0], "{0:1}");
    assert_eq!(map[&-3], "b");
    let nested: BTreeMap<String, BTreeMap<i32, i64>> =
        decode(br#"{"T@g":{0:12}}"#).expect("decodes");
    assert_eq!(nested["T@g"][&0], 12);
}

/// Malformed input is a typed error; invalid UTF-8 in a string is replaced, as in Java.
#[test]
fn errors_and_invalid_utf8() {
    let err = decode::<BTreeMap<i64, String>>(b"{0:").expect_err("truncated");
    assert!(
        matches!(
            err,
            BodyError::Json {
                body: "BTreeMap",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("malformed BTreeMap body: "),
        "{err}"
    );
    let bytes = b"{\"a\":\"x\xFFy\"}";
    let map: BTreeMap<String, String> = decode(bytes).expect("lossy decode");
    assert_eq!(map["a"], "x\u{FFFD}y");
    assert_eq!(encode(&map), "{\"a\":\"x\u{FFFD}y\"}".as_bytes());
}

proptest! {
    /// Standard JSON with string keys, as serde writes it, is never rewritten.
    #[test]
    fn standard_json_untouched(map in proptest::collection::btree_map(".*", ".*", 0..6)) {
        let text = String::from_utf8(encode(&map)).expect("utf-8");
        prop_assert!(matches!(quote_integer_keys(&text), Cow::Borrowed(_)));
    }

    /// An integer-keyed map written with bare keys decodes to the original map.
    #[test]
    fn bare_keys_decode(map in proptest::collection::btree_map(any::<i64>(), ".*", 0..6)) {
        let mut text = String::from("{");
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            let value = serde_json::to_string(v).expect("string encodes");
            text.push_str(&format!("{k}:{value}"));
        }
        text.push('}');
        prop_assert_eq!(decode::<BTreeMap<i64, String>>(text.as_bytes()).ok(), Some(map));
    }

    /// The rewrite never panics and only ever adds quote characters.
    #[test]
    fn rewrite_only_adds_quotes(text in ".*") {
        let out = quote_integer_keys(&text);
        let stripped: String = out.chars().filter(|c| *c != '"').collect();
        let original: String = text.chars().filter(|c| *c != '"').collect();
        prop_assert_eq!(stripped, original);
    }
}
