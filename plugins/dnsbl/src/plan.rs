//! The query batches: every list's question (and self-test entries) in one `dns::resolve`,
//! identical questions asked once.

use antispam_sdk::Session;
use antispam_sdk::dns::{Query, RecordType};

use crate::names::{Target, self_test_names, target};
use crate::settings::List;

/// A batch of distinct queries.
#[derive(Debug, Default)]
pub struct Batch {
    queries: Vec<Query>,
}

impl Batch {
    /// Adds a query for `name` of `record_type` through `list`'s server and transport, and
    /// returns its index in the batch (an identical earlier query is reused).
    pub fn add(&mut self, list: &List, name: &str, record_type: RecordType) -> usize {
        let server = list.resolver();
        let same = |q: &Query| {
            q.name == name
                && q.record_type == record_type
                && q.server == server
                && q.transport == list.transport
        };
        if let Some(index) = self.queries.iter().position(same) {
            return index;
        }
        self.queries.push(Query {
            name: name.to_string(),
            record_type,
            server,
            transport: list.transport,
        });
        self.queries.len() - 1
    }

    /// The queries, in the order their indexes refer to.
    pub fn queries(&self) -> &[Query] {
        &self.queries
    }
}

/// What is asked of one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// The list does not apply to this session; the text says why.
    Skipped(String),
    /// The list is queried.
    Asked {
        /// What is asked.
        target: Target,
        /// The index of the A query in the batch.
        main: usize,
        /// The indexes of the self-test queries (must be listed, must not be), when enabled.
        tests: Option<(usize, usize)>,
    },
}

/// The first batch: each applicable list's A query and self-test queries.
pub fn plan(lists: &[List], session: &Session) -> (Batch, Vec<Planned>) {
    let mut batch = Batch::default();
    let planned = lists
        .iter()
        .map(|list| match target(list, session) {
            Err(reason) => Planned::Skipped(reason),
            Ok(target) => {
                let main = batch.add(list, &target.name, RecordType::A);
                let tests = list.self_test.then(|| {
                    let (positive, negative) = self_test_names(list);
                    (
                        batch.add(list, &positive, RecordType::A),
                        batch.add(list, &negative, RecordType::A),
                    )
                });
                Planned::Asked {
                    target,
                    main,
                    tests,
                }
            }
        })
        .collect();
    (batch, planned)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use antispam_sdk::dns::Transport;

    use super::*;
    use crate::settings::RawSettings;

    fn lists(toml: &str) -> Vec<List> {
        antispam_sdk::Settings {
            domain: "d".into(),
            toml: toml.into(),
            files: vec![],
        }
        .parse::<RawSettings>()
        .unwrap()
        .validate()
        .unwrap()
    }

    fn session() -> Session {
        Session {
            message_id: "id".into(),
            domain: "example.test".into(),
            client_ip: "192.0.2.99".parse::<IpAddr>().unwrap().into(),
            helo: None,
            mail_from: Some("sender@example1.com".into()),
            recipients: vec![],
        }
    }

    #[test]
    fn all_lists_share_one_batch_and_identical_queries_are_asked_once() {
        let lists = lists(
            r#"
            [[lists]]
            name = "a"
            zone = "bl.example"
            [[lists]]
            name = "b"
            zone = "bl.example"
            codes = ["127.0.0.4"]
            [[lists]]
            name = "c"
            zone = "rhs.example"
            type = "rhs"
            server = "127.0.0.1:5353"
            transport = "tcp"
            self-test = false
            [[lists]]
            name = "d"
            zone = "helo.example"
            type = "helo"
            "#,
        );
        let (batch, planned) = plan(&lists, &session());
        let names: Vec<&str> = batch.queries().iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "99.2.0.192.bl.example",
                "2.0.0.127.bl.example",
                "1.0.0.127.bl.example",
                "example1.com.rhs.example"
            ]
        );
        assert!(
            batch
                .queries()
                .iter()
                .all(|q| q.record_type == RecordType::A)
        );
        assert_eq!(batch.queries()[3].server.as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(batch.queries()[3].transport, Transport::Tcp);
        assert_eq!(batch.queries()[0].server, None);
        assert_eq!(planned[0], planned[1]);
        assert!(matches!(
            &planned[0],
            Planned::Asked {
                main: 0,
                tests: Some((1, 2)),
                ..
            }
        ));
        assert!(matches!(
            &planned[2],
            Planned::Asked {
                main: 3,
                tests: None,
                ..
            }
        ));
        assert_eq!(
            planned[3],
            Planned::Skipped("the client sent no HELO".into())
        );
    }
}
