//! The `filelog` receiver's configuration, as the Go collector spells it.

use std::time::Duration;

use serde::Deserialize;

use super::extensions::FileStorageConfig;

/// `receivers: filelog[/name]: {include, exclude, start_at, multiline, storage, …}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileLogConfig {
    /// Glob patterns of the files to tail; at least one.
    pub include: Vec<String>,
    /// Glob patterns of files to leave alone, even when `include` matches.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where reading starts in files present at start-up: `end` (default) or
    /// `beginning`. Files that appear later are read from their beginning.
    #[serde(default)]
    pub start_at: StartAt,
    /// How often the files are checked for new lines. Default `200ms`.
    #[serde(default = "poll_interval", deserialize_with = "super::units::duration")]
    pub poll_interval: Duration,
    /// How long an unfinished last line (or multiline record) waits for more
    /// before it is sent as it is. Default `500ms`.
    #[serde(
        default = "force_flush_period",
        deserialize_with = "super::units::duration"
    )]
    pub force_flush_period: Duration,
    /// Records that span lines: a record starts (or ends) at a line matching
    /// the pattern.
    #[serde(default)]
    pub multiline: Option<Multiline>,
    /// Adds `log.file.name` to each record. Default true.
    #[serde(default = "yes")]
    pub include_file_name: bool,
    /// Adds `log.file.path` to each record. Default false.
    #[serde(default)]
    pub include_file_path: bool,
    /// Longest record kept, in bytes; longer ones are cut. Default 1 MiB.
    #[serde(default = "max_log_size")]
    pub max_log_size: u64,
    /// A `file_storage` extension: the read offsets are kept there, so a
    /// restart resumes where the last run stopped instead of at `start_at`.
    #[serde(default)]
    pub storage: Option<String>,
    /// The folder of that extension, filled in when the config is loaded.
    #[serde(skip)]
    pub file_storage: Option<FileStorageConfig>,
}

/// `start_at`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    Beginning,
    #[default]
    End,
}

/// `multiline`: exactly one of the two patterns.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Multiline {
    #[serde(default)]
    pub line_start_pattern: Option<String>,
    #[serde(default)]
    pub line_end_pattern: Option<String>,
}

fn poll_interval() -> Duration {
    Duration::from_millis(200)
}

fn force_flush_period() -> Duration {
    Duration::from_millis(500)
}

fn yes() -> bool {
    true
}

fn max_log_size() -> u64 {
    1024 * 1024
}
