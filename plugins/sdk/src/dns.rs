//! DNS through the host: every lookup of a batch is in flight at once.

pub use crate::bindings::dns_import::{
    DnsError, Lookup, MxRecord, Query, RecordData, RecordType, Transport,
};

/// Resolves all `queries` at once; the outcomes come back in query order.
pub fn resolve(queries: &[Query]) -> Vec<Lookup> {
    crate::bindings::dns_import::resolve(queries)
}

impl Query {
    /// A query to the host's default resolver over UDP.
    pub fn new(name: impl Into<String>, record_type: RecordType) -> Self {
        Query {
            name: name.into(),
            record_type,
            server: None,
            transport: Transport::Udp,
        }
    }
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::Nxdomain => f.write_str("NXDOMAIN"),
            DnsError::Nodata => f.write_str("no data"),
            DnsError::Timeout => f.write_str("timed out"),
            DnsError::ConnectionFailed(e) => write!(f, "connection failed: {e}"),
            DnsError::ServerFailure(e) => write!(f, "server failure: {e}"),
            DnsError::BadReply(e) => write!(f, "bad reply: {e}"),
            DnsError::Suspended => f.write_str("suspended"),
        }
    }
}

impl DnsError {
    /// True when the answer says something definite about the name (it does not exist, or
    /// has no such record); false when the server could not be asked or gave no usable answer.
    pub fn is_definite(&self) -> bool {
        matches!(self, DnsError::Nxdomain | DnsError::Nodata)
    }
}

/// Suspends all queries for `zone` (and names under it) for `seconds`, across all messages.
pub fn suspend(zone: &str, seconds: u32) {
    crate::bindings::dns_import::suspend(zone, seconds)
}
