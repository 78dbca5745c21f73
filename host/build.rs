//! Builds the plugin workspace (`../plugins`) for `wasm32-wasip2` and hands
//! the `.wasm` paths to the host as `WEIR_PLUGIN_<NAME>` (built-ins are
//! embedded with `include_bytes!`) and `WEIR_PLUGIN_DIR` (tests load the
//! test plugins from there). So `cargo run` and `cargo test` need nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Plugins the host embeds or its tests load.
const PLUGINS: &[&str] = &[
    "attributes",
    "resource",
    "transform",
    "filter",
    "debug",
    "file",
    "probabilistic_sampler",
    "tail_sampling",
    "otlp",
    "otlphttp",
    "loki",
    "prometheusremotewrite",
    "prometheus",
    "spanmetrics",
    "chaos",
    "stamp_a",
    "stamp_b",
    "hostile_wasi",
    "hostile_http",
];
const TARGET: &str = "wasm32-wasip2";

fn main() {
    let host_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = host_dir.parent().expect("host/ has a parent").to_path_buf();
    let plugins = root.join("plugins");
    let wit = root.join("wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    // The plugins use the remote write crate (through the SDK): a change
    // there changes them too.
    println!(
        "cargo:rerun-if-changed={}",
        root.join("remote_write").display()
    );
    // `weir plugin new` embeds the templates (include_dir! does not tell
    // cargo about them itself).
    println!(
        "cargo:rerun-if-changed={}",
        root.join("templates").display()
    );
    watch_sources(&plugins);
    // The plugins use the wire crate (through the SDK): a change there
    // changes them too.
    println!("cargo:rerun-if-changed={}", root.join("wire").display());

    if std::env::var_os("WEIR_SKIP_PLUGIN_BUILD").is_some() {
        // For tooling that only needs the host to type-check.
        println!("cargo:warning=WEIR_SKIP_PLUGIN_BUILD is set: built-in plugins are empty");
    } else {
        ensure_wasm_target();
        let release = plugins.join("target").join(TARGET).join("release");
        build_plugins(&plugins, &[]);
        // Two builds of the `stamp` test plugin, for the reload tests to swap.
        copy(&release.join("stamp.wasm"), &release.join("stamp_a.wasm"));
        build_plugins(
            &plugins,
            &["-p", "weir-plugin-stamp", "--features", "variant-b"],
        );
        copy(&release.join("stamp.wasm"), &release.join("stamp_b.wasm"));
        // The hostile-plugin suite's plugin: with WASI imports only, and with
        // a wasi:http import that must be refused at load.
        copy(
            &release.join("hostile.wasm"),
            &release.join("hostile_wasi.wasm"),
        );
        build_plugins(
            &plugins,
            &["-p", "weir-plugin-hostile", "--features", "http"],
        );
        copy(
            &release.join("hostile.wasm"),
            &release.join("hostile_http.wasm"),
        );
    }

    let skip = std::env::var_os("WEIR_SKIP_PLUGIN_BUILD").is_some();
    let out = if skip {
        // Empty stand-ins: the host type-checks, but loading a built-in fails.
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
        for name in PLUGINS {
            std::fs::write(out.join(format!("{name}.wasm")), b"").expect("write to OUT_DIR");
        }
        out
    } else {
        plugins.join("target").join(TARGET).join("release")
    };
    println!("cargo:rerun-if-env-changed=WEIR_SKIP_PLUGIN_BUILD");
    println!("cargo:rustc-env=WEIR_PLUGIN_DIR={}", out.display());
    for name in PLUGINS {
        let wasm = out.join(format!("{name}.wasm"));
        if !wasm.exists() {
            panic!("plugin build succeeded but {} is missing", wasm.display());
        }
        println!(
            "cargo:rustc-env=WEIR_PLUGIN_{}={}",
            name.to_uppercase(),
            wasm.display()
        );
    }
}

/// Re-run when any plugin source changes, but not when `plugins/target` does.
fn watch_sources(plugins: &Path) {
    let Ok(entries) = std::fs::read_dir(plugins) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name() != "target" {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
}

fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        panic!(
            "\n\nWeir's plugins are built for {TARGET}, which this toolchain lacks.\n\
             Install it with:\n\n    rustup target add {TARGET}\n\n"
        );
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", from.display(), to.display()));
}

fn build_plugins(plugins: &Path, extra: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(plugins.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(plugins.join("target"))
        .args(extra);
    // The outer build's settings must not leak into the guest build
    // (clippy's wrapper, host rustflags, an outer target dir or profile).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PKG_NAME",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_PROFILE_") || key.starts_with("CARGO_CFG_") {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("cannot run cargo to build the plugins");
    if !status.success() {
        panic!("building the plugins (cargo build --release --target {TARGET} in plugins/) failed");
    }
}
