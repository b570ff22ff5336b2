//! The check's settings: the TOML schema and its validation into [`List`]s.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use antispam_sdk::dns::Transport;
use serde::Deserialize;

use crate::answer::{Filter, is_error_code};
use crate::names::domain_name;

/// The settings table: `[[lists]]` entries, queried in the order given.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawSettings {
    /// The black lists, in the order they are checked and logged.
    #[serde(default)]
    pub lists: Vec<RawList>,
}

/// One `[[lists]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawList {
    name: String,
    #[serde(default = "default_server")]
    server: String,
    zone: String,
    key: Option<String>,
    #[serde(rename = "type", default)]
    kind: ListType,
    #[serde(default)]
    transport: TransportSetting,
    #[serde(default)]
    trusted: bool,
    codes: Option<Vec<String>>,
    bitmask: Option<u32>,
    #[serde(default = "yes")]
    txt: bool,
    #[serde(default)]
    imail_rhs: bool,
    #[serde(default = "yes")]
    ipv6: bool,
    #[serde(default = "default_suspend_seconds")]
    suspend_seconds: u32,
    #[serde(default = "yes")]
    self_test: bool,
}

fn default_server() -> String {
    "*".into()
}

fn yes() -> bool {
    true
}

fn default_suspend_seconds() -> u32 {
    300
}

/// The longest suspension a list may ask for: one day.
const MAX_SUSPEND_SECONDS: u32 = 86_400;

/// What a list is asked about (IMail's list types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListType {
    /// IMail `DNS`: the connecting client's address.
    #[default]
    ClientIp,
    /// IMail `HELO`: the HELO/EHLO argument.
    Helo,
    /// IMail `ADDR`: the MAIL FROM address, `local@domain` queried as `local.domain`.
    MailFrom,
    /// IMail `RHS`: the domain of the MAIL FROM address.
    Rhs,
}

/// How a list's queries travel, as written in the settings.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum TransportSetting {
    #[default]
    Udp,
    Tcp,
}

/// One validated black list.
#[derive(Debug, Clone)]
pub struct List {
    /// The display name, used in log lines, headers and reasons.
    pub name: String,
    /// The server as configured (`*` for the host's resolver), for log lines.
    pub server: String,
    /// The query domain, lower case, without a trailing dot.
    pub zone: String,
    /// An access key put before the zone in every query (Spamhaus DQS:
    /// `<key>.zen.dq.spamhaus.net`), never shown in log lines.
    pub key: Option<String>,
    /// What the list is asked about.
    pub kind: ListType,
    /// UDP with retries, or TCP.
    pub transport: Transport,
    /// A hit deletes the message at once.
    pub trusted: bool,
    /// Which answer codes count as a listing.
    pub filter: Filter,
    /// Fetch the TXT record of a listing for the log.
    pub txt: bool,
    /// Query RHS lists in IMail's form, without the sender domain's top-level label.
    pub imail_rhs: bool,
    /// Query IPv6 clients.
    pub ipv6: bool,
    /// How long to suspend the zone after an error code or a failed self-test.
    pub suspend_seconds: u32,
    /// Check the RFC 5782 test entries with every query.
    pub self_test: bool,
}

impl List {
    /// `name:server:zone`, the triple IMail prints in parentheses.
    pub fn label(&self) -> String {
        format!("{}:{}:{}", self.name, self.server, self.zone)
    }

    /// The domain queries go under: `<key>.<zone>` with a key, else the zone.
    pub fn query_zone(&self) -> String {
        match &self.key {
            Some(key) => format!("{key}.{}", self.zone),
            None => self.zone.clone(),
        }
    }

    /// Takes the key out of every name under the query zone in `text` (a log line); without a
    /// key, leaves it as it is.
    pub fn redact(&self, text: &mut String) {
        if self.key.is_some() {
            *text = text.replace(&self.query_zone(), &self.zone);
        }
    }

    /// The server to put in a query: `None` for the host's resolver.
    pub fn resolver(&self) -> Option<String> {
        (self.server != "*").then(|| self.server.clone())
    }
}

impl RawSettings {
    /// Validates every list: names, zones, servers, codes, masks and option combinations.
    pub fn validate(self) -> Result<Vec<List>, String> {
        let mut seen = HashSet::new();
        let mut lists = Vec::with_capacity(self.lists.len());
        for raw in self.lists {
            let list = raw.validate()?;
            if !seen.insert(list.name.to_ascii_lowercase()) {
                return Err(format!("black list name '{}' is used twice", list.name));
            }
            lists.push(list);
        }
        Ok(lists)
    }
}

impl RawList {
    fn validate(self) -> Result<List, String> {
        let name = validate_name(&self.name)?;
        let zone = domain_name(&self.zone).ok_or_else(|| {
            format!(
                "black list '{name}': zone '{}' is not a domain name",
                self.zone.escape_debug()
            )
        })?;
        let server = validate_server(&name, &self.server)?;
        let key = match self.key {
            Some(key) => Some(validate_key(&name, &key)?),
            None => None,
        };
        let codes = match self.codes {
            Some(codes) if codes.is_empty() => {
                return Err(format!(
                    "black list '{name}': codes is empty; leave it out to accept every code"
                ));
            }
            Some(codes) => codes
                .iter()
                .map(|c| parse_code(&name, c))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        if let Some(mask) = self.bitmask
            && (mask == 0 || mask > 0x00ff_ffff)
        {
            return Err(format!(
                "black list '{name}': bitmask {mask} must be between 1 and 16777215 \
                 (the low 24 bits of a 127.x.y.z answer)"
            ));
        }
        if self.imail_rhs && self.kind != ListType::Rhs {
            return Err(format!(
                "black list '{name}': imail-rhs applies only to type \"rhs\""
            ));
        }
        if !self.ipv6 && self.kind != ListType::ClientIp {
            return Err(format!(
                "black list '{name}': ipv6 = false applies only to type \"client-ip\""
            ));
        }
        if !(1..=MAX_SUSPEND_SECONDS).contains(&self.suspend_seconds) {
            return Err(format!(
                "black list '{name}': suspend-seconds must be between 1 and {MAX_SUSPEND_SECONDS}"
            ));
        }
        Ok(List {
            name,
            server,
            zone,
            key,
            kind: self.kind,
            transport: match self.transport {
                TransportSetting::Udp => Transport::Udp,
                TransportSetting::Tcp => Transport::Tcp,
            },
            trusted: self.trusted,
            filter: Filter::new(codes, self.bitmask),
            txt: self.txt,
            imail_rhs: self.imail_rhs,
            ipv6: self.ipv6,
            suspend_seconds: self.suspend_seconds,
            self_test: self.self_test,
        })
    }
}

/// An access key is one DNS label: 1 to 63 letters, digits and `-`, not starting with `-`.
fn validate_key(name: &str, key: &str) -> Result<String, String> {
    let valid = (1..=63).contains(&key.len())
        && !key.starts_with('-')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(key.to_ascii_lowercase())
    } else {
        Err(format!(
            "black list '{name}': key must be one DNS label (letters, digits, '-')"
        ))
    }
}

/// A display name must be non-empty and free of the characters that delimit it in log lines
/// (`name:server:zone`) and headers (`(name,id,source)`).
fn validate_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a black list has an empty name".into());
    }
    if name.len() > 64 {
        return Err(format!(
            "black list name '{name}' is longer than 64 characters"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "(),:".contains(*c))
    {
        return Err(format!(
            "black list name '{}' contains '{}'; names may not contain spaces, '(', ')', ',' or ':'",
            name.escape_debug(),
            bad.escape_debug()
        ));
    }
    Ok(name.to_string())
}

/// `*` or an IP address with an optional port (`192.0.2.53`, `192.0.2.53:5353`, `[::1]:53`).
fn validate_server(list: &str, server: &str) -> Result<String, String> {
    let server = server.trim();
    let valid = server == "*"
        || server.parse::<IpAddr>().is_ok()
        || server.parse::<SocketAddr>().is_ok_and(|s| s.port() != 0);
    if valid {
        Ok(server.to_string())
    } else {
        Err(format!(
            "black list '{list}': server '{}' must be \"*\" (the host's resolver) \
             or an IP address with an optional port",
            server.escape_debug()
        ))
    }
}

/// An accepted answer code: an IPv4 address in 127.0.0.0/8 that is not an error code.
fn parse_code(list: &str, code: &str) -> Result<Ipv4Addr, String> {
    let addr: Ipv4Addr = code.trim().parse().map_err(|_| {
        format!(
            "black list '{list}': code '{}' is not an IPv4 address",
            code.escape_debug()
        )
    })?;
    if is_error_code(IpAddr::V4(addr)) {
        return Err(format!(
            "black list '{list}': code {addr} is an error code (outside 127.0.0.0/8, \
             127.0.0.1, 127.0.1.255 or 127.255.255.0/24) and can never be a listing"
        ));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Vec<List>, String> {
        antispam_sdk::Settings {
            domain: "example.test".into(),
            toml: toml.into(),
            files: vec![],
        }
        .parse::<RawSettings>()?
        .validate()
    }

    #[test]
    fn defaults_apply() {
        let lists =
            parse("[[lists]]\nname = \"spamhaus\"\nzone = \"SBL.Spamhaus.org.\"\n").unwrap();
        let l = &lists[0];
        assert_eq!(l.label(), "spamhaus:*:sbl.spamhaus.org");
        assert_eq!(l.resolver(), None);
        assert_eq!(l.kind, ListType::ClientIp);
        assert!(matches!(l.transport, Transport::Udp));
        assert!(!l.trusted && l.txt && l.ipv6 && l.self_test && !l.imail_rhs);
        assert_eq!(l.suspend_seconds, 300);
    }

    #[test]
    fn every_key_is_read() {
        let lists = parse(
            r#"
            [[lists]]
            name = "multi"
            server = "127.0.0.1:5353"
            zone = "multi.example"
            type = "rhs"
            transport = "tcp"
            trusted = true
            codes = ["127.0.0.2", "127.0.1.4"]
            bitmask = 12
            txt = false
            imail-rhs = true
            suspend-seconds = 60
            self-test = false
            "#,
        )
        .unwrap();
        let l = &lists[0];
        assert_eq!(l.resolver().as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(l.kind, ListType::Rhs);
        assert!(matches!(l.transport, Transport::Tcp));
        assert!(l.trusted && !l.txt && l.imail_rhs && !l.self_test);
        assert_eq!(l.suspend_seconds, 60);
    }

    #[test]
    fn no_lists_is_valid() {
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_settings_are_rejected_with_a_reason() {
        let cases = [
            ("name = \"\"\nzone = \"bl.example\"", "empty name"),
            ("name = \"a b\"\nzone = \"bl.example\"", "may not contain"),
            ("name = \"a\"\nzone = \"\"", "not a domain name"),
            ("name = \"a\"\nzone = \"bl..example\"", "not a domain name"),
            (
                "name = \"a\"\nzone = \"bl.example\"\ncodes = [\"127.0.0.x\"]",
                "not an IPv4",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ncodes = [\"10.0.0.2\"]",
                "error code",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ncodes = [\"127.255.255.254\"]",
                "error code",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ncodes = []",
                "codes is empty",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\nbitmask = 0",
                "bitmask",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\nbitmask = 16777216",
                "bitmask",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\nserver = \"dns.example\"",
                "server",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\nimail-rhs = true",
                "imail-rhs",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ntype = \"helo\"\nipv6 = false",
                "ipv6",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\nsuspend-seconds = 0",
                "suspend-seconds",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ntype = \"dns\"",
                "unknown variant",
            ),
            (
                "name = \"a\"\nzone = \"bl.example\"\ncolour = 1",
                "unknown field",
            ),
        ];
        for (body, want) in cases {
            let err = parse(&format!("[[lists]]\n{body}\n")).unwrap_err();
            assert!(err.contains(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let err = parse(
            "[[lists]]\nname = \"a\"\nzone = \"x.example\"\n\
             [[lists]]\nname = \"A\"\nzone = \"y.example\"\n",
        )
        .unwrap_err();
        assert!(err.contains("used twice"), "{err}");
    }
}
