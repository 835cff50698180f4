//! Java's `String.hashCode`, which RocketMQ uses for consume-queue tag codes and index keys.

/// Java `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
///
/// Clients compute subscription tag codes this way, so the broker must too for tag filtering to
/// agree with every RocketMQ client.
#[must_use]
pub fn java_string_hash(s: &str) -> i32 {
    if s.is_ascii() {
        // Fast path: for ASCII every byte is one UTF-16 code unit.
        return s
            .bytes()
            .fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(i32::from(b)));
    }
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// The consume-queue tag code of a tag: its Java hash sign-extended to `i64`; no tag gives 0.
#[must_use]
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(t) if !t.is_empty() => i64::from(java_string_hash(t)),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed with Java's `String.hashCode` (including a non-BMP character).
    #[test]
    fn matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        // "é" is U+00E9 = 233, one UTF-16 unit.
        assert_eq!(java_string_hash("é"), 233);
        // U+1F600 is the surrogate pair D83D DE00: 0xD83D * 31 + 0xDE00.
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
        assert_eq!(tags_code(None), 0);
        assert_eq!(tags_code(Some("")), 0);
        assert_eq!(tags_code(Some("TagA")), 2_598_919);
    }
}
