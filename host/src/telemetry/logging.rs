//! Structured logs (tracing) on stderr, as `service.telemetry.logs` says.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::TelemetryConfig;

/// Installs the process's log subscriber; `RUST_LOG` overrides the level.
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{},wasmtime=warn,cranelift=warn", config.log_level))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if config.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
