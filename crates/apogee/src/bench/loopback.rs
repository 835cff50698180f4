//! The loopback TCP round trip: one byte sent over 127.0.0.1 and echoed back, with blocking
//! std sockets and `TCP_NODELAY` on both ends. It is the floor under any request/response
//! over loopback: one sync sender cannot exceed `1 / RTT` messages per second.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;

/// How long the echo side waits for a byte before giving up (a stuck prober).
const ECHO_TIMEOUT: Duration = Duration::from_secs(10);

/// Round trips timed by the full `bench limits`.
pub const FULL_ROUND_TRIPS: u64 = 20_000;

/// Round trips timed by the quick probe at the start of `bench produce`.
pub const QUICK_ROUND_TRIPS: u64 = 2_000;

/// Round trips made before timing starts (warms caches, scheduler and the connection).
const WARM_UP: u64 = 100;

/// The measured loopback round trip.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Rtt {
    /// Mean round trip, µs.
    pub mean_us: f64,
    /// Median round trip, µs.
    pub p50_us: f64,
    /// 99th percentile round trip, µs.
    pub p99_us: f64,
    /// Round trips timed.
    pub round_trips: u64,
}

/// Measures `round_trips` 1-byte ping-pongs over 127.0.0.1 (after a short warm-up).
///
/// # Errors
/// If the sockets cannot be made or a read or write fails.
pub fn measure_rtt(round_trips: u64) -> Result<Rtt> {
    if round_trips == 0 {
        bail!("the loopback probe needs at least one round trip");
    }
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback socket")?;
    let addr = listener.local_addr().context("loopback socket address")?;
    let total = WARM_UP + round_trips;
    let echo = thread::Builder::new()
        .name("rtt-echo".into())
        .spawn(move || echo(&listener, total))
        .context("cannot start the echo thread")?;
    let outcome = ping(addr, round_trips);
    let echoed = echo
        .join()
        .map_err(|_| anyhow::anyhow!("the loopback echo thread panicked"))?;
    let rtt = outcome?;
    echoed?;
    Ok(rtt)
}

/// Accepts one connection and echoes `total` single bytes.
fn echo(listener: &TcpListener, total: u64) -> Result<()> {
    let (mut stream, _) = listener.accept().context("loopback accept")?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    stream
        .set_read_timeout(Some(ECHO_TIMEOUT))
        .context("read timeout")?;
    let mut byte = [0u8; 1];
    for _ in 0..total {
        stream.read_exact(&mut byte).context("loopback echo read")?;
        stream.write_all(&byte).context("loopback echo write")?;
    }
    Ok(())
}

/// Connects to the echo side and times `round_trips` ping-pongs after the warm-up.
fn ping(addr: std::net::SocketAddr, round_trips: u64) -> Result<Rtt> {
    let mut stream = TcpStream::connect(addr).context("loopback connect")?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    stream
        .set_read_timeout(Some(ECHO_TIMEOUT))
        .context("read timeout")?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .context("cannot create the RTT histogram")?;
    let mut byte = [7u8; 1];
    let mut timed = Duration::ZERO;
    for i in 0..WARM_UP + round_trips {
        let start = Instant::now();
        stream.write_all(&byte).context("loopback ping write")?;
        stream.read_exact(&mut byte).context("loopback ping read")?;
        let elapsed = start.elapsed();
        if i >= WARM_UP {
            timed += elapsed;
            histogram.saturating_record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        }
    }
    Ok(Rtt {
        mean_us: timed.as_secs_f64() * 1e6 / round_trips as f64,
        p50_us: histogram.value_at_quantile(0.50) as f64 / 1e3,
        p99_us: histogram.value_at_quantile(0.99) as f64 / 1e3,
        round_trips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short probe gives a positive, finite RTT with p50 <= p99.
    #[test]
    fn measures_a_positive_rtt() {
        let rtt = measure_rtt(200).expect("probe");
        assert!(rtt.mean_us.is_finite() && rtt.mean_us > 0.0, "{rtt:?}");
        assert!(rtt.p50_us > 0.0 && rtt.p50_us <= rtt.p99_us, "{rtt:?}");
        assert_eq!(rtt.round_trips, 200);
    }

    /// Zero round trips is refused rather than dividing by zero.
    #[test]
    fn refuses_zero_round_trips() {
        assert!(measure_rtt(0).is_err());
    }
}
