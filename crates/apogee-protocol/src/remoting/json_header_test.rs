use super::*;
use crate::remoting::HeaderError;
use crate::remoting::codes::{request, response};

fn decode_str(text: &str) -> RemotingCommand {
    decode(text.as_bytes()).expect("header decodes")
}

fn encode_str(cmd: &RemotingCommand) -> String {
    let mut out = Vec::new();
    encode(cmd, &mut out).expect("header encodes");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// A SEND_MESSAGE_V2 header in the Java client's form (fastjson key order, string values)
/// decodes field by field.
#[test]
fn decodes_java_send_v2_header() {
    let java = concat!(
        r#"{"code":310,"extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","#,
        r#""c":"TBW102","d":"4","e":"1","f":"0","g":"1700000000123","h":"0","#,
        r#""i":"UNIQ_KEY\u00017F0000010001\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002","#,
        r#""j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","#,
        r#""opaque":5,"serializeTypeCurrentRPC":"JSON","version":479}"#
    );
    let cmd = decode_str(java);
    assert_eq!(cmd.code, request::SEND_MESSAGE_V2);
    assert_eq!(cmd.language, LanguageCode::Java);
    assert_eq!((cmd.version, cmd.opaque, cmd.flag), (479, 5, 0));
    assert_eq!(cmd.remark, None);
    let f = &cmd.ext_fields;
    assert_eq!(f.len(), 13);
    assert_eq!(f.required_str("b"), Ok("TopicTest"));
    assert_eq!(f.required_i32("e"), Ok(1));
    assert_eq!(f.required_i64("g"), Ok(1_700_000_000_123));
    assert_eq!(f.required_bool("k"), Ok(false));
    assert_eq!(
        f.get("i"),
        Some("UNIQ_KEY\u{1}7F0000010001\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}")
    );
}

/// A Java error response with a remark and no extFields decodes.
#[test]
fn decodes_java_error_response() {
    let java = r#"{"code":17,"flag":1,"language":"JAVA","opaque":9,"remark":"topic[T] not exist, apply first please!","serializeTypeCurrentRPC":"JSON","version":479}"#;
    let cmd = decode_str(java);
    assert_eq!(cmd.code, response::TOPIC_NOT_EXIST);
    assert!(cmd.is_response());
    assert_eq!(
        cmd.remark.as_deref(),
        Some("topic[T] not exist, apply first please!")
    );
    assert!(cmd.ext_fields.is_empty());
}

/// Our encoding of a send response is byte-identical to fastjson's: sorted keys, strings only.
#[test]
fn encodes_like_fastjson() {
    let req = RemotingCommand::request(request::SEND_MESSAGE_V2, ExtFields::new()).with_opaque(5);
    let mut resp = RemotingCommand::response_to(&req, response::SUCCESS, None);
    resp.ext_fields
        .put("queueOffset", 10i64)
        .put("msgId", "0A00000100002A9F0000000000000000")
        .put("queueId", 1);
    assert_eq!(
        encode_str(&resp),
        concat!(
            r#"{"code":0,"extFields":{"msgId":"0A00000100002A9F0000000000000000","queueId":"1","#,
            r#""queueOffset":"10"},"flag":1,"language":"JAVA","opaque":5,"#,
            r#""serializeTypeCurrentRPC":"JSON","version":409}"#
        )
    );
}

/// A remark is written between opaque and serializeTypeCurrentRPC, with JSON escapes.
#[test]
fn encodes_remark_and_omits_empty_ext_fields() {
    let req = RemotingCommand::request(request::HEART_BEAT, ExtFields::new()).with_opaque(-3);
    let resp = RemotingCommand::response_to(&req, response::SYSTEM_ERROR, Some("a\"b\n".into()));
    assert_eq!(
        encode_str(&resp),
        r#"{"code":1,"flag":1,"language":"JAVA","opaque":-3,"remark":"a\"b\n","serializeTypeCurrentRPC":"JSON","version":409}"#
    );
}

/// Lenient: language by ordinal, extFields numbers and booleans, integers as strings.
#[test]
fn lenient_values() {
    let cmd = decode_str(
        r#"{"code":"11","opaque":7,"language":9,"version":"409",
            "extFields":{"queueId":3,"commitOffset":12345678901,"suspend":true,"x":1.5,"s":"v"}}"#,
    );
    assert_eq!((cmd.code, cmd.opaque, cmd.version), (11, 7, 409));
    assert_eq!(cmd.language, LanguageCode::Go);
    let f = &cmd.ext_fields;
    assert_eq!(f.required_i32("queueId"), Ok(3));
    assert_eq!(f.required_i64("commitOffset"), Ok(12_345_678_901));
    assert_eq!(f.required_bool("suspend"), Ok(true));
    assert_eq!(f.get("x"), Some("1.5"));
    assert_eq!(f.get("s"), Some("v"));
}

/// Lenient: every optional key may be missing; unknown keys and null values are ignored.
#[test]
fn lenient_missing_and_unknown_keys() {
    let cmd = decode_str(r#"{"code":34,"opaque":1,"future":{"x":[1,2]},"remark":null}"#);
    assert_eq!(cmd.language, LanguageCode::Java);
    assert_eq!((cmd.version, cmd.flag), (0, 0));
    assert_eq!(cmd.remark, None);
    assert!(cmd.ext_fields.is_empty());

    let cmd = decode_str(
        r#"{"opaque":2,"code":10,"language":"go","extFields":{"a":null,"b":false,"c":[1]}}"#,
    );
    assert_eq!(cmd.language, LanguageCode::Go);
    assert_eq!(cmd.ext_fields.get("a"), None);
    assert_eq!(cmd.ext_fields.get("b"), Some("false"));
    assert_eq!(cmd.ext_fields.get("c"), Some("[1]"));
}

/// Unknown language names and ordinals decode to OTHER instead of failing.
#[test]
fn lenient_unknown_language() {
    for lang in [r#""COBOL""#, "99", "-1", "300", r#""14""#] {
        let cmd = decode_str(&format!(r#"{{"code":1,"opaque":1,"language":{lang}}}"#));
        assert_eq!(cmd.language, LanguageCode::Other, "language {lang}");
    }
}

/// Malformed headers give typed errors naming the problem.
#[test]
fn rejects_malformed_headers() {
    let err = |text: &str| decode(text.as_bytes()).expect_err("header must be rejected");
    assert!(matches!(err("{\"code\":1"), HeaderError::Json(_)));
    assert!(matches!(err(""), HeaderError::Json(_)));
    assert!(matches!(
        err("[1]"),
        HeaderError::NotAnObject { found: "array" }
    ));
    assert!(matches!(
        err(r#"{"opaque":1}"#),
        HeaderError::MissingField { field: "code" }
    ));
    assert!(matches!(
        err(r#"{"code":1}"#),
        HeaderError::MissingField { field: "opaque" }
    ));
    assert!(matches!(
        err(r#"{"code":4294967296,"opaque":1}"#),
        HeaderError::BadField { field: "code", .. }
    ));
    assert!(matches!(
        err(r#"{"code":1,"opaque":1,"flag":"x"}"#),
        HeaderError::BadField { field: "flag", .. }
    ));
    assert!(matches!(
        err(r#"{"code":1,"opaque":1,"extFields":"a=b"}"#),
        HeaderError::BadField {
            field: "extFields",
            ..
        }
    ));
    assert!(matches!(
        err(r#"{"code":1,"opaque":1,"language":[]}"#),
        HeaderError::BadField {
            field: "language",
            ..
        }
    ));
}

/// Invalid UTF-8 inside a string is replaced, not rejected.
#[test]
fn invalid_utf8_is_replaced() {
    let mut bytes = br#"{"code":1,"opaque":1,"remark":"a"#.to_vec();
    bytes.push(0xFF);
    bytes.extend_from_slice(br#""}"#);
    let cmd = decode(&bytes).expect("header decodes");
    assert_eq!(cmd.remark.as_deref(), Some("a\u{FFFD}"));
}

mod props {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-20i64..20).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[0-9]{1,3}".prop_map(Value::String),
            ".{0,10}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,5}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_header() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("code".to_owned()),
            Just("opaque".to_owned()),
            Just("flag".to_owned()),
            Just("version".to_owned()),
            Just("language".to_owned()),
            Just("remark".to_owned()),
            Just("extFields".to_owned()),
            "[a-z]{1,4}",
        ];
        proptest::collection::btree_map(key, arb_value(), 0..9)
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
    }

    proptest! {
        /// Any JSON object decodes or fails cleanly, and a decoded header survives
        /// encode → decode unchanged.
        #[test]
        fn lenient_decode_is_stable(header in arb_header()) {
            let text = header.to_string();
            if let Ok(cmd) = decode(text.as_bytes()) {
                let again = encode_str(&cmd);
                prop_assert_eq!(decode(again.as_bytes()).expect("our own header decodes"), cmd);
            }
        }
    }
}

/// The fast typed path and the lenient path agree on every header the fast path accepts.
#[test]
fn fast_path_matches_lenient_path() {
    let samples = [
        r#"{"code":310,"extFields":{"a":"pg","b":"T\u0001x","i":"UNIQ_KEY\u0001ab\u0002"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":401}"#,
        r#"{"code":0,"flag":1,"language":"rust","opaque":-3,"remark":"caf\u00e9 \"q\"","version":0}"#,
        r#"{"opaque":1,"code":11,"remark":null,"extFields":{}}"#,
        r#"{"code":105,"opaque":2,"language":"12","extFields":{"topic":"TBW102"}}"#,
    ];
    for sample in samples {
        let fast = serde_json::from_str::<CanonicalHeader<'_>>(sample)
            .map(CanonicalHeader::into_command)
            .unwrap_or_else(|e| panic!("fast path refused {sample}: {e}"));
        let lenient = decode_lenient(sample).expect("lenient path");
        assert_eq!(fast, lenient, "{sample}");
        assert_eq!(decode(sample.as_bytes()).expect("decode"), lenient);
    }
    // What the fast path refuses still decodes, through the lenient path.
    for refused in [
        r#"{"code":"310","opaque":1}"#,
        r#"{"code":10,"opaque":1,"language":0,"extFields":{"n":5,"b":true,"z":null}}"#,
        r#"{"code":10,"opaque":1,"opaque":2}"#,
    ] {
        assert!(
            serde_json::from_str::<CanonicalHeader<'_>>(refused).is_err(),
            "{refused}"
        );
        assert_eq!(
            decode(refused.as_bytes()).expect("lenient decode"),
            decode_lenient(refused).expect("lenient")
        );
    }
}

proptest::proptest! {
    /// For any header our encoder writes (as Java would), the fast path accepts it and agrees
    /// with the lenient path field for field.
    #[test]
    fn fast_and_lenient_agree_on_encoded_headers(
        code in proptest::prelude::any::<i32>(),
        lang in 0..LanguageCode::ALL.len(),
        version in proptest::prelude::any::<i32>(),
        opaque in proptest::prelude::any::<i32>(),
        flag in proptest::prelude::any::<i32>(),
        remark in proptest::option::of(".{0,40}"),
        ext in proptest::collection::btree_map(".{0,12}", ".{0,24}", 0..8),
    ) {
        let cmd = RemotingCommand {
            code,
            language: LanguageCode::ALL[lang],
            version,
            opaque,
            flag,
            remark,
            ext_fields: ExtFields::from(ext),
            body: bytes::Bytes::new(),
        };
        let text = encode_str(&cmd);
        let fast = serde_json::from_str::<CanonicalHeader<'_>>(&text)
            .map(CanonicalHeader::into_command)
            .expect("the fast path accepts what we encode");
        let lenient = decode_lenient(&text).expect("lenient");
        proptest::prop_assert_eq!(&fast, &lenient);
        proptest::prop_assert_eq!(&fast, &cmd);
    }
}
