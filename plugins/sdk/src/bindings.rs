//! Bindings generated from `wit/`, one module per world, sharing the common interfaces.

/// The `connection-plugin` world: imports log, dns and smtp; exports `connection-check`.
pub mod connection {
    wit_bindgen::generate!({
        world: "connection-plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_connection",
        default_bindings_module: "antispam_sdk::bindings::connection",
    });
}

/// The `content-plugin` world: imports log; exports `content-check`.
pub mod content {
    wit_bindgen::generate!({
        world: "content-plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_content",
        default_bindings_module: "antispam_sdk::bindings::content",
        with: {
            "antispam:plugin/types@0.3.0": crate::bindings::connection::antispam::plugin::types,
            "antispam:plugin/log@0.3.0": crate::bindings::connection::antispam::plugin::log,
        },
    });
}

pub use connection::antispam::plugin::{dns as dns_import, log as log_import, smtp, types};
