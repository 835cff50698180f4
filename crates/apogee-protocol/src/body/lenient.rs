//! Lenient readers for numbers and booleans in JSON bodies, used with
//! `#[serde(deserialize_with = ...)]`.
//!
//! fastjson, which the Java broker decodes bodies with, converts between JSON types freely, and
//! clients in other languages rely on that: a number may arrive as `12`, `"12"` or `12.0`, a
//! boolean as `true`, `"true"`, `1` or `"1"`, and `null` reads as the Java default (0 or
//! false). Anything else is an error.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Reads an integer of type `T` from a number, a decimal string, an integral float or `null`.
struct IntVisitor<T>(PhantomData<T>);

impl<T: TryFrom<i64> + Default> IntVisitor<T> {
    fn narrow<E: de::Error>(v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }
}

impl<T: TryFrom<i64> + Default> Visitor<'_> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or an integer in a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::narrow(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        let v = i64::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))?;
        Self::narrow(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        // 2^63 is exactly representable, so the range check is exact; `as` then cannot saturate.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            Self::narrow(v as i64)
        } else {
            Err(E::custom(format!("{v} is not an integer")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match v.trim().parse::<i64>() {
            Ok(parsed) => Self::narrow(parsed),
            Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

/// Reads a Java `int` leniently (see the module docs).
///
/// # Errors
/// The deserializer's error for anything that is not an integer in `i32` range.
pub(crate) fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_any(IntVisitor(PhantomData))
}

/// Reads a Java `long` leniently (see the module docs).
///
/// # Errors
/// The deserializer's error for anything that is not an integer in `i64` range.
pub(crate) fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor(PhantomData))
}

/// Reads a Java `boolean` from `true`/`false`, `1`/`0`, those as strings (any case), or `null`.
struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, 0/1, or either as a string")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Ok(v != 0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Ok(v != 0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        let t = v.trim();
        if t.eq_ignore_ascii_case("true") || t == "1" {
            Ok(true)
        } else if t.eq_ignore_ascii_case("false") || t == "0" {
            Ok(false)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Reads a Java `boolean` leniently (see the module docs).
///
/// # Errors
/// The deserializer's error for anything else.
pub(crate) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(BoolVisitor)
}

/// One lenient `int`, so that collections of them can be read.
struct LenientI32(i32);

impl<'de> Deserialize<'de> for LenientI32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i32(d).map(Self)
    }
}

/// Reads a Java `Set<Integer>` or `List<Integer>` whose elements may be strings; `null` is
/// empty.
///
/// # Errors
/// The deserializer's error for a non-array or a bad element.
pub(crate) fn vec_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
    let items: Option<Vec<LenientI32>> = Option::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(|item| item.0)
        .collect())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    /// A struct using every lenient reader.
    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        #[serde(deserialize_with = "super::i32")]
        a: i32,
        #[serde(deserialize_with = "super::i64")]
        b: i64,
        #[serde(deserialize_with = "super::bool")]
        c: bool,
        #[serde(deserialize_with = "super::vec_i32")]
        d: Vec<i32>,
    }

    fn parse(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Numbers as strings, integral floats, 0/1 booleans and nulls read as Java would.
    #[test]
    fn accepts_what_fastjson_accepts() {
        let expected = Sample {
            a: 7,
            b: -12,
            c: true,
            d: vec![1, 2],
        };
        assert_eq!(
            parse(r#"{"a":7,"b":-12,"c":true,"d":[1,2]}"#).ok(),
            Some(expected)
        );
        let loose = parse(r#"{"a":"7","b":" -12 ","c":"TRUE","d":["1",2.0]}"#).expect("loose");
        assert_eq!(
            loose,
            parse(r#"{"a":7,"b":-12,"c":1,"d":[1,2]}"#).expect("numbers")
        );
        let nulls = parse(r#"{"a":null,"b":null,"c":null,"d":null}"#).expect("nulls");
        assert_eq!((nulls.a, nulls.b, nulls.c, nulls.d.len()), (0, 0, false, 0));
    }

    /// Fractions, out-of-range values and non-numbers are errors, not guesses.
    #[test]
    fn rejects_the_rest() {
        assert!(parse(r#"{"a":1.5,"b":0,"c":true,"d":[]}"#).is_err());
        assert!(parse(r#"{"a":3000000000,"b":0,"c":true,"d":[]}"#).is_err());
        assert!(parse(r#"{"a":"x","b":0,"c":true,"d":[]}"#).is_err());
        assert!(parse(r#"{"a":1,"b":0,"c":"yes","d":[]}"#).is_err());
        assert!(parse(r#"{"a":1,"b":1e300,"c":true,"d":[]}"#).is_err());
    }
}
