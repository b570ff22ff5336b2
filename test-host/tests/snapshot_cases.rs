//! `antispam snapshot`: the example cases match their committed snapshots, a changed log is
//! shown as a diff, and `--update` writes the new snapshot.

use std::path::{Path, PathBuf};

use antispam_host::config::Config;
use antispam_host::log::LogSink;
use antispam_host::pipeline::Antispam;
use antispam_host::snapshot::{self, Comparison, SnapshotArgs, snap_path};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[tokio::test]
async fn example_cases_match_their_snapshots() {
    let cases = ["ham", "spam"].map(|c| examples().join(format!("cases/{c}.toml")));
    let args = SnapshotArgs {
        config: examples().join("antispam.toml"),
        update: false,
        cases: cases.to_vec(),
    };
    assert!(snapshot::run(&args).await.expect("the cases run"));
}

#[tokio::test]
async fn a_changed_log_is_a_diff_and_update_writes_the_snapshot() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::copy(examples().join("spam.eml"), dir.path().join("spam.eml")).expect("copy");
    let case = dir.path().join("case.toml");
    let text = std::fs::read_to_string(examples().join("cases/spam.toml")).expect("read");
    std::fs::write(&case, text.replace("../spam.eml", "spam.eml")).expect("write the case");
    let config = Config::load(&examples().join("antispam.toml")).expect("the demo configuration");
    let engine = Antispam::start(config, LogSink::capture(true).0)
        .await
        .expect("the demo starts");

    let missing = snapshot::run_case(&engine, &case, false)
        .await
        .expect("runs");
    assert_eq!(missing, Comparison::Missing);
    let written = snapshot::run_case(&engine, &case, true)
        .await
        .expect("runs");
    assert_eq!(written, Comparison::Written);
    let same = snapshot::run_case(&engine, &case, false)
        .await
        .expect("runs");
    assert_eq!(same, Comparison::Same);

    let snap = snap_path(&case);
    let old = std::fs::read_to_string(&snap).expect("the snapshot");
    let edited = old.replace("matched phrase[get rich]", "matched phrase[act now]");
    std::fs::write(&snap, &edited).expect("edit the snapshot");
    let Comparison::Changed(diff) = snapshot::run_case(&engine, &case, false)
        .await
        .expect("runs")
    else {
        panic!("the edited snapshot differs");
    };
    assert!(
        diff.contains("\n-normal  matched phrase[act now]\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n+normal  matched phrase[get rich]\n"),
        "{diff}"
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "message = \"spam.eml\"\nclient-ip = \"not an address\"\n",
    )
    .expect("write");
    let error = snapshot::run_case(&engine, &bad, false)
        .await
        .expect_err("a bad case");
    assert!(format!("{error:#}").contains("bad.toml"), "{error:#}");
}
