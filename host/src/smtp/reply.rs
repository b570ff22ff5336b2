//! Reading one SMTP reply (RFC 5321 section 4.2) from a hostile server, within bounds.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// One reply from the remote server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code (first digit 2-5, second 0-5).
    pub code: u16,
    /// The reply text, lines joined by a space, control characters replaced by `?`, and cut
    /// to the configured maximum line length.
    pub text: String,
}

impl Reply {
    /// True for a 2yz (positive completion) reply.
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }

    /// True for a 5yz (permanent negative) reply.
    pub fn is_permanent_failure(&self) -> bool {
        self.code / 100 == 5
    }
}

/// The bounds a reply must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest line allowed, excluding the line ending.
    pub max_line_len: usize,
    /// Most lines allowed in one (multi-line) reply.
    pub max_lines: usize,
}

/// Reads one complete reply, single- or multi-line (`250-first`, `250 last`), and the text
/// of each of its lines (the EHLO keywords are the first words of the lines after the first).
///
/// Errors describe why the dialogue cannot go on: the connection closed, a read failed, or
/// the server sent garbage (`garbage reply: ...`): an overlong line, too many lines, an
/// invalid or changing code, or bytes that are not UTF-8.
pub(crate) async fn read_reply<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limits: Limits,
) -> Result<(Reply, Vec<String>), String> {
    let mut code = None;
    let mut lines: Vec<String> = Vec::new();
    for _ in 0..limits.max_lines {
        let line = read_line(reader, limits.max_line_len).await?;
        let (line_code, last, text) = parse_line(&line)?;
        if *code.get_or_insert(line_code) != line_code {
            return Err(format!(
                "garbage reply: code changed from {} to {line_code} within one reply",
                code.unwrap_or_default()
            ));
        }
        lines.push(text.to_string());
        if last {
            let parts: Vec<&str> = lines
                .iter()
                .map(String::as_str)
                .filter(|t| !t.is_empty())
                .collect();
            let text = bounded(&parts.join(" "), limits.max_line_len);
            let reply = Reply {
                code: line_code,
                text,
            };
            return Ok((reply, lines));
        }
    }
    Err(format!(
        "garbage reply: more than {} lines",
        limits.max_lines
    ))
}

/// Reads one line without its CRLF (or bare LF), refusing lines over `max_len` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max_len: usize,
) -> Result<String, String> {
    let limit = max_len as u64 + 2;
    let mut buf = Vec::new();
    let n = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|e| format!("read failed: {e}"))?;
    if n == 0 {
        return Err("connection closed by server".to_string());
    }
    if !buf.ends_with(b"\n") {
        return Err(if n as u64 == limit {
            format!("garbage reply: line longer than {max_len} bytes")
        } else {
            "connection closed by server in the middle of a line".to_string()
        });
    }
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    if buf.len() > max_len {
        return Err(format!("garbage reply: line longer than {max_len} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "garbage reply: bytes that are not UTF-8".to_string())
}

/// Splits a reply line into its code, whether it is the last line, and its text.
fn parse_line(line: &str) -> Result<(u16, bool, &str), String> {
    let bytes = line.as_bytes();
    let valid_code = bytes.len() >= 3
        && (b'2'..=b'5').contains(&bytes[0])
        && (b'0'..=b'5').contains(&bytes[1])
        && bytes[2].is_ascii_digit();
    if !valid_code {
        return Err(format!(
            "garbage reply: no reply code in {:?}",
            bounded(line, 40)
        ));
    }
    let code = line[..3]
        .parse::<u16>()
        .map_err(|e| format!("garbage reply: {e}"))?;
    match bytes.get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, line[4..].trim())),
        Some(b'-') => Ok((code, false, line[4..].trim())),
        Some(_) => Err(format!(
            "garbage reply: bad separator in {:?}",
            bounded(line, 40)
        )),
    }
}

/// `text` with control characters replaced by `?`, cut to at most `max` bytes on a
/// character boundary.
fn bounded(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_line_len: 40,
        max_lines: 3,
    };

    async fn read(bytes: &[u8]) -> Result<Reply, String> {
        let mut reader = bytes;
        read_reply(&mut reader, LIMITS)
            .await
            .map(|(reply, _)| reply)
    }

    #[tokio::test]
    async fn single_line_reply() {
        let reply = read(b"220 mx.example ESMTP\r\n").await.unwrap();
        assert_eq!(
            reply,
            Reply {
                code: 220,
                text: "mx.example ESMTP".into()
            }
        );
    }

    #[tokio::test]
    async fn multi_line_reply_joins_text() {
        let reply = read(b"250-mx.example\r\n250-PIPELINING\n250 8BITMIME\r\n")
            .await
            .unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.text, "mx.example PIPELINING 8BITMIME");
        let mut reader: &[u8] = b"250-mx.example\r\n250-\r\n250 SMTPUTF8\r\n";
        let (reply, lines) = read_reply(&mut reader, LIMITS).await.unwrap();
        assert_eq!(reply.text, "mx.example SMTPUTF8");
        assert_eq!(lines, ["mx.example", "", "SMTPUTF8"]);
    }

    #[tokio::test]
    async fn bare_code_is_a_last_line() {
        assert_eq!(
            read(b"221\r\n").await.unwrap(),
            Reply {
                code: 221,
                text: String::new()
            }
        );
    }

    #[tokio::test]
    async fn control_characters_are_replaced() {
        assert_eq!(
            read(b"550 no\x1b[31m user\r\n").await.unwrap().text,
            "no?[31m user"
        );
    }

    #[tokio::test]
    async fn garbage_is_refused() {
        for bytes in [
            &b"\x16\x03\x01\x00\xa5\r\n"[..],
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"999 what\r\n",
            b"250_x\r\n",
            b"250-a\r\n251 b\r\n",
            b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n",
            b"250 \xff\xfe\r\n",
        ] {
            let err = read(bytes).await.unwrap_err();
            assert!(err.starts_with("garbage reply"), "{bytes:?}: {err}");
        }
    }

    #[tokio::test]
    async fn overlong_line_is_refused_without_reading_it_all() {
        let mut long = vec![b'2', b'2', b'0', b' '];
        long.extend(std::iter::repeat_n(b'x', 10_000));
        let err = read(&long).await.unwrap_err();
        assert_eq!(err, "garbage reply: line longer than 40 bytes");
        let mut exact = b"220 ".to_vec();
        exact.extend(std::iter::repeat_n(b'y', 37));
        exact.extend_from_slice(b"\r\n");
        assert_eq!(
            read(&exact).await.unwrap_err(),
            "garbage reply: line longer than 40 bytes"
        );
    }

    #[tokio::test]
    async fn closed_connection_is_reported() {
        assert_eq!(read(b"").await.unwrap_err(), "connection closed by server");
        assert!(
            read(b"250-a\r\n250 b")
                .await
                .unwrap_err()
                .contains("middle of a line")
        );
        assert_eq!(
            read(b"250-a\r\n").await.unwrap_err(),
            "connection closed by server"
        );
    }

    /// What hostile server output is made of.
    const PIECES: &[&[u8]] = &[
        b"250",
        b"550",
        b"421",
        b"199",
        b"2",
        b"25",
        b"600",
        b" ",
        b"-",
        b"\r\n",
        b"\n",
        b"\r",
        b"ok",
        b"\x00",
        b"\x1b[1m",
        b"\xff",
        b"\xc3\xa9",
        b"\t",
        b"x",
    ];

    proptest::proptest! {
        /// Whatever a server sends: a reply has a valid code and at most the longest line's
        /// length of text without control characters, or the read fails with a reason.
        #[test]
        fn any_server_output_is_a_bounded_reply_or_an_error(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40),
        ) {
            let bytes = pieces.concat();
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            match runtime.block_on(read(&bytes)) {
                Ok(reply) => {
                    proptest::prop_assert!((200..=559).contains(&reply.code));
                    proptest::prop_assert!(reply.text.len() <= LIMITS.max_line_len);
                    proptest::prop_assert!(!reply.text.contains(char::is_control));
                }
                Err(why) => proptest::prop_assert!(!why.is_empty()),
            }
        }
    }
}
