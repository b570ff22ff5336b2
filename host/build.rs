//! Builds every check component in `plugins/` for `wasm32-wasip2` (release), so that one
//! `cargo build` or `cargo test` on a fresh checkout produces the host and its components.
//! The nested build uses its own target directory (`target/plugins`) so it never waits on the
//! outer build's lock. `ANTISPAM_PLUGIN_DIR` tells the host where the `.wasm` files are.
//! `ANTISPAM_PLUGINS=a,b` limits the build to those plugins (for quick iteration); otherwise
//! the SDK's example check (`examples/required_header.wasm`, the template for your own) is
//! built too, so that the tests load it as a user would.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target = if target.is_relative() {
        root.join(target)
    } else {
        target
    }
    .join("plugins");
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=ANTISPAM_PLUGINS");
    let (plugins, example) = match std::env::var("ANTISPAM_PLUGINS") {
        Ok(list) => (
            list.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            false,
        ),
        Err(_) => (plugin_names(&root.join("plugins")), true),
    };
    ensure_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&root)
        .args(["build", "--release", "--target", TARGET]);
    for p in &plugins {
        build.args(["-p", p]);
    }
    if example {
        build.args([
            "-p",
            "antispam-sdk",
            "--lib",
            "--example",
            "required_header",
        ]);
    }
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        build.env_remove(var);
    }
    // Components are small and run per message: whole-program optimisation and wasm SIMD
    // (which wasmtime supports) are worth their extra build seconds.
    build
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128")
        .env("CARGO_TARGET_DIR", &target);
    let out = build
        .output()
        .expect("run the nested cargo build of the plugins");
    if !out.status.success() {
        panic!(
            "building the plugin components failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = target.join(TARGET).join("release");
    println!("cargo:rustc-env=ANTISPAM_PLUGIN_DIR={}", dir.display());
}

/// The components' target.
const TARGET: &str = "wasm32-wasip2";

/// Makes sure the standard library for [`TARGET`] is installed. `rust-toolchain.toml` names
/// the target, but rustup adds it only when it installs the toolchain, so a machine that had
/// Rust 1.95 already lacks it; rustup then adds it here, once.
fn ensure_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let installed = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| Path::new(String::from_utf8_lossy(&o.stdout).trim()).exists());
    if installed {
        return;
    }
    println!("cargo:warning=adding the {TARGET} target with rustup (rust-toolchain.toml names it)");
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        panic!("the {TARGET} target is not installed and `rustup target add {TARGET}` failed");
    }
}

/// The check crates: every folder of `plugins/` with a Cargo.toml, except the SDK.
fn plugin_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("plugins/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists() && e.file_name() != "sdk")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
