//! The statistical filter natively, per message of the corpus's test split (Robinson mode,
//! the example table): tokenizing alone, and tokenizing and scoring. Guides work on the
//! `bayes` crate; the component's figures (`antispam eval`) include wasm's costs on top.
//! Skipped when `../shared/corpus/split.tsv` is not there.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use antispam_host::corpus::read_split;
use antispam_host::message::{DEFAULT_MAX_TEXT_BYTES, MessageView};
use antispam_host::train::message_text;
use bayes::tokenize::each_robinson_token;
use bayes::{Classifier, HashedTable, Mode, Settings};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let split = root.join("../shared/corpus/split.tsv");
    if !split.exists() {
        eprintln!("{} not found: nothing to measure", split.display());
        return;
    }
    let samples = read_split(&split, "test").expect("the test split");
    let views: Vec<MessageView> = samples
        .iter()
        .map(|s| MessageView::parse(&s.raw, DEFAULT_MAX_TEXT_BYTES))
        .collect();
    let texts: Vec<_> = views.iter().map(message_text).collect();
    let table = std::fs::read_to_string(root.join("examples/antispam-table-robinson.txt"))
        .expect("the example Robinson table");
    let settings = Settings {
        mode: Mode::Robinson,
        ..Settings::default()
    };
    let table = HashedTable::parse(&table).expect("table");
    let classifier = Classifier::new(settings, table, []).expect("classifier");

    let mut group = c.benchmark_group("robinson, test split");
    group
        .throughput(Throughput::Elements(texts.len() as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                each_robinson_token(t, &mut |token| n += token.len());
            }
            n
        })
    });
    group.bench_function("classify", |b| {
        b.iter(|| texts.iter().filter(|t| classifier.classify(t).spam).count())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
