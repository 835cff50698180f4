//! Byte sizes on the command line (`512M`, `4G`, `1048576`) and in printed reports.
//!
//! Every suffix is binary: `K` is 1024 bytes, `M` is 1024², `G` is 1024³ and `T` is 1024⁴,
//! whether written `G`, `GB` or `GiB`, in any case. Benchmarks write whole mebibytes, so a
//! decimal reading of `4GB` would only produce odd sizes.

/// One kibibyte.
pub const KIB: u64 = 1024;
/// One mebibyte.
pub const MIB: u64 = 1024 * KIB;
/// One gibibyte.
pub const GIB: u64 = 1024 * MIB;
/// One tebibyte.
pub const TIB: u64 = 1024 * GIB;

/// Parses a byte size: digits (underscores allowed between them) and an optional binary
/// suffix `K`, `M`, `G` or `T`, optionally followed by `i` and/or `B` (`4G`, `4GiB`, `4gb`).
///
/// Shaped for clap's `value_parser`.
///
/// # Errors
/// A message for people when the text is empty, has no digits, has an unknown suffix, or
/// names more than `u64::MAX` bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size: expected digits with an optional suffix, like 512M or 4G"
        ));
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large for a byte count"))?;
    let multiplier = suffix_multiplier(suffix.trim()).ok_or_else(|| {
        format!("`{text}` has an unknown size suffix `{suffix}`: use K, M, G or T (binary)")
    })?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large for a byte count"))
}

/// The multiplier of a size suffix, or `None` if the suffix is not one we accept.
fn suffix_multiplier(suffix: &str) -> Option<u64> {
    let lower = suffix.to_ascii_lowercase();
    let (unit, binary_marker) = match lower.strip_suffix("ib") {
        Some(unit) => (unit, true),
        None => (lower.strip_suffix('b').unwrap_or(&lower), false),
    };
    // "iB" needs a unit letter before it: "4iB" is a typo, not four bytes.
    if binary_marker && unit.is_empty() {
        return None;
    }
    match unit {
        "" => Some(1),
        "k" => Some(KIB),
        "m" => Some(MIB),
        "g" => Some(GIB),
        "t" => Some(TIB),
        _ => None,
    }
}

/// Formats a byte count for people: `512 B`, `8 MiB`, `1.5 GiB` (whole units print without
/// decimals).
#[must_use]
pub fn format_bytes(bytes: u64) -> String {
    let units = [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")];
    for (size, name) in units {
        if bytes >= size && bytes % size == 0 {
            return format!("{} {name}", bytes / size);
        }
        if bytes >= size {
            return format!("{:.1} {name}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain numbers, every suffix spelling, underscores and surrounding spaces are accepted.
    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("1048576"), Ok(MIB));
        assert_eq!(parse_size("8K"), Ok(8 * KIB));
        assert_eq!(parse_size("512M"), Ok(512 * MIB));
        assert_eq!(parse_size("512m"), Ok(512 * MIB));
        assert_eq!(parse_size("4G"), Ok(4 * GIB));
        assert_eq!(parse_size("4GB"), Ok(4 * GIB));
        assert_eq!(parse_size("4GiB"), Ok(4 * GIB));
        assert_eq!(parse_size("4gib"), Ok(4 * GIB));
        assert_eq!(parse_size("2T"), Ok(2 * TIB));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size(" 1_024 "), Ok(1024));
        assert_eq!(parse_size("1 G"), Ok(GIB));
    }

    /// Empty text, missing digits, unknown suffixes, negatives and overflow are refused.
    #[test]
    fn rejects_bad_sizes() {
        for bad in [
            "",
            "G",
            "-1",
            "4X",
            "4GG",
            "4iB",
            "1.5G",
            "99999999999999999999",
            "16777216T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} should be refused");
        }
    }

    /// Byte counts print in the largest unit that keeps the number at least one.
    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(8 * MIB), "8 MiB");
        assert_eq!(format_bytes(4 * GIB), "4 GiB");
        assert_eq!(format_bytes(799 * MIB + 1), "799.0 MiB");
        assert_eq!(format_bytes(3 * GIB / 2), "1.5 GiB");
    }
}
