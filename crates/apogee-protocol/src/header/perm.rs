//! [`PermName`]: the read/write/inherit/priority bits of topics, queues and brokers.

use std::fmt;

/// Permission bits (`PermName.java`), as carried in `perm` fields of headers, route data and
/// topic configs. A topic is normally `READ | WRITE` (6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermName(pub i32);

impl PermName {
    /// Inherited from the template topic when auto-creating (bit 0).
    pub const INHERIT: i32 = 0x1;
    /// Producers may write (bit 1).
    pub const WRITE: i32 = 0x2;
    /// Consumers may read (bit 2).
    pub const READ: i32 = 0x4;
    /// Priority (bit 3); not a valid topic permission.
    pub const PRIORITY: i32 = 0x8;
    /// `READ | WRITE`, the default of a topic.
    pub const READ_WRITE: Self = Self(Self::READ | Self::WRITE);

    /// Whether every bit of `bits` is set.
    #[must_use]
    pub fn has(self, bits: i32) -> bool {
        self.0 & bits == bits
    }

    /// Whether [`Self::READ`] is set.
    #[must_use]
    pub fn is_readable(self) -> bool {
        self.has(Self::READ)
    }

    /// Whether [`Self::WRITE`] is set.
    #[must_use]
    pub fn is_writeable(self) -> bool {
        self.has(Self::WRITE)
    }

    /// Whether [`Self::INHERIT`] is set.
    #[must_use]
    pub fn is_inherited(self) -> bool {
        self.has(Self::INHERIT)
    }

    /// Whether [`Self::PRIORITY`] is set.
    #[must_use]
    pub fn is_priority(self) -> bool {
        self.has(Self::PRIORITY)
    }

    /// Readable or writeable.
    #[must_use]
    pub fn is_accessible(self) -> bool {
        self.is_readable() || self.is_writeable()
    }

    /// Whether the value is a valid topic permission: `0 <= perm < PRIORITY`, as Java's
    /// `PermName.isValid`.
    #[must_use]
    pub fn is_valid(self) -> bool {
        (0..Self::PRIORITY).contains(&self.0)
    }

    /// The value with `bits` set.
    #[must_use]
    pub fn with(self, bits: i32) -> Self {
        Self(self.0 | bits)
    }

    /// The value with `bits` cleared (e.g. [`Self::WRITE`] to make a broker read-only).
    #[must_use]
    pub fn without(self, bits: i32) -> Self {
        Self(self.0 & !bits)
    }
}

impl fmt::Display for PermName {
    /// Writes Java's `perm2String` form: `R`, `W`, `X` (inherit) or `-` in that order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.is_readable(), 'R'),
            flag(self.is_writeable(), 'W'),
            flag(self.is_inherited(), 'X')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The helpers agree with Java's `PermName` for the usual values.
    #[test]
    fn bits() {
        let rw = PermName::READ_WRITE;
        assert_eq!(rw, PermName(6));
        assert!(rw.is_readable() && rw.is_writeable() && !rw.is_inherited());
        assert!(rw.is_valid() && rw.is_accessible());
        assert_eq!(rw.to_string(), "RW-");
        assert_eq!(PermName(7).to_string(), "RWX");
        assert_eq!(rw.without(PermName::WRITE), PermName(4));
        assert!(!PermName(0).is_accessible());
        assert!(!PermName(8).is_valid() && PermName(8).is_priority());
        assert!(!PermName(-1).is_valid());
        assert_eq!(PermName(4).with(PermName::INHERIT), PermName(5));
    }
}
