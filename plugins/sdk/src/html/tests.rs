use super::*;

fn text(html: &str) -> String {
    extract_text(html)
}

#[test]
fn tags_removed_and_blocks_separate_words() {
    assert_eq!(text("<p>Hello</p><p>world</p>"), "Hello world");
    assert_eq!(text("one<br>two<br/>three"), "one two three");
    assert_eq!(text("<table><tr><td>a</td><td>b</td></tr></table>"), "a b");
    assert_eq!(text("V<b>I</b>A<font color=red>GRA</font>"), "VIAGRA");
    assert_eq!(text("  lots \n\t of   space  "), "lots of space");
}

#[test]
fn comments_do_not_split_words() {
    assert_eq!(text("VIA<!-- x -->GRA"), "VIAGRA");
    assert_eq!(text("<!W>VIA<!Z>GRA<!E> N<!l>o<!k>w"), "VIAGRA Now");
    assert_eq!(text("VIA<?php x ?>GRA"), "VIAGRA");
    assert_eq!(text("a<!---->b<!-->c<!--->d"), "abcd");
}

#[test]
fn comments_record_whether_they_sit_in_a_word() {
    let doc = scan("VIA<!-- x -->GRA and <!-- y --> here<!z>");
    let in_word: Vec<(&str, bool)> = doc.comments.iter().map(|c| (c.raw, c.in_word)).collect();
    assert_eq!(
        in_word,
        [("<!-- x -->", true), ("<!-- y -->", false), ("<!z>", false)]
    );
    assert!(
        !scan("<!doctype html><p>x")
            .comments
            .iter()
            .any(|c| c.in_word)
    );
    assert!(scan("<!doctype html>").comments.is_empty());
}

#[test]
fn script_and_style_contents_are_dropped() {
    let html = "a<script type='text/javascript'>if (x<y) document.write('<b>spam</b>')</script>b\
                <STYLE>p { color: red }</STYLE >c";
    assert_eq!(text(html), "a b c");
    let doc = scan(html);
    let names: Vec<(&str, bool)> = doc.tags.iter().map(|t| (&*t.name, t.end)).collect();
    assert_eq!(
        names,
        [
            ("script", false),
            ("script", true),
            ("style", false),
            ("style", true)
        ]
    );
    assert_eq!(text("<script>never closed </scriptx> spam"), "");
}

#[test]
fn entities_are_decoded() {
    assert_eq!(
        text("Fish &amp; Chips &lt;tag&gt; &quot;q&quot;"),
        "Fish & Chips <tag> \"q\""
    );
    assert_eq!(text("&#86;&#x49;&#65;GRA"), "VIAGRA");
    assert_eq!(text("a&nbsp;&nbsp;b"), "a b");
    assert_eq!(text("fr&shy;ee m&#8203;oney"), "free money");
    assert_eq!(text("AT&T & co &lt3"), "AT&T & co <3");
}

#[test]
fn invisible_characters_are_recorded_where_they_stood() {
    let doc = scan("fr&shy;ee m&#8203;oney\u{feff} ");
    assert_eq!(doc.text, "free money");
    assert_eq!(
        doc.invisibles,
        [(2, '\u{ad}'), (6, '\u{200b}'), (10, '\u{feff}')]
    );
}

#[test]
fn invalid_tags_keep_their_text() {
    assert_eq!(text("<comment>Get Rich</comment> quick"), "Get Rich quick");
    assert_eq!(
        text("x<Get paid to work from home!>y"),
        "x Get paid to work from home! y"
    );
    assert_eq!(text("VIA<xyz>GRA"), "VIAGRA");
}

#[test]
fn tags_have_names_attributes_and_positions() {
    let doc = scan(r#"Go <A HREF="http://a.example/?x=1&amp;y=2" target=_blank nowrap>here</a>!"#);
    let a = &doc.tags[0];
    assert!(a.is_start("a"));
    assert_eq!(a.attribute("href"), Some("http://a.example/?x=1&y=2"));
    assert_eq!(a.attribute("target"), Some("_blank"));
    assert_eq!(a.attribute("nowrap"), Some(""));
    assert_eq!(
        a.raw,
        r#"<A HREF="http://a.example/?x=1&amp;y=2" target=_blank nowrap>"#
    );
    let close = &doc.tags[1];
    assert!(close.end && close.html4 && a.html4);
    assert_eq!(&doc.text[a.text_pos..close.text_pos], "here");
    assert_eq!(doc.text, "Go here!");
    let doc = scan("<BLINK>x</blink><o:p>");
    assert!(doc.tags.iter().all(|t| !t.html4));
}

#[test]
fn attribute_quoting_forms() {
    let doc = scan("<img src = 'a b.gif' alt=\"it's\" width=1/><a href=x>");
    assert_eq!(doc.tags[0].attribute("src"), Some("a b.gif"));
    assert_eq!(doc.tags[0].attribute("alt"), Some("it's"));
    assert_eq!(doc.tags[0].attribute("width"), Some("1/"));
    assert_eq!(doc.tags[1].attribute("href"), Some("x"));
    let doc = scan("<a href=\"x>y\">t</a>");
    assert_eq!(doc.tags[0].attribute("href"), Some("x>y"));
    assert_eq!(doc.text, "t");
}

#[test]
fn lone_angle_brackets_are_text() {
    assert_eq!(text("1 < 2 and 3 > 2, a<=b"), "1 < 2 and 3 > 2, a<=b");
    assert_eq!(text("</>x"), "x");
}

#[test]
fn unterminated_constructs_run_to_the_end() {
    assert_eq!(text("before<!-- never closed VIAGRA"), "before");
    assert_eq!(text("before<a href=\"never closed>VIAGRA"), "before");
    assert_eq!(text("before<table"), "before");
    assert_eq!(text("before<!bogus"), "before");
    assert_eq!(text("before</"), "before");
    assert_eq!(text("trailing &"), "trailing &");
    assert_eq!(text("<"), "<");
    for cut in [
        "<a", "<a ", "<a x", "<a x=", "<a x='", "<!", "<!-", "<!--", "<!---", "&#", "&#x",
    ] {
        let doc = scan(cut);
        assert!(doc.text.len() <= cut.len(), "{cut}");
    }
}

#[test]
fn hostile_input_is_linear_and_safe() {
    let many_lt = "<".repeat(1 << 20);
    assert_eq!(text(&many_lt).len(), 1 << 20);

    let nested = "<table><tr><td>".repeat(50_000) + "deep" + &"</td></tr></table>".repeat(50_000);
    let doc = scan(&nested);
    assert_eq!(doc.text, "deep");
    assert_eq!(doc.tags.len(), 300_000);

    let open_tags = "<a<a<a".repeat(100_000);
    assert_eq!(scan(&open_tags).tags.len(), 0);

    let comments = "<!-<!-<!--".repeat(100_000);
    assert!(scan(&comments).text.is_empty());

    let scripts = "<script></scrip".repeat(100_000);
    assert!(scan(&scripts).text.is_empty());

    let quotes = "<a b='".repeat(100_000);
    assert!(scan(&quotes).tags.is_empty());

    let amps = "&#".repeat(100_000) + &"&amp".repeat(100_000);
    assert!(text(&amps).starts_with("&#&#"));
}

#[test]
fn nuls_and_replacement_characters() {
    assert_eq!(text("VI\0AGRA"), "VIAGRA");
    assert_eq!(text("bad \u{fffd} bytes"), "bad \u{fffd} bytes");
    let doc = scan("<a\0 hr\0ef='\0'>x</a\0>");
    assert_eq!(doc.tags[0].name, "a\0");
    assert_eq!(
        doc.text, "a href='' x",
        "not an HTML tag: its words are kept"
    );
}

#[test]
fn multibyte_text_around_markup() {
    let doc = scan("Ünïcödé<!--é-->wörd <b>日本</b>語 &eacute;");
    assert_eq!(doc.text, "Ünïcödéwörd 日本語 é");
    assert!(doc.comments[0].in_word);
    let doc = scan("<é attr=ü>x</é>");
    assert!(
        doc.tags.is_empty(),
        "a tag name starts with an ASCII letter"
    );
    assert_eq!(
        doc.text, "<é attr=ü>x",
        "`</` before a non-letter opens a bogus comment"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    /// Whatever the input: no panic, the text is never longer than the input, every tag is
    /// a slice of the input starting with `<`, every offset lies within the text, and the
    /// link host of any attribute value is a non-empty lower-case name.
    #[test]
    fn any_input_scans_within_bounds(html in crate::arbitrary::hostile_text(120)) {
        let doc = scan(&html);
        proptest::prop_assert!(doc.text.len() <= html.len());
        proptest::prop_assert!(!doc.text.starts_with(' ') && !doc.text.ends_with(' '));
        for tag in &doc.tags {
            proptest::prop_assert!(tag.raw.starts_with('<') && html.contains(tag.raw));
            proptest::prop_assert!(tag.text_pos <= doc.text.len());
            proptest::prop_assert!(tag.name.starts_with(|c: char| c.is_ascii_lowercase()));
            for a in &tag.attributes {
                if let Some(host) = link_host(&a.value) {
                    proptest::prop_assert!(!host.is_empty());
                    proptest::prop_assert_eq!(host.to_lowercase(), host);
                }
            }
        }
        for c in &doc.comments {
            proptest::prop_assert!(c.text_pos <= doc.text.len() && html.contains(c.raw));
        }
    }
}
