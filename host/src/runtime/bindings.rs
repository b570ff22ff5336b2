//! Host bindings for the two worlds in `wit/`; the content world reuses the connection
//! world's shared interfaces so each host trait is implemented once.

/// The `connection-plugin` world.
pub mod connection {
    wasmtime::component::bindgen!({
        world: "connection-plugin",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// The `content-plugin` world.
pub mod content {
    wasmtime::component::bindgen!({
        world: "content-plugin",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "antispam:plugin/types": super::connection::antispam::plugin::types,
            "antispam:plugin/log": super::connection::antispam::plugin::log,
        },
    });
}

pub use connection::antispam::plugin::{dns, log, smtp, types};
