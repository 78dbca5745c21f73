//! Why loading a plugin or calling it failed.

use std::path::PathBuf;

/// A plugin could not be made ready (read, compiled, linked, configured).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin `{name}` is not a valid WebAssembly component: {reason}")]
    Compile { name: String, reason: String },
    #[error("plugin `{name}` does not fit the {world} world of weir:plugin@0.1.0: {reason}")]
    Link {
        name: String,
        world: &'static str,
        reason: String,
    },
    #[error(
        "plugin `{name}` imports {imports}, which Weir never provides to plugins \
         (it links only weir:plugin/*, and wasi:cli, filesystem, clocks, sockets, io and random with nothing behind them unless granted)"
    )]
    Capability { name: String, imports: String },
    #[error(
        "plugin `{name}` does not match its pin: expected sha256:{expected}, got sha256:{actual}"
    )]
    Digest {
        name: String,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    InvalidConfig(String),
    #[error("plugin `{name}` failed to start: {reason}")]
    Start { name: String, reason: String },
}

/// One call into a plugin failed. Only that call: the host replaces the
/// instance when the failure ended it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// The plugin refused the batch (`plugin-error.rejected`).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("trapped: {0}")]
    Trap(String),
    /// The call ran past its deadline.
    #[error("ran past its {0:?} deadline")]
    Timeout(std::time::Duration),
    /// The call tried to grow memory past the plugin's cap.
    #[error("exceeded its memory cap of {0} MiB")]
    Memory(u64),
    /// A fresh instance could not be started.
    #[error("cannot start an instance: {0}")]
    Start(String),
    /// `process` returned more than `max_output_ratio` allows.
    #[error("{0}")]
    Output(OutputTooLarge),
}

/// What `process` returned past its output limit.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error(
    "returned {output} bytes for {input} bytes in, over its limit of {limit} (limits.max_output_ratio)"
)]
pub struct OutputTooLarge {
    pub input: usize,
    pub output: usize,
    pub limit: usize,
}

impl CallError {
    /// The `outcome` label of `weir_plugin_calls_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            CallError::Rejected(_) => "rejected",
            CallError::Trap(_) => "trap",
            CallError::Timeout(_) => "timeout",
            CallError::Memory(_) => "memory",
            CallError::Start(_) => "start_failed",
            CallError::Output(_) => "output_limit",
        }
    }

    /// Whether the instance that failed can still be used.
    pub fn instance_survives(&self) -> bool {
        matches!(self, CallError::Rejected(_) | CallError::Output(_))
    }
}
