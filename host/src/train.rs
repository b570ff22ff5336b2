//! `antispam train`: builds or extends a statistical word table (`antispam-table.txt`) from
//! labelled mail, with the bayes check's own tokenizers; and [`evaluate`], which scores
//! labelled mail natively with the bayes classifier.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bayes::{Classifier, Counts, Mode, Settings, Table, classify};
use indicatif::{ProgressBar, ProgressStyle};

use crate::corpus::{self, MailFile, Sample};
use crate::learned::{self, Learned};
use crate::message::{DEFAULT_MAX_TEXT_BYTES, MessageView};

/// Which tokenizer and counting the table is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainMode {
    /// IMail words; counts are occurrences (Graham).
    Imail,
    /// Robinson tokens; counts are messages containing the token.
    Robinson,
}

impl From<TrainMode> for Mode {
    fn from(m: TrainMode) -> Mode {
        match m {
            TrainMode::Imail => Mode::Imail,
            TrainMode::Robinson => Mode::Robinson,
        }
    }
}

/// Arguments of `antispam train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// The labelled mail to learn from.
    #[command(flatten)]
    pub source: corpus::Source,
    /// The table to write; an existing table is extended (incremental training: the messages
    /// learned are recorded in `<OUT>.learned`, and mail given again is not counted again).
    #[arg(long)]
    pub out: PathBuf,
    /// The check mode the table is for.
    #[arg(long, value_enum, default_value = "imail")]
    pub mode: TrainMode,
    /// Take the messages given off the table instead (whichever side they were learned on).
    #[arg(long)]
    pub forget: bool,
    /// Bound the table to this many words, dropping those counted least (good + spam).
    #[arg(long)]
    pub max_words: Option<usize>,
}

/// What one training run did with its messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted for the first time.
    pub learned: usize,
    /// Learned before with the other label: moved to the side given now.
    pub relearned: usize,
    /// Learned before with the same label: skipped.
    pub already: usize,
    /// Taken off the table (`--forget`).
    pub forgotten: usize,
    /// Given to `--forget` but never learned: skipped.
    pub unknown: usize,
    /// Files gone between listing and reading (renamed by a mail client): skipped.
    pub vanished: usize,
}

/// Runs `antispam train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let _lock = lock(&args.out)?;
    let files = args.source.files("train")?;
    let mode = Mode::from(args.mode);
    let mut table = load_table(&args.out, mode)?;
    let record = Learned::path_for(&args.out);
    let mut learned = load_record(&record, &args.out, &table)?;
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tally = learn_files(&mut table, &mut learned, mode, &files, args.forget, &bar)
        .with_context(|| {
            format!(
                "{}: train a new table from the mail (another `--out` file) and replace it",
                args.out.display()
            )
        })?;
    bar.finish();
    let pruned = args.max_words.map_or(0, |max| table.prune(max));
    write_table(&table, mode, &args.out)?;
    learned.save(&record)?;
    let pruned = match args.max_words {
        Some(max) => format!(" (at most {max}: {pruned} seen least dropped)"),
        None => String::new(),
    };
    println!(
        "{}: {} good, {} spam messages, {} words{pruned}",
        args.out.display(),
        table.good_messages,
        table.spam_messages,
        table.len()
    );
    println!(
        "{} learned, {} relearned with the other label, {} already learned (skipped), \
         {} forgotten, {} to forget never learned, {} files gone before they were read; \
         {} lists {} messages",
        tally.learned,
        tally.relearned,
        tally.already,
        tally.forgotten,
        tally.unknown,
        tally.vanished,
        record.display(),
        learned.len()
    );
    if table.revision != table.tokens.revision() {
        println!(
            "note: {} holds the words of tokenizer revision {} and this antispam makes those of \
             revision {}: the check looks some of its words up in vain; a table trained anew \
             from the mail matches it",
            args.out.display(),
            revision_name(table.revision),
            table.tokens.revision()
        );
    }
    Ok(())
}

/// A table's tokenizer revision for messages: 0 is a table that did not record it.
fn revision_name(revision: u32) -> String {
    match revision {
        0 => "0 (not recorded)".to_string(),
        n => n.to_string(),
    }
}

/// The table at `out` to extend, or a new one when there is none; a table of the other
/// mode's tokens is refused.
fn load_table(out: &Path, mode: Mode) -> anyhow::Result<Table> {
    let tokens = classify::tokens_of(mode);
    if !out.exists() {
        return Ok(Table::new(tokens));
    }
    // A table IMail wrote on Windows is Windows-1252; it is written back as UTF-8.
    let bytes = std::fs::read(out).with_context(|| format!("reading {}", out.display()))?;
    let table = Table::parse(&antispam_sdk::text::decode(&bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    if table.tokens != tokens {
        bail!(
            "{} holds {} tokens, not {}",
            out.display(),
            table.tokens.name(),
            tokens.name()
        );
    }
    Ok(table)
}

/// The record of the messages learned into `table` (read from `out`). A record belongs to the
/// table beside it: with no table there is nothing learned yet, and a record listing more
/// mail than its table holds (the table replaced by another) is refused rather than trusted
/// to skip mail.
fn load_record(record: &Path, out: &Path, table: &Table) -> anyhow::Result<Learned> {
    if !out.exists() {
        return Ok(Learned::default());
    }
    let learned = Learned::load(record)?;
    let (good, spam) = learned.counts();
    if good > table.good_messages as usize || spam > table.spam_messages as usize {
        bail!(
            "{} lists {good} good and {spam} spam messages, more than {} holds ({} and {}): \
             it belongs to another table; remove it to train without it",
            record.display(),
            out.display(),
            table.good_messages,
            table.spam_messages
        );
    }
    Ok(learned)
}

/// Takes the lock of the table at `out` (an advisory lock on `<out>.lock`, released when the
/// returned file is closed, even if the process dies), so that two training runs (a nightly job
/// overrunning into the next) never read the same table and each write its own update.
fn lock(out: &Path) -> anyhow::Result<std::fs::File> {
    let path = learned::beside(out, ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another `antispam train` is updating {} (it holds {})",
            out.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

/// Learns (or, with `forget`, unlearns) the messages of `files`, one file read at a time, so
/// that a large mailbox is never held whole; `bar` counts the files.
pub fn learn_files(
    table: &mut Table,
    learned: &mut Learned,
    mode: Mode,
    files: &[MailFile],
    forget: bool,
    bar: &ProgressBar,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for file in files {
        match file.read() {
            Ok(samples) => {
                for sample in &samples {
                    learn_one(table, learned, mode, sample, forget, &mut tally)?;
                }
            }
            // A Maildir file renamed (its flags changed) or moved since it was listed: the
            // mail client is using the folder; the message is learned on the next run.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => tally.vanished += 1,
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.path.display())),
        }
        bar.inc(1);
    }
    Ok(tally)
}

/// Learns (or, with `forget`, unlearns) one message, as the record of learned messages says:
/// a message learned before with the same label is skipped, one learned with the other label
/// moves to the side given now. Taking a message off a table of another tokenizer revision
/// (see [`bayes::Tokens::revision`]) is refused: the tokens it gave then are not those it gives
/// now, and subtracting these would take counts from other messages' words.
pub fn learn_one(
    table: &mut Table,
    learned: &mut Learned,
    mode: Mode,
    sample: &Sample,
    forget: bool,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let view = MessageView::parse(&sample.raw, DEFAULT_MAX_TEXT_BYTES);
    let key = learned::message_key(&view);
    let before = learned.label(&key);
    if let Some(old) = before
        && (forget || old != sample.spam)
        && table.revision != table.tokens.revision()
    {
        bail!(
            "{} was learned as {} into a table of tokenizer revision {}, and this antispam \
             tokenizes at revision {}: its words cannot be taken off the table exactly",
            sample.name,
            if old { "spam" } else { "good" },
            revision_name(table.revision),
            table.tokens.revision()
        );
    }
    // Tokenized only when the table changes (mail learned before is merely looked up).
    let tokens = || table_tokens(mode, &view);
    match (forget, before) {
        (true, Some(old)) => {
            table.remove_message(tokens().iter().map(String::as_str), old);
            learned.remove(&key);
            tally.forgotten += 1;
        }
        (true, None) => tally.unknown += 1,
        (false, Some(old)) if old == sample.spam => tally.already += 1,
        (false, old) => {
            let tokens = tokens();
            let tokens = || tokens.iter().map(String::as_str);
            if let Some(old) = old {
                table.remove_message(tokens(), old);
                tally.relearned += 1;
            } else {
                tally.learned += 1;
            }
            table.add_message(tokens(), sample.spam);
            learned.set(key, sample.spam);
        }
    }
    Ok(())
}

/// The tokenizer's view of a parsed message.
pub fn message_text(view: &MessageView) -> bayes::MessageText<'_> {
    bayes::MessageText {
        subject: &view.subject,
        headers: view
            .headers
            .iter()
            .map(|h| bayes::Field {
                name: &h.name,
                value: &h.value,
                raw: &h.raw,
            })
            .collect(),
        text: &view.text,
        html: view.html.iter().map(String::as_str).collect(),
    }
}

/// The tokens a message is counted by in a table: IMail every occurrence, Robinson each
/// token once.
fn table_tokens(mode: Mode, view: &MessageView) -> Vec<String> {
    let mut tokens = classify::tokenize(mode, &message_text(view));
    if mode == Mode::Robinson {
        tokens.sort_unstable();
        tokens.dedup();
    }
    tokens
}

/// Adds one message to the table (no record kept: for evaluation).
pub fn train_one(table: &mut Table, mode: Mode, sample: &Sample) {
    let view = MessageView::parse(&sample.raw, DEFAULT_MAX_TEXT_BYTES);
    let tokens = table_tokens(mode, &view);
    table.add_message(tokens.iter().map(String::as_str), sample.spam);
}

/// A table trained on `samples` from scratch.
pub fn train_table(mode: Mode, samples: &[Sample]) -> Table {
    let mut table = Table::new(classify::tokens_of(mode));
    for sample in samples {
        train_one(&mut table, mode, sample);
    }
    table
}

/// Writes the table (through a temporary file, so a reader never sees half a table), with
/// each word's cached value computed by the mode's default settings.
fn write_table(table: &Table, mode: Mode, out: &Path) -> anyhow::Result<()> {
    let d = Settings::default();
    let (good, spam) = (table.good_messages, table.spam_messages);
    let text = table.to_text(|c: Counts| match mode {
        Mode::Imail => bayes::graham::word_probability(c, good, spam)
            .unwrap_or(f64::from(d.new_word_probability) / 100.0),
        Mode::Robinson => {
            bayes::robinson::word_probability(c, good, spam, d.robinson_s, d.robinson_x)
        }
    });
    let tmp = out.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("replacing {}", out.display()))?;
    Ok(())
}

/// Counts of one evaluation run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Good messages scored.
    pub good: usize,
    /// Spam messages scored.
    pub spam: usize,
    /// Good messages classified as spam, with their scores.
    pub false_positives: Vec<(String, f64)>,
    /// Spam classified as good, with their scores.
    pub false_negatives: Vec<(String, f64)>,
}

/// Scores every sample with `settings` against `table` and counts the errors.
pub fn evaluate(
    settings: &Settings,
    table: Table,
    samples: &[Sample],
) -> anyhow::Result<Evaluation> {
    let classifier = Classifier::new(settings.clone(), table, settings.exclude.clone())
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut eval = Evaluation::default();
    for sample in samples {
        let view = MessageView::parse(&sample.raw, DEFAULT_MAX_TEXT_BYTES);
        let outcome = classifier.classify(&message_text(&view));
        let wrong = (sample.name.clone(), outcome.probability);
        match (sample.spam, outcome.spam) {
            (false, true) => eval.false_positives.push(wrong),
            (true, false) => eval.false_negatives.push(wrong),
            _ => {}
        }
        *if sample.spam {
            &mut eval.spam
        } else {
            &mut eval.good
        } += 1;
    }
    Ok(eval)
}

/// k-fold cross-validation: message `i` is held out in fold `i mod k`, scored against a table
/// trained on the other folds; the errors of all folds are summed.
pub fn cross_validate(
    settings: &Settings,
    samples: &[Sample],
    k: usize,
) -> anyhow::Result<Evaluation> {
    let mut total = Evaluation::default();
    for fold in 0..k {
        let (held, rest): (Vec<_>, Vec<_>) =
            samples.iter().enumerate().partition(|(i, _)| i % k == fold);
        let rest: Vec<Sample> = rest.into_iter().map(|(_, s)| s.clone()).collect();
        let held: Vec<Sample> = held.into_iter().map(|(_, s)| s.clone()).collect();
        let eval = evaluate(settings, train_table(settings.mode, &rest), &held)?;
        total.good += eval.good;
        total.spam += eval.spam;
        total.false_positives.extend(eval.false_positives);
        total.false_negatives.extend(eval.false_negatives);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bayes::Tokens;

    fn sample(spam: bool, subject: &str, body: &str) -> Sample {
        let raw = format!("From: a@example.com\r\nSubject: {subject}\r\n\r\n{body}\r\n");
        Sample {
            name: subject.into(),
            spam,
            raw: raw.into_bytes(),
        }
    }

    fn samples() -> Vec<Sample> {
        let mut s = Vec::new();
        for i in 0..6 {
            s.push(sample(
                true,
                &format!("cheap pills {i}"),
                "buy viagra now, cheap pills online",
            ));
            s.push(sample(
                false,
                &format!("meeting notes {i}"),
                "the project meeting moved to thursday",
            ));
        }
        s
    }

    #[test]
    fn training_counts_occurrences_or_messages() {
        let s = samples();
        let imail = train_table(Mode::Imail, &s);
        assert_eq!((imail.good_messages, imail.spam_messages), (6, 6));
        assert_eq!(
            imail.get("cheap"),
            Some(Counts { good: 0, spam: 12 }),
            "subject + body"
        );
        let robinson = train_table(Mode::Robinson, &s);
        assert_eq!(
            robinson.get("cheap"),
            Some(Counts { good: 0, spam: 6 }),
            "once per message"
        );
        assert_eq!(
            robinson.get("subject:meeting"),
            Some(Counts { good: 6, spam: 0 })
        );
    }

    /// `samples()` written to `dir/good` and `dir/spam`, and the arguments that train
    /// `dir/table.txt` in Robinson mode on them.
    fn train_dirs(dir: &Path) -> TrainArgs {
        for (sub, spam) in [("good", false), ("spam", true)] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for (i, s) in samples().into_iter().filter(|s| s.spam == spam).enumerate() {
                std::fs::write(dir.join(sub).join(format!("{i}.eml")), &s.raw).unwrap();
            }
        }
        TrainArgs {
            source: corpus::Source {
                good: vec![dir.join("good")],
                spam: vec![dir.join("spam")],
                split: None,
                split_name: None,
            },
            out: dir.join("table.txt"),
            mode: TrainMode::Robinson,
            forget: false,
            max_words: None,
        }
    }

    /// The same mail with the labels swapped (moved into and out of Junk).
    fn swapped(args: &TrainArgs) -> TrainArgs {
        TrainArgs {
            source: corpus::Source {
                good: args.source.spam.clone(),
                spam: args.source.good.clone(),
                ..args.source.clone()
            },
            ..args.clone()
        }
    }

    #[test]
    fn run_writes_and_extends_a_table_then_evaluate_scores() {
        let dir = std::env::temp_dir().join(format!("antispam-train-{}", std::process::id()));
        let args = train_dirs(&dir);
        let read = || Table::parse(&std::fs::read_to_string(&args.out).unwrap()).unwrap();
        run(&args).unwrap();
        let once = read();
        assert_eq!((once.good_messages, once.spam_messages), (6, 6));
        assert_eq!(
            Learned::load(&Learned::path_for(&args.out)).unwrap().len(),
            12
        );
        run(&args).unwrap();
        assert_eq!(read(), once, "mail given again is not counted again");

        run(&swapped(&args)).unwrap();
        let moved = read();
        assert_eq!((moved.good_messages, moved.spam_messages), (6, 6));
        assert_eq!(
            moved.get("subject:meeting"),
            Some(Counts { good: 0, spam: 6 }),
            "relearned with the other label: moved, not counted on both sides"
        );
        run(&args).unwrap();
        assert_eq!(read(), once, "and moved back");

        run(&TrainArgs {
            forget: true,
            ..args.clone()
        })
        .unwrap();
        assert_eq!(
            read(),
            Table::new(Tokens::Robinson),
            "forgotten: nothing left"
        );
        run(&args).unwrap();
        let table = read();
        assert_eq!(table, once);
        run(&TrainArgs {
            max_words: Some(10),
            ..args.clone()
        })
        .unwrap();
        assert_eq!(read().len(), 10, "bounded");

        let held = lock(&args.out).unwrap();
        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("another `antispam train`"), "{err}");
        drop(held);

        std::fs::remove_file(&args.out).unwrap();
        run(&args).unwrap();
        assert_eq!(read(), once, "a new table: the old record is not trusted");
        std::fs::write(
            &args.out,
            "#antispam-table v1 good=1 spam=1 tokens=robinson\n",
        )
        .unwrap();
        let err = run(&args).unwrap_err().to_string();
        assert!(err.contains("belongs to another table"), "{err}");

        let settings = Settings {
            mode: Mode::Robinson,
            ..Settings::default()
        };
        let eval = evaluate(&settings, table, &samples()).unwrap();
        assert_eq!((eval.good, eval.spam), (6, 6));
        assert!(
            eval.false_positives.is_empty() && eval.false_negatives.is_empty(),
            "{eval:?}"
        );

        let imail = TrainArgs {
            mode: TrainMode::Imail,
            ..args.clone()
        };
        assert!(
            run(&imail)
                .unwrap_err()
                .to_string()
                .contains("robinson tokens")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_table_of_another_tokenizer_revision_is_extended_but_never_unlearned() {
        let dir = std::env::temp_dir().join(format!("antispam-revision-{}", std::process::id()));
        let args = train_dirs(&dir);
        let text = || std::fs::read_to_string(&args.out).unwrap();
        run(&args).unwrap();
        assert!(text().starts_with(&format!(
            "#antispam-table v1 good=6 spam=6 tokens=robinson revision={}\n",
            Tokens::Robinson.revision()
        )));
        // The table as an antispam of before tokenizer revisions wrote it.
        let current = format!(" revision={}", Tokens::Robinson.revision());
        let old = text().replacen(&current, "", 1);
        std::fs::write(&args.out, &old).unwrap();
        for refused in [
            swapped(&args),
            TrainArgs {
                forget: true,
                ..args.clone()
            },
        ] {
            let err = format!("{:#}", run(&refused).unwrap_err());
            assert!(
                err.contains("table.txt: train a new table")
                    && err.contains("was learned as")
                    && err.contains("tokenizer revision 0 (not recorded)")
                    && err.contains("cannot be taken off the table exactly"),
                "{err}"
            );
            assert_eq!(text(), old, "nothing written");
        }
        run(&args).unwrap();
        assert_eq!(
            Table::parse(&text()),
            Table::parse(&old),
            "learned before with the same label: skipped"
        );
        assert!(text().contains(" revision=0\n"), "0 written as 0");
        let raw = String::from_utf8(samples()[1].raw.clone()).unwrap();
        std::fs::write(dir.join("good/new.eml"), raw.replace("notes", "agenda")).unwrap();
        run(&args).unwrap();
        let extended = Table::parse(&text()).unwrap();
        assert_eq!(extended.good_messages, 7, "new mail is still learned");
        assert_eq!(extended.revision, 0, "and the table keeps its revision");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A tripwire for [`bayes::Tokens::revision`]: the tokens each mode makes of a few messages
    /// (the demo's, and one with base64 HTML, quoted-printable Latin-1 text, an encoded Subject
    /// and an attachment), as a digest. When a change to the tokenizers or to the parsing of
    /// mail changes them, this fails: raise that mode's revision and pin the new digest.
    #[test]
    fn tokens_match_the_tokenizer_revision() {
        use base64::Engine as _;
        use sha2::{Digest, Sha256};
        let html = base64::engine::general_purpose::STANDARD
            .encode("<p>Caf&eacute; <a href=\"http://x.test/a?b=1\">SALE</a> 50% off</p>");
        let mixed = format!(
            "From: =?iso-8859-1?q?Jos=E9?= <jose@example.org>\r\n\
             Subject: =?utf-8?b?w4lsw6h2ZQ==?= offer\r\n\
             Received: from mx.example.org (mx.example.org [192.0.2.1]) by example.com\r\n\
             Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n\
             --x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n\
             Gar=E7on, visit www.example.net or mail me@example.org =\r\nnow!\r\n\
             --x\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{html}\r\n\
             --x\r\nContent-Type: application/pdf; name=a.pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--x--\r\n"
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let messages = [
            std::fs::read(root.join("ham.eml")).unwrap(),
            std::fs::read(root.join("spam.eml")).unwrap(),
            mixed.into_bytes(),
        ];
        let digest = |mode| {
            let mut hash = Sha256::new();
            for raw in &messages {
                let view = MessageView::parse(raw, DEFAULT_MAX_TEXT_BYTES);
                for token in classify::tokenize(mode, &message_text(&view)) {
                    hash.update(token.as_bytes());
                    hash.update(b"\n");
                }
                hash.update(b"\0");
            }
            format!("{:x}", hash.finalize())
        };
        let pinned = [
            (
                Mode::Imail,
                1,
                "868178620ea94e573e108eb94b2e5212fa86e5a15c838e363ce83880f4a6a069",
            ),
            (
                Mode::Robinson,
                2,
                "f52bab09a0fe5f0e6b4dc8059bc97897098ccab2eb2135f179fbe687c1ca0f61",
            ),
        ];
        for (mode, revision, digest_pinned) in pinned {
            let tokens = classify::tokens_of(mode);
            assert_eq!(
                (tokens.revision(), digest(mode).as_str()),
                (revision, digest_pinned),
                "the {} tokens changed: raise Tokens::revision for it and pin the new digest",
                tokens.name()
            );
        }
    }

    #[test]
    fn a_windows_1252_table_is_extended_and_written_as_utf8() {
        let dir = std::env::temp_dir().join(format!("antispam-cp1252-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("good")).unwrap();
        std::fs::write(dir.join("good/1.eml"), samples()[1].raw.clone()).unwrap();
        let out = dir.join("antispam-table.txt");
        std::fs::write(&out, b"#antispam-table v1 good=4 spam=3\ncaf\xe9,99,0,3\n").unwrap();
        run(&TrainArgs {
            source: corpus::Source {
                good: vec![dir.join("good")],
                spam: vec![],
                split: None,
                split_name: None,
            },
            out: out.clone(),
            mode: TrainMode::Imail,
            forget: false,
            max_words: None,
        })
        .unwrap();
        let table = Table::parse(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(table.get("café"), Some(Counts { good: 0, spam: 3 }));
        assert_eq!(table.good_messages, 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_gone_before_it_is_read_is_skipped_and_counted() {
        let dir = std::env::temp_dir().join(format!("antispam-vanish-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cur")).unwrap();
        for (i, s) in samples().iter().take(3).enumerate() {
            std::fs::write(dir.join("cur").join(format!("{i}:2,S")), &s.raw).unwrap();
        }
        let source = corpus::Source {
            good: vec![dir.clone()],
            spam: vec![],
            split: None,
            split_name: None,
        };
        let files = source.files("train").unwrap();
        // The mail client marks one message as read: its file is renamed.
        std::fs::rename(dir.join("cur/1:2,S"), dir.join("cur/1:2,RS")).unwrap();
        let mut table = Table::new(Tokens::Robinson);
        let tally = learn_files(
            &mut table,
            &mut Learned::default(),
            Mode::Robinson,
            &files,
            false,
            &ProgressBar::hidden(),
        )
        .unwrap();
        assert_eq!((tally.learned, tally.vanished), (2, 1));
        assert_eq!(table.good_messages, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Accuracy on the shared corpus (two states): Robinson mode, defaults, 5-fold
    /// cross-validation on the train split (where the defaults were chosen), then trained on the
    /// train split and scored once on the test split; imail mode on the test split.
    /// The project's target (at most 1 FP in the 1,250 test ham and at most 1 % = 6 FN in the
    /// 601 test spam) is NOT reached: the defaults give 0 FP and 13 FN on the test split
    /// (2 FP / 18 FN under cross-validation). This test guards the test-split figures (no FP,
    /// FN ≤ 13) against regressions.
    /// Run with `cargo test -p antispam-host --lib corpus_accuracy -- --ignored --nocapture`.
    #[test]
    #[ignore = "needs /work/shared/corpus; slow"]
    fn corpus_accuracy() {
        let split = Path::new("/work/shared/corpus/split.tsv");
        let train = corpus::read_split(split, "train").unwrap();
        let test = corpus::read_split(split, "test").unwrap();
        let show = |what: &str, eval: &Evaluation| {
            println!(
                "{what}: {} FP of {} good, {} FN of {} spam\n  FP {:?}\n  FN {:?}",
                eval.false_positives.len(),
                eval.good,
                eval.false_negatives.len(),
                eval.spam,
                eval.false_positives,
                eval.false_negatives
            );
        };
        let robinson = Settings {
            mode: Mode::Robinson,
            ..Settings::default()
        };
        show(
            "Robinson, 5-fold CV on train",
            &cross_validate(&robinson, &train, 5).unwrap(),
        );
        for mode in [Mode::Imail, Mode::Robinson] {
            let settings = Settings {
                mode,
                ..Settings::default()
            };
            let eval = evaluate(&settings, train_table(mode, &train), &test).unwrap();
            show(&format!("{mode:?}, train -> test"), &eval);
            if mode == Mode::Robinson {
                assert!(eval.false_positives.is_empty());
                assert!(eval.false_negatives.len() <= 13);
            }
        }
    }
}
