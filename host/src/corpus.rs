//! Labelled mail for training and evaluation: a folder of `.eml` files, a Maildir folder (a
//! mail client's Junk folder, say), an mbox file (`From ` separated, mboxrd quoting undone), or
//! a corpus split file (`file<TAB>label<TAB>split`, paths relative to the split file, labels
//! `ham`/`spam`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Where labelled mail comes from, as the `train` and `eval` commands take it.
#[derive(Debug, Clone, clap::Args)]
pub struct Source {
    /// Good mail: folders of `.eml` files, Maildir folders or mbox files.
    #[arg(long, num_args = 1..)]
    pub good: Vec<PathBuf>,
    /// Spam: folders of `.eml` files, Maildir folders or mbox files.
    #[arg(long, num_args = 1..)]
    pub spam: Vec<PathBuf>,
    /// A split file (`file<TAB>label<TAB>split`) instead of `--good`/`--spam`.
    #[arg(long, conflicts_with_all = ["good", "spam"])]
    pub split: Option<PathBuf>,
    /// Which rows of the split file (default: `train` to train, `test` to evaluate).
    #[arg(long, requires = "split")]
    pub split_name: Option<String>,
}

impl Source {
    /// The files of mail named, in order, not yet read; `default_split` picks the rows of a
    /// split file when `--split-name` is not given.
    pub fn files(&self, default_split: &str) -> anyhow::Result<Vec<MailFile>> {
        if let Some(split) = &self.split {
            return split_files(split, self.split_name.as_deref().unwrap_or(default_split));
        }
        if self.good.is_empty() && self.spam.is_empty() {
            bail!("no mail named: give --good and/or --spam, or --split");
        }
        let mut files = Vec::new();
        for (paths, spam) in [(&self.good, false), (&self.spam, true)] {
            for path in paths {
                files.extend(path_files(path, spam)?);
            }
        }
        Ok(files)
    }

    /// Reads every message named (see [`Source::files`]).
    pub fn samples(&self, default_split: &str) -> anyhow::Result<Vec<Sample>> {
        read_all(self.files(default_split)?)
    }
}

/// One file of labelled mail, read when its messages are wanted (so that training over a
/// large mailbox holds one file in memory, not the mailbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    /// The file.
    pub path: PathBuf,
    /// True for spam, false for good mail.
    pub spam: bool,
    /// True for an mbox (many messages), false for a file of one message.
    mbox: bool,
}

impl MailFile {
    /// Reads the file's messages.
    pub fn read(&self) -> std::io::Result<Vec<Sample>> {
        let bytes = std::fs::read(&self.path)?;
        if !self.mbox {
            return Ok(vec![Sample {
                name: self.path.display().to_string(),
                spam: self.spam,
                raw: bytes,
            }]);
        }
        Ok(split_mbox(&bytes)
            .into_iter()
            .enumerate()
            .map(|(i, raw)| Sample {
                name: format!("{}#{}", self.path.display(), i + 1),
                spam: self.spam,
                raw,
            })
            .collect())
    }
}

/// The messages of `files`, in order.
fn read_all(files: Vec<MailFile>) -> anyhow::Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for file in files {
        samples.extend(
            file.read()
                .with_context(|| format!("reading {}", file.path.display()))?,
        );
    }
    Ok(samples)
}

/// One raw message and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The file (and, for an mbox, the message's number in it), for reports.
    pub name: String,
    /// True for spam, false for good mail.
    pub spam: bool,
    /// The raw RFC 5322 bytes.
    pub raw: Vec<u8>,
}

/// Reads every message of `path`, labelled `spam` (see [`path_files`]).
pub fn read_path(path: &Path, spam: bool) -> anyhow::Result<Vec<Sample>> {
    read_all(path_files(path, spam)?)
}

/// The mail files of `path`, labelled `spam`: for a Maildir (a directory with `cur/` or
/// `new/`), every message file of both; for another directory, its `.eml` files; a file is an
/// mbox. Files are listed in name order.
fn path_files(path: &Path, spam: bool) -> anyhow::Result<Vec<MailFile>> {
    let one = |path: PathBuf| MailFile {
        path,
        spam,
        mbox: false,
    };
    if !path.is_dir() {
        return Ok(vec![MailFile {
            path: path.to_path_buf(),
            spam,
            mbox: true,
        }]);
    }
    let maildir = ["cur", "new"].map(|sub| path.join(sub));
    let files = if maildir.iter().any(|sub| sub.is_dir()) {
        let mut files = Vec::new();
        for sub in maildir.iter().filter(|sub| sub.is_dir()) {
            files.extend(files_of(sub, |name| !name.starts_with('.'))?);
        }
        files
    } else {
        files_of(path, |name| {
            Path::new(name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("eml"))
        })?
    };
    Ok(files.into_iter().map(one).collect())
}

/// Reads the messages of a split file whose split column is `split` (e.g. `train`).
pub fn read_split(file: &Path, split: &str) -> anyhow::Result<Vec<Sample>> {
    read_all(split_files(file, split)?)
}

/// The files a split file names in the rows whose split column is `split`.
fn split_files(file: &Path, split: &str) -> anyhow::Result<Vec<MailFile>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [path, label, set] = fields[..] else {
            bail!(
                "{} line {}: expected `file<TAB>label<TAB>split`",
                file.display(),
                index + 1
            );
        };
        let spam = match label {
            "spam" => true,
            "ham" => false,
            other => bail!(
                "{} line {}: unknown label `{other}`",
                file.display(),
                index + 1
            ),
        };
        if set == split {
            files.push(MailFile {
                path: base.join(path),
                spam,
                mbox: false,
            });
        }
    }
    Ok(files)
}

/// The files of a directory whose names `wanted` accepts, sorted.
fn files_of(dir: &Path, wanted: impl Fn(&str) -> bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if path.is_file() && wanted(&entry.file_name().to_string_lossy()) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Splits an mbox into messages: each starts at a `From ` line at the start of the file or
/// after a newline; the separator line is dropped and `>From ` quoting (mboxrd) undone.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.extend(current.take());
            current = Some(Vec::new());
            continue;
        }
        let Some(message) = current.as_mut() else {
            continue; // text before the first separator is not a message
        };
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            message.extend_from_slice(&line[1..]);
        } else {
            message.extend_from_slice(line);
        }
    }
    messages.extend(current);
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_is_split_and_unquoted() {
        let mbox = b"From a@b Mon Jan 1 00:00:00 2001\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue Jan 2 00:00:00 2001\nSubject: two\n\nbody\n";
        let msgs = split_mbox(mbox);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom here\n>From there\n\n");
        assert_eq!(msgs[1], b"Subject: two\n\nbody\n");
        assert!(split_mbox(b"no separator\n").is_empty());
    }

    #[test]
    fn folders_mboxes_and_split_files() {
        let dir = std::env::temp_dir().join(format!("antispam-corpus-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("ham")).unwrap();
        std::fs::write(dir.join("ham/b.eml"), b"Subject: b\n\nb").unwrap();
        std::fs::write(dir.join("ham/a.eml"), b"Subject: a\n\na").unwrap();
        std::fs::write(dir.join("ham/notes.txt"), b"ignored").unwrap();
        std::fs::write(dir.join("box"), b"From x\nSubject: m\n\nm\n").unwrap();
        std::fs::write(
            dir.join("split.tsv"),
            "file\tlabel\tsplit\nham/a.eml\tham\ttrain\nham/b.eml\tspam\ttest\n",
        )
        .unwrap();

        let ham = read_path(&dir.join("ham"), false).unwrap();
        assert_eq!(
            ham.iter().map(|s| s.raw.as_slice()).collect::<Vec<_>>(),
            [b"Subject: a\n\na", b"Subject: b\n\nb"]
        );
        let mbox = read_path(&dir.join("box"), true).unwrap();
        assert_eq!((mbox.len(), mbox[0].spam), (1, true));

        // A Maildir (a client's Junk folder): the files of cur/ and new/, whatever their names;
        // tmp/ (deliveries in progress) and dot files are left alone.
        let junk = dir.join("Maildir/.Junk");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(junk.join(sub)).unwrap();
        }
        std::fs::write(
            junk.join("cur/1700000000.M1P2.host:2,S"),
            b"Subject: c\n\nc",
        )
        .unwrap();
        std::fs::write(junk.join("new/1700000001.M3P4.host"), b"Subject: n\n\nn").unwrap();
        std::fs::write(junk.join("tmp/1700000002.M5P6.host"), b"partial").unwrap();
        std::fs::write(junk.join("cur/.hidden"), b"not mail").unwrap();
        let maildir = read_path(&junk, true).unwrap();
        assert_eq!(
            maildir.iter().map(|s| s.raw.as_slice()).collect::<Vec<_>>(),
            [b"Subject: c\n\nc", b"Subject: n\n\nn"]
        );
        let test = read_split(&dir.join("split.tsv"), "test").unwrap();
        assert_eq!(test.len(), 1);
        assert!(test[0].spam && test[0].name.ends_with("b.eml"));

        std::fs::write(
            dir.join("bad.tsv"),
            "file\tlabel\tsplit\nham/a.eml\tmaybe\ttrain\n",
        )
        .unwrap();
        let err = read_split(&dir.join("bad.tsv"), "train")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("maybe"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
