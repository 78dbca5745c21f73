//! What the `transform` and `filter` plugins' `Guest` share: the config
//! `init` accepted, the signals it asks for (those with something
//! configured), and `process` passing a batch of any other signal on
//! without decoding it.

use std::sync::Mutex;

use weir_plugin_sdk::processor::{Batch, PluginError, ProcessorInfo, Signal, Signals};

/// A config that holds OTTL for some signals.
pub trait PerSignal {
    /// Whether anything is configured for `signal`.
    fn configured(&self, signal: Signal) -> bool;
}

/// The config `init` accepted; the host calls `init` once per instance.
pub struct Kept<C> {
    config: Mutex<Option<C>>,
}

impl<C: PerSignal> Kept<C> {
    pub const fn new() -> Self {
        Kept {
            config: Mutex::new(None),
        }
    }

    /// Keeps `config`; the processor (stateless) takes the signals it
    /// configures.
    pub fn init(&self, config: C) -> ProcessorInfo {
        let mut signals = Signals::empty();
        for (signal, flag) in [
            (Signal::Traces, Signals::TRACES),
            (Signal::Metrics, Signals::METRICS),
            (Signal::Logs, Signals::LOGS),
        ] {
            if config.configured(signal) {
                signals |= flag;
            }
        }
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Some(config);
        ProcessorInfo {
            signals,
            stateful: false,
        }
    }

    /// `run` on `batch` with the kept config; a batch of a signal with
    /// nothing configured passes on as it is.
    pub fn process(
        &self,
        batch: Batch,
        run: impl FnOnce(&C, Batch) -> Result<Vec<Batch>, PluginError>,
    ) -> Result<Vec<Batch>, PluginError> {
        let guard = self.config.lock().unwrap_or_else(|e| e.into_inner());
        let config = guard
            .as_ref()
            .ok_or_else(|| PluginError::Rejected("process called before init".to_owned()))?;
        if !config.configured(batch.signal) {
            return Ok(vec![batch]);
        }
        run(config, batch)
    }
}

impl<C: PerSignal> Default for Kept<C> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Something configured for logs only.
    struct LogsOnly;

    impl PerSignal for LogsOnly {
        fn configured(&self, signal: Signal) -> bool {
            signal == Signal::Logs
        }
    }

    fn batch(signal: Signal) -> Batch {
        Batch {
            signal,
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn process_before_init_is_refused() {
        let kept = Kept::<LogsOnly>::new();
        let refused = kept.process(batch(Signal::Logs), |_, b| Ok(vec![b]));
        assert!(matches!(refused, Err(PluginError::Rejected(m)) if m.contains("before init")));
    }

    #[test]
    fn only_configured_signals_are_asked_for_and_run() {
        let kept = Kept::new();
        let info = kept.init(LogsOnly);
        assert_eq!(info.signals, Signals::LOGS);
        assert!(!info.stateful);
        // Traces pass untouched; logs go through `run`.
        let passed = kept
            .process(batch(Signal::Traces), |_, _| panic!("not configured"))
            .unwrap();
        assert_eq!(passed.len(), 1);
        assert_eq!(passed[0].payload, vec![1, 2, 3]);
        let ran = kept
            .process(batch(Signal::Logs), |_, b| {
                Ok(vec![Batch {
                    signal: b.signal,
                    payload: vec![9],
                }])
            })
            .unwrap();
        assert_eq!(ran[0].payload, vec![9]);
    }
}
