//! Listing of files named by a 20-digit, zero-padded start offset (commit-log segments,
//! consume-queue files), as RocketMQ's `UtilAll.offset2FileName` names them.

use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// Digits in a segment file name.
pub const NAME_DIGITS: usize = 20;

/// The file name of a segment starting at `offset`.
#[must_use]
pub fn name(offset: u64) -> String {
    format!("{offset:0width$}", width = NAME_DIGITS)
}

/// The offset a segment file name stands for, if it is one.
#[must_use]
pub fn parse(file_name: &str) -> Option<u64> {
    (file_name.len() == NAME_DIGITS && file_name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| file_name.parse().ok())
        .flatten()
}

/// Segment files in `dir`, sorted by offset; a missing directory has none.
///
/// Other files (temporary files, editor droppings) are ignored; a directory named like a
/// segment is an error.
///
/// # Errors
/// [`StoreError::Io`] if the directory cannot be read, [`StoreError::BadFile`] for a
/// segment-named entry that is not a regular file.
pub fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("read dir", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("read dir", dir, e))?;
        let Some(offset) = entry.file_name().to_str().and_then(parse) else {
            continue;
        };
        let path = entry.path();
        if !path.is_file() {
            return Err(StoreError::BadFile {
                path,
                reason: "expected a regular file".to_owned(),
            });
        }
        out.push((offset, path));
    }
    out.sort_unstable_by_key(|(offset, _)| *offset);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names are 20 digits; only such names parse.
    #[test]
    fn names() {
        assert_eq!(name(1_073_741_824), "00000000001073741824");
        assert_eq!(parse("00000000001073741824"), Some(1_073_741_824));
        assert_eq!(parse("0000000000107374182"), None);
        assert_eq!(parse("0000000000107374182x"), None);
        assert_eq!(parse("99999999999999999999"), None, "overflows u64");
    }
}
