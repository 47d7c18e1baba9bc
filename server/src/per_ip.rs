//! Limits per client address: connections held at once and requests per second across all of them, so one
//! machine opening many connections cannot get around the per-connection limits.
//!
//! The server's own computer (loopback) is exempt: it is the host's, and the host's scripts, bots and benchmarks
//! legitimately open many connections from it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::rate::TokenBucket;

#[derive(Debug)]
struct Entry {
    connections: usize,
    bucket: TokenBucket,
}

/// Every address with an open connection: how many it holds and its shared request budget.
#[derive(Debug)]
pub(crate) struct PerIp {
    max_connections: usize,
    rate_per_second: u32,
    burst: u32,
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

/// One connection's place in its address's count; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct IpPermit {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// `max_connections` or `rate_per_second` of 0 means unlimited.
    pub(crate) fn new(max_connections: usize, rate_per_second: u32, burst: u32) -> Arc<Self> {
        Arc::new(Self { max_connections, rate_per_second, burst, entries: Mutex::new(HashMap::new()) })
    }

    /// A place for one more connection from `ip`, or `None` if it holds the most allowed.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<IpPermit> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries
            .entry(ip)
            .or_insert_with(|| Entry { connections: 0, bucket: TokenBucket::new(self.rate_per_second, self.burst) });
        if self.max_connections != 0 && entry.connections >= self.max_connections && !ip.to_canonical().is_loopback() {
            return None;
        }
        entry.connections += 1;
        Some(IpPermit { owner: self.clone(), ip })
    }

    /// Takes one request from `ip`'s shared budget, or says how long until one is available.
    pub(crate) fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate_per_second == 0 || ip.to_canonical().is_loopback() {
            return Ok(());
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get_mut(&ip).map_or(Ok(()), |entry| entry.bucket.take(now))
    }
}

impl Drop for IpPermit {
    fn drop(&mut self) {
        let mut entries = self.owner.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(&self.ip) {
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections == 0 {
                entries.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_address_and_given_back() {
        let limits = PerIp::new(2, 0, 1);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let first = limits.admit(a).expect("first");
        let _second = limits.admit(a).expect("second");
        assert!(limits.admit(a).is_none(), "a third from the same address");
        assert!(limits.admit(b).is_some(), "another address is not affected");
        drop(first);
        assert!(limits.admit(a).is_some(), "a place was given back");
        let local: IpAddr = [127, 0, 0, 1].into();
        let held: Vec<_> = (0..10).map(|_| limits.admit(local)).collect();
        assert!(held.iter().all(Option::is_some), "this computer is not limited");
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_budget_is_shared_by_an_address() {
        let limits = PerIp::new(0, 5, 5);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let (_one, _two) = (limits.admit(ip).expect("one"), limits.admit(ip).expect("two"));
        let now = Instant::now();
        assert!((0..5).all(|_| limits.take(ip, now).is_ok()));
        assert!(limits.take(ip, now).is_err(), "the sixth request across both connections");
        assert!(limits.take(ip, now + Duration::from_millis(200)).is_ok());
        let local: IpAddr = [127, 0, 0, 1].into();
        let _three = limits.admit(local).expect("local");
        assert!((0..50).all(|_| limits.take(local, now).is_ok()), "this computer is not limited");
    }
}
