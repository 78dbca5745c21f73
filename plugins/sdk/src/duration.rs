//! Go-style durations in plugin configs (`500ms`, `15s`, `1m30s`), as the
//! OpenTelemetry Collector writes them.

use serde::Deserialize;

/// A duration in nanoseconds, from `1h2m3s4ms5us6ns` (decimals allowed) or
/// a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(pub u64);

impl Duration {
    /// Nanoseconds.
    pub fn nanos(self) -> u64 {
        self.0
    }

    /// Whole milliseconds.
    pub fn millis(self) -> u64 {
        self.0 / 1_000_000
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(Duration(s.saturating_mul(1_000_000_000))),
            Raw::Text(t) => parse(&t).map(Duration).map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `1h2m3s4ms5us6ns` (units `h m s ms us µs ns`) into nanoseconds.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a duration (expected e.g. `500ms`, `30s`, `1m30s`)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_to_nanoseconds() {
        assert_eq!(parse("2ms"), Ok(2_000_000));
        assert_eq!(parse("1400ms"), Ok(1_400_000_000));
        assert_eq!(parse("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse("100us"), Ok(100_000));
        assert!(parse("ten").is_err());
        assert!(parse("5").is_err());
        let d: Duration = serde_json::from_str("15").unwrap();
        assert_eq!(d.millis(), 15_000);
    }
}
