//! Which servers callouts may reach: addresses in special-purpose networks are refused unless
//! the configuration allows them, and each server gets at most so many callouts a minute.
//!
//! A sender domain's MX records are the sender's to write, so a forged sender can point them at
//! the receiving site's own network (an internal relay, a management port on 127.0.0.1) or
//! make many senders share one victim server. The first is refused by address; the second is
//! bounded by a per-server rate, so that the probes never look like an attack and the host
//! does not get listed as a callout source (backscatterer.org lists those).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use ipnet::IpNet;
use tokio::time::Instant;

/// The window of the per-server rate limit.
const WINDOW: Duration = Duration::from_secs(60);

/// Most servers whose recent callouts are tracked; beyond it idle servers are forgotten.
const MAX_TRACKED_SERVERS: usize = 100_000;

/// Special-purpose networks (IANA's IPv4 and IPv6 special-purpose address registries, RFC 6890
/// and successors) that are not public mail servers, with the name used in refusals.
const SPECIAL: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\""),
    ("10.0.0.0/8", "private-use"),
    ("100.64.0.0/10", "shared address space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private-use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.168.0.0/16", "private-use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// [`SPECIAL`] parsed, once.
static SPECIAL_NETS: LazyLock<Vec<(IpNet, &'static str)>> = LazyLock::new(|| {
    SPECIAL
        .iter()
        .map(|(net, name)| {
            (
                net.parse().expect("the special-purpose table parses"),
                *name,
            )
        })
        .collect()
});

/// The special-purpose network `ip` lies in, by name (IPv4-mapped IPv6 addresses are judged
/// as the IPv4 address they carry).
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    let ip = ip.to_canonical();
    SPECIAL_NETS
        .iter()
        .find_map(|(net, name)| net.contains(&ip).then_some(*name))
}

/// The address and rate policy for callout targets.
pub struct Targets {
    /// Special-purpose networks callouts may reach all the same (a site whose own senders'
    /// mail servers are internal, or a test on 127.0.0.1).
    allow: Vec<IpNet>,
    /// Most callouts per server in any minute; 0 for no limit.
    per_minute: u32,
    /// When each server's recent callouts started.
    recent: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Targets {
    /// A policy allowing the special-purpose networks in `allow`, with `per_minute` callouts
    /// per server (0: unlimited).
    pub fn new(allow: Vec<IpNet>, per_minute: u32) -> Self {
        Targets {
            allow,
            per_minute,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` may be called out at all; `Err` says why not.
    pub fn reachable(&self, ip: IpAddr) -> Result<(), String> {
        let canonical = ip.to_canonical();
        match special_purpose(ip) {
            Some(name) if !self.allow.iter().any(|net| net.contains(&canonical)) => Err(format!(
                "{ip} is in a {name} network, which callouts do not reach (see [callout] allow-networks)"
            )),
            _ => Ok(()),
        }
    }

    /// Takes one of `ip`'s callouts for the current minute; `Err` when it has had them all.
    pub fn admit(&self, ip: IpAddr) -> Result<(), String> {
        self.admit_at(ip, Instant::now())
    }

    fn admit_at(&self, ip: IpAddr, now: Instant) -> Result<(), String> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= MAX_TRACKED_SERVERS && !recent.contains_key(&ip) {
            recent.retain(|_, starts| starts.back().is_some_and(|t| now - *t < WINDOW));
        }
        let starts = recent.entry(ip).or_default();
        while starts.front().is_some_and(|t| now - *t >= WINDOW) {
            starts.pop_front();
        }
        if starts.len() >= self.per_minute as usize {
            return Err(format!(
                "{ip} reached its limit of {} callouts a minute (see [callout] max-per-server-per-minute)",
                self.per_minute
            ));
        }
        starts.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_purpose_networks_are_named() {
        for (addr, name) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private-use"),
            ("172.31.255.255", "private-use"),
            ("192.168.0.1", "private-use"),
            ("100.64.0.1", "shared address space"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "\"this network\""),
            ("255.255.255.255", "reserved"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private-use"),
            ("fd00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("2001:db8::25", "documentation"),
        ] {
            assert_eq!(special_purpose(ip(addr)), Some(name), "{addr}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "192.0.3.1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(special_purpose(ip(public)), None, "{public}");
        }
    }

    #[test]
    fn allowed_networks_open_special_addresses() {
        let closed = Targets::new(vec![], 0);
        let why = closed.reachable(ip("127.0.0.1")).unwrap_err();
        assert!(why.contains("loopback"), "{why}");
        assert!(closed.reachable(ip("8.8.8.8")).is_ok());
        let open = Targets::new(vec!["127.0.0.0/8".parse().unwrap()], 0);
        assert!(open.reachable(ip("127.0.0.2")).is_ok());
        assert!(open.reachable(ip("::ffff:127.0.0.2")).is_ok());
        assert!(open.reachable(ip("::1")).is_err());
        assert!(open.reachable(ip("10.0.0.1")).is_err());
    }

    #[test]
    fn each_server_gets_its_callouts_per_minute() {
        let targets = Targets::new(vec![], 2);
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        let t0 = Instant::now();
        let t30 = t0 + Duration::from_secs(30);
        assert!(targets.admit_at(a, t0).is_ok());
        assert!(targets.admit_at(a, t30).is_ok());
        let why = targets.admit_at(a, t30).unwrap_err();
        assert!(why.contains("limit of 2 callouts"), "{why}");
        assert!(
            targets.admit_at(b, t30).is_ok(),
            "another server has its own budget"
        );
        let t60 = t0 + WINDOW;
        assert!(
            targets.admit_at(a, t60).is_ok(),
            "the first callout left the window"
        );
        assert!(targets.admit_at(a, t60).is_err());
        let unlimited = Targets::new(vec![], 0);
        assert!((0..1000).all(|_| unlimited.admit(a).is_ok()));
    }
}
