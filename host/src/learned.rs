//! The record of learned messages that `antispam train` keeps beside a word table
//! (`antispam-table.txt.learned`), so that training is idempotent and mistakes can be undone,
//! as SpamAssassin's `sa-learn` does with its "seen" database: a message given again with the
//! same label is skipped, one given with the other label (moved to or from a Junk folder) is
//! taken off its old side and counted on the new one, and `--forget` takes it off the table.
//!
//! The format is text, one message a line after a header line: `good <key> <Message-ID>` or
//! `spam <key> <Message-ID>` (the Message-ID, white space folded, is for people reading the
//! record; a message without one has none). The key is `sha256:` and the SHA-256 digest of the
//! message's Message-ID, From and Date fields as written, its decoded Subject, text and HTML: fields a
//! mail store adds (`Status`, `X-Keywords`) do not change it, and two different messages that
//! share a Message-ID (a spam copying a real one's) do not share a key, so a relearn always
//! takes off the tokens that message added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::message::MessageView;

const MAGIC: &str = "#antispam-learned v1";

/// The learned messages of one table: each key with its label (true for spam) and its
/// Message-ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Learned {
    labels: BTreeMap<String, (bool, String)>,
}

/// How a message is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKey {
    /// What identifies the message: `sha256:` and a digest (see the module documentation).
    pub digest: String,
    /// Its Message-ID, white space folded (empty when it has none).
    pub message_id: String,
}

impl Learned {
    /// Where the record of `table` lives: the table's file name with `.learned` appended.
    pub fn path_for(table: &Path) -> PathBuf {
        beside(table, ".learned")
    }

    /// Reads a record; a missing file is an empty record (a table trained before records
    /// were kept, or a new one).
    pub fn load(path: &Path) -> anyhow::Result<Learned> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Learned::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l.trim_end()) != Some(MAGIC) {
            bail!("{}: line 1: expected `{MAGIC}`", path.display());
        }
        let mut labels = BTreeMap::new();
        for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let mut words = line.splitn(3, ' ');
            let spam = match (words.next(), words.next()) {
                (Some("good"), Some(key)) if !key.is_empty() => (key, false),
                (Some("spam"), Some(key)) if !key.is_empty() => (key, true),
                _ => bail!(
                    "{}: line {}: expected `good <key> <Message-ID>` or `spam <key> <Message-ID>`",
                    path.display(),
                    i + 1
                ),
            };
            let message_id = words.next().unwrap_or_default().to_string();
            labels.insert(spam.0.to_string(), (spam.1, message_id));
        }
        Ok(Learned { labels })
    }

    /// Writes the record (through a temporary file, as the table is written).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = String::from(MAGIC);
        text.push('\n');
        for (key, (spam, message_id)) in &self.labels {
            text.push_str(if *spam { "spam " } else { "good " });
            text.push_str(key);
            if !message_id.is_empty() {
                text.push(' ');
                text.push_str(message_id);
            }
            text.push('\n');
        }
        let tmp = path.with_extension("learned.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
    }

    /// The label the message was learned with, if it was.
    pub fn label(&self, key: &MessageKey) -> Option<bool> {
        self.labels.get(&key.digest).map(|(spam, _)| *spam)
    }

    /// Records the message as learned with `spam` as its label.
    pub fn set(&mut self, key: MessageKey, spam: bool) {
        self.labels.insert(key.digest, (spam, key.message_id));
    }

    /// Forgets the message.
    pub fn remove(&mut self, key: &MessageKey) {
        self.labels.remove(&key.digest);
    }

    /// Numbers of good and spam messages recorded.
    pub fn counts(&self) -> (usize, usize) {
        let spam = self.labels.values().filter(|(spam, _)| *spam).count();
        (self.labels.len() - spam, spam)
    }

    /// Number of messages recorded.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when no message is recorded.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The file named as `file` with `suffix` appended (`antispam-table.txt.learned`).
pub fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// The key a message is recorded under (see the module documentation).
pub fn message_key(view: &MessageView) -> MessageKey {
    let field = |name: &str| {
        view.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.raw.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let message_id = field("Message-ID");
    let mut digest = Sha256::new();
    for part in [
        &message_id,
        &view.subject,
        &field("From"),
        &field("Date"),
        &view.text,
    ]
    .into_iter()
    .chain(&view.html)
    {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    MessageKey {
        digest: format!("sha256:{hex}"),
        message_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::DEFAULT_MAX_TEXT_BYTES;

    fn view(raw: &str) -> MessageView {
        MessageView::parse(raw.as_bytes(), DEFAULT_MAX_TEXT_BYTES)
    }

    #[test]
    fn a_message_is_keyed_by_a_digest_of_what_its_sender_wrote() {
        let with_id = view("Message-ID:\r\n <abc@example.com>\r\nSubject: hi\r\n\r\nbody\r\n");
        let key = message_key(&with_id);
        assert_eq!(key.message_id, "<abc@example.com>");
        assert!(
            key.digest.starts_with("sha256:") && key.digest.len() == 7 + 64,
            "{key:?}"
        );

        let plain = "From: a@example.com\r\nDate: Mon, 2 Dec 2026 10:00:00 +0000\r\nSubject: hi\r\n\r\nbody\r\n";
        let key = message_key(&view(plain));
        assert_eq!(key.message_id, "");
        assert_eq!(
            message_key(&view(&format!(
                "Status: RO\r\nX-Keywords: $Junk\r\n{plain}"
            ))),
            key,
            "fields a mail store adds do not change the key"
        );
        assert_ne!(
            message_key(&view(&plain.replace("body", "other body"))),
            key
        );
        let spoof = "Message-ID:\r\n <abc@example.com>\r\nSubject: hi\r\n\r\nbuy now\r\n";
        assert_ne!(
            message_key(&view(spoof)).digest,
            message_key(&with_id).digest,
            "a copied Message-ID does not make another message the same"
        );
    }

    #[test]
    fn the_record_is_written_and_read_back_and_a_bad_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("antispam-learned-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = Learned::path_for(&dir.join("antispam-table.txt"));
        assert_eq!(path, dir.join("antispam-table.txt.learned"));
        assert!(Learned::load(&path).unwrap().is_empty(), "missing: empty");

        let key = |digest: &str, message_id: &str| MessageKey {
            digest: digest.into(),
            message_id: message_id.into(),
        };
        let mut learned = Learned::default();
        learned.set(key("sha256:01", "<a@example.com>"), true);
        learned.set(key("sha256:02", ""), false);
        learned.save(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{MAGIC}\nspam sha256:01 <a@example.com>\ngood sha256:02\n")
        );
        let back = Learned::load(&path).unwrap();
        assert_eq!(back, learned);
        assert_eq!(back.label(&key("sha256:01", "")), Some(true));
        assert_eq!(back.label(&key("sha256:02", "")), Some(false));
        assert_eq!(back.label(&key("sha256:03", "")), None);
        assert_eq!(back.counts(), (1, 1));

        std::fs::write(
            &path,
            format!("{MAGIC}\ngood sha256:01 <a@x>\nmaybe sha256:02\n"),
        )
        .unwrap();
        let err = Learned::load(&path).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        std::fs::write(&path, "good sha256:01\n").unwrap();
        assert!(
            Learned::load(&path)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
