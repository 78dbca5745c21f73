//! The markers and what each one does.

use std::hint::black_box;

/// A failure the payload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chaos {
    /// Panic (a trap in the sandbox).
    Trap,
    /// Spin forever.
    Loop,
    /// Allocate without bound.
    Alloc,
}

impl Chaos {
    const MARKERS: [(&'static [u8], Chaos); 3] = [
        (b"weir-chaos:trap", Chaos::Trap),
        (b"weir-chaos:loop", Chaos::Loop),
        (b"weir-chaos:alloc", Chaos::Alloc),
    ];

    /// The first marker found in `payload`, in the order trap, loop, alloc.
    pub fn find(payload: &[u8]) -> Option<Chaos> {
        Self::MARKERS
            .iter()
            .find(|(marker, _)| payload.windows(marker.len()).any(|w| w == *marker))
            .map(|(_, chaos)| *chaos)
    }

    /// Does what the marker asks. Never returns.
    pub fn unleash(self) -> ! {
        match self {
            Chaos::Trap => panic!("weir-chaos:trap found in the payload"),
            Chaos::Loop => {
                let mut n: u64 = 0;
                loop {
                    // black_box keeps the optimiser from proving the loop
                    // side-effect free and removing it.
                    n = black_box(n.wrapping_add(1));
                }
            }
            Chaos::Alloc => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // 1 MiB at a time, every page written so it is really used.
                    let mut chunk = vec![0u8; 1 << 20];
                    for page in chunk.chunks_mut(4096) {
                        page[0] = 1;
                    }
                    hoard.push(black_box(chunk));
                    black_box(&hoard);
                }
            }
        }
    }
}

/// The chaos plugin's configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChaosConfig {
    /// Hold every batch (a stateful plugin) instead of passing it on.
    pub stateful: bool,
    /// When stateful: release what is held on every `tick` (default), or
    /// only on `flush`.
    pub release_on_tick: bool,
}

/// Parses the config: `{}`/`null`, or `{stateful: true[, release_on_tick: false]}`.
pub fn parse_config(config_json: &str) -> Result<ChaosConfig, String> {
    let value: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not valid JSON: {e}"))?;
    match value {
        serde_json::Value::Null => Ok(ChaosConfig::default()),
        serde_json::Value::Object(ref map) => {
            if let Some(key) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "stateful" | "release_on_tick"))
            {
                return Err(format!(
                    "{key}: unknown key; chaos takes `stateful` and `release_on_tick`"
                ));
            }
            let explicit_release = map.contains_key("release_on_tick");
            let mut config: ChaosConfig =
                serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
            if !explicit_release && config.stateful {
                config.release_on_tick = true;
            }
            Ok(config)
        }
        _ => Err("expected a map (`{}`) as chaos's configuration".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_anywhere_in_the_payload() {
        assert_eq!(
            Chaos::find(b"\x0a\x03abcweir-chaos:trap\x00"),
            Some(Chaos::Trap)
        );
        assert_eq!(Chaos::find(b"weir-chaos:loop"), Some(Chaos::Loop));
        assert_eq!(Chaos::find(b"xxweir-chaos:alloc"), Some(Chaos::Alloc));
        assert_eq!(Chaos::find(b"weir-chaos:nothing"), None);
        assert_eq!(Chaos::find(b""), None);
    }

    #[test]
    #[should_panic(expected = "weir-chaos:trap")]
    fn trap_panics() {
        Chaos::Trap.unleash();
    }

    #[test]
    fn config_is_empty_stateful_or_invalid() {
        assert_eq!(parse_config("{}"), Ok(ChaosConfig::default()));
        assert_eq!(parse_config("null"), Ok(ChaosConfig::default()));
        let held = parse_config(r#"{"stateful": true}"#).unwrap();
        assert!(held.stateful && held.release_on_tick);
        let until_flush = parse_config(r#"{"stateful": true, "release_on_tick": false}"#).unwrap();
        assert!(until_flush.stateful && !until_flush.release_on_tick);
        let err = parse_config(r#"{"rate": 1}"#).unwrap_err();
        assert!(err.starts_with("rate: unknown key"), "{err}");
        assert!(parse_config("[1]").is_err());
    }
}
