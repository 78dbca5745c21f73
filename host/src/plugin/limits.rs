//! Per-plugin resource limits (`plugins.<type>.limits` in config).

use std::time::Duration;

use serde::Deserialize;

/// Limits every call of a plugin runs under.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Cap on an instance's linear memory, MiB. Default 64.
    pub memory_mib: u64,
    /// Longest one call may run (`500ms`, `2s`). Default 2s.
    #[serde(deserialize_with = "crate::config::units::duration")]
    pub timeout: Duration,
    /// Most instances of one configured component alive at once (calls
    /// beyond wait). Default 4.
    pub max_instances: usize,
    /// An instance whose memory grew past this many MiB is dropped after its
    /// call rather than reused (guest memory never shrinks). Default 32.
    pub recycle_above_mib: u64,
    /// How often a stateful plugin's `tick` is called (`1s`, `200ms`).
    /// Default 1s. Stateless plugins are never ticked.
    #[serde(deserialize_with = "crate::config::units::duration")]
    pub tick_interval: Duration,
    /// Most a stateless processor's `process` may return: this many times
    /// its input, plus 4 KiB. A call that returns more fails (outcome
    /// `output_limit`) and its batch follows the pipeline's `error_mode`.
    /// Default 10.
    pub max_output_ratio: u32,
}

impl PluginLimits {
    /// The most bytes `process` may return for `input` bytes in.
    pub fn max_output_bytes(&self, input: usize) -> usize {
        input
            .saturating_mul(self.max_output_ratio as usize)
            .saturating_add(4096)
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            memory_mib: 64,
            timeout: Duration::from_secs(2),
            max_instances: 4,
            recycle_above_mib: 32,
            tick_interval: Duration::from_secs(1),
            max_output_ratio: 10,
        }
    }
}
