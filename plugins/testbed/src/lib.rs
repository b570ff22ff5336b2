//! A connection check that misbehaves on purpose, so tests can show the host's sandbox: one
//! bad check costs its own result, the chain goes on and the host does not crash.

use antispam_sdk::{ConnectionCheck, Session, Settings, Verdict, log};
use serde::Deserialize;

/// What the check does when called.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Logs one line and passes.
    Pass,
    /// Panics (a trap).
    Trap,
    /// Spins forever (stopped by the CPU budget).
    Loop,
    /// Grows memory until the limit (stopped by the memory cap).
    Exhaust,
    /// Logs far more lines than the host keeps.
    Flood,
    /// Fails configuration (the host must reject the settings).
    RefuseSettings,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct TestbedSettings {
    behaviour: Behaviour,
}

/// The misbehaving check.
pub struct Testbed {
    behaviour: Behaviour,
}

impl ConnectionCheck for Testbed {
    fn configure(settings: &Settings) -> Result<Self, String> {
        let s: TestbedSettings = settings.parse()?;
        if s.behaviour == Behaviour::RefuseSettings {
            return Err("testbed refuses these settings".into());
        }
        Ok(Testbed {
            behaviour: s.behaviour,
        })
    }

    fn check(&self, session: &Session) -> Verdict {
        match self.behaviour {
            Behaviour::Pass | Behaviour::RefuseSettings => {
                log::verbose(format!("testbed: checked {}", session.message_id));
                Verdict::Pass
            }
            Behaviour::Trap => panic!("testbed was told to trap"),
            Behaviour::Loop => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Behaviour::Exhaust => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            Behaviour::Flood => {
                for i in 0..100_000 {
                    log::verbose(format!("testbed: line {i}"));
                }
                Verdict::Pass
            }
        }
    }
}

antispam_sdk::connection_plugin!(Testbed);
