//! Typed RocketMQ request and response headers, carried in a command's `extFields`.
//!
//! Every header field travels as a string under the Java field's name (`makeCustomHeaderToNet`):
//! numbers in decimal, booleans `true`/`false`, null fields omitted. A field Java marks
//! `@CFNotNull` is a plain Rust field here and its absence is a decode error naming the key;
//! every other field is an `Option`. Unknown keys are ignored, which covers the 5.x base-class
//! keys `ns`, `nsd`, `bname`, `oway` and `lo` (except `bname` on the send header, where it
//! carries the broker name).
//!
//! # Layout
//! - [`send`]: SEND_MESSAGE (10) and its one-letter V2 form (310, 320), and the send response.
//! - [`pull`]: PULL_MESSAGE (11) request and response, and the [`PullSysFlag`] bits.
//! - [`offset`]: consumer offsets (14, 15) and queue offsets (29, 30, 31).
//! - [`client`]: group membership (35, 38, 40) and CONSUMER_SEND_MSG_BACK (36).
//! - [`transaction`]: END_TRANSACTION (37) and CHECK_TRANSACTION_STATE (39).
//! - [`query`]: QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33).
//! - [`admin`]: topic creation (17) and deletion (215), and [`TopicFilterType`].
//! - [`namesrv`]: broker registration (103, 104), routes (105) and name-server topic deletion (216).
//! - [`perm`]: [`PermName`], the topic and broker permission bits.

use crate::remoting::{ExtFieldError, ExtFields};

/// A typed header that converts to and from a command's `extFields`.
pub trait CommandHeader: Sized {
    /// Decodes from extFields; a missing required field or an unparsable value is an error
    /// naming the key.
    ///
    /// # Errors
    /// [`ExtFieldError::Missing`] for an absent required key, [`ExtFieldError::Invalid`] for a
    /// value that does not parse as the field's type.
    fn from_ext(ext: &ExtFields) -> Result<Self, ExtFieldError>;

    /// Encodes as Java does: every field as a string, `None` fields omitted.
    fn to_ext(&self) -> ExtFields;
}

/// A field type that can be read from and written to `extFields`.
///
/// Implemented for the Java field types headers use (String, int, long, boolean) and for the
/// few enums sent by name. `read` returns `None` for an absent key; the header macro turns that
/// into [`ExtFieldError::Missing`] for required fields.
pub(crate) trait ExtValue: Sized {
    /// Reads `key`, `Ok(None)` when it is absent.
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError>;
    /// The string Java's `toString()` gives for this value.
    fn write(&self) -> String;
}

impl ExtValue for String {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        Ok(ext.optional_str(key).map(str::to_owned))
    }
    fn write(&self) -> String {
        self.clone()
    }
}

impl ExtValue for i32 {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        ext.optional_i32(key)
    }
    fn write(&self) -> String {
        self.to_string()
    }
}

impl ExtValue for i64 {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        ext.optional_i64(key)
    }
    fn write(&self) -> String {
        self.to_string()
    }
}

impl ExtValue for bool {
    fn read(ext: &ExtFields, key: &'static str) -> Result<Option<Self>, ExtFieldError> {
        ext.optional_bool(key)
    }
    fn write(&self) -> String {
        self.to_string()
    }
}

/// Reads a required field: present and parsable, or an error naming `key`.
pub(crate) fn required<T: ExtValue>(
    ext: &ExtFields,
    key: &'static str,
) -> Result<T, ExtFieldError> {
    T::read(ext, key)?.ok_or(ExtFieldError::Missing { key })
}

/// Writes an optional field, omitting `None` the way Java omits null fields.
pub(crate) fn put_opt<T: ExtValue>(ext: &mut ExtFields, key: &'static str, value: Option<&T>) {
    if let Some(value) = value {
        ext.put(key, value.write());
    }
}

/// The Rust type of a header field: the plain type when required, `Option` when optional.
macro_rules! header_field_ty {
    (required $ty:ty) => { $ty };
    (optional $ty:ty) => { Option<$ty> };
}

/// Declares a header struct whose fields map one-to-one onto extFields keys, and implements
/// [`CommandHeader`] for it. Each field reads `required name: Type => "key"` or
/// `optional name: Type => "key"`.
macro_rules! command_header {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident : $ty:ty => $key:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $crate::header::header_field_ty!($kind $ty),
            )*
        }

        impl $crate::header::CommandHeader for $name {
            fn from_ext(
                ext: &$crate::remoting::ExtFields,
            ) -> Result<Self, $crate::remoting::ExtFieldError> {
                Ok(Self {
                    $( $field: $crate::header::command_header!(@read $kind ext $ty, $key), )*
                })
            }

            fn to_ext(&self) -> $crate::remoting::ExtFields {
                #[allow(unused_mut)]
                let mut ext = $crate::remoting::ExtFields::new();
                $( $crate::header::command_header!(@write $kind ext self.$field, $key); )*
                ext
            }
        }
    };
    (@read required $ext:ident $ty:ty, $key:literal) => {
        $crate::header::required::<$ty>($ext, $key)?
    };
    (@read optional $ext:ident $ty:ty, $key:literal) => {
        <$ty as $crate::header::ExtValue>::read($ext, $key)?
    };
    (@write required $ext:ident $value:expr, $key:literal) => {
        $ext.put($key, $crate::header::ExtValue::write(&$value))
    };
    (@write optional $ext:ident $value:expr, $key:literal) => {
        $crate::header::put_opt(&mut $ext, $key, $value.as_ref())
    };
}

// The child modules below see the two macros through textual scope, so they must stay
// declared after the macros; the path re-exports serve the macros' own `$crate::` calls.
pub(crate) use command_header;
pub(crate) use header_field_ty;

pub mod admin;
pub mod client;
pub mod namesrv;
pub mod offset;
pub mod perm;
pub mod pull;
pub mod query;
pub mod send;
pub mod transaction;

#[cfg(test)]
mod test_util;

pub use admin::{CreateTopicRequestHeader, DeleteTopicRequestHeader, TopicFilterType};
pub use client::{
    ConsumerSendMsgBackRequestHeader, GetConsumerListByGroupRequestHeader,
    NotifyConsumerIdsChangedRequestHeader, UnregisterClientRequestHeader,
};
pub use namesrv::{
    DeleteTopicFromNamesrvRequestHeader, GetRouteInfoRequestHeader, RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader, UnregisterBrokerRequestHeader,
};
pub use offset::{
    BoundaryType, GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, OffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
pub use perm::PermName;
pub use pull::{PullMessageRequestHeader, PullMessageResponseHeader, PullSysFlag};
pub use query::{QueryMessageRequestHeader, QueryMessageResponseHeader, ViewMessageRequestHeader};
pub use send::{SendMessageRequestHeader, SendMessageResponseHeader};
pub use transaction::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader};
