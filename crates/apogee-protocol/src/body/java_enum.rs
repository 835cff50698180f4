//! Java enums in JSON bodies: written by name, read by name or by ordinal.
//!
//! fastjson writes an enum as its name and reads either the name or the ordinal (as a number),
//! and clients in other languages send both. [`java_enum!`] declares such an enum with its
//! Java names in declaration order (the order gives the ordinals), and implements
//! `Serialize`/`Deserialize` accordingly. Reading also accepts the name in any ASCII case and
//! the ordinal as a decimal string.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Visitor};

/// What the lenient deserializer needs to know about a Java enum.
pub(crate) trait JavaEnum: Sized + 'static {
    /// The Java type name, for error messages.
    const TYPE_NAME: &'static str;
    /// Every variant in Java declaration order, so the index is the ordinal.
    const ALL: &'static [Self];
    /// The variant whose Java name matches, ASCII case ignored.
    fn from_name(name: &str) -> Option<Self>;
}

/// The variant at a Java ordinal.
pub(crate) fn from_ordinal<E: JavaEnum + Copy>(ordinal: i64) -> Option<E> {
    usize::try_from(ordinal)
        .ok()
        .and_then(|i| E::ALL.get(i))
        .copied()
}

/// Deserializes a Java enum from a name, an ordinal number or an ordinal in a string.
pub(crate) struct JavaEnumVisitor<E>(pub(crate) PhantomData<E>);

impl<E: JavaEnum + Copy> JavaEnumVisitor<E> {
    fn by_ordinal<Err: de::Error>(ordinal: i64) -> Result<E, Err> {
        from_ordinal(ordinal)
            .ok_or_else(|| Err::custom(format!("{} has no ordinal {ordinal}", E::TYPE_NAME)))
    }
}

impl<E: JavaEnum + Copy> Visitor<'_> for JavaEnumVisitor<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} name or ordinal", E::TYPE_NAME)
    }

    fn visit_str<Err: de::Error>(self, v: &str) -> Result<E, Err> {
        let v = v.trim();
        if let Some(found) = E::from_name(v) {
            return Ok(found);
        }
        match v.parse::<i64>() {
            Ok(ordinal) => Self::by_ordinal(ordinal),
            Err(_) => Err(Err::custom(format!(
                "unknown {} {:?}",
                E::TYPE_NAME,
                v.chars().take(64).collect::<String>()
            ))),
        }
    }

    fn visit_i64<Err: de::Error>(self, v: i64) -> Result<E, Err> {
        Self::by_ordinal(v)
    }

    fn visit_u64<Err: de::Error>(self, v: u64) -> Result<E, Err> {
        Self::by_ordinal(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

/// Declares a Java enum for JSON bodies; see the module docs. Every variant reads
/// `Variant = "JAVA_NAME"`, in Java declaration order, and one must carry `#[default]`.
macro_rules! java_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $java:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// The Java enum name, as written on the wire.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $java ),+
                }
            }

            /// The Java ordinal (declaration index).
            #[must_use]
            pub fn ordinal(self) -> i32 {
                self as i32
            }

            /// The variant with this Java name, ASCII case ignored.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                <Self as $crate::body::java_enum::JavaEnum>::from_name(name)
            }

            /// The variant with this Java ordinal.
            #[must_use]
            pub fn from_ordinal(ordinal: i64) -> Option<Self> {
                $crate::body::java_enum::from_ordinal(ordinal)
            }
        }

        impl $crate::body::java_enum::JavaEnum for $name {
            const TYPE_NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];

            fn from_name(name: &str) -> Option<Self> {
                $( if name.eq_ignore_ascii_case($java) { return Some(Self::$variant); } )+
                None
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any($crate::body::java_enum::JavaEnumVisitor(
                    ::std::marker::PhantomData,
                ))
            }
        }
    };
}

pub(crate) use java_enum;
