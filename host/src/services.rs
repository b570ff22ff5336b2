//! The network services the host offers to connection checks, built from the configuration:
//! the DNS resolver (optionally answering from a local zone file through the host's built-in
//! DNS server on 127.0.0.1) and the SMTP callout client.

use std::time::Duration;

use crate::config::{Config, parse_net, parse_server};
use crate::dns::{Resolver, ResolverConfig, Zone, ZoneServer};
use crate::runtime::Services;
use crate::smtp::{CalloutConfig, Callouts};

/// The built-in DNS server, when the configuration names a zone file; it runs as long as
/// this value lives.
pub struct LocalDns {
    _server: Option<ZoneServer>,
}

/// Starts the services the configuration asks for.
pub async fn start(config: &Config) -> anyhow::Result<(Services, LocalDns)> {
    let r = &config.resolver;
    let mut servers = r
        .servers
        .iter()
        .map(|s| parse_server(s).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>, _>>()?;
    let local = match &r.zone_file {
        Some(file) => {
            let path = config.resolve_path(file);
            let zone = Zone::load(&path).map_err(anyhow::Error::msg)?;
            let server = ZoneServer::start(zone, Default::default()).await?;
            servers.insert(0, server.addr());
            Some(server)
        }
        None => None,
    };
    let dns = Resolver::new(ResolverConfig {
        servers,
        timeout: Duration::from_millis(r.timeout_ms),
        retries: r.retries,
        tcp_timeout: Duration::from_millis(r.tcp_timeout_ms),
        cache_entries: r.cache_entries,
        ..ResolverConfig::default()
    });
    let c = &config.callout;
    let allow_networks = c
        .allow_networks
        .iter()
        .map(|net| parse_net(net.get_ref()).map_err(anyhow::Error::msg))
        .collect::<Result<_, _>>()?;
    let callouts = Callouts::new(CalloutConfig {
        step_timeout: Duration::from_secs(c.step_timeout_s),
        total_timeout: Duration::from_secs(c.total_timeout_s),
        connect_timeout: Duration::from_secs(c.connect_timeout_s),
        positive_ttl: Duration::from_secs(c.positive_ttl_s),
        negative_ttl: Duration::from_secs(c.negative_ttl_s),
        server_ttl: Duration::from_secs(c.server_ttl_s),
        allow_networks,
        max_per_server_per_minute: c.max_per_server_per_minute,
        ..CalloutConfig::default()
    });
    Ok((Services { dns, callouts }, LocalDns { _server: local }))
}
