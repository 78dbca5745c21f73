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

/// Checks the config: only `{}` (or `null`) is accepted.
pub fn parse_config(config_json: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not valid JSON: {e}"))?;
    match value {
        serde_json::Value::Null => Ok(()),
        serde_json::Value::Object(map) => match map.keys().next() {
            None => Ok(()),
            Some(key) => Err(format!("{key}: unknown key; chaos takes no configuration")),
        },
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
    fn config_is_empty_or_invalid() {
        assert_eq!(parse_config("{}"), Ok(()));
        assert_eq!(parse_config("null"), Ok(()));
        let err = parse_config(r#"{"rate": 1}"#).unwrap_err();
        assert!(err.starts_with("rate: unknown key"), "{err}");
        assert!(parse_config("[1]").is_err());
    }
}
