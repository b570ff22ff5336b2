//! The check's verdict and X-headers.

use antispam_sdk::{Finding, Header, Verdict};

use crate::answer::Status;
use crate::outcome::Outcome;
use crate::settings::{List, ListType};

/// The X-header IMail 8.x adds for a hit on a list of this type.
pub fn header_name(kind: ListType) -> &'static str {
    match kind {
        ListType::ClientIp => "X-IMAIL-SPAM-DNSBL",
        ListType::Helo => "X-IMAIL-SPAM-HELOBL",
        ListType::MailFrom => "X-IMAIL-SPAM-ADDRBL",
        ListType::Rhs => "X-IMAIL-SPAM-RHSBL",
    }
}

/// The X-header for a hit: `(name,message-id,source)`, the source as sent (IP not reversed;
/// an internationalised name as its A-labels, so the field stays ASCII).
pub fn header(list: &List, message_id: &str, source: &str) -> Header {
    Header::new(
        header_name(list.kind),
        format!("({},{message_id},{source})", list.name),
    )
}

/// The verdict for all lists' outcomes.
///
/// A hit on a trusted list is a `TrustedFail` whose reason is that list's display name (the
/// first trusted hit in configured order). Otherwise hits on standard lists are a `Fail` with
/// one header per hit (the host counts each header as one failed check) and the reason
/// `N black list(s): a,b`. With no hit, a list that could not answer makes the verdict
/// `Inconclusive`; no list asked at all is `NotApplicable`; otherwise `Pass`.
pub fn verdict(lists: &[List], outcomes: &[Outcome], message_id: &str) -> Verdict {
    let asked: Vec<_> = lists
        .iter()
        .zip(outcomes)
        .filter_map(|(list, outcome)| match outcome {
            Outcome::Asked(asked) if asked.status != Status::Suspended => Some((list, asked)),
            _ => None,
        })
        .collect();
    let hits: Vec<_> = asked.iter().filter(|(_, a)| a.is_hit()).collect();
    let headers: Vec<Header> = hits
        .iter()
        .map(|(list, a)| header(list, message_id, &a.target.ascii_source))
        .collect();
    if let Some((trusted, _)) = hits.iter().find(|(list, _)| list.trusted) {
        return Verdict::TrustedFail(Finding {
            reason: trusted.name.clone(),
            headers,
        });
    }
    if !hits.is_empty() {
        let names: Vec<&str> = hits.iter().map(|(list, _)| list.name.as_str()).collect();
        let reason = format!("{} {}: {}", hits.len(), plural(hits.len()), names.join(","));
        return Verdict::Fail(Finding { reason, headers });
    }
    let failures: Vec<String> = asked
        .iter()
        .filter_map(|(list, a)| a.failure().map(|why| format!("{} ({why})", list.name)))
        .collect();
    if !failures.is_empty() {
        return Verdict::Inconclusive(format!(
            "could not check {} {}: {}",
            failures.len(),
            plural(failures.len()),
            failures.join(", ")
        ));
    }
    if asked.is_empty() {
        Verdict::NotApplicable
    } else {
        Verdict::Pass
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "black list" } else { "black lists" }
}
