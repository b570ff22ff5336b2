//! The Robinson-mode tokenizer (after SpamBayes): selected headers with prefixes, header-name
//! counts, address and Received pieces, HTML elements and URL pieces, and case-folded body
//! words and word pairs.

use std::collections::HashMap;

use antispam_sdk::html::scan;

use super::MessageText;

/// Body words shorter than this are dropped.
const MIN_WORD: usize = 3;
/// Body words longer than this become a `skip:` token.
const MAX_WORD: usize = 12;

/// Robinson-mode tokens of a message (repeats possible; scoring and training use each once).
/// No token contains a control character (so each fits on one line of the table).
pub fn tokens(msg: &MessageText) -> Vec<String> {
    let mut out = Vec::new();
    headers(msg, &mut out);
    for word in msg.subject.split_whitespace() {
        body_word(word, "subject:", &mut out);
    }
    body(msg.text, &mut out);
    for html in &msg.html {
        markup(html, &mut out);
    }
    out.retain(|t| !t.contains(char::is_control));
    out
}

/// Header fields counted as `header:<Name>:<count>` (SpamBayes' "safe headers": fields
/// written by senders, not by the receiving mailbox software).
const COUNTED: &[&str] = &[
    "abuse-reports-to",
    "date",
    "errors-to",
    "from",
    "importance",
    "in-reply-to",
    "message-id",
    "mime-version",
    "organization",
    "received",
    "reply-to",
    "return-path",
    "subject",
    "to",
    "user-agent",
    "x-abuse-info",
    "x-complaints-to",
    "x-face",
];

/// Header tokens: `header:<Name>:<count>` for the counted fields, then per-field pieces.
fn headers(msg: &MessageText, out: &mut Vec<String>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (name, value) in &msg.headers {
        let lname = name.to_ascii_lowercase();
        charsets(value, out);
        if COUNTED.contains(&lname.as_str()) {
            *counts.entry(name).or_default() += 1;
        }
        match lname.as_str() {
            "from" | "reply-to" => addresses(&lname, value, out),
            "to" | "cc" => recipients(&lname, value, out),
            "received" => received(value, out),
            "message-id" => message_id(value, out),
            "content-type" | "x-mailer" | "user-agent" | "precedence" | "organization"
            | "mime-version" => {
                for word in value.split(|c: char| c.is_whitespace() || matches!(c, ';' | '"' | ','))
                {
                    header_word(&lname, word, out);
                }
            }
            _ => {}
        }
    }
    out.extend(
        counts
            .into_iter()
            .map(|(name, n)| format!("header:{name}:{n}")),
    );
}

/// `charset:<name>` for each RFC 2047 encoded word (`=?big5?B?...?=`) in a raw header value:
/// the character set of a sender-written name or subject.
fn charsets(value: &str, out: &mut Vec<String>) {
    for piece in value.split("=?").skip(1) {
        if let Some((charset, _)) = piece.split_once('?')
            && (1..=20).contains(&charset.len())
        {
            out.push(format!("charset:{}", charset.to_ascii_lowercase()));
        }
    }
}

/// `to:2**<k>` for the number of addresses (rounded down to a power of two), and each
/// recipient domain.
fn recipients(field: &str, value: &str, out: &mut Vec<String>) {
    let domains: Vec<String> = value
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '<' | '>' | '"'))
        .filter_map(|p| p.rsplit_once('@'))
        .map(|(_, d)| d.to_lowercase())
        .collect();
    out.push(format!("{field}:2**{}", domains.len().max(1).ilog2()));
    for domain in domains.into_iter().take(3) {
        out.push(format!("{field}:domain:{domain}"));
    }
}

fn header_word(prefix: &str, word: &str, out: &mut Vec<String>) {
    let word = word
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if !word.is_empty() && word.len() <= 40 {
        out.push(format!("{prefix}:{word}"));
    }
}

/// `from:addr:a@b.c`, `from:domain:b.c`, `from:name:word`, or `from:none`.
fn addresses(field: &str, value: &str, out: &mut Vec<String>) {
    let mut any = false;
    for piece in value.split(|c: char| c.is_whitespace() || matches!(c, ',' | '<' | '>' | '"')) {
        if piece.is_empty() {
            continue;
        }
        let piece = piece.to_lowercase();
        if let Some((_, domain)) = piece.rsplit_once('@') {
            any = true;
            out.push(format!("{field}:addr:{piece}"));
            out.push(format!("{field}:domain:{domain}"));
        } else {
            header_word(&format!("{field}:name"), &piece, out);
        }
    }
    if !any {
        out.push(format!("{field}:none"));
    }
}

/// Host names (every domain suffix) and address prefixes found in a Received field.
fn received(value: &str, out: &mut Vec<String>) {
    for piece in
        value.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ';'))
    {
        let piece = piece
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if piece.parse::<std::net::Ipv4Addr>().is_ok() {
            let octets: Vec<&str> = piece.split('.').collect();
            for n in 2..=4 {
                out.push(format!("received:{}", octets[..n].join(".")));
            }
        } else if piece.contains('.')
            && piece
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
        {
            let labels: Vec<&str> = piece.split('.').collect();
            for start in 0..labels.len().saturating_sub(1) {
                out.push(format!("received:{}", labels[start..].join(".")));
            }
        }
    }
}

/// `message-id:@domain`, or `message-id:invalid` without one.
fn message_id(value: &str, out: &mut Vec<String>) {
    match value.trim().trim_matches(['<', '>']).rsplit_once('@') {
        Some((_, domain)) if !domain.is_empty() => {
            out.push(format!("message-id:@{}", domain.to_lowercase()))
        }
        _ => out.push("message-id:invalid".into()),
    }
}

/// Body text: whitespace-separated chunks, URLs and addresses broken into pieces, and each
/// pair of neighbouring words as `<w1> <w2>`.
fn body(text: &str, out: &mut Vec<String>) {
    let mut previous: Option<String> = None;
    for chunk in text.split_whitespace() {
        if chunk.contains("://") || chunk.starts_with("www.") {
            url(chunk, out);
        } else if chunk.contains('@') && chunk.contains('.') {
            let chunk = chunk
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            if let Some((name, domain)) = chunk.rsplit_once('@') {
                out.push(format!("email name:{name}"));
                for piece in domain.split('.') {
                    out.push(format!("email addr:{piece}"));
                }
            }
        } else {
            let before = out.len();
            body_word(chunk, "", out);
            if out.len() > before {
                let word = out[before].clone();
                if let Some(prev) = previous.replace(word.clone()) {
                    out.push(format!("{prev} {word}"));
                }
                continue;
            }
        }
        previous = None;
    }
}

/// One body word: trimmed of surrounding punctuation, lower-cased; very short words are
/// dropped, long ones become `skip:<first char> <length rounded down to tens>`.
fn body_word(chunk: &str, prefix: &str, out: &mut Vec<String>) {
    let word = chunk
        .trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '$' | '!')))
        .to_lowercase();
    let len = word.chars().count();
    if len < MIN_WORD {
        return;
    }
    if len > MAX_WORD {
        let first = word.chars().next().unwrap_or('?');
        out.push(format!("{prefix}skip:{first} {}", len / 10 * 10));
    } else {
        out.push(format!("{prefix}{word}"));
    }
}

/// An HTML part: its visible text as body words, `html:<tag>` for each element used,
/// `html:<tag>:<attribute>=<value>` for short presentational values, and the URLs of links
/// and images.
fn markup(html: &str, out: &mut Vec<String>) {
    let doc = scan(html);
    for tag in doc.tags.iter().filter(|t| !t.end) {
        out.push(format!("html:{}", tag.name));
        for a in &tag.attributes {
            match a.name.as_str() {
                "href" | "src" | "action" | "background" => url(&a.value, out),
                "color" | "size" | "face" | "bgcolor" | "align" | "width" | "height" | "border" => {
                    let v = a.value.trim().to_lowercase();
                    if v.len() <= 20 {
                        out.push(format!("html:{}:{}={v}", tag.name, a.name));
                    }
                }
                _ => {}
            }
        }
    }
    if !doc.comments.is_empty() {
        out.push("html:comment".into());
    }
    body(&doc.text, out);
}

/// `proto:http`, `url:<host label>` for each label, and `url:<path piece>`.
fn url(raw: &str, out: &mut Vec<String>) {
    let lower = raw.to_lowercase();
    let (proto, rest) = lower.split_once("://").unwrap_or(("http", &lower));
    out.push(format!("proto:{proto}"));
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        out.push("url:numeric-host".into());
    }
    for label in host.split('.').filter(|l| !l.is_empty()) {
        out.push(format!("url:{label}"));
    }
    for piece in path
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| (2..=20).contains(&p.len()))
    {
        out.push(format!("url:{piece}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(tokens: &[String], t: &str) -> bool {
        tokens.iter().any(|x| x == t)
    }

    #[test]
    fn headers_are_prefixed() {
        let msg = MessageText {
            subject: "Cheap MEDS!",
            headers: vec![
                ("From", "\"Bob Smith\" <Bob@Example.COM>"),
                (
                    "Received",
                    "from mail.spam.example (unknown [192.0.2.7]) by mx.local",
                ),
                ("Received", "from x"),
                ("Message-Id", "<abc@host.example>"),
                ("To", "a@x.example, b@y.example, c@z.example"),
                ("X-Keywords", "not counted"),
                ("Reply-To", "=?Big5?B?pKS64g==?= <x@y.example>"),
            ],
            ..MessageText::default()
        };
        let t = tokens(&msg);
        for want in [
            "subject:cheap",
            "subject:meds!",
            "from:addr:bob@example.com",
            "from:domain:example.com",
            "from:name:bob",
            "received:spam.example",
            "received:192.0.2",
            "message-id:@host.example",
            "header:Received:2",
            "header:From:1",
            "to:2**1",
            "to:domain:y.example",
            "charset:big5",
        ] {
            assert!(has(&t, want), "{want} missing from {t:?}");
        }
        assert!(!t.iter().any(|x| x.starts_with("header:X-Keywords")));
        let msg = MessageText {
            html: vec!["<font color=\"#\nff\">x</font>"],
            ..MessageText::default()
        };
        assert!(
            tokens(&msg).iter().all(|t| !t.contains('\n')),
            "{:?}",
            tokens(&msg)
        );
    }

    #[test]
    fn body_words_urls_and_addresses() {
        let msg = MessageText {
            text: "Visit http://192.0.2.1/cgi/buy.html now, mail sales@shop.example OK \
                   supercalifragilistic",
            html: vec!["<a href=\"https://click.example/x\">here</a>"],
            ..MessageText::default()
        };
        let t = tokens(&msg);
        for want in [
            "visit",
            "now",
            "now mail",
            "proto:http",
            "url:numeric-host",
            "url:cgi",
            "email name:sales",
            "email addr:shop",
            "skip:s 20",
            "proto:https",
            "url:click",
            "here",
            "html:a",
        ] {
            assert!(has(&t, want), "{want} missing from {t:?}");
        }
        assert!(!has(&t, "ok"), "short words are dropped");
        assert!(!has(&t, "visit now"), "no pair across a URL");
    }
}
