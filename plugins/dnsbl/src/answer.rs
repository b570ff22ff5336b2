//! What a list's answer means: listings, error codes, filters and the RFC 5782 self-test.

use std::net::{IpAddr, Ipv4Addr};

use antispam_sdk::dns::{DnsError, RecordData};

/// A lookup's outcome as the host reports it.
pub type Answer = Result<Vec<RecordData>, DnsError>;

/// Which answer codes count as a listing.
///
/// With neither `codes` nor `bitmask`, every valid code counts. Otherwise a code counts when it
/// equals one of `codes` or when its low 24 bits (the address without the leading 127) share a
/// bit with `bitmask` (Exim's `&`): `bitmask = 8` matches 127.0.0.8 and 127.0.0.24 but not
/// 127.0.0.2.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    codes: Vec<Ipv4Addr>,
    bitmask: Option<u32>,
}

impl Filter {
    /// A filter from the list's `codes` (empty for none) and `bitmask`.
    pub fn new(codes: Vec<Ipv4Addr>, bitmask: Option<u32>) -> Self {
        Filter { codes, bitmask }
    }

    /// True when `code` (a valid, non-error code) counts as a listing.
    pub fn counts(&self, code: Ipv4Addr) -> bool {
        if self.codes.is_empty() && self.bitmask.is_none() {
            return true;
        }
        self.codes.contains(&code)
            || self
                .bitmask
                .is_some_and(|mask| u32::from(code) & 0x00ff_ffff & mask != 0)
    }
}

/// True when an A answer is an error signal rather than a listing: anything outside
/// 127.0.0.0/8, 127.255.255.0/24 (Spamhaus: bad zone, open resolver, over quota), 127.0.1.255
/// (Spamhaus: IP query sent to a domain list) and 127.0.0.1 (never listed by RFC 5782;
/// URIBL's "query refused").
pub fn is_error_code(ip: IpAddr) -> bool {
    let IpAddr::V4(v4) = ip else { return true };
    let [a, b, c, _] = v4.octets();
    a != 127
        || (b == 255 && c == 255)
        || v4 == Ipv4Addr::new(127, 0, 1, 255)
        || v4 == Ipv4Addr::new(127, 0, 0, 1)
}

/// What one list's main query said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Listed, with the codes that counted.
    Listed(Vec<Ipv4Addr>),
    /// Not listed (NXDOMAIN, no data, or only codes the filter does not count).
    NotListed {
        /// Valid codes that the filter did not count.
        ignored: Vec<Ipv4Addr>,
    },
    /// The list answered an error code: not a listing, and the zone is unhealthy.
    ErrorCode(IpAddr),
    /// No answer: the UDP query and its retries timed out, or TCP could not connect (C02).
    Unreachable,
    /// The server answered with an error or a broken reply.
    Failed(String),
    /// The zone is suspended; nothing was sent.
    Suspended,
}

/// Classifies a list's answer; the first error code found wins over any listing.
pub fn classify(answer: &Answer, filter: &Filter) -> Status {
    let records = match answer {
        Ok(records) => records,
        Err(DnsError::Nxdomain | DnsError::Nodata) => return Status::NotListed { ignored: vec![] },
        Err(DnsError::Timeout | DnsError::ConnectionFailed(_)) => return Status::Unreachable,
        Err(DnsError::Suspended) => return Status::Suspended,
        Err(e @ (DnsError::ServerFailure(_) | DnsError::BadReply(_))) => {
            return Status::Failed(e.to_string());
        }
    };
    let codes = a_records(records);
    if let Some(bad) = codes.iter().copied().find(|ip| is_error_code(*ip)) {
        return Status::ErrorCode(bad);
    }
    let (counted, ignored): (Vec<Ipv4Addr>, Vec<Ipv4Addr>) = codes
        .into_iter()
        .filter_map(v4)
        .partition(|code| filter.counts(*code));
    if counted.is_empty() {
        Status::NotListed { ignored }
    } else {
        Status::Listed(counted)
    }
}

/// The addresses of the A records in an answer (other record types are ignored).
fn a_records(records: &[RecordData]) -> Vec<IpAddr> {
    records
        .iter()
        .filter_map(|r| match r {
            RecordData::A(ip) => Some(IpAddr::from(ip)),
            _ => None,
        })
        .collect()
}

fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(_) => None,
    }
}

/// The outcome of a list's RFC 5782 section 5 self-test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfTest {
    /// The positive entry is listed and the negative one is not.
    Passed,
    /// The list is broken; the text says which test failed.
    Failed(String),
    /// A test query got no usable answer; the text says which and why.
    Unknown(String),
}

/// Evaluates the self-test: `positive` (127.0.0.2 or `TEST`) must be listed with a valid code,
/// `negative` (127.0.0.1 or `INVALID`) must not exist. Each pair is the query name and its answer.
pub fn self_test(positive: (&str, &Answer), negative: (&str, &Answer)) -> SelfTest {
    let positive_result = match positive.1 {
        Ok(records) => {
            let codes = a_records(records);
            match codes.iter().find(|ip| is_error_code(**ip)) {
                Some(bad) => Some(failed(
                    positive.0,
                    &format!("answered the error code {bad}"),
                )),
                None if codes.is_empty() => Some(failed(
                    positive.0,
                    "must be listed but answered no A record",
                )),
                None => None,
            }
        }
        Err(e) if e.is_definite() => {
            Some(failed(positive.0, &format!("must be listed but got {e}")))
        }
        Err(e) => Some(SelfTest::Unknown(format!("{}: {e}", positive.0))),
    };
    let negative_result = match negative.1 {
        Ok(records) => a_records(records).first().map(|code| {
            failed(
                negative.0,
                &format!("must not be listed but answered {code}"),
            )
        }),
        Err(e) if e.is_definite() => None,
        Err(e) => Some(SelfTest::Unknown(format!("{}: {e}", negative.0))),
    };
    match (positive_result, negative_result) {
        (Some(f @ SelfTest::Failed(_)), _) | (_, Some(f @ SelfTest::Failed(_))) => f,
        (Some(unknown), _) | (None, Some(unknown)) => unknown,
        (None, None) => SelfTest::Passed,
    }
}

fn failed(name: &str, what: &str) -> SelfTest {
    SelfTest::Failed(format!("{name} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(addrs: &[&str]) -> Answer {
        Ok(addrs
            .iter()
            .map(|s| RecordData::A(s.parse::<IpAddr>().unwrap().into()))
            .collect())
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn error_codes() {
        for code in [
            "127.255.255.254",
            "127.255.255.255",
            "127.255.255.252",
            "10.0.0.1",
        ] {
            assert!(is_error_code(code.parse().unwrap()), "{code}");
        }
        for code in ["127.0.0.1", "127.0.1.255", "::1", "0.0.0.0"] {
            assert!(is_error_code(code.parse().unwrap()), "{code}");
        }
        for code in [
            "127.0.0.2",
            "127.0.0.10",
            "127.0.1.2",
            "127.1.0.1",
            "127.255.254.1",
        ] {
            assert!(!is_error_code(code.parse().unwrap()), "{code}");
        }
    }

    #[test]
    fn any_valid_code_is_a_listing_without_a_filter() {
        let v = classify(&a(&["127.0.0.2", "127.0.0.4"]), &Filter::default());
        assert_eq!(v, Status::Listed(vec![ip("127.0.0.2"), ip("127.0.0.4")]));
    }

    #[test]
    fn error_answers_are_never_listings() {
        let f = Filter::default();
        let open_resolver = "127.255.255.254".parse().unwrap();
        assert_eq!(
            classify(&a(&["127.255.255.254"]), &f),
            Status::ErrorCode(open_resolver)
        );
        assert_eq!(
            classify(&a(&["127.0.0.2", "10.0.0.1"]), &f),
            Status::ErrorCode("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn codes_filter_answers() {
        let f = Filter::new(vec![ip("127.0.0.2"), ip("127.0.0.3")], None);
        assert_eq!(
            classify(&a(&["127.0.0.3"]), &f),
            Status::Listed(vec![ip("127.0.0.3")])
        );
        assert_eq!(
            classify(&a(&["127.0.0.10", "127.0.0.11"]), &f),
            Status::NotListed {
                ignored: vec![ip("127.0.0.10"), ip("127.0.0.11")]
            }
        );
    }

    #[test]
    fn bitmask_uses_the_low_24_bits() {
        let f = Filter::new(vec![], Some(8 | 16));
        assert!(f.counts(ip("127.0.0.8")));
        assert!(f.counts(ip("127.0.0.80")));
        assert!(!f.counts(ip("127.0.0.2")));
        assert!(!f.counts(ip("127.0.0.64")));
        let wide = Filter::new(vec![], Some(0x0100));
        assert!(wide.counts(ip("127.0.1.2")));
        assert!(!wide.counts(ip("127.0.0.2")));
    }

    #[test]
    fn codes_or_bitmask_either_counts() {
        let f = Filter::new(vec![ip("127.0.0.2")], Some(4));
        assert!(f.counts(ip("127.0.0.2")));
        assert!(f.counts(ip("127.0.0.4")));
        assert!(!f.counts(ip("127.0.0.8")));
    }

    #[test]
    fn dns_errors_map_to_verdicts() {
        let f = Filter::default();
        assert_eq!(
            classify(&Err(DnsError::Nxdomain), &f),
            Status::NotListed { ignored: vec![] }
        );
        assert_eq!(
            classify(&Err(DnsError::Nodata), &f),
            Status::NotListed { ignored: vec![] }
        );
        assert_eq!(
            classify(&Ok(vec![]), &f),
            Status::NotListed { ignored: vec![] }
        );
        assert_eq!(classify(&Err(DnsError::Timeout), &f), Status::Unreachable);
        assert_eq!(
            classify(&Err(DnsError::ConnectionFailed("refused".into())), &f),
            Status::Unreachable
        );
        assert_eq!(classify(&Err(DnsError::Suspended), &f), Status::Suspended);
        assert_eq!(
            classify(&Err(DnsError::ServerFailure("SERVFAIL".into())), &f),
            Status::Failed("server failure: SERVFAIL".into())
        );
    }

    const POS: &str = "2.0.0.127.bl.example";
    const NEG: &str = "1.0.0.127.bl.example";

    #[test]
    fn healthy_list_passes_the_self_test() {
        let nx = Err(DnsError::Nxdomain);
        assert_eq!(
            self_test((POS, &a(&["127.0.0.2"])), (NEG, &nx)),
            SelfTest::Passed
        );
    }

    #[test]
    fn missing_test_entry_fails() {
        let nx = Err(DnsError::Nxdomain);
        assert_eq!(
            self_test((POS, &nx), (NEG, &nx)),
            SelfTest::Failed(format!("{POS} must be listed but got NXDOMAIN"))
        );
    }

    #[test]
    fn listing_everything_fails() {
        let listed = a(&["127.0.0.2"]);
        assert_eq!(
            self_test((POS, &listed), (NEG, &listed)),
            SelfTest::Failed(format!("{NEG} must not be listed but answered 127.0.0.2"))
        );
    }

    #[test]
    fn error_code_on_the_test_entry_fails() {
        let nx = Err(DnsError::Nxdomain);
        assert_eq!(
            self_test((POS, &a(&["127.255.255.254"])), (NEG, &nx)),
            SelfTest::Failed(format!("{POS} answered the error code 127.255.255.254"))
        );
    }

    #[test]
    fn unanswered_test_is_unknown() {
        let nx = Err(DnsError::Nxdomain);
        assert_eq!(
            self_test((POS, &a(&["127.0.0.2"])), (NEG, &Err(DnsError::Timeout))),
            SelfTest::Unknown(format!("{NEG}: timed out"))
        );
        assert_eq!(
            self_test((POS, &Err(DnsError::Timeout)), (NEG, &a(&["127.0.0.2"]))),
            SelfTest::Failed(format!("{NEG} must not be listed but answered 127.0.0.2"))
        );
        assert!(matches!(
            self_test((POS, &Err(DnsError::Suspended)), (NEG, &nx)),
            SelfTest::Unknown(_)
        ));
    }
}
