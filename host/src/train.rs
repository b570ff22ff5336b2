//! `antispam train`: builds or extends a statistical word table (`antispam-table.txt`) from
//! labelled mail, with the bayes check's own tokenizers; and [`evaluate`], which scores
//! labelled mail natively with the bayes classifier.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bayes::{Classifier, Counts, Mode, Settings, Table, classify};
use indicatif::{ProgressBar, ProgressStyle};

use crate::corpus::{self, Sample};
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
    /// Good mail: folders of `.eml` files or mbox files.
    #[arg(long, num_args = 1.., required_unless_present_any = ["spam", "split"])]
    pub good: Vec<PathBuf>,
    /// Spam: folders of `.eml` files or mbox files.
    #[arg(long, num_args = 1..)]
    pub spam: Vec<PathBuf>,
    /// A split file (`file<TAB>label<TAB>split`) instead of `--good`/`--spam`.
    #[arg(long, conflicts_with_all = ["good", "spam"])]
    pub split: Option<PathBuf>,
    /// Which rows of the split file to train on.
    #[arg(long, default_value = "train", requires = "split")]
    pub split_name: String,
    /// The table to write; an existing table is extended (incremental training).
    #[arg(long)]
    pub out: PathBuf,
    /// The check mode the table is for.
    #[arg(long, value_enum, default_value = "imail")]
    pub mode: TrainMode,
}

/// Runs `antispam train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let samples = gather(args)?;
    let mode = Mode::from(args.mode);
    let mut table = if args.out.exists() {
        let text = std::fs::read_to_string(&args.out)
            .with_context(|| format!("reading {}", args.out.display()))?;
        let table =
            Table::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
        if table.tokens != classify::tokens_of(mode) {
            bail!(
                "{} holds {} tokens, not {}",
                args.out.display(),
                table.tokens.name(),
                classify::tokens_of(mode).name()
            );
        }
        table
    } else {
        Table::new(classify::tokens_of(mode))
    };
    let bar = ProgressBar::new(samples.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for sample in &samples {
        train_one(&mut table, mode, sample);
        bar.inc(1);
    }
    bar.finish();
    write_table(&table, mode, &args.out)?;
    println!(
        "{}: {} good, {} spam messages, {} words",
        args.out.display(),
        table.good_messages,
        table.spam_messages,
        table.len()
    );
    Ok(())
}

/// Reads the messages named by the arguments.
fn gather(args: &TrainArgs) -> anyhow::Result<Vec<Sample>> {
    if let Some(split) = &args.split {
        return corpus::read_split(split, &args.split_name);
    }
    let mut samples = Vec::new();
    for (paths, spam) in [(&args.good, false), (&args.spam, true)] {
        for path in paths {
            samples.extend(corpus::read_path(path, spam)?);
        }
    }
    Ok(samples)
}

/// The tokenizer's view of a parsed message.
pub fn message_text(view: &MessageView) -> bayes::MessageText<'_> {
    bayes::MessageText {
        subject: &view.subject,
        headers: view
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect(),
        text: &view.text,
        html: view.html.iter().map(String::as_str).collect(),
    }
}

/// Adds one message to the table: IMail counts every occurrence, Robinson each token once.
pub fn train_one(table: &mut Table, mode: Mode, sample: &Sample) {
    let view = MessageView::parse(&sample.raw, DEFAULT_MAX_TEXT_BYTES);
    let mut tokens = classify::tokenize(mode, &message_text(&view));
    if mode == Mode::Robinson {
        tokens.sort_unstable();
        tokens.dedup();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn run_writes_and_extends_a_table_then_evaluate_scores() {
        let dir = std::env::temp_dir().join(format!("antispam-train-{}", std::process::id()));
        for (sub, spam) in [("good", false), ("spam", true)] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for (i, s) in samples().into_iter().filter(|s| s.spam == spam).enumerate() {
                std::fs::write(dir.join(sub).join(format!("{i}.eml")), &s.raw).unwrap();
            }
        }
        let args = TrainArgs {
            good: vec![dir.join("good")],
            spam: vec![dir.join("spam")],
            split: None,
            split_name: "train".into(),
            out: dir.join("table.txt"),
            mode: TrainMode::Robinson,
        };
        run(&args).unwrap();
        run(&args).unwrap();
        let table = Table::parse(&std::fs::read_to_string(&args.out).unwrap()).unwrap();
        assert_eq!(
            (table.good_messages, table.spam_messages),
            (12, 12),
            "second run adds to the first"
        );

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

    /// The accuracy target on the shared corpus (Robinson mode, two states, train/test split):
    /// at most 1 false positive in the test ham and at most 1 % false negatives.
    /// Run with `cargo test -p antispam-host --lib corpus_accuracy -- --ignored --nocapture`.
    /// With the current defaults it reports 1 FP and 14 FN (2.3 %) and so fails the FN bound.
    #[test]
    #[ignore = "needs /work/shared/corpus; slow"]
    fn corpus_accuracy() {
        let split = Path::new("/work/shared/corpus/split.tsv");
        let train = corpus::read_split(split, "train").unwrap();
        let test = corpus::read_split(split, "test").unwrap();
        for mode in [Mode::Imail, Mode::Robinson] {
            let settings = Settings {
                mode,
                ..Settings::default()
            };
            let eval = evaluate(&settings, train_table(mode, &train), &test).unwrap();
            println!(
                "{mode:?}: {} FP of {} good, {} FN of {} spam\n  FP {:?}\n  FN {:?}",
                eval.false_positives.len(),
                eval.good,
                eval.false_negatives.len(),
                eval.spam,
                eval.false_positives,
                eval.false_negatives
            );
            if mode == Mode::Robinson {
                assert!(eval.false_positives.len() <= 1);
                assert!(eval.false_negatives.len() * 100 <= eval.spam);
            }
        }
    }
}

#[cfg(test)]
mod sweep {
    use super::*;
    use bayes::robinson;

    struct Variant {
        s: f64,
        x: f64,
        min_dev: f64,
        max: usize,
    }

    fn toks(samples: &[Sample]) -> Vec<(bool, Vec<String>)> {
        samples
            .iter()
            .map(|s| {
                let view = MessageView::parse(&s.raw, DEFAULT_MAX_TEXT_BYTES);
                let mut t = classify::tokenize(Mode::Robinson, &message_text(&view));
                t.sort_unstable();
                t.dedup();
                (s.spam, t)
            })
            .collect()
    }

    fn table_of<'a>(it: impl Iterator<Item = &'a (bool, Vec<String>)>) -> Table {
        let mut table = Table::new(bayes::Tokens::Robinson);
        for (spam, t) in it {
            table.add_message(t.iter().map(String::as_str), *spam);
        }
        table
    }

    fn score(table: &Table, t: &[String], v: &Variant) -> f64 {
        let (g, b) = (table.good_messages, table.spam_messages);
        let mut fs: Vec<f64> = t
            .iter()
            .map(|w| robinson::word_probability(table.get(w).unwrap_or_default(), g, b, v.s, v.x))
            .filter(|f| (f - 0.5).abs() >= v.min_dev)
            .collect();
        fs.sort_by(|a, b| (b - 0.5).abs().total_cmp(&(a - 0.5).abs()));
        fs.truncate(v.max);
        robinson::combine(&fs)
    }

    fn top(table: &Table, t: &[String], v: &Variant) -> String {
        let (g, b) = (table.good_messages, table.spam_messages);
        let mut fs: Vec<(f64, &String)> = t
            .iter()
            .map(|w| {
                (
                    robinson::word_probability(table.get(w).unwrap_or_default(), g, b, v.s, v.x),
                    w,
                )
            })
            .filter(|f| (f.0 - 0.5).abs() >= v.min_dev)
            .collect();
        fs.sort_by(|a, b| (b.0 - 0.5).abs().total_cmp(&(a.0 - 0.5).abs()));
        let n = fs.len();
        let spam = fs.iter().filter(|f| f.0 > 0.5).count();
        let mut out = format!("n={n} spammy={spam} ::");
        for (f, w) in fs.iter().take(25) {
            out += &format!(" [{w}]{f:.3}");
        }
        out
    }

    fn report(name: &str, scores: &[(bool, f64)], max_fp: usize) -> String {
        let mut ham: Vec<f64> = scores.iter().filter(|s| !s.0).map(|s| s.1).collect();
        let spam: Vec<f64> = scores.iter().filter(|s| s.0).map(|s| s.1).collect();
        ham.sort_by(|a, b| b.total_cmp(a));
        let mut out = format!("{name}:");
        for cut in [0.5, 0.8, 0.9, 0.95, 0.99] {
            let fp = ham.iter().filter(|&&h| h > cut).count();
            let fn_ = spam.iter().filter(|&&s| s <= cut).count();
            out += &format!(" c{cut}={fp}/{fn_}");
        }
        // the cutoff just at the (max_fp+1)-th highest ham score
        let cut = ham[max_fp];
        let fn_ = spam.iter().filter(|&&s| s <= cut).count();
        out += &format!(" | FP<={max_fp}: cut {cut:.4} FN {fn_}");
        let mut best = (usize::MAX, 0.0, 0, 0);
        for i in 0..=200 {
            let cut = 0.5 + 0.4999 * f64::from(i) / 200.0;
            let fp = ham.iter().filter(|&&h| h > cut).count();
            let fn_ = spam.iter().filter(|&&s| s <= cut).count();
            if 10 * fp + fn_ < best.0 {
                best = (10 * fp + fn_, cut, fp, fn_);
            }
        }
        out += &format!(" | cost {} at {:.3}: {}/{}", best.0, best.1, best.2, best.3);
        out
    }

    #[test]
    #[ignore = "experiment"]
    fn bayes_sweep() {
        let split = Path::new("/work/shared/corpus/split.tsv");
        let train_samples = corpus::read_split(split, "train").unwrap();
        let train_names: Vec<String> = train_samples
            .iter()
            .map(|s| s.name.replace("/work/shared/corpus/", ""))
            .collect();
        let train = toks(&train_samples);
        let test_samples = corpus::read_split(split, "test").unwrap();
        let test = toks(&test_samples);
        let mut variants = Vec::new();
        for s in [0.1, 0.45, 1.0] {
            for x in [0.5, 0.6] {
                for min_dev in [0.1, 0.2, 0.3] {
                    for max in [1000] {
                        variants.push(Variant { s, x, min_dev, max });
                    }
                }
            }
        }
        if let Ok(v) = std::env::var("SWEEP_ONE") {
            let p: Vec<f64> = v.split(',').map(|x| x.parse().unwrap()).collect();
            variants = vec![Variant {
                s: p[0],
                x: p[1],
                min_dev: p[2],
                max: p[3] as usize,
            }];
        }
        let k = 5;
        let mut cv: Vec<Vec<(bool, f64)>> = vec![Vec::new(); variants.len()];
        for fold in 0..k {
            let table = table_of(
                train
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % k != fold)
                    .map(|(_, m)| m),
            );
            for (i, m) in train.iter().enumerate().filter(|(i, _)| i % k == fold) {
                for (vi, v) in variants.iter().enumerate() {
                    let sc = score(&table, &m.1, v);
                    cv[vi].push((m.0, sc));
                    if variants.len() == 1 && ((m.0 && sc <= 0.95) || (!m.0 && sc > 0.95)) {
                        println!("CVMISS {} {sc:.4} {}", train_names[i], top(&table, &m.1, v));
                    }
                }
            }
        }
        let table = table_of(train.iter());
        println!("tokens in full train table: {}", table.len());
        for (vi, v) in variants.iter().enumerate() {
            let t: Vec<(bool, f64)> = test.iter().map(|m| (m.0, score(&table, &m.1, v))).collect();
            let name = format!("s{} x{} md{} max{}", v.s, v.x, v.min_dev, v.max);
            println!("CV   {}", report(&name, &cv[vi], 2));
            println!("TEST {}", report(&name, &t, 1));
            if variants.len() == 1 {
                let cut: f64 = std::env::var("SWEEP_CUT")
                    .map(|c| c.parse().unwrap())
                    .unwrap_or(0.95);
                for ((spam, sc), smp) in t.iter().zip(&test_samples) {
                    if (*spam && *sc <= cut) || (!*spam && *sc > cut) {
                        println!("  miss {} {sc:.4}", smp.name);
                    }
                }
            }
        }
    }
}
