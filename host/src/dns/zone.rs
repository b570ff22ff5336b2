//! Zone data parsed from an RFC 1035 master file, and the authoritative answer for a question:
//! records, CNAME chains inside the data, wildcards, NXDOMAIN and NODATA with the SOA.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

/// CNAME hops the server follows before answering SERVFAIL (catches loops).
const MAX_CNAME_CHAIN: usize = 8;

/// Records keyed by lower-case owner name, served authoritatively by [`super::ZoneServer`].
///
/// One file may hold several zones (several `$ORIGIN` sections with an SOA each); a name that
/// does not exist gets the SOA of its closest enclosing zone, or none if no SOA encloses it.
#[derive(Clone, Debug)]
pub struct Zone {
    records: HashMap<LowerName, Vec<Record>>,
    /// Owner names plus the empty non-terminals between them and their zone apex.
    names: HashSet<LowerName>,
}

/// The server's answer to one question.
pub(crate) struct Answer {
    pub(crate) rcode: ResponseCode,
    pub(crate) answers: Vec<Record>,
    pub(crate) authority: Vec<Record>,
}

impl Zone {
    /// Parses master-file text; relative names are relative to `origin` until an `$ORIGIN`.
    /// Errors name the offending line. `$INCLUDE` needs [`Zone::load`].
    pub fn parse(text: &str, origin: &str) -> Result<Zone, String> {
        let origin = match origin.trim_end_matches('.') {
            "" => Name::root(),
            origin => Name::from_ascii(format!("{origin}."))
                .map_err(|e| format!("invalid origin {origin:?}: {e}"))?,
        };
        Self::parse_with(text, None, origin)
    }

    /// Reads and parses a master file; relative names are relative to its `$ORIGIN`, or to
    /// the root before one. Relative `$INCLUDE`s are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Zone, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read zone file {}: {e}", path.display()))?;
        Self::parse_with(&text, Some(path.to_path_buf()), Name::root())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse_with(text: &str, path: Option<PathBuf>, origin: Name) -> Result<Zone, String> {
        let parse = |text: &str| Parser::new(text, path.clone(), Some(origin.clone())).parse();
        let sets = match parse(text) {
            Ok((_, sets)) => sets,
            Err(error) => return Err(locate_error(text, parse, error.to_string())),
        };
        let mut records: HashMap<LowerName, Vec<Record>> = HashMap::new();
        for set in sets.values() {
            for record in set.records_without_rrsigs() {
                let owner = LowerName::new(record.name());
                records.entry(owner).or_default().push(record.clone());
            }
        }
        for (owner, set) in &records {
            let has_cname = set.iter().any(|r| r.record_type() == RecordType::CNAME);
            if has_cname && set.iter().any(|r| r.record_type() != RecordType::CNAME) {
                return Err(format!("{owner}: CNAME and other data at the same name"));
            }
        }
        let mut zone = Zone {
            records,
            names: HashSet::new(),
        };
        zone.names = zone.existing_names();
        Ok(zone)
    }

    /// Owner names, plus every name between an owner and its zone apex.
    fn existing_names(&self) -> HashSet<LowerName> {
        let mut names = HashSet::new();
        for owner in self.records.keys() {
            names.insert(owner.clone());
            let Some(apex) = self.soa_for(owner).map(|soa| LowerName::new(soa.name())) else {
                continue;
            };
            let mut name = owner.clone();
            while name != apex && !name.is_root() {
                name = name.base_name();
                names.insert(name.clone());
            }
        }
        names
    }

    /// The authoritative answer for `name` and `record_type`.
    pub(crate) fn answer(&self, name: &Name, record_type: RecordType) -> Answer {
        let mut answer = Answer {
            rcode: ResponseCode::NoError,
            answers: Vec::new(),
            authority: Vec::new(),
        };
        let mut current = name.clone();
        for _ in 0..=MAX_CNAME_CHAIN {
            let lower = LowerName::new(&current);
            let Some(records) = self.records_at(&lower) else {
                // A CNAME pointing out of the data ends the chain without an error.
                let soa = self.soa_for(&lower);
                if answer.answers.is_empty() || soa.is_some() {
                    answer.rcode = ResponseCode::NXDomain;
                }
                answer.authority.extend(soa.map(negative_soa));
                return answer;
            };
            let cname = records
                .iter()
                .find(|r| r.record_type() == RecordType::CNAME && record_type != RecordType::CNAME);
            if let Some(cname) = cname
                && let RData::CNAME(target) = cname.data()
            {
                answer.answers.push(owned_by(cname, &current));
                current = target.0.clone();
                continue;
            }
            let matching: Vec<Record> = records
                .iter()
                .filter(|r| record_type == RecordType::ANY || r.record_type() == record_type)
                .map(|r| owned_by(r, &current))
                .collect();
            if matching.is_empty() {
                answer
                    .authority
                    .extend(self.soa_for(&lower).map(negative_soa));
            }
            answer.answers.extend(matching);
            return answer;
        }
        answer.rcode = ResponseCode::ServFail;
        answer.answers.clear();
        answer
    }

    /// The records at `name`: its own, none for an empty non-terminal, or those of the
    /// wildcard at its closest encloser; `None` if the name does not exist.
    fn records_at(&self, name: &LowerName) -> Option<&[Record]> {
        if let Some(records) = self.records.get(name) {
            return Some(records);
        }
        if self.names.contains(name) {
            return Some(&[]);
        }
        let mut encloser = name.base_name();
        while !self.names.contains(&encloser) && !encloser.is_root() {
            encloser = encloser.base_name();
        }
        let wildcard = Name::from_ascii("*")
            .ok()?
            .append_domain(&Name::from(encloser))
            .ok()?;
        self.records
            .get(&LowerName::new(&wildcard))
            .map(Vec::as_slice)
    }

    /// The SOA of the closest zone enclosing `name`.
    fn soa_for(&self, name: &LowerName) -> Option<&Record> {
        let mut name = name.clone();
        loop {
            let soa = self
                .records
                .get(&name)
                .and_then(|set| set.iter().find(|r| r.record_type() == RecordType::SOA));
            if soa.is_some() || name.is_root() {
                return soa;
            }
            name = name.base_name();
        }
    }
}

/// A copy of `record` owned by `owner` (answers keep the asked name, wildcards included).
fn owned_by(record: &Record, owner: &Name) -> Record {
    let mut record = record.clone();
    record.set_name(owner.clone());
    record
}

/// The SOA for a negative answer, its TTL lowered to MINIMUM (RFC 2308 section 3).
fn negative_soa(soa: &Record) -> Record {
    let mut soa = soa.clone();
    if let RData::SOA(data) = soa.data() {
        let ttl = soa.ttl().min(data.minimum());
        soa.set_ttl(ttl);
    }
    soa
}

/// Turns a parse error into one naming the first line whose entry makes the parse fail,
/// found by parsing ever longer prefixes of whole entries (binary search).
fn locate_error<T, E: ToString>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    whole_error: String,
) -> String {
    if parse("").is_err() {
        return whole_error;
    }
    let entries = entry_ends(text);
    // Invariant: the first `good` entries parse, the first `bad` entries do not.
    let (mut good, mut bad) = (0, entries.len());
    let mut error = whole_error;
    while bad - good > 1 {
        let mid = (good + bad) / 2;
        match parse(&text[..entries[mid - 1].1]) {
            Ok(_) => good = mid,
            Err(e) => {
                error = e.to_string();
                bad = mid;
            }
        }
    }
    match bad.checked_sub(1).and_then(|last| entries.get(last)) {
        Some((line, _)) => format!("line {line}: {error}"),
        None => error,
    }
}

/// For each entry of a master file (one line, or several joined by parentheses or a quoted
/// string), its first line number and the byte offset where it ends.
fn entry_ends(text: &str) -> Vec<(usize, usize)> {
    let mut entries = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut comment) = (0usize, false, false, false);
    let (mut line, mut first_line) = (1, 1);
    for (at, c) in text.char_indices() {
        if c == '\n' {
            comment = false;
            escaped = false;
            if depth == 0 && !quoted {
                entries.push((first_line, at + 1));
                first_line = line + 1;
            }
            line += 1;
            continue;
        }
        if comment {
            continue;
        }
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => comment = true,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if entries.last().is_none_or(|&(_, end)| end < text.len()) {
        entries.push((first_line, text.len()));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "$TTL 300
@        IN SOA ns hostmaster ( 1 3600 600 86400 60 )
www      IN A 192.0.2.10
*.wild   IN A 192.0.2.99
loop1    IN CNAME loop2
loop2    IN CNAME loop1
out      IN CNAME www.elsewhere.example.
deep.a.b IN TXT \"x\"
";

    fn zone() -> Zone {
        Zone::parse(TEXT, "example.test").unwrap()
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn nxdomain_and_nodata_carry_the_soa_with_minimum_ttl() {
        let zone = zone();
        let missing = zone.answer(&name("missing.example.test."), RecordType::A);
        assert_eq!(missing.rcode, ResponseCode::NXDomain);
        assert!(missing.answers.is_empty());
        assert_eq!(missing.authority.len(), 1);
        assert_eq!(missing.authority[0].record_type(), RecordType::SOA);
        assert_eq!(missing.authority[0].ttl(), 60);
        let nodata = zone.answer(&name("www.example.test."), RecordType::MX);
        assert_eq!(nodata.rcode, ResponseCode::NoError);
        assert!(nodata.answers.is_empty());
        assert_eq!(nodata.authority.len(), 1);
        let empty_non_terminal = zone.answer(&name("a.b.example.test."), RecordType::TXT);
        assert_eq!(empty_non_terminal.rcode, ResponseCode::NoError);
    }

    #[test]
    fn wildcards_answer_with_the_asked_name() {
        let zone = zone();
        let answer = zone.answer(&name("X.Y.wild.example.test."), RecordType::A);
        assert_eq!(answer.rcode, ResponseCode::NoError);
        assert_eq!(answer.answers.len(), 1);
        assert_eq!(answer.answers[0].name(), &name("X.Y.wild.example.test."));
        // The wildcard does not cover the name it hangs from.
        let parent = zone.answer(&name("wild.example.test."), RecordType::A);
        assert!(parent.answers.is_empty());
        assert_eq!(parent.rcode, ResponseCode::NoError);
    }

    #[test]
    fn cname_loops_fail_and_chains_out_of_the_data_stop() {
        let zone = zone();
        let looped = zone.answer(&name("loop1.example.test."), RecordType::A);
        assert_eq!(looped.rcode, ResponseCode::ServFail);
        let out = zone.answer(&name("out.example.test."), RecordType::A);
        assert_eq!(out.rcode, ResponseCode::NoError);
        assert_eq!(out.answers.len(), 1);
        assert_eq!(out.answers[0].record_type(), RecordType::CNAME);
    }

    #[test]
    fn names_outside_every_zone_are_nxdomain_without_soa() {
        let zone = zone();
        let answer = zone.answer(&name("www.unrelated.example."), RecordType::A);
        assert_eq!(answer.rcode, ResponseCode::NXDomain);
        assert!(answer.authority.is_empty());
    }

    #[test]
    fn parse_errors_name_the_line() {
        let text = "$TTL 300\n@ IN SOA ns hostmaster (\n 1 3600 600 86400 60 )\n\nwww IN A 192.0.2.1\nbad IN A 999.1.1.1\nok IN A 192.0.2.2\n";
        let error = Zone::parse(text, "example.test").unwrap_err();
        assert!(error.starts_with("line 6: "), "{error}");
        let error = Zone::parse("www IN BOGUS x\n", "example.test").unwrap_err();
        assert!(error.starts_with("line 1: "), "{error}");
        let error = Zone::parse("$TTL 60\na IN A 192.0.2.1\n(\n", "example.test").unwrap_err();
        assert!(error.starts_with("line 3: "), "{error}");
    }

    #[test]
    fn cname_with_other_data_is_rejected() {
        let text = "$TTL 60\nx IN CNAME www\nx IN A 192.0.2.1\n";
        let error = Zone::parse(text, "example.test").unwrap_err();
        assert!(error.contains("CNAME and other data"), "{error}");
    }

    #[test]
    fn load_reads_includes_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("antispam-zone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("inner.zone"), "www IN A 192.0.2.5\n").unwrap();
        let main = dir.join("main.zone");
        std::fs::write(&main, "$ORIGIN inc.test.\n$TTL 60\n$INCLUDE inner.zone\n").unwrap();
        let zone = Zone::load(&main);
        let missing = Zone::load(&dir.join("missing.zone"));
        std::fs::remove_dir_all(&dir).unwrap();
        let answer = zone.unwrap().answer(&name("www.inc.test."), RecordType::A);
        assert_eq!(answer.answers.len(), 1);
        assert!(missing.unwrap_err().contains("missing.zone"));
    }
}
