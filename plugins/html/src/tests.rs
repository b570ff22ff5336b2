use super::*;

fn filter(toml: &str) -> Result<HtmlFilter, String> {
    let settings = Settings {
        domain: "example.com".into(),
        toml: toml.into(),
        files: vec![],
    };
    HtmlFilter::configure(&settings)
}

fn run(toml: &str, html: &[&str]) -> Outcome {
    let parts: Vec<String> = html.iter().map(|s| s.to_string()).collect();
    filter(toml)
        .unwrap()
        .evaluate("example.com", "MSG1", &parts)
}

fn lines(outcome: &Outcome) -> Vec<String> {
    let name = |level: &Level| match level {
        Level::Normal => "Normal",
        Level::Verbose => "Verbose",
    };
    outcome
        .lines
        .iter()
        .map(|(level, line)| format!("{}: {line}", name(level)))
        .collect()
}

fn header(outcome: &Outcome) -> Option<(String, String)> {
    match &outcome.verdict {
        Verdict::Fail(f) => f.headers.first().map(|h| (h.name.clone(), h.value.clone())),
        _ => None,
    }
}

const BOTH: &str = "<p>VIA<!-- x -->GRA</p><a href=\"http://192.0.2.9/\">www.paypal.com</a>";

#[test]
fn two_selected_features_both_needed() {
    // Behaviour 40.
    let toml = "features = [\"embedded-comment\", \"deceptive-url\"]\ncount = 2";
    let only_comment = run(toml, &["<p>VIA<!-- x -->GRA</p>"]);
    assert!(matches!(only_comment.verdict, Verdict::Pass));
    assert_eq!(
        lines(&only_comment),
        ["Verbose: Matched Embedded Comment feature [<!-- x -->]"]
    );

    let both = run(toml, &[BOTH]);
    assert_eq!(
        lines(&both),
        [
            "Verbose: Matched Deceptive URL feature [http://192.0.2.9/]",
            "Verbose: Matched Embedded Comment feature [<!-- x -->]",
            "Normal: matched HTML features [Deceptive URL, Embedded Comment]",
        ]
    );
    assert_eq!(
        header(&both),
        Some((
            "X-IMAIL-SPAM-HTML-FEATURES".into(),
            "(MSG1,deceptive-url,embedded-comment)".into()
        ))
    );
}

#[test]
fn repeated_feature_counts_once() {
    // Behaviour 41.
    let toml = "features = [\"image-tag\", \"script-tag\"]\ncount = 2";
    let out = run(toml, &["<img src=a><img src=b>", "<img src=c>"]);
    assert!(matches!(out.verdict, Verdict::Pass));
    assert_eq!(
        lines(&out),
        ["Verbose: Matched Image Tag feature [<img src=a>]"]
    );
}

#[test]
fn no_selected_features_never_fires() {
    // Behaviour 42.
    let out = run(
        "features = []",
        &[BOTH, "<comment>x</comment><script>y</script>"],
    );
    assert!(matches!(out.verdict, Verdict::NotApplicable));
    assert!(out.lines.is_empty());
}

#[test]
fn comment_element_is_an_invalid_tag() {
    // Behaviour 43 (the text half is in the SDK's scanner tests).
    let out = run(
        "features = [\"invalid-tag\", \"embedded-comment\"]",
        &["<comment>Get Rich</comment>"],
    );
    assert_eq!(
        lines(&out),
        [
            "Verbose: Matched Invalid Tag feature [<comment>]",
            "Normal: matched HTML features [Invalid Tag]",
        ]
    );
    assert_eq!(
        antispam_sdk::html::extract_text("<comment>Get Rich</comment>"),
        "Get Rich"
    );
}

#[test]
fn mailto_logs_as_hyperlink() {
    let out = run(
        "features = [\"mailto-hyperlink\"]",
        &["<a href=\"mailto:a@example.com\">mail</a>"],
    );
    assert_eq!(
        lines(&out),
        [
            "Verbose: Matched Hyperlink feature [<a href=\"mailto:a@example.com\">]",
            "Normal: matched HTML features [Mailto Hyperlink]",
        ]
    );
    assert_eq!(header(&out).unwrap().1, "(MSG1,mailto-hyperlink)");
}

/// The `features` setting selecting all eight features.
const ALL_FEATURES: &str = "features = [\"invalid-tag\", \"nested-table\", \"image-tag\", \
    \"deceptive-url\", \"hyperlink\", \"mailto-hyperlink\", \"script-tag\", \"embedded-comment\"]";

#[test]
fn every_feature_has_its_line() {
    let html = "<table><tr><td><table><tr><td><img src=x.gif>\n<script>s()</script>\
                <a href=\"http://a.example/\">a</a><a href=\"mailto:m@example.com\">m</a>\
                <a href=\"http://evil.example/\">bank.com</a><blink>VI<!x>AGRA</blink>";
    let out = run(&format!("{ALL_FEATURES}\ncount = 8"), &[html]);
    assert_eq!(
        lines(&out),
        [
            "Verbose: Matched Invalid Tag feature [<blink>]",
            "Verbose: Matched Nested Table feature [<table>]",
            "Verbose: Matched Image Tag feature [<img src=x.gif>]",
            "Verbose: Matched Deceptive URL feature [http://evil.example/]",
            "Verbose: Matched Hyperlink feature [<a href=\"http://a.example/\">]",
            "Verbose: Matched Hyperlink feature [<a href=\"mailto:m@example.com\">]",
            "Verbose: Matched Script Tag feature [<script>]",
            "Verbose: Matched Embedded Comment feature [<!x>]",
            "Normal: matched HTML features [Invalid Tag, Nested Table, Image Tag, Deceptive URL, \
             Hyperlink, Mailto Hyperlink, Script Tag, Embedded Comment]",
        ]
    );
}

#[test]
fn evidence_is_one_line_of_at_most_255_characters() {
    let comment = format!("<!--\n{}\n-->", "x".repeat(1000));
    let out = run(
        "features = [\"embedded-comment\"]",
        &[&format!("VIA{comment}GRA")],
    );
    let line = &out.lines[0].1;
    let evidence = line
        .strip_prefix("Matched Embedded Comment feature [")
        .unwrap();
    assert_eq!(evidence.strip_suffix(']').unwrap().chars().count(), 255);
    assert!(evidence.starts_with("<!-- xxx"));
    assert!(!line.contains('\n'));
}

#[test]
fn disabled_and_missing_host_information() {
    let out = run(
        "enabled = false\nfeatures = [\"image-tag\"]",
        &["<img src=a>"],
    );
    assert_eq!(
        lines(&out),
        ["Verbose: HTML filtering is disabled for [example.com]"]
    );
    assert!(matches!(out.verdict, Verdict::NotApplicable));

    let out = run("", &["<img src=a>"]);
    assert_eq!(
        lines(&out),
        ["Normal: No Content Filtering Host information for the HTML Filter"]
    );
    assert!(matches!(out.verdict, Verdict::NotApplicable));
}

#[test]
fn no_html_parts_pass_quietly() {
    let out = run("features = [\"image-tag\"]", &[]);
    assert!(matches!(out.verdict, Verdict::Pass));
    assert!(out.lines.is_empty());
}

#[test]
fn custom_header_and_extra_valid_tags() {
    let toml = "features = [\"invalid-tag\", \"image-tag\"]\nheader = \"X-HTML\"\n\
                extra-valid-tags = [\"O:P\"]";
    let out = run(toml, &["<o:p></o:p><img src=a>"]);
    assert_eq!(
        header(&out),
        Some(("X-HTML".into(), "(MSG1,image-tag)".into()))
    );
}

#[test]
fn bad_settings_are_rejected() {
    assert!(
        filter("features = [\"bogus\"]")
            .unwrap_err()
            .contains("bogus")
    );
    assert!(filter("count = 0\nfeatures = [\"image-tag\"]").is_err());
    assert!(
        filter("count = 2\nfeatures = [\"image-tag\", \"image-tag\"]")
            .unwrap_err()
            .contains("exceeds")
    );
    assert!(filter("colour = 1").is_err());
    assert!(filter("features = \"image-tag\"").is_err());
}

proptest::proptest! {
    /// Hostile HTML parts: no panic, a verbose line per feature found at most (one per
    /// feature, eight in all, plus the verdict's), an Embedded Comment's text within 255
    /// characters, and a failed message carries its header.
    #[test]
    fn hostile_parts_within_bounds(message in antispam_sdk::arbitrary::hostile_message()) {
        let outcome = filter(&format!("{ALL_FEATURES}\ncount = 3")).unwrap().evaluate("example.com", "MSG1", &message.html);
        let lines = lines(&outcome);
        proptest::prop_assert!(lines.len() <= 9, "{lines:?}");
        for line in &lines {
            if let Some(comment) = line.strip_prefix("Verbose: Matched Embedded Comment feature [") {
                proptest::prop_assert!(comment.chars().count() <= 256, "{line}");
            }
        }
        if matches!(outcome.verdict, Verdict::Fail(_)) {
            proptest::prop_assert!(header(&outcome).is_some());
        }
    }
}

#[test]
fn our_features_log_in_the_same_shape_after_imail_s() {
    let toml =
        "features = [\"zero-width\", \"hidden-text\", \"data-uri\", \"image-tag\"]\ncount = 4";
    let html = "<img src=\"data:image/gif;base64,R0lGOD\">\
                <div style=\"display:none\">hidden words</div><p>ch&#173;eap</p>";
    let out = run(toml, &[html]);
    assert_eq!(
        lines(&out),
        [
            "Verbose: Matched Image Tag feature [<img src=\"data:image/gif;base64,R0lGOD\">]",
            "Verbose: Matched Hidden Text feature [<div style=\"display:none\">]",
            "Verbose: Matched Data URI feature [<img src=\"data:image/gif;base64,R0lGOD\">]",
            "Verbose: Matched Zero-Width Character feature [ch<U+00AD>eap]",
            "Normal: matched HTML features [Image Tag, Hidden Text, Data URI, Zero-Width Character]",
        ]
    );
    assert_eq!(
        header(&out),
        Some((
            "X-IMAIL-SPAM-HTML-FEATURES".into(),
            "(MSG1,image-tag,hidden-text,data-uri,zero-width)".into()
        ))
    );
}
