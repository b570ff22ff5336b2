//! Plugin-level tests: configuration, log lines (seed texts) and verdicts.

use super::*;
use antispam_sdk::{IpAddress, bindings::types::SettingsFile};

fn settings(toml: &str, files: &[(&str, &str)]) -> antispam_sdk::Settings {
    antispam_sdk::Settings {
        domain: "example.com".into(),
        toml: toml.into(),
        files: files
            .iter()
            .map(|(key, text)| SettingsFile {
                key: key.to_string(),
                path: format!("/etc/antispam/{key}.txt"),
                contents: text.as_bytes().to_vec(),
            })
            .collect(),
    }
}

fn session() -> Session {
    Session {
        message_id: "MSG42".into(),
        domain: "example.com".into(),
        client_ip: IpAddress::Ipv4((192, 0, 2, 1)),
        helo: None,
        mail_from: None,
        recipients: vec![],
    }
}

const TABLE: &str = "#antispam-table v1 good=100 spam=100\nviagra,99,0,50\nmeeting,1,30,0\n";

fn configured(extra: &str, exclude: Option<&str>) -> Bayes {
    let mut files = vec![("table-file", TABLE)];
    let mut toml = format!("table-file = \"t\"\n{extra}");
    if let Some(text) = exclude {
        files.push(("exclude-file", text));
        toml.push_str("\nexclude-file = \"x\"");
    }
    Bayes::from_settings(&settings(&toml, &files)).unwrap()
}

fn text_of(lines: &[Line]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| match l {
            Line::Normal(t) | Line::Verbose(t) => t.as_str(),
        })
        .collect()
}

#[test]
fn spam_gets_the_header_and_the_spam_line() {
    let msg = MessageText {
        subject: "cheap viagra",
        ..MessageText::default()
    };
    let (lines, verdict) = configured("", None).run(&session(), &msg, true);
    assert_eq!(
        text_of(&lines),
        [
            "Statistical Filtering enabled for example.com",
            "performing statistical analysis",
            "The following words were used to compute the probability email is spam",
            "word = viagra, probability = 0.990000",
            "word = cheap, probability = 0.400000",
            "Probability email is spam0.985075:email is spam",
        ]
    );
    assert_eq!(
        lines[5],
        Line::Normal("Probability email is spam0.985075:email is spam".into())
    );
    let Verdict::Fail(finding) = verdict else {
        panic!("expected fail, got {verdict:?}")
    };
    let [header] = &finding.headers[..] else {
        panic!("one header expected")
    };
    assert_eq!(
        (header.name.as_str(), header.value.as_str()),
        (HEADER, "(MSG42,0.985075)")
    );
}

#[test]
fn good_mail_passes_with_the_good_line() {
    let msg = MessageText {
        text: "meeting at noon",
        ..MessageText::default()
    };
    let (lines, verdict) = configured("", None).run(&session(), &msg, true);
    assert_eq!(
        lines.last(),
        Some(&Line::Normal(
            "Probability email is spam0.004469: email is good".into()
        ))
    );
    assert!(matches!(verdict, Verdict::Pass), "{verdict:?}");
}

#[test]
fn excluded_words_are_logged() {
    let msg = MessageText {
        text: "viagra",
        ..MessageText::default()
    };
    let (lines, verdict) =
        configured("exclude = [\"other\"]", Some("Viagra\n")).run(&session(), &msg, true);
    assert!(lines.contains(&Line::Verbose("[viagra] in exclude list".into())));
    assert!(lines.contains(&Line::Normal(
        "Probability email is spam0.500000: email is good".into()
    )));
    assert!(matches!(verdict, Verdict::Pass), "{verdict:?}");
}

#[test]
fn disabled_domain_is_not_applicable() {
    let b = Bayes::from_settings(&settings("enabled = false", &[])).unwrap();
    let (lines, verdict) = b.run(&session(), &MessageText::default(), true);
    assert_eq!(
        lines,
        [
            Line::Verbose("Statistical Filtering disabled for example.com".into()),
            Line::Verbose("statistical filtering disabled".into()),
        ]
    );
    assert!(matches!(verdict, Verdict::NotApplicable), "{verdict:?}");
}

#[test]
fn table_without_counts_disables_filtering() {
    let table = "#antispam-table v1 good=0 spam=0\n";
    let b =
        Bayes::from_settings(&settings("table-file = \"t\"", &[("table-file", table)])).unwrap();
    let (lines, verdict) = b.run(&session(), &MessageText::default(), true);
    assert_eq!(
        lines[0],
        Line::Normal(
            "No good/spam email in Antispam Table for hostexample.com. Statistical Filtering Disabled".into()
        )
    );
    assert!(matches!(verdict, Verdict::NotApplicable), "{verdict:?}");
}

#[test]
fn configuration_errors_are_clear() {
    let err = |toml: &str, files: &[(&str, &str)]| {
        Bayes::from_settings(&settings(toml, files)).err().unwrap()
    };
    assert!(err("", &[]).contains("table-file is required"));
    assert!(err("table-file = \"t\"", &[]).contains("was not passed in"));
    let e = err(
        "table-file = \"t\"",
        &[("table-file", "#antispam-table v1 good=1 spam=1\nbad\n")],
    );
    assert!(e.starts_with("t: line 2:"), "{e}");
    assert!(err("bogus = 1", &[]).contains("bogus"));
    assert!(err("threshold = 150", &[]).contains("threshold"));
    let e = err(
        "table-file = \"t\"\nmode = \"robinson\"",
        &[("table-file", TABLE)],
    );
    assert!(e.contains("imail tokens"), "{e}");
}

#[test]
fn without_verbose_only_normal_lines_are_built() {
    let msg = MessageText {
        subject: "cheap viagra",
        ..MessageText::default()
    };
    let (lines, verdict) = configured("", None).run(&session(), &msg, false);
    assert_eq!(
        lines,
        [Line::Normal(
            "Probability email is spam0.985075:email is spam".into()
        )]
    );
    assert!(matches!(verdict, Verdict::Fail(_)), "{verdict:?}");
}

proptest::proptest! {
    /// Hostile messages in both modes: every token fits on one table line (not empty, no
    /// control character, no space or tab at either end); a table trained on them is read
    /// back exactly as written; scoring with it gives one `word =` line per word used, within
    /// the mode's limit, and a probability in [0, 1].
    #[test]
    fn hostile_messages_train_and_score(
        messages in proptest::collection::vec(antispam_sdk::arbitrary::hostile_message(), 2..5),
        robinson in proptest::bool::ANY,
    ) {
        let (mode, name, limit) = if robinson {
            (Mode::Robinson, "robinson", 150)
        } else {
            (Mode::Imail, "imail", 15)
        };
        let mut table = Table::new(classify::tokens_of(mode));
        for (i, message) in messages.iter().enumerate() {
            let mut tokens = classify::tokenize(mode, &MessageText::from(message));
            for t in &tokens {
                proptest::prop_assert!(!t.is_empty() && !t.chars().any(char::is_control), "{t:?}");
                proptest::prop_assert_eq!(t.trim_matches([' ', '\t']), t, "a blank at an end");
            }
            tokens.sort_unstable();
            tokens.dedup();
            table.add_message(tokens.iter().map(String::as_str), i % 2 == 0);
        }
        let text = table.to_text(|_| 0.5);
        let back = Table::parse(&text).map_err(proptest::test_runner::TestCaseError::fail)?;
        proptest::prop_assert_eq!(back.len(), table.len());
        for (word, counts) in table.words() {
            proptest::prop_assert_eq!(back.get(word), Some(counts), "{:?}", word);
        }

        let toml = format!("table-file = \"t\"\nmode = \"{name}\"");
        let bayes = Bayes::from_settings(&settings(&toml, &[("table-file", &text)])).unwrap();
        for message in &messages {
            let (lines, _) = bayes.run(&session(), &MessageText::from(message), true);
            let lines = text_of(&lines);
            let words = lines.iter().filter(|l| l.starts_with("word = ")).count();
            proptest::prop_assert!(words <= limit);
            let last = lines.last().unwrap().strip_prefix("Probability email is spam").unwrap();
            let p: f64 = last[..8].parse().unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&p), "{last}");
        }
    }
}

/// Header lines of table files, good and damaged.
const TABLE_HEADERS: &[&str] = &[
    "#antispam-table v1 good=10 spam=20\n",
    "#antispam-table v1 good=3 spam=1 tokens=robinson\n",
    "#antispam-table v1 good=5 spam=0 tokens=imail\n",
    "#antispam-table v1 good=4294967295 spam=4294967295 tokens=robinson\n",
    "#antispam-table v2 good=1 spam=1\n",
    "#antispam-table v1 good=1\n",
    "",
];

/// The fields of word lines, good and damaged.
const TABLE_FIELDS: &[&str] = &[
    "viagra",
    "a b",
    "meeting",
    "url:\u{a0}",
    "",
    " ",
    "0",
    "1",
    "99",
    "-1",
    "4294967295",
    "4294967296",
    "1e400",
    "NaN",
    "0.5",
    "x,y",
    "\u{a0}",
];

proptest::proptest! {
    /// A table file, well-formed or damaged, configures the check or is refused with a
    /// reason; a check it configures scores any message.
    #[test]
    fn any_table_file_configures_or_is_refused(
        header in proptest::sample::select(TABLE_HEADERS),
        lines in proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(TABLE_FIELDS), 1..6), 0..8),
        robinson in proptest::bool::ANY,
        message in antispam_sdk::arbitrary::hostile_message(),
    ) {
        let body: Vec<String> = lines.iter().map(|fields| fields.join(",")).collect();
        let text = format!("{header}{}", body.join("\n"));
        let mode = if robinson { "robinson" } else { "imail" };
        let toml = format!("table-file = \"t\"\nmode = \"{mode}\"");
        match Bayes::from_settings(&settings(&toml, &[("table-file", &text)])) {
            Ok(bayes) => {
                let (lines, _) = bayes.run(&session(), &MessageText::from(&message), true);
                proptest::prop_assert!(!lines.is_empty());
            }
            Err(why) => proptest::prop_assert!(!why.is_empty()),
        }
    }
}
