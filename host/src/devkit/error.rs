//! Why a `weir plugin` command failed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DevkitError {
    #[error("no template for a {kind} in {lang}; there are: {available}")]
    NoTemplate {
        lang: String,
        kind: String,
        available: String,
    },
    #[error(
        "a plugin name is lower-case letters, digits, `-` and `_`, starting with a letter: `{0}` is not"
    )]
    BadName(String),
    #[error("{0} exists and is not empty; choose another --out")]
    NotEmpty(PathBuf),
    #[error(
        "the Rust plugin SDK is not at {0} (where this weir was built from); pass --sdk-path to a checkout's plugins/sdk"
    )]
    NoSdk(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}) in {dir}")]
    BuildFailed {
        command: String,
        status: std::process::ExitStatus,
        dir: PathBuf,
    },
    #[error("`{command}` succeeded but {output} is missing")]
    NoOutput { command: String, output: PathBuf },
}
