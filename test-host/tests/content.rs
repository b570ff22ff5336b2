//! Content filtering end to end: the real host runs the real `phrase`, `html` and `bayes`
//! components on RFC 5322 messages, and each snapshot pins the configure-time log, then every
//! message's log (verbose lines included) and outcome. No DNS is involved.

use antispam_host::corpus::Sample;
use antispam_host::eval::measure;
use antispam_host::pipeline::{Body, Outcome, VerdictKind};
use test_host::{Harness, envelope, snapshot};

/// The fixture files every scenario's folder holds (settings name them by `*-file` keys).
const FILES: &[(&str, &str)] = &[
    (
        "antispam-table.txt",
        include_str!("../fixtures/content/antispam-table.txt"),
    ),
    (
        "phrases.txt",
        include_str!("../fixtures/content/phrases.txt"),
    ),
    (
        "url-domains.txt",
        include_str!("../fixtures/content/url-domains.txt"),
    ),
    (
        "exclude.txt",
        include_str!("../fixtures/content/exclude.txt"),
    ),
    (
        "antispam-table-robinson.txt",
        include_str!("../fixtures/content/antispam-table-robinson.txt"),
    ),
    (
        "empty-table.txt",
        "#antispam-table v1 good=0 spam=25 tokens=imail\nviagra,99,0,20\n",
    ),
];

/// One content check of `example.com`: the component and its settings (TOML lines).
fn check(component: &str, settings: &str) -> String {
    format!(
        "\n[[domain.check]]\ncomponent = \"@PLUGINS@/{component}.wasm\"\n[domain.check.settings]\n{settings}\n"
    )
}

/// Starts the host with `example.com` running `checks` in order; returns the harness and
/// the configure-time log.
async fn start(checks: &[String]) -> (Harness, String) {
    let config = format!("[[domain]]\nname = \"example.com\"\n{}", checks.concat());
    let harness = Harness::start(&config, &[], FILES)
        .await
        .expect("host starts");
    let setup = harness.take_log().join("\n");
    (harness, setup)
}

/// The snapshot text of a scenario: the configure-time log, then each labelled message's log
/// and outcome.
async fn scenario(checks: &[String], messages: &[(&str, Vec<u8>)]) -> String {
    let (harness, setup) = start(checks).await;
    let mut out = vec![format!("== configure ==\n{setup}")];
    for (label, message) in messages {
        let mut env = envelope("192.0.2.1");
        env.mail_from = Some("sender@example.org".into());
        out.push(format!(
            "== {label} ==\n{}",
            harness.check(&env, message).await
        ));
    }
    out.join("\n")
}

/// A plain-text message.
fn plain(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: sender@example.org\r\nTo: postmaster@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <m1@example.org>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A multipart/alternative message with a text/plain and a text/html part.
fn alternative(subject: &str, text: &str, html: &str) -> Vec<u8> {
    format!(
        "From: sender@example.org\r\nTo: postmaster@example.com\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_b1\"\r\n\r\n\
         This is a multi-part message in MIME format.\r\n\
         --=_b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n\
         --=_b1\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<html><body>{html}</body></html>\r\n\
         --=_b1--\r\n"
    )
    .into_bytes()
}

/// A message whose only part is text/html, so every filter sees the HTML's text alone.
fn html_only(subject: &str, html: &str) -> Vec<u8> {
    format!(
        "From: sender@example.org\r\nTo: postmaster@example.com\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n\
         <html><body>{html}</body></html>\r\n"
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------
// Phrase filter and URL Domain Black List (seed T02, T04, T06, T12, T13, T14, T17, T19).

#[tokio::test]
async fn phrase_file_matches_the_body() {
    let checks = [check("phrase", "phrases-file = \"phrases.txt\"")];
    let text = scenario(
        &checks,
        &[
            (
                "phrase in the body, other case and spacing",
                plain("offer", "Our Wholesale   Products!"),
            ),
            ("phrase of symbols only", plain("offer", "Earn $$$ fast")),
            ("no phrase", plain("lunch", "See you at noon.")),
            (
                "phrase split across the lines of a paragraph",
                plain("offer", "Wholesale\r\nproducts here"),
            ),
        ],
    )
    .await;
    snapshot("content_phrase_file_matches_body", &text);
}

#[tokio::test]
async fn phrase_scan_subject_ignores_the_body() {
    let checks = [check(
        "phrase",
        "phrases = [\"wholesale products\"]\nscan = \"subject\"",
    )];
    let text = scenario(
        &checks,
        &[
            (
                "phrase in the body only",
                plain("offer", "wholesale products"),
            ),
            (
                "phrase in the subject",
                plain("Wholesale products", "nothing here"),
            ),
        ],
    )
    .await;
    snapshot("content_phrase_scan_subject", &text);
}

#[tokio::test]
async fn phrase_scan_body_ignores_the_subject() {
    let checks = [check(
        "phrase",
        "phrases = [\"wholesale products\"]\nscan = \"body\"",
    )];
    let text = scenario(
        &checks,
        &[
            (
                "phrase in the subject only",
                plain("Wholesale products", "nothing here"),
            ),
            (
                "phrase in the HTML part's text",
                alternative("offer", "see below", "<b>wholesale</b> products"),
            ),
        ],
    )
    .await;
    snapshot("content_phrase_scan_body", &text);
}

#[tokio::test]
async fn phrase_normalize_words() {
    let message = || plain("pills", "cheap v-i-a-g-r-a here");
    let on = [check(
        "phrase",
        "phrases = [\"viagra\"]\nnormalize-words = true",
    )];
    let off = [check("phrase", "phrases = [\"viagra\"]")];
    let text = [
        "### normalize-words = true".to_string(),
        scenario(&on, &[("hyphenated word", message())]).await,
        "### normalize-words = false".to_string(),
        scenario(&off, &[("hyphenated word", message())]).await,
    ];
    snapshot("content_phrase_normalize_words", &text.join("\n"));
}

#[tokio::test]
async fn phrase_domain_matches_text_not_links() {
    let checks = [check("phrase", "phrases = [\"spam.com\"]")];
    let text = scenario(
        &checks,
        &[
            (
                "domain written in the text",
                plain("hi", "visit spam.com today"),
            ),
            (
                "domain only in a link",
                html_only("hi", "<a href=\"http://spam.com/\">here</a>"),
            ),
        ],
    )
    .await;
    snapshot("content_phrase_domain_in_text_not_link", &text);
}

#[tokio::test]
async fn phrase_without_host_information() {
    let checks = [check("phrase", "scan = \"both\"")];
    let text = scenario(
        &checks,
        &[("any message", plain("offer", "wholesale products"))],
    )
    .await;
    snapshot("content_phrase_no_host_information", &text);
}

#[tokio::test]
async fn phrase_disabled() {
    let checks = [check(
        "phrase",
        "enabled = false\nphrases = [\"wholesale products\"]",
    )];
    let text = scenario(
        &checks,
        &[("phrase in the body", plain("offer", "wholesale products"))],
    )
    .await;
    snapshot("content_phrase_disabled", &text);
}

#[tokio::test]
async fn phrase_and_url_lists_both_empty() {
    let checks = [check("phrase", "phrases = []\nurl-domains = []")];
    let text = scenario(
        &checks,
        &[(
            "link in the text",
            plain("hi", "see http://www.ipswitch.com/"),
        )],
    )
    .await;
    snapshot("content_phrase_empty_lists", &text);
}

#[tokio::test]
async fn url_list_matches_at_label_boundaries() {
    let checks = [check(
        "phrase",
        "phrases = []\nurl-domains-file = \"url-domains.txt\"",
    )];
    let text = scenario(
        &checks,
        &[
            (
                "subdomain URL in the text",
                plain("hi", "go to http://www.mail.ipswitch.com/x now"),
            ),
            (
                "image source in HTML",
                html_only("hi", "<img src=\"http://ipswitch.com/a.gif\">"),
            ),
            (
                "lookalike host",
                plain("hi", "go to http://notipswitch.com/ now"),
            ),
            (
                "user info, port and capitals in an HTML link",
                html_only("hi", "<a href=\"http://u@IPSWITCH.com:8080/\">x</a>"),
            ),
        ],
    )
    .await;
    snapshot("content_url_label_boundary", &text);
}

#[tokio::test]
async fn url_list_matches_internationalised_names_in_either_spelling() {
    let checks = [check("phrase", "url-domains = [\"bücher.example\"]")];
    let text = scenario(
        &checks,
        &[
            (
                "A-labels in the text",
                plain("hi", "see http://www.xn--bcher-kva.example/offer"),
            ),
            (
                "percent-encoded UTF-8 in an HTML link",
                html_only("hi", "<a href=\"http://B%C3%BCcher.example/\">x</a>"),
            ),
            (
                "the ASCII look-alike",
                plain("hi", "see http://bucher.example/"),
            ),
        ],
    )
    .await;
    snapshot("content_url_internationalised", &text);
}

/// A phrase in another script is logged and reported as written, and the header field the
/// host gives for the message is ASCII (RFC 2047 encoded words) that decodes to it.
#[tokio::test]
async fn a_phrase_in_another_script_makes_an_ascii_header_field() {
    let checks = [check("phrase", "phrases = [\"Gewinnspiel für Sie\"]")];
    let (harness, _) = start(&checks).await;
    let outcome = check_plain(&harness, "Ihr Gewinnspiel für Sie", "Hallo").await;
    assert_eq!(outcome.headers, [phrase_header("Gewinnspiel für Sie")]);
    let fields = outcome.header_fields();
    assert_eq!(
        fields,
        [
            "X-IMAIL-SPAM-PHRASE:\r\n =?UTF-8?B?KDAwMDAwMDAwZGVhZGJlZWYsR2V3aW5uc3BpZWwgZsO8ciBTaWUp?="
        ]
    );
    assert!(
        harness
            .take_log()
            .iter()
            .any(|l| l.ends_with("matched phrase[Gewinnspiel für Sie]")),
        "the log keeps the phrase as written"
    );
}

/// A phrase list written in Windows-1252 (as IMail's tools on Windows wrote them) is read as
/// that code page: its accented phrase matches the message's text, which arrives as UTF-8.
#[tokio::test]
async fn a_windows_1252_phrase_list_matches_accented_text() {
    let checks = [check("phrase", "phrases-file = \"phrases-1252.txt\"")];
    let config = format!("[[domain]]\nname = \"example.com\"\n{}", checks.concat());
    let harness = Harness::start(&config, &[], &[("phrases-1252.txt", "placeholder\n")])
        .await
        .expect("host starts");
    std::fs::write(
        harness.dir().join("phrases-1252.txt"),
        b"# listes d'IMail\r\nOffre \xe0 dur\xe9e limit\xe9e\r\n",
    )
    .unwrap();
    harness.engine.reload().await.expect("the list reloads");
    let outcome = check_plain(&harness, "Bonjour", "Une offre à durée limitée, pour vous.").await;
    assert_eq!(outcome.headers, [phrase_header("Offre à durée limitée")]);
}

/// Checks a plain-text message from `sender@example.org` and returns its outcome.
async fn check_plain(harness: &Harness, subject: &str, body: &str) -> Outcome {
    let mut env = envelope("192.0.2.1");
    env.mail_from = Some("sender@example.org".into());
    let message = plain(subject, body);
    harness.engine.check(&env, Body::Raw(message)).await
}

/// The phrase filter's X-header for a hit on `phrase`.
fn phrase_header(phrase: &str) -> (String, String) {
    (
        "X-IMAIL-SPAM-PHRASE".to_string(),
        format!("(00000000deadbeef,{phrase})"),
    )
}

#[tokio::test]
async fn url_www_entry_matches_only_that_host() {
    let checks = [check("phrase", "url-domains = [\"www.ipswitch.com\"]")];
    let text = scenario(
        &checks,
        &[
            (
                "the exact host",
                plain("hi", "see http://www.ipswitch.com/"),
            ),
            (
                "a host below it",
                plain("hi", "see http://www.mail.ipswitch.com/"),
            ),
        ],
    )
    .await;
    snapshot("content_url_www_entry", &text);
}

#[tokio::test]
async fn phrases_are_searched_before_urls() {
    let checks = [check(
        "phrase",
        "phrases = [\"act now\"]\nurl-domains = [\"ipswitch.com\"]",
    )];
    let text = scenario(
        &checks,
        &[
            (
                "phrase and listed link",
                plain("hi", "Act now: http://ipswitch.com/"),
            ),
            ("listed link only", plain("hi", "see http://ipswitch.com/")),
        ],
    )
    .await;
    snapshot("content_phrase_before_url", &text);
}

// ---------------------------------------------------------------------------------------
// HTML feature filter (seed T03, T05, T18, T36-T42).

/// Each feature with an HTML fragment showing it (and no other feature of the list).
const FEATURES: [(&str, &str); 8] = [
    ("invalid-tag", "<p>Make money <blink>now</blink></p>"),
    (
        "nested-table",
        "<table><tr><td><table class=\"inner\"><tr><td>deal</td></tr></table></td></tr></table>",
    ),
    (
        "image-tag",
        "<p>Look</p><img src=\"http://images.example.net/a.gif\" width=1 height=1>",
    ),
    (
        "deceptive-url",
        "<p>Log in at <a href=\"http://192.0.2.9/login\">https://www.paypal.com/</a></p>",
    ),
    (
        "hyperlink",
        "<p>See <a href=\"http://shop.example.net/offer\">our offer</a></p>",
    ),
    (
        "mailto-hyperlink",
        "<p><a href=\"mailto:sales@example.net\">write to us</a></p>",
    ),
    (
        "script-tag",
        "<script type=\"text/javascript\">window.open()</script><p>hello</p>",
    ),
    ("embedded-comment", "<p>Buy VIA<!-- x -->GRA today</p>"),
];

#[tokio::test]
async fn html_each_feature_alone() {
    for (key, fragment) in FEATURES {
        let checks = [check("html", &format!("features = [\"{key}\"]"))];
        let text = scenario(
            &checks,
            &[
                (
                    "feature present",
                    alternative("offer", "plain version", fragment),
                ),
                (
                    "plain HTML",
                    alternative("hello", "plain version", "<p>Hello <b>there</b></p>"),
                ),
            ],
        )
        .await;
        snapshot(&format!("content_html_{}", key.replace('-', "_")), &text);
    }
}

#[tokio::test]
async fn html_all_features_at_once() {
    let keys: Vec<String> = FEATURES.iter().map(|(k, _)| format!("\"{k}\"")).collect();
    let checks = [check(
        "html",
        &format!("features = [{}]\ncount = 8", keys.join(", ")),
    )];
    let all: String = FEATURES.iter().rev().map(|(_, f)| *f).collect();
    let text = scenario(
        &checks,
        &[(
            "every feature, in reverse order",
            alternative("offer", "x", &all),
        )],
    )
    .await;
    snapshot("content_html_all_features", &text);
}

#[tokio::test]
async fn html_features_beyond_imail() {
    let checks = [check(
        "html",
        "features = [\"hidden-text\", \"data-uri\", \"zero-width\"]\ncount = 2",
    )];
    let tricks = "<p>Dear friend, ch&#173;eap m&#8203;eds</p>\
                  <div style=\"font-size:0px\">Shakespeare sonnet words for the filter</div>\
                  <a href=\"data:text/html;base64,PGgxPkJhbms8L2gxPg==\">your account</a>";
    let text = scenario(
        &checks,
        &[
            ("hidden text, data URI, zero-width", alternative("offer", "x", tricks)),
            (
                "newsletter with a hidden preheader only",
                alternative(
                    "news",
                    "x",
                    "<span style=\"display:none !important\">This week: the agenda</span><p>Agenda</p>",
                ),
            ),
        ],
    )
    .await;
    snapshot("content_html_features_beyond_imail", &text);
}

#[tokio::test]
async fn html_count_of_two_needs_two_distinct_features() {
    let checks = [check(
        "html",
        "features = [\"embedded-comment\", \"deceptive-url\"]\ncount = 2",
    )];
    let comment = "<p>Buy VIA<!-- x -->GRA today</p>";
    let deceptive = "<a href=\"http://192.0.2.9/login\">https://www.paypal.com/</a>";
    let text = scenario(
        &checks,
        &[
            ("embedded comment only", alternative("offer", "x", comment)),
            (
                "both features",
                alternative("offer", "x", &format!("{comment}{deceptive}")),
            ),
        ],
    )
    .await;
    snapshot("content_html_count_two", &text);
}

#[tokio::test]
async fn html_repeated_feature_counts_once() {
    let checks = [check(
        "html",
        "features = [\"image-tag\", \"script-tag\"]\ncount = 2",
    )];
    let images = "<img src=\"a.gif\"><img src=\"b.gif\"><IMG SRC=\"c.gif\">";
    let text = scenario(
        &checks,
        &[
            ("three images", alternative("pics", "x", images)),
            (
                "no HTML part",
                plain("pics", "<img src=\"a.gif\"><script>x()</script>"),
            ),
        ],
    )
    .await;
    snapshot("content_html_repeated_feature", &text);
}

#[tokio::test]
async fn html_no_features_selected_never_fires() {
    let checks = [check("html", "features = []")];
    let all: String = FEATURES.iter().map(|(_, f)| *f).collect();
    let text = scenario(
        &checks,
        &[("every feature", alternative("offer", "x", &all))],
    )
    .await;
    snapshot("content_html_no_features_selected", &text);
}

#[tokio::test]
async fn html_disabled() {
    let checks = [check("html", "enabled = false\nfeatures = [\"image-tag\"]")];
    let text = scenario(
        &checks,
        &[("image", alternative("pics", "x", "<img src=\"a.gif\">"))],
    )
    .await;
    snapshot("content_html_disabled", &text);
}

#[tokio::test]
async fn html_without_host_information() {
    let checks = [check("html", "count = 1")];
    let text = scenario(
        &checks,
        &[("image", alternative("pics", "x", "<img src=\"a.gif\">"))],
    )
    .await;
    snapshot("content_html_no_host_information", &text);
}

#[tokio::test]
async fn html_count_above_the_selected_features_is_rejected() {
    let config = format!(
        "[[domain]]\nname = \"example.com\"\n{}",
        check(
            "html",
            "features = [\"image-tag\", \"script-tag\"]\ncount = 3"
        )
    );
    let err = Harness::start(&config, &[], FILES)
        .await
        .err()
        .expect("rejected");
    let text = format!("{err:#}");
    assert!(
        text.contains("count 3 exceeds the 2 selected features"),
        "{text}"
    );
}

/// Behaviour 43 and 21: the scanner keeps the text of an invalid tag and drops an embedded
/// comment without splitting the word, so in a message without a text/plain part the phrase
/// filter finds `viagra` and the statistical filter scores `get`, `rich` and `viagra`.
#[tokio::test]
async fn html_text_reaches_the_phrase_and_statistical_filters() {
    let checks = [
        check("phrase", "phrases = [\"viagra\"]"),
        check("html", "features = [\"invalid-tag\", \"embedded-comment\"]"),
        check("bayes", "table-file = \"antispam-table.txt\""),
    ];
    let html = "<p><comment>Get Rich</comment> quick with VIA<!-- x -->GRA</p>";
    let text = scenario(
        &checks,
        &[("invalid tag and embedded comment", html_only("hello", html))],
    )
    .await;
    snapshot("content_html_text_reaches_other_filters", &text);
}

// ---------------------------------------------------------------------------------------
// Statistical filter (seed T01, T07, T08, T15, T16, T20-T24).

#[tokio::test]
async fn bayes_spam_and_good() {
    let checks = [check("bayes", "table-file = \"antispam-table.txt\"")];
    let text = scenario(
        &checks,
        &[
            ("spam words", plain("Cheap viagra", "Get cheap VIAGRA now")),
            (
                "good words",
                plain("Agenda for Tuesday", "The meeting moved to room 2B."),
            ),
            ("no words at all", plain("", "12 34 !!")),
        ],
    )
    .await;
    snapshot("content_bayes_spam_and_good", &text);
}

#[tokio::test]
async fn bayes_robinson_mode() {
    let checks = [check(
        "bayes",
        "mode = \"robinson\"\ntable-file = \"antispam-table-robinson.txt\"",
    )];
    // The body's words cancel (viagra against meeting, agenda against the mailer), so the
    // header words alone decide: the mailer and where its field stands say spam.
    let bulk = b"From: sender@example.org\r\nTo: postmaster@example.com\r\nSubject: Minutes\r\n\
                 Message-ID: <m1@example.org>\r\nX-Mailer: BulkBlaster 2.0\r\n\r\n\
                 viagra meeting agenda\r\n";
    let encoded_sender = b"From: =?iso-8859-1?q?Jos=E9?= <j@example.org>\r\n\
                           Subject: Hello\r\n\r\nhello\r\n";
    let text = scenario(
        &checks,
        &[
            ("spam words", plain("Cheap viagra", "Get cheap viagra now")),
            ("good words", plain("Agenda", "The meeting agenda")),
            ("undecided, the header words decide", bulk.to_vec()),
            (
                "undecided, no header word either",
                plain("Notes", "viagra meeting"),
            ),
            // The sender's name crosses the WIT decoded, and as written, which names its
            // character set.
            ("an encoded sender name", encoded_sender.to_vec()),
        ],
    )
    .await;
    snapshot("content_bayes_robinson_mode", &text);
}

#[tokio::test]
async fn bayes_exclude_list() {
    let checks = [check(
        "bayes",
        "table-file = \"antispam-table.txt\"\nexclude-file = \"exclude.txt\"\nexclude = [\"Now\"]",
    )];
    let text = scenario(
        &checks,
        &[(
            "excluded words",
            plain("FREE viagra", "Free viagra now, free!"),
        )],
    )
    .await;
    snapshot("content_bayes_exclude_list", &text);
}

#[tokio::test]
async fn bayes_table_without_good_mail() {
    let checks = [check("bayes", "table-file = \"empty-table.txt\"")];
    let text = scenario(
        &checks,
        &[("spam words", plain("Cheap viagra", "Get cheap VIAGRA now"))],
    )
    .await;
    snapshot("content_bayes_no_good_mail", &text);
}

/// A message the MIME parser panics on (mail-parser 0.11 asserts on a nested message without
/// header fields in debug builds; release builds parse it): the host logs the error, the
/// checks read the raw message (its Subject still decides), and the next message is checked
/// as usual.
#[cfg(debug_assertions)]
#[tokio::test]
async fn a_message_the_parser_fails_on_costs_nothing_else() {
    let checks = [check("bayes", "table-file = \"antispam-table.txt\"")];
    let nested = b"From: sender@example.org\r\nSubject: Cheap viagra\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\nx\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\n\r\nx\r\n--b--\r\n";
    let text = scenario(
        &checks,
        &[
            ("the parser fails", nested.to_vec()),
            (
                "the next message",
                plain("Cheap viagra", "Get cheap VIAGRA now"),
            ),
        ],
    )
    .await;
    snapshot("content_parser_failure", &text);
}

#[tokio::test]
async fn bayes_disabled() {
    let checks = [check(
        "bayes",
        "enabled = false\ntable-file = \"antispam-table.txt\"",
    )];
    let text = scenario(
        &checks,
        &[("spam words", plain("Cheap viagra", "Get cheap VIAGRA now"))],
    )
    .await;
    snapshot("content_bayes_disabled", &text);
}

#[tokio::test]
async fn bayes_bad_table_line_is_rejected() {
    let config = format!(
        "[[domain]]\nname = \"example.com\"\n{}",
        check("bayes", "table-file = \"bad-table.txt\"")
    );
    let files = [(
        "bad-table.txt",
        "#antispam-table v1 good=3 spam=3\nviagra,99,0,20\nnot a table line\n",
    )];
    let err = Harness::start(&config, &[], &files)
        .await
        .err()
        .expect("rejected");
    let text = format!("{err:#}");
    assert!(text.contains("bad-table.txt: line 3:"), "{text}");
}

#[tokio::test]
async fn each_check_reports_its_verdict_and_reason_in_order() {
    let checks = [
        check("phrase", "phrases = [\"viagra\"]"),
        check("html", "features = [\"invalid-tag\", \"embedded-comment\"]"),
        check("bayes", "table-file = \"antispam-table.txt\""),
        check("bayes", "enabled = false"),
    ];
    let (harness, _) = start(&checks).await;
    let html = "<p><comment>Get Rich</comment> quick with VIA<!-- x -->GRA</p>";
    let outcome = harness
        .engine
        .check(&envelope("192.0.2.1"), Body::Raw(html_only("hello", html)))
        .await;
    let results: Vec<_> = outcome
        .results
        .iter()
        .map(|r| (r.check.as_str(), r.verdict, r.reason.as_str()))
        .collect();
    assert_eq!(
        results,
        [
            ("phrase", VerdictKind::Fail, "matched phrase[viagra]"),
            (
                "html",
                VerdictKind::Fail,
                "matched HTML features [Invalid Tag, Embedded Comment]"
            ),
            (
                "bayes",
                VerdictKind::Fail,
                "statistical probability 0.999694"
            ),
            ("bayes", VerdictKind::NotApplicable, ""),
        ]
    );
    let shown = outcome.results[3].to_string();
    assert!(
        shown.starts_with("bayes: not-applicable (") && shown.ends_with(" ms)"),
        "{shown}"
    );
}

#[tokio::test]
async fn eval_tallies_what_each_check_said_of_good_mail_and_spam() {
    let checks = [
        check("phrase", "phrases = [\"viagra\", \"meeting\"]").replace(
            "[domain.check.settings]",
            "action = \"none\"\n[domain.check.settings]",
        ),
        check("bayes", "table-file = \"antispam-table.txt\""),
    ];
    let (harness, _) = start(&checks).await;
    let sample = |name: &str, spam: bool, message: Vec<u8>| Sample {
        name: name.into(),
        spam,
        raw: message,
    };
    let samples = [
        sample("spam", true, plain("Cheap viagra", "Get cheap VIAGRA now")),
        sample(
            "good",
            false,
            plain("Agenda", "The meeting moved to room 2B."),
        ),
    ];
    let report = measure(&harness.engine, "example.com", &samples, 2).await;
    assert_eq!((report.true_positives, report.true_negatives), (1, 1));
    let tallies: Vec<_> = report
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.good_failed, c.spam_failed, c.runs))
        .collect();
    assert_eq!(
        tallies,
        [("phrase", 1, 1, 2), ("bayes", 0, 1, 2)],
        "the dry-run phrase check's hit on good mail is tallied, not counted"
    );
}

// ---------------------------------------------------------------------------------------
// A check written outside the seven, from the SDK's template (`plugins/sdk/examples`).

#[tokio::test]
async fn a_check_built_from_the_sdk_template_loads_from_its_file() {
    let checks = [check("examples/required_header", "field = \"Date\"")];
    let text = scenario(
        &checks,
        &[
            ("no Date field", plain("hi", "hello")),
            (
                "a Date field",
                format!(
                    "Date: Mon, 2 Dec 2002 10:00:00 +0000\r\n{}",
                    "Subject: hi\r\n\r\nhello\r\n"
                )
                .into_bytes(),
            ),
        ],
    )
    .await;
    snapshot("content_sdk_template_check", &text);
}
