//! The component machinery: what one check costs per message. `fresh` instantiates the
//! component (pooling allocator + InstancePre), configures it and calls its check, as with
//! `warm-instances = 0`; `warm` calls a configured instance kept between messages.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use antispam_host::config::{Config, EngineSection};
use antispam_host::domains::build;
use antispam_host::runtime::{Runtime, Session, ip_to_wit};
use antispam_host::services;

fn config(warm: usize) -> Config {
    let text = format!(
        "[engine]\nwarm-instances = {warm}\n[[domain]]\nname = \"example.com\"\n[[domain.check]]\ncomponent = \"{}/testbed.wasm\"\nsettings = {{ behaviour = \"pass\" }}\n",
        antispam_host::PLUGIN_DIR
    );
    Config::parse(&text, std::path::Path::new("bench.toml")).expect("bench configuration")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let session = Session {
        message_id: "00000000deadbeef".into(),
        domain: "example.com".into(),
        client_ip: ip_to_wit("192.0.2.1".parse().expect("ip")),
        helo: Some("mail.example.org".into()),
        mail_from: Some("a@example.org".into()),
        recipients: vec!["postmaster@example.com".into()],
    };
    let mut group = c.benchmark_group("check");
    group.measurement_time(Duration::from_secs(5));
    for (label, warm) in [("fresh instance", 0), ("warm instance", 1)] {
        let config = config(warm);
        let runtime = Runtime::new(EngineSection::default().max_instances, None).expect("runtime");
        let domain = rt.block_on(async {
            let (services, _local) = services::start(&config).await.expect("services");
            build(&runtime, &services, &config, &config.domains[0], true, None)
                .await
                .expect("domain")
                .0
        });
        let (check, _) = &domain.connection[0];
        group.bench_function(label, |b| {
            b.iter(|| {
                let run = rt.block_on(check.run_connection(&session));
                assert!(run.verdict.is_ok());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
