//! Message ids (`UNIQ_KEY`) in RocketMQ's client format (`MessageClientIDSetter`).
//!
//! An id is uppercase hex of: the client IP (4 bytes, or 16 for IPv6), the process id as a
//! `u16`, a per-process random `i32` (Java uses its class loader's hash code), the
//! milliseconds since the start of the current month as an `i32`, and a process-wide `u16`
//! counter. With an IPv4 address that is 16 bytes, 32 hex digits. Java takes the month start
//! in local time; this takes it in UTC, which only shifts the time part (only uniqueness
//! matters to brokers and tools).

use std::net::IpAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use apogee_protocol::message::message_id::hex_upper;
use rand::Rng;

/// Shared by every generator of the process, as Java's static `COUNTER`.
static COUNTER: AtomicU16 = AtomicU16::new(0);
/// Stands in for Java's class-loader hash: fixed for the process.
static PROCESS_HASH: OnceLock<i32> = OnceLock::new();

const MS_PER_DAY: i64 = 86_400_000;

/// Makes `UNIQ_KEY`s for one client IP.
#[derive(Debug, Clone)]
pub struct UniqueIdGenerator {
    /// Hex of IP, pid and process hash: the part every id of this generator shares.
    prefix: String,
}

impl UniqueIdGenerator {
    /// A generator for `client_ip`; an address that does not parse is replaced by a fake
    /// 4-byte one made from the clock, as RocketMQ's `createFakeIP`.
    #[must_use]
    pub fn new(client_ip: &str) -> Self {
        let mut fixed = match client_ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => ip.octets().to_vec(),
            Ok(IpAddr::V6(ip)) => ip.octets().to_vec(),
            Err(_) => {
                let ms = now_ms().to_be_bytes();
                ms[4..].to_vec()
            }
        };
        // Java writes `(short) pid`: the low 16 bits.
        fixed.extend_from_slice(&(std::process::id() as u16).to_be_bytes());
        let hash = *PROCESS_HASH.get_or_init(|| rand::rng().random());
        fixed.extend_from_slice(&hash.to_be_bytes());
        Self {
            prefix: hex_upper(&fixed),
        }
    }

    /// A new id, stamped now.
    #[must_use]
    pub fn next_id(&self) -> String {
        self.id_at(now_ms())
    }

    /// A new id stamped at `epoch_ms`.
    #[must_use]
    pub fn id_at(&self, epoch_ms: i64) -> String {
        let since_month = epoch_ms - month_start_ms(epoch_ms);
        // Java casts to int: past 24.8 days the value wraps; keep the same bits.
        let time = since_month as u32;
        let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tail = [0u8; 6];
        tail[..4].copy_from_slice(&time.to_be_bytes());
        tail[4..].copy_from_slice(&counter.to_be_bytes());
        let mut id = self.prefix.clone();
        id.push_str(&hex_upper(&tail));
        id
    }

    /// The hex prefix every id of this generator starts with (IP, pid, process hash).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Midnight UTC of the first day of the month containing `epoch_ms`.
fn month_start_ms(epoch_ms: i64) -> i64 {
    let days = epoch_ms.div_euclid(MS_PER_DAY);
    (days - (day_of_month(days) - 1)) * MS_PER_DAY
}

/// The day of the month (1–31) of a day counted from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn day_of_month(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    doy - (153 * mp + 2) / 5 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Month starts of a few known dates, leap day included.
    #[test]
    fn month_starts() {
        // 2024-02-29T12:00:00Z → 2024-02-01T00:00:00Z.
        assert_eq!(month_start_ms(1_709_208_000_000), 1_706_745_600_000);
        // 1970-01-01 is its own month start; 2023-12-31T23:59:59.999Z → 2023-12-01.
        assert_eq!(month_start_ms(5), 0);
        assert_eq!(month_start_ms(1_704_067_199_999), 1_701_388_800_000);
        assert_eq!(day_of_month(0), 1);
    }

    /// 32 hex digits for IPv4: IP, pid, hash, time since the month started, counter.
    #[test]
    fn id_layout() {
        let ids = UniqueIdGenerator::new("10.0.0.1");
        assert!(ids.prefix().starts_with("0A000001"));
        let pid = format!("{:04X}", std::process::id() as u16);
        assert_eq!(&ids.prefix()[8..12], pid);
        // 2024-02-01T00:00:01.234Z: 1234 ms into the month.
        let a = ids.id_at(1_706_745_601_234);
        let b = ids.id_at(1_706_745_601_234);
        assert_eq!(a.len(), 32);
        assert_eq!(&a[20..28], "000004D2");
        assert_ne!(a, b, "the counter differs");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(UniqueIdGenerator::new("::1").next_id().len(), 56);
        assert_eq!(UniqueIdGenerator::new("not-an-ip").next_id().len(), 32);
    }
}
