use antispam_sdk::bindings::types::SettingsFile;

use super::*;

fn settings(toml: &str, files: &[(&str, &str)]) -> Settings {
    let files = files
        .iter()
        .map(|(key, text)| SettingsFile {
            key: key.to_string(),
            path: format!("/etc/antispam/{key}.txt"),
            contents: text.as_bytes().to_vec(),
        })
        .collect();
    Settings {
        domain: "example.com".into(),
        toml: toml.into(),
        files,
    }
}

fn filter(toml: &str) -> PhraseFilter {
    PhraseFilter::from_settings(&settings(toml, &[])).unwrap()
}

fn message(subject: &str, text: &str, html: &[&str]) -> Message {
    Message {
        subject: subject.into(),
        headers: vec![],
        text: text.into(),
        html: html.iter().map(|h| h.to_string()).collect(),
        size: 0,
        truncated: false,
    }
}

fn run(f: &PhraseFilter, m: &Message) -> (Vec<String>, Verdict) {
    let out = f.evaluate("example.com", "MSG1", m);
    let name = |level: &Level| match level {
        Level::Normal => "Normal",
        Level::Verbose => "Verbose",
    };
    let lines = out
        .lines
        .iter()
        .map(|(l, t)| format!("{}: {t}", name(l)))
        .collect();
    (lines, out.verdict)
}

fn fail_header(verdict: &Verdict) -> Option<(String, String)> {
    match verdict {
        Verdict::Fail(f) => f.headers.first().map(|h| (h.name.clone(), h.value.clone())),
        _ => None,
    }
}

#[test]
fn phrase_in_body_fails_with_header() {
    // Behaviour 33.
    let f = filter("phrases = [\"wholesale products\"]");
    let (lines, verdict) = run(&f, &message("hi", "Our Wholesale   Products!", &[]));
    assert_eq!(
        lines,
        [
            "Verbose: Phrase Filtering enabled forexample.com",
            "Verbose: searching for phrases",
            "Normal: matched phrase[wholesale products]",
        ]
    );
    assert_eq!(
        fail_header(&verdict),
        Some((
            "X-IMAIL-SPAM-PHRASE".into(),
            "(MSG1,wholesale products)".into()
        ))
    );
}

#[test]
fn scan_subject_or_body_only() {
    // Behaviour 34.
    let in_subject = message("Wholesale products", "nothing here", &[]);
    let in_body = message("nothing here", "wholesale products", &["<p>nothing</p>"]);
    let in_html = message("nothing here", "", &["<p>wholesale <b>products</b></p>"]);
    let subject = filter("phrases = [\"wholesale products\"]\nscan = \"subject\"");
    let body = filter("phrases = [\"wholesale products\"]\nscan = \"body\"");
    let both = filter("phrases = [\"wholesale products\"]");
    assert!(matches!(run(&subject, &in_subject).1, Verdict::Fail(_)));
    assert!(matches!(run(&subject, &in_body).1, Verdict::Pass));
    assert!(matches!(run(&subject, &in_html).1, Verdict::Pass));
    assert!(matches!(run(&body, &in_subject).1, Verdict::Pass));
    assert!(matches!(run(&body, &in_body).1, Verdict::Fail(_)));
    assert!(matches!(run(&body, &in_html).1, Verdict::Fail(_)));
    for m in [&in_subject, &in_body, &in_html] {
        assert!(matches!(run(&both, m).1, Verdict::Fail(_)));
    }
}

#[test]
fn normalize_words_setting() {
    // Behaviour 35.
    let m = message("", "cheap v-i-a-g-r-a", &[]);
    assert!(matches!(
        run(
            &filter("phrases = [\"viagra\"]\nnormalize-words = true"),
            &m
        )
        .1,
        Verdict::Fail(_)
    ));
    assert!(matches!(
        run(&filter("phrases = [\"viagra\"]"), &m).1,
        Verdict::Pass
    ));
}

#[test]
fn phrase_domains_match_text_not_links() {
    // Behaviour 36.
    let f = filter("phrases = [\"spam.com\"]");
    let text = message("", "visit spam.com today", &[]);
    assert!(matches!(run(&f, &text).1, Verdict::Fail(_)));
    let link = message("", "", &["<a href=\"http://spam.com/\">here</a>"]);
    assert!(matches!(run(&f, &link).1, Verdict::Pass));
}

#[test]
fn html_comment_obfuscation_is_undone_before_matching() {
    let f = filter("phrases = [\"viagra\"]");
    let m = message("", "", &["<p>cheap VIA<!-- x -->GRA &amp; more</p>"]);
    assert!(matches!(run(&f, &m).1, Verdict::Fail(_)));
}

#[test]
fn url_list_matches_links_and_text() {
    // Behaviours 37-39.
    let f = filter("url-domains = [\"ipswitch.com\"]");
    for html in [
        "<a href=\"http://www.mail.ipswitch.com/x\">x</a>",
        "<img src=\"http://ipswitch.com/a.gif\">",
    ] {
        let (lines, verdict) = run(&f, &message("", "", &[html]));
        assert_eq!(
            lines,
            [
                "Verbose: Phrase Filtering enabled forexample.com",
                "Verbose: Phrase filtering is disabled or there are no phrases to match",
                "Normal: matched URL domain[ipswitch.com]",
            ]
        );
        assert_eq!(
            fail_header(&verdict),
            Some(("X-IMAIL-SPAM-URL-DBL".into(), "(MSG1,ipswitch.com)".into()))
        );
    }
    assert!(matches!(
        run(&f, &message("", "see http://notipswitch.com/", &[])).1,
        Verdict::Pass
    ));
    assert!(matches!(
        run(&f, &message("", "see www.ipswitch.com.", &[])).1,
        Verdict::Fail(_)
    ));

    let www = filter("url-domains = [\"www.ipswitch.com\"]");
    assert!(matches!(
        run(&www, &message("", "http://www.ipswitch.com/", &[])).1,
        Verdict::Fail(_)
    ));
    assert!(matches!(
        run(&www, &message("", "http://www.mail.ipswitch.com/", &[])).1,
        Verdict::Pass
    ));
}

#[test]
fn phrases_are_searched_before_urls() {
    let f = filter("phrases = [\"buy now\"]\nurl-domains = [\"spam.example\"]\nheader = \"X-P\"");
    let m = message("", "buy now at http://spam.example/", &[]);
    let (lines, verdict) = run(&f, &m);
    assert_eq!(lines.last().unwrap(), "Normal: matched phrase[buy now]");
    assert_eq!(fail_header(&verdict).unwrap().0, "X-P");
}

#[test]
fn lists_from_files() {
    let s = settings(
        "phrases-file = \"p.txt\"\nphrases = [\"inline one\"]\nurl-domains-file = \"u.txt\"",
        &[
            ("phrases-file", "# comment\n\n  Make Money Fast  \r\n"),
            ("url-domains-file", "# x\nspam.example\n"),
        ],
    );
    let f = PhraseFilter::from_settings(&s).unwrap();
    assert!(f.initialized());
    let (lines, _) = run(&f, &message("MAKE money FAST", "", &[]));
    assert_eq!(
        lines.last().unwrap(),
        "Normal: matched phrase[Make Money Fast]"
    );
    let (lines, _) = run(&f, &message("", "inline one", &[]));
    assert_eq!(lines.last().unwrap(), "Normal: matched phrase[inline one]");
    let (lines, _) = run(&f, &message("", "http://a.spam.example", &[]));
    assert_eq!(
        lines.last().unwrap(),
        "Normal: matched URL domain[spam.example]"
    );
    let (lines, _) = run(&f, &message("", "# comment", &[]));
    assert_eq!(lines.last().unwrap(), "Verbose: searching for phrases");
}

#[test]
fn hundred_thousand_phrase_file_loads_once() {
    let file: String = (0..100_000).map(|i| format!("bulk offer {i}\n")).collect();
    let f = PhraseFilter::from_settings(&settings(
        "phrases-file = \"big.txt\"",
        &[("phrases-file", &file)],
    ))
    .unwrap();
    for i in [0, 50_000, 99_999] {
        let m = message("", &format!("a Bulk  Offer {i}!"), &[]);
        assert_eq!(
            fail_header(&run(&f, &m).1).unwrap().1,
            format!("(MSG1,bulk offer {i})")
        );
    }
    assert!(matches!(
        run(&f, &message("", "bulk offer 100000", &[])).1,
        Verdict::Pass
    ));
}

#[test]
fn no_host_information_disabled_and_empty() {
    let (lines, verdict) = run(&filter(""), &message("", "x", &[]));
    assert_eq!(
        lines,
        ["Normal: No Content Filtering Host Information for the Phrase Filter"]
    );
    assert!(matches!(verdict, Verdict::NotApplicable));
    assert!(!filter("").initialized());

    let disabled = filter("enabled = false\nphrases = [\"x\"]");
    assert!(!disabled.initialized());
    let (lines, verdict) = run(&disabled, &message("", "x", &[]));
    assert_eq!(
        lines,
        [
            "Verbose: Phrase Filtering disabled for example.com",
            "Verbose: Phrase filtering is disabled or there are no phrases to match",
        ]
    );
    assert!(matches!(verdict, Verdict::NotApplicable));

    let empty = filter("phrases = []\nurl-domains = []");
    let (lines, verdict) = run(&empty, &message("", "x", &[]));
    assert_eq!(
        lines,
        [
            "Verbose: Phrase Filtering enabled forexample.com",
            "Verbose: Phrase filtering is disabled or there are no phrases to match",
        ]
    );
    assert!(matches!(verdict, Verdict::NotApplicable));
}

#[test]
fn bad_settings_are_rejected() {
    let err = |toml: &str| PhraseFilter::from_settings(&settings(toml, &[])).unwrap_err();
    assert!(err("phrases-file = \"missing.txt\"").contains("missing.txt"));
    assert!(err("url-domains = [\"two words\"]").contains("two words"));
    assert!(err("scan = \"headers\"").contains("headers"));
    assert!(err("phrase = [\"typo\"]").contains("phrase"));
}

proptest::proptest! {
    /// Hostile phrase and domain lists against hostile messages: configuring either works or
    /// is refused, scanning never panics, and a failed message always carries its header.
    #[test]
    fn hostile_lists_and_messages(
        phrases in proptest::collection::vec(antispam_sdk::arbitrary::hostile_text(6), 0..8),
        domains in proptest::collection::vec(antispam_sdk::arbitrary::hostile_text(4), 0..8),
        normalize in proptest::bool::ANY,
        message in antispam_sdk::arbitrary::hostile_message(),
    ) {
        let toml = format!(
            "phrases-file = \"p\"\nurl-domains-file = \"d\"\nnormalize-words = {normalize}"
        );
        let files = [("phrases-file", phrases.join("\n")), ("url-domains-file", domains.join("\n"))];
        let files: Vec<(&str, &str)> = files.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Ok(f) = PhraseFilter::from_settings(&settings(&toml, &files)) {
            let (lines, verdict) = run(&f, &message);
            proptest::prop_assert!(!lines.is_empty() || !matches!(verdict, Verdict::Fail(_)));
            if matches!(verdict, Verdict::Fail(_)) {
                proptest::prop_assert!(fail_header(&verdict).is_some());
            }
        }
    }
}

/// A dotted name of one to `max` labels from a small alphabet, so that lists and hosts share
/// labels often.
fn dotted(max: usize) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    const LABELS: &[&str] = &[
        "a",
        "b",
        "ab",
        "www",
        "mail",
        "ipswitch",
        "notipswitch",
        "com",
        "x-y",
        "é",
    ];
    proptest::collection::vec(proptest::sample::select(LABELS), 1..=max).prop_map(|l| l.join("."))
}

proptest::proptest! {
    /// The URL domain list against a model of its rule: a `www.` entry matches that host
    /// alone; any other entry matches itself and every host under it, at a label boundary.
    #[test]
    fn url_domains_match_at_label_boundaries(
        entries in proptest::collection::vec(dotted(3), 1..6),
        host in dotted(4),
    ) {
        let list = DomainList::new(entries.iter().map(String::as_str)).unwrap().unwrap();
        let matches = |entry: &str| {
            host == entry
                || (!entry.starts_with("www.") && host.ends_with(&format!(".{entry}")))
        };
        let expected = entries.iter().any(|e| matches(e));
        let found = list.find(&host);
        proptest::prop_assert_eq!(found.is_some(), expected, "{:?} in {:?}", host, entries);
        if let Some(entry) = found {
            proptest::prop_assert!(matches(entry));
        }
    }
}
