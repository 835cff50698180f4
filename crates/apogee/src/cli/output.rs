//! Output for people: aligned tables, times, message bodies.

use std::fmt::Write as _;

/// A table printed with aligned columns; cells that are integers align right.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    #[must_use]
    pub fn new(titles: &[&str]) -> Self {
        Self {
            rows: vec![titles.iter().map(|t| (*t).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, columns two spaces apart, no trailing blanks.
    #[must_use]
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for (r, row) in self.rows.iter().enumerate() {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let numeric = r > 0 && cell.parse::<i64>().is_ok();
                if numeric {
                    let _ = write!(line, "{cell:>width$}", width = widths[i]);
                } else {
                    let _ = write!(line, "{cell:<width$}", width = widths[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `ms` since the epoch as `YYYY-MM-DD hh:mm:ss.mmm UTC`.
#[must_use]
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03} UTC",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The body as text if it is UTF-8 without control characters (other than newlines and
/// tabs), else `None`.
#[must_use]
pub fn printable(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let clean = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    clean.then_some(text)
}

/// Lower-case hex of `bytes`.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns align; integers align right; no trailing blanks.
    #[test]
    fn table_alignment() {
        let mut table = Table::new(&["TOPIC", "QUEUE", "LAG"]);
        table.row(vec!["Orders".into(), "0".into(), "12".into()]);
        table.row(vec!["T".into(), "10".into(), "3".into()]);
        assert_eq!(
            table.render(),
            "TOPIC   QUEUE  LAG\nOrders      0   12\nT          10    3\n"
        );
    }

    /// Known instants, including a leap day and before the epoch.
    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(format_time(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(
            format_time(1_700_000_000_000),
            "2023-11-14 22:13:20.000 UTC"
        );
        assert_eq!(format_time(-1), "1969-12-31 23:59:59.999 UTC");
    }

    /// Text stays text; binary is shown as hex.
    #[test]
    fn bodies() {
        assert_eq!(printable(b"hello\nworld"), Some("hello\nworld"));
        assert_eq!(printable(b"a\x00b"), None);
        assert_eq!(printable(&[0xff, 0xfe]), None);
        assert_eq!(hex(&[0x00, 0xab]), "00ab");
    }
}
