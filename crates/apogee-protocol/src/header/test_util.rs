//! Shared checks for header tests: fixtures, round trips and required keys.

use std::fmt::Debug;

use super::CommandHeader;
use crate::remoting::{ExtFieldError, ExtFields};

/// Builds extFields from literal pairs.
pub(crate) fn ext(pairs: &[(&str, &str)]) -> ExtFields {
    pairs.iter().copied().collect()
}

/// Checks that `fixture` (what Java sends) decodes to `expected`, that encoding `expected`
/// gives back exactly `fixture`, and that decoding that encoding is the identity.
pub(crate) fn assert_fixture<H>(fixture: &[(&str, &str)], expected: &H)
where
    H: CommandHeader + PartialEq + Debug,
{
    let fixture = ext(fixture);
    assert_eq!(&H::from_ext(&fixture).expect("fixture decodes"), expected);
    let encoded = expected.to_ext();
    assert_eq!(encoded, fixture);
    assert_eq!(&H::from_ext(&encoded).expect("encoding decodes"), expected);
}

/// Checks that removing each key of `required` from `fixture` fails with an error naming that
/// key, and that removing any other key still decodes.
pub(crate) fn assert_required<H>(fixture: &[(&str, &str)], required: &[&str])
where
    H: CommandHeader + Debug,
{
    for (key, _) in fixture {
        let mut fields = ext(fixture);
        fields.remove(key);
        let result = H::from_ext(&fields);
        if required.contains(key) {
            match result {
                Err(ExtFieldError::Missing { key: missing }) => assert_eq!(missing, *key),
                other => panic!("removing {key} gave {other:?}"),
            }
        } else {
            assert!(result.is_ok(), "removing optional {key} gave {result:?}");
        }
    }
}

/// Checks that a malformed value under `key` fails with an error naming `key`.
pub(crate) fn assert_invalid<H>(fixture: &[(&str, &str)], key: &'static str)
where
    H: CommandHeader + Debug,
{
    let mut fields = ext(fixture);
    fields.put(key, "not-a-number");
    match H::from_ext(&fields) {
        Err(ExtFieldError::Invalid { key: bad, .. }) => assert_eq!(bad, key),
        other => panic!("bad {key} gave {other:?}"),
    }
}
