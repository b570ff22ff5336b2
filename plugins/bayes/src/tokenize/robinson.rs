//! The Robinson-mode tokenizer (after SpamBayes): address, recipient, Received and Message-ID
//! pieces, the words of the other sender-written header fields prefixed with their names,
//! the order of the fields, header-name counts, HTML elements and URL pieces, and case-folded body words and word pairs.
//!
//! Tokens are assembled in reused buffers and handed to a sink one at a time, so scoring a
//! message allocates almost nothing per token.

use std::borrow::Cow;

use antispam_sdk::html::scan;
use antispam_sdk::net::a_labels_or_name;

use super::{Field, MessageText, lower, push_lower};

/// Body words shorter than this are dropped.
const MIN_WORD: usize = 3;
/// Body words longer than this become a `skip:` token.
const MAX_WORD: usize = 12;

/// Robinson-mode tokens of a message (repeats possible; scoring and training use each once).
/// No token contains a control character (so each fits on one line of the table).
pub fn tokens(msg: &MessageText) -> Vec<String> {
    let mut out = Vec::new();
    each_token(msg, &mut |t| out.push(t.to_string()));
    out
}

/// Hands each Robinson-mode token of a message to `sink`, in the order [`tokens`] lists them:
/// the header tokens ([`each_header_token`]), then the content tokens ([`each_content_token`]).
pub fn each_token(msg: &MessageText, sink: &mut dyn FnMut(&str)) {
    each_header_token(msg, sink);
    each_content_token(msg, sink);
}

/// Hands `sink` the tokens of the header fields other than Subject (field order, addresses,
/// recipients, Received, Message-ID, field counts, encoded-word charsets and other fields'
/// words).
pub fn each_header_token(msg: &MessageText, sink: &mut dyn FnMut(&str)) {
    Tokenizer::new(sink).headers(msg);
}

/// Hands `sink` the tokens of what the sender wrote: Subject words, body words and pairs,
/// URLs, addresses and HTML structure.
pub fn each_content_token(msg: &MessageText, sink: &mut dyn FnMut(&str)) {
    let mut t = Tokenizer::new(sink);
    t.out.clean = Scan::new(msg.subject).clean;
    for word in msg.subject.split_whitespace() {
        let token = &mut t.out.token;
        token.clear();
        token.push_str("subject:");
        if word_token(token, word, word.is_ascii()) {
            t.out.send_token();
        }
    }
    t.body(msg.text);
    for html in &msg.html {
        t.markup(html);
    }
}

/// Where tokens go: assembled from their parts in `token`, then given to the sink unless they
/// contain a control character. `clean` is set while the tokens are made from text known to
/// have no control character in them (see [`Scan::clean`]): the check is skipped then.
struct Out<'s> {
    sink: &'s mut dyn FnMut(&str),
    token: String,
    clean: bool,
}

impl Out<'_> {
    /// Emits the concatenation of `parts`. Inlined with a fixed number of parts, so that the
    /// constant ones (`"received:"`) are copied by a few stores, not by a call (`memory.copy`,
    /// which leaves wasm for the host).
    #[inline(always)]
    fn emit<const N: usize>(&mut self, parts: [&str; N]) {
        self.token.clear();
        for part in parts {
            self.token.push_str(part);
        }
        self.send_token();
    }

    /// Emits the concatenation of `parts` and `n` in decimal.
    #[inline(always)]
    fn emit_number<const N: usize>(&mut self, parts: [&str; N], n: usize) {
        self.token.clear();
        for part in parts {
            self.token.push_str(part);
        }
        push_decimal(&mut self.token, n);
        self.send_token();
    }

    /// Emits what `token` holds.
    fn send_token(&mut self) {
        give(self.sink, self.clean, &self.token);
    }

    /// Emits a token assembled elsewhere.
    fn send(&mut self, token: &str) {
        give(self.sink, self.clean, token);
    }
}

/// Hands `token` to `sink` unless it has a control character (not checked when `clean`).
fn give(sink: &mut dyn FnMut(&str), clean: bool, token: &str) {
    if clean || !has_control(token) {
        sink(token);
    }
}

/// `text.contains(char::is_control)`, on bytes: C0 controls and DEL are single bytes, the C1
/// controls U+0080..U+009F are encoded as 0xC2 0x80..0x9F.
fn has_control(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().any(|&c| c < 0x20 || c == 0x7f) || (!text.is_ascii() && has_c1(b, None))
}

/// True when `b` (UTF-8) has a C1 control character other than `except`.
fn has_c1(b: &[u8], except: Option<u8>) -> bool {
    b.windows(2)
        .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]) && Some(w[1]) != except)
}

/// What one pass over a text tells: whether it is ASCII, has a vertical tab, and is `clean`.
struct Scan {
    ascii: bool,
    vertical_tab: bool,
    /// No control character but white space: the pieces between white space (as
    /// [`str::split_whitespace`] cuts them) have none, nor does any token made of them.
    clean: bool,
}

impl Scan {
    fn new(text: &str) -> Scan {
        // Accumulated without an early exit, so the loop vectorizes.
        let (mut high, mut vt, mut bad) = (0u8, 0u8, 0u8);
        for &c in text.as_bytes() {
            high |= c;
            vt |= u8::from(c == 0x0b);
            bad |= u8::from((c < 0x20 && !(0x09..=0x0d).contains(&c)) || c == 0x7f);
        }
        let ascii = high < 0x80;
        Scan {
            ascii,
            vertical_tab: vt != 0,
            // U+0085 (NEL) is white space too.
            clean: bad == 0 && (ascii || !has_c1(text.as_bytes(), Some(0x85))),
        }
    }
}

/// The output and the scratch buffers reused from token to token.
struct Tokenizer<'s> {
    out: Out<'s>,
    name: String,
    lower: String,
    /// The body words of a run, each followed by a space, the last one just made: a word and
    /// the one before it form a pair (`<w1> <w2>`).
    pair: String,
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

/// Header fields whose words are not read: the Subject (read as `subject:` words); fields that
/// carry dates or references to earlier messages (their words tell when mail was written or
/// collected, not what it is); and fields written on delivery by the receiving site or the
/// mailbox software, not by the sender (among them other filters' verdicts: `X-Spam: spam`,
/// SpamCop's and MailScanner's, whose `Found to be clean` is a virus scan's).
const UNREAD: &[&str] = &[
    "subject",
    "date",
    "resent-date",
    "x-original-date",
    "x-originalarrivaltime",
    "in-reply-to",
    "references",
    "delivered-to",
    "delivery-date",
    "envelope-to",
    "x-envelope-to",
    "x-original-to",
    "x-keywords",
    "status",
    "x-status",
    "x-uid",
    "x-spam",
    "x-spamadvice",
    "x-spam-status",
    "x-spam-flag",
    "x-spam-level",
    "x-spam-checker-version",
    "x-spamcop-checked",
    "x-spamcop-disposition",
    "x-mailscanner",
    "x-mailscanner-spamcheck",
    "lines",
    "content-length",
];

impl<'s> Tokenizer<'s> {
    fn new(sink: &'s mut dyn FnMut(&str)) -> Tokenizer<'s> {
        Tokenizer {
            out: Out {
                sink,
                token: String::new(),
                clean: false,
            },
            name: String::new(),
            lower: String::new(),
            pair: String::new(),
        }
    }

    /// Header tokens: for each field read, the pair of its name and the previous read field's
    /// (`order:received>message-id`, `order:^>return-path` for the first: the order in which a
    /// mailer writes its fields is a fingerprint of the mailer) and its own pieces; then
    /// `header:<Name>:<count>` for the counted fields (names as first written; differently
    /// written names count apart).
    fn headers(&mut self, msg: &MessageText) {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        // Each name ASCII-lower-cased once, then compared exactly.
        let mut lower_name = std::mem::take(&mut self.name);
        let mut previous = String::from("^");
        for &Field { name, value, raw } in &msg.headers {
            lower_name.clear();
            lower_name.push_str(name);
            lower_name.make_ascii_lowercase();
            let field = lower_name.as_str();
            let read = is_field_name(name) && !UNREAD.contains(&field);
            if read {
                // `order:<previous field>><field>`, of names in printable ASCII.
                self.out.clean = true;
                self.out.emit(["order:", &previous, ">", field]);
                previous.clear();
                previous.push_str(field);
            }
            // A field's tokens are made of pieces of its value and of names without controls.
            self.out.clean = !has_control(value);
            self.charsets(raw);
            if COUNTED.contains(&field) {
                match counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => *count += 1,
                    None => counts.push((name, 1)),
                }
            }
            // The fields with tokens of their own, then the other fields' words.
            match field {
                "from" | "reply-to" => self.addresses(field, value),
                "to" | "cc" => self.recipients(field, value),
                "received" => self.received(value),
                "message-id" => self.message_id(value),
                _ if read => self.header_words(field, value),
                _ => {}
            }
        }
        self.name = lower_name;
        // Counted names are letters and hyphens.
        self.out.clean = true;
        for (name, n) in counts {
            self.out.emit_number(["header:", name, ":"], n);
        }
    }

    /// `<name>:<word>` for each word of any other field (`x-mailer:sylpheed`,
    /// `content-type:text/html`), `name` lower-cased.
    fn header_words(&mut self, name: &str, value: &str) {
        for word in Pieces::new(value, &WORD_SEPARATORS) {
            header_word(&mut self.out, name, ":", word);
        }
    }

    /// `charset:<name>` for each RFC 2047 encoded word (`=?big5?B?...?=`) in a raw header
    /// value: the character set of a sender-written name or subject (a name of 1–20 printable
    /// ASCII characters, as RFC 2047 has it).
    fn charsets(&mut self, value: &str) {
        // The pieces of `value.split("=?").skip(1)`, found on bytes.
        let mut rest = value;
        while let Some(at) = find(rest, b"=?") {
            rest = &rest[at + 2..];
            let piece = &rest[..find(rest, b"=?").unwrap_or(rest.len())];
            if let Some((charset, _)) = piece.split_once('?')
                && (1..=20).contains(&charset.len())
                && charset.bytes().all(|b| b.is_ascii_graphic())
            {
                self.lower.clear();
                self.lower.push_str(charset);
                self.lower.make_ascii_lowercase();
                self.out.emit(["charset:", &self.lower]);
            }
        }
    }

    /// `to:2**<k>` for the number of addresses (rounded down to a power of two), and the
    /// first three recipient domains.
    fn recipients(&mut self, field: &str, value: &str) {
        let domains = || {
            Pieces::new(value, &ADDRESS_SEPARATORS)
                .filter_map(|p| p.rsplit_once('@'))
                .map(|(_, d)| d)
        };
        let k = domains().count().max(1).ilog2();
        self.out.emit_number([field, ":2**"], k as usize);
        for domain in domains().take(3) {
            let domain = lower(&mut self.lower, domain);
            self.out.emit([field, ":domain:", domain]);
        }
    }

    /// `from:addr:a@b.c`, `from:domain:b.c`, `from:name:word`, or `from:none`.
    fn addresses(&mut self, field: &str, value: &str) {
        let mut any = false;
        for piece in Pieces::new(value, &ADDRESS_SEPARATORS) {
            if piece.is_empty() {
                continue;
            }
            let piece = lower(&mut self.lower, piece);
            if let Some((_, domain)) = piece.rsplit_once('@') {
                any = true;
                self.out.emit([field, ":addr:", piece]);
                self.out.emit([field, ":domain:", domain]);
            } else {
                header_word(&mut self.out, field, ":name:", piece);
            }
        }
        if !any {
            self.out.emit([field, ":none"]);
        }
    }

    /// Host names (every domain suffix) and address prefixes found in a Received field.
    fn received(&mut self, value: &str) {
        for piece in Pieces::new(value, &RECEIVED_SEPARATORS) {
            // Both kinds of piece kept have a dot; most pieces have none and are passed over
            // before trimming and lower-casing (lower-casing neither adds nor removes a dot).
            if !piece.as_bytes().contains(&b'.') {
                continue;
            }
            let piece = trim_to_alphanumeric(piece);
            if !piece.as_bytes().contains(&b'.') {
                continue;
            }
            let piece = lower(&mut self.lower, piece);
            if is_ipv4(piece) {
                // The first two, three and four octets (the address has exactly three dots).
                let dots = piece.match_indices('.').map(|(i, _)| i);
                for end in dots.skip(1).chain([piece.len()]) {
                    self.out.emit(["received:", &piece[..end]]);
                }
            } else if piece
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
            {
                // Every suffix that starts at a label, except the last label alone.
                let mut rest = piece;
                while let Some((_, tail)) = rest.split_once('.') {
                    self.out.emit(["received:", rest]);
                    rest = tail;
                }
            }
        }
    }

    /// `message-id:@domain`, or `message-id:invalid` without one.
    fn message_id(&mut self, value: &str) {
        let id = value.trim_matches(|c: char| c.is_whitespace() || c == '<' || c == '>');
        match id.rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => {
                let domain = lower(&mut self.lower, domain);
                self.out.emit(["message-id:@", domain]);
            }
            _ => self.out.emit(["message-id:invalid"]),
        }
    }

    /// Body text: whitespace-separated chunks, URLs and addresses broken into pieces, and each
    /// pair of neighbouring words as `<w1> <w2>`.
    fn body(&mut self, text: &str) {
        let scan = Scan::new(text);
        self.out.clean = scan.clean;
        // The same chunks either way (vertical tab is Unicode but not ASCII white space);
        // splitting on bytes is the cheaper.
        if scan.ascii && !scan.vertical_tab {
            self.body_chunks(text.split_ascii_whitespace());
        } else {
            self.body_chunks(text.split_whitespace());
        }
    }

    /// [`Self::body`] over the whitespace-separated chunks of the text.
    fn body_chunks<'t>(&mut self, chunks: impl Iterator<Item = &'t str>) {
        self.pair.clear();
        // Where the previous word starts in `pair`, when it pairs with the next.
        let mut previous = None;
        for chunk in chunks {
            let (mut colon, mut at, mut dot, mut high) = (false, false, false, 0u8);
            for &c in chunk.as_bytes() {
                colon |= c == b':';
                at |= c == b'@';
                dot |= c == b'.';
                high |= c;
            }
            if (colon && find(chunk, b"://").is_some()) || chunk.starts_with("www.") {
                self.url(chunk);
            } else if at && dot {
                let chunk = lower(
                    &mut self.lower,
                    chunk.trim_matches(|c: char| !c.is_alphanumeric()),
                );
                if let Some((name, domain)) = chunk.rsplit_once('@') {
                    self.out.emit(["email name:", name]);
                    for piece in domain.split('.') {
                        self.out.emit(["email addr:", piece]);
                    }
                }
            } else {
                // `pair` ends with the previous word (from `previous`) and a space, if any.
                let mut start = self.pair.len();
                if word_token(&mut self.pair, chunk, high < 0x80) {
                    // The word's token (even one the sink did not get) pairs with its
                    // neighbours.
                    self.out.send(&self.pair[start..]);
                    if let Some(previous) = previous {
                        self.out.send(&self.pair[previous..]);
                    }
                    // Words are appended after one another; the buffer is emptied of the
                    // earlier ones only now and then, not moved for each word.
                    if start > 4096 {
                        self.pair.drain(..start);
                        start = 0;
                    }
                    previous = Some(start);
                    self.pair.push(' ');
                    continue;
                }
            }
            self.pair.clear();
            previous = None;
        }
    }

    /// An HTML part: its visible text as body words, `html:<tag>` for each element used,
    /// `html:<tag>:<attribute>=<value>` for short presentational values, and the URLs of links
    /// and images.
    fn markup(&mut self, html: &str) {
        let doc = scan(html);
        // Element names and attribute values may hold anything.
        self.out.clean = false;
        for tag in doc.tags.iter().filter(|t| !t.end) {
            self.out.emit(["html:", &tag.name]);
            for a in &tag.attributes {
                match &*a.name {
                    "href" | "src" | "action" | "background" => self.url(&a.value),
                    "color" | "size" | "face" | "bgcolor" | "align" | "width" | "height"
                    | "border" => {
                        let v = lower(&mut self.lower, a.value.trim());
                        if v.len() <= 20 {
                            self.out.emit(["html:", &tag.name, ":", &a.name, "=", v]);
                        }
                    }
                    _ => {}
                }
            }
        }
        if !doc.comments.is_empty() {
            self.out.emit(["html:comment"]);
        }
        self.body(&doc.text);
    }

    /// `proto:http`, `url:<host label>` for each label (an internationalised host's A-labels,
    /// so both spellings of a name give the same tokens), and `url:<path piece>`.
    fn url(&mut self, raw: &str) {
        let raw = lower(&mut self.lower, raw);
        let (proto, rest) =
            find(raw, b"://").map_or(("http", raw), |at| (&raw[..at], &raw[at + 3..]));
        self.out.emit(["proto:", proto]);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.rsplit('@').next().unwrap_or(host);
        let host = host.split(':').next().unwrap_or(host);
        let name = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
        let host = if host.chars().all(name) {
            a_labels_or_name(host)
        } else {
            Cow::Borrowed(host)
        };
        let host = host.as_ref();
        if is_ipv4(host) {
            self.out.emit(["url:numeric-host"]);
        }
        // A host holds no white space: what an attribute value pads it with splits labels.
        for label in host
            .split(|c: char| c == '.' || c.is_whitespace())
            .filter(|l| !l.is_empty())
        {
            self.out.emit(["url:", label]);
        }
        for piece in path
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| (2..=20).contains(&p.len()))
        {
            self.out.emit(["url:", piece]);
        }
    }
}

/// A set of ASCII separators, besides white space, for [`Pieces`]: entry `b` is true for byte
/// `b`.
type Separators = [bool; 128];

/// The separators `extra` and ASCII white space as `char::is_whitespace` has it (tab, line
/// feed, vertical tab, form feed, carriage return and space).
const fn separators(extra: &[u8]) -> Separators {
    let mut set = [false; 128];
    let mut b = 0x09;
    while b <= 0x0d {
        set[b] = true;
        b += 1;
    }
    set[b' ' as usize] = true;
    let mut i = 0;
    while i < extra.len() {
        set[extra[i] as usize] = true;
        i += 1;
    }
    set
}

/// The separators of header words, of address lists and of Received fields.
const WORD_SEPARATORS: Separators = separators(b";\",<>()=");
const ADDRESS_SEPARATORS: Separators = separators(b",<>\"");
const RECEIVED_SEPARATORS: Separators = separators(b"()[];");

/// The pieces of a text between separators: `text.split(|c: char| c.is_whitespace() ||
/// <c is in the set>)` for a set of ASCII separators (see [`separators`]), tested on bytes
/// by a table; only a non-ASCII character is decoded (for Unicode white space).
struct Pieces<'t> {
    text: &'t str,
    set: &'static Separators,
    start: usize,
    at: usize,
    done: bool,
}

impl<'t> Pieces<'t> {
    fn new(text: &'t str, set: &'static Separators) -> Pieces<'t> {
        Pieces {
            text,
            set,
            start: 0,
            at: 0,
            done: false,
        }
    }
}

impl<'t> Iterator for Pieces<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        if self.done {
            return None;
        }
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at) {
            let (separator, len) = if b < 0x80 {
                (self.set[usize::from(b)], 1)
            } else {
                let c = self.text[self.at..].chars().next().unwrap_or_default();
                (c.is_whitespace(), c.len_utf8())
            };
            self.at += len;
            if separator {
                let piece = &self.text[self.start..self.at - len];
                self.start = self.at;
                return Some(piece);
            }
        }
        self.done = true;
        Some(&self.text[self.start..])
    }
}

/// `text.trim_matches(|c: char| !c.is_alphanumeric())`, with ASCII ends trimmed on bytes.
fn trim_to_alphanumeric(text: &str) -> &str {
    let keep = |c: &u8| !c.is_ascii() || c.is_ascii_alphanumeric();
    let b = text.as_bytes();
    let first = b.iter().position(keep).unwrap_or(b.len());
    let end = b.iter().rposition(keep).map_or(first, |e| e + 1);
    // A non-ASCII byte found from either end is the edge of a whole character; a character
    // there is trimmed only if it is not alphanumeric.
    let text = &text[first..end];
    if b.get(first).is_some_and(|c| !c.is_ascii()) || (end > first && !b[end - 1].is_ascii()) {
        text.trim_matches(|c: char| !c.is_alphanumeric())
    } else {
        text
    }
}

/// Where `needle` (two or three bytes) first stands in `text`: `text.find(needle)`, without
/// setting up a substring searcher for so short a needle.
fn find<const N: usize>(text: &str, needle: &[u8; N]) -> Option<usize> {
    text.as_bytes()
        .windows(N)
        .position(|w| <[u8; N]>::try_from(w).is_ok_and(|w| w == *needle))
}

/// True for a dotted-quad IPv4 address (`text.parse::<Ipv4Addr>().is_ok()`; text that does
/// not start with a digit, as most does not, is not parsed).
fn is_ipv4(text: &str) -> bool {
    text.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && text.parse::<std::net::Ipv4Addr>().is_ok()
}

/// True for a well-formed header field name (printable ASCII without `:`); not, say, an mbox
/// `From ` line that a parser took for a field.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// `<field><infix><word>` for a header word trimmed of punctuation and lower-cased, if it is
/// 1–40 bytes long.
#[inline(always)]
fn header_word(out: &mut Out, field: &str, infix: &str, word: &str) {
    let token = &mut out.token;
    token.clear();
    token.push_str(field);
    token.push_str(infix);
    let start = token.len();
    push_lower(token, trim_to_alphanumeric(word));
    if (1..=40).contains(&(token.len() - start)) {
        out.send_token();
    }
}

/// Appends to `buf` the token of one body word: `chunk` trimmed of surrounding punctuation
/// and lower-cased, or `skip:<first char> <length rounded down to tens>` for a long word.
/// False (and `buf` as it was) for a very short word. `ascii`: `chunk` is ASCII.
fn word_token(buf: &mut String, chunk: &str, ascii: bool) -> bool {
    let start = buf.len();
    let len = if ascii {
        let keep = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'$' | b'!');
        let b = chunk.as_bytes();
        let first = b.iter().position(keep).unwrap_or(b.len());
        let end = b.iter().rposition(keep).map_or(first, |e| e + 1);
        if end - first < MIN_WORD {
            return false;
        }
        buf.push_str(&chunk[first..end]);
        buf[start..].make_ascii_lowercase();
        end - first
    } else {
        let word = chunk.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '$' | '!')));
        push_lower(buf, word);
        buf[start..].chars().count()
    };
    if len < MIN_WORD {
        buf.truncate(start);
        return false;
    }
    if len > MAX_WORD {
        let first = buf[start..].chars().next().unwrap_or('?');
        buf.truncate(start);
        buf.push_str("skip:");
        buf.push(first);
        buf.push(' ');
        push_decimal(buf, len / 10 * 10);
    }
    true
}

/// Appends `n` in decimal (what `write!(buf, "{n}")` does, without the formatting machinery).
fn push_decimal(buf: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(buf, n / 10);
    }
    buf.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields without encoded words.
    fn plain<'a>(fields: Vec<(&'a str, &'a str)>) -> Vec<Field<'a>> {
        fields
            .into_iter()
            .map(|(n, v)| Field::plain(n, v))
            .collect()
    }

    fn has(tokens: &[String], t: &str) -> bool {
        tokens.iter().any(|x| x == t)
    }

    fn has_all(tokens: &[String], wanted: &[&str]) {
        for want in wanted {
            assert!(has(tokens, want), "{want} missing from {tokens:?}");
        }
    }

    #[test]
    fn headers_are_prefixed() {
        let msg = MessageText {
            subject: "Cheap MEDS!",
            headers: plain(vec![
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
            ]),
            ..MessageText::default()
        };
        let t = tokens(&msg);
        has_all(
            &t,
            &[
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
                "order:^>from",
                "order:from>received",
                "order:received>received",
                "order:message-id>to",
                "order:to>reply-to",
            ],
        );
        assert!(!t.iter().any(|x| x.starts_with("header:X-Keywords")));
        assert!(!t.iter().any(|x| x.starts_with("x-keywords:")));
        assert!(!t.iter().any(|x| x.contains("x-keywords")), "{t:?}");
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
    fn fields_are_read_decoded_and_their_charsets_as_written() {
        let msg = MessageText {
            headers: vec![Field {
                name: "From",
                value: "José <j@example.org>",
                raw: "=?iso-8859-1?q?Jos=E9?= <j@example.org>",
            }],
            ..MessageText::default()
        };
        let t = tokens(&msg);
        has_all(
            &t,
            &[
                "from:name:josé",
                "from:addr:j@example.org",
                "charset:iso-8859-1",
            ],
        );
        assert!(!t.iter().any(|x| x.contains("=e9")), "{t:?}");
    }

    #[test]
    fn hostile_message_ids_and_charsets_give_no_blank_ended_tokens() {
        let msg = MessageText {
            headers: plain(vec![
                ("Message-ID", "<a href='mailto:a@b.example'> <"),
                (
                    "Subject",
                    "=? ?Q?x?= =?utf 8?B?eA==?= =?\u{e9}?Q?x?= =?Big5?B?eA==?=",
                ),
            ]),
            ..MessageText::default()
        };
        let t = tokens(&msg);
        has_all(&t, &["message-id:@b.example'", "charset:big5"]);
        let charsets = t.iter().filter(|x| x.starts_with("charset:")).count();
        assert_eq!(charsets, 1, "{t:?}");
    }

    #[test]
    fn other_fields_give_words_but_not_dates_or_delivery_fields() {
        let msg = MessageText {
            headers: plain(vec![
                // An mbox separator line that a parser took for a field.
                ("From list-admin@example.org  Thu Aug 22 12", "36:23 2002"),
                ("X-Mailer", "Sylpheed version 0.8.2 (GTK+ 1.2.10; i386)"),
                ("Content-Type", "text/plain; charset=\"us-ascii\""),
                ("List-Id", "<exmh.example.org>"),
                ("Date", "Thu, 22 Aug 2002 12:36:23 +0100"),
                ("X-OriginalArrivalTime", "22 Aug 2002 11:20:13.0218 (UTC)"),
                ("In-Reply-To", "Your message of Thu, 22 Aug 2002"),
                ("Delivered-To", "someone@mailbox.example"),
                ("X-Keywords", "junk"),
                ("Status", "RO"),
                ("X-Spam", "spam DATE_IN_FUTURE_06_12"),
                ("X-SpamCop-Disposition", "Blocked bl.spamcop.net"),
                ("X-MailScanner-SpamCheck", "not spam, SpamAssassin"),
                ("X-MailScanner", "Found to be clean"),
            ]),
            ..MessageText::default()
        };
        let t = tokens(&msg);
        has_all(
            &t,
            &[
                "x-mailer:sylpheed",
                "x-mailer:gtk",
                "x-mailer:1.2.10",
                "x-mailer:i386",
                "content-type:text/plain",
                "content-type:charset",
                "content-type:us-ascii",
                "list-id:exmh.example.org",
                "header:Date:1",
            ],
        );
        for unwanted in [
            "aug",
            "2002",
            "someone",
            "mailbox",
            "junk",
            ":ro",
            "list-admin",
            "x-spam:spam",
            "x-spam:date_in_future_06_12",
            "spamcop",
            "spamcheck",
            "x-mailscanner",
        ] {
            assert!(
                !t.iter().any(|x| x.contains(unwanted)),
                "{unwanted} in {t:?}"
            );
        }
    }

    #[test]
    fn byte_level_splitting_and_trimming_agree_with_str() {
        let texts = [
            "",
            ";",
            "a b",
            "  lead and trail  ",
            "\"Bob\" <bob@x.example>, c@d",
            "from [192.0.2.1] (helo=x.example);\tby y",
            "caf\u{e9}\u{a0}na\u{ef}ve\u{2003}x\u{85}y",
            "((\u{e9}t\u{e9}))",
            "--\u{2014}word\u{2014}--",
            "\u{3000}\u{4e2d}\u{6587}.",
            "x=1;y=\"2\"",
        ];
        for text in texts {
            for (set, extra) in [
                (
                    &WORD_SEPARATORS,
                    &[';', '"', ',', '<', '>', '(', ')', '='][..],
                ),
                (&ADDRESS_SEPARATORS, &[',', '<', '>', '"'][..]),
                (&RECEIVED_SEPARATORS, &['(', ')', '[', ']', ';'][..]),
            ] {
                let want: Vec<&str> = text
                    .split(|c: char| c.is_whitespace() || extra.contains(&c))
                    .collect();
                assert_eq!(Pieces::new(text, set).collect::<Vec<_>>(), want, "{text:?}");
                for piece in want {
                    assert_eq!(
                        trim_to_alphanumeric(piece),
                        piece.trim_matches(|c: char| !c.is_alphanumeric()),
                        "{piece:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn control_characters_by_bytes() {
        for text in ["", "plain", "caf\u{e9}", "\u{a0}x", "\u{100}"] {
            assert!(!has_control(text), "{text:?}");
        }
        for text in ["a\nb", "\u{7f}", "x\u{85}", "\u{9f}", "\0"] {
            assert!(has_control(text), "{text:?}");
        }
    }

    #[test]
    fn texts_with_only_white_space_controls_are_clean() {
        for text in [
            "",
            "plain",
            "a\tb\r\nc\x0b\x0cd",
            "x\u{85}y\u{a0}z",
            "caf\u{e9}",
        ] {
            assert!(Scan::new(text).clean, "{text:?}");
        }
        for text in ["a\u{1}b", "\u{7f}", "x\u{9f}", "\u{80}\u{85}", "\u{1f}"] {
            assert!(!Scan::new(text).clean, "{text:?}");
        }
        let scan = Scan::new("a\x0bb");
        assert!(scan.ascii && scan.vertical_tab);
        assert!(!Scan::new("\u{e9}").ascii);
    }

    #[test]
    fn words_with_control_characters_are_dropped_and_pair_with_nothing() {
        let t = tokens(&MessageText {
            subject: "big\u{1}deal offer",
            text: "cheap pi\u{1}lls now x\u{9f}yz today\u{85}only",
            ..MessageText::default()
        });
        has_all(
            &t,
            &[
                "subject:offer",
                "cheap",
                "now",
                "today",
                "only",
                "today only",
            ],
        );
        assert!(!t.iter().any(|x| has_control(x)), "{t:?}");
        assert!(!has(&t, "cheap now"), "{t:?}");
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
        has_all(
            &t,
            &[
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
            ],
        );
        assert!(!has(&t, "ok"), "short words are dropped");
        assert!(!has(&t, "visit now"), "no pair across a URL");
    }

    #[test]
    fn url_host_labels_hold_no_white_space() {
        let msg = MessageText {
            html: vec![
                "<a href=\"http://www.example.co.uk \u{a0}\">x</a><img src=\"http://a .b\">",
            ],
            ..MessageText::default()
        };
        let t = tokens(&msg);
        has_all(&t, &["url:www", "url:co", "url:uk", "url:a", "url:b"]);
        let idn = tokens(&MessageText {
            text: "see http://www.Bücher.example/x and http://xn--mil-qla.example/",
            ..MessageText::default()
        });
        has_all(
            &idn,
            &["url:xn--bcher-kva", "url:xn--mil-qla", "url:example"],
        );
        assert!(!idn.iter().any(|t| t.contains("bücher")), "{idn:?}");
        assert!(
            t.iter()
                .all(|t| !t.starts_with("url:") || !t.contains(char::is_whitespace)),
            "{t:?}"
        );
    }
}
