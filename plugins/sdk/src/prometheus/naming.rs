//! OpenTelemetry → Prometheus names, as the Go collector's Prometheus
//! translator writes them with suffixes on: the name's words joined by `_`,
//! the unit as words (`By` → `bytes`, `m/s` → `meters_per_second`, `{...}`
//! annotations dropped), `_total` for counters, `_ratio` for gauges in `1`;
//! label names with invalid characters as `_` (`key_` before a digit).

/// The kind of series a name is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Histograms and summaries (their `_bucket`/`_sum`/`_count` are added later).
    Distribution,
}

fn unit_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// Words of a name or unit: runs of ASCII letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The unit's words: main unit, then `per` and the denominator.
fn unit_words(unit: &str) -> Vec<String> {
    // `{requests}` and other annotations carry no unit.
    let mut clean = String::new();
    let mut depth = 0;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let clean = clean.trim();
    let (main, per) = match clean.split_once('/') {
        Some((m, p)) => (m.trim(), Some(p.trim())),
        None => (clean, None),
    };
    let mut out = Vec::new();
    if !main.is_empty() && main != "1" {
        match unit_word(main) {
            Some(w) => out.push(w.to_owned()),
            None => out.extend(words(main)),
        }
    }
    if let Some(per) = per.filter(|p| !p.is_empty()) {
        out.push("per".to_owned());
        match per_word(per) {
            Some(w) => out.push(w.to_owned()),
            None => out.extend(words(per)),
        }
    }
    out
}

/// The Prometheus metric name.
pub fn metric_name(name: &str, unit: &str, kind: Kind, namespace: &str, suffixes: bool) -> String {
    let mut parts = words(name);
    if suffixes {
        for word in unit_words(unit) {
            if !parts.contains(&word) {
                parts.push(word);
            }
        }
        match kind {
            Kind::Counter => {
                parts.retain(|w| w != "total");
                parts.push("total".to_owned());
            }
            Kind::Gauge if unit == "1" && !parts.iter().any(|w| w == "ratio") => {
                parts.push("ratio".to_owned());
            }
            _ => {}
        }
    }
    if !namespace.is_empty() {
        parts.insert(0, namespace.to_owned());
    }
    let mut joined = parts.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        joined.insert(0, '_');
    }
    joined
}

/// A valid Prometheus label name.
pub fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    if out.is_empty() {
        out.push_str("key_");
    }
    out
}

/// A float as Go's `strconv.FormatFloat(f, 'f', -1, 64)` (`le`, `quantile`).
pub fn float_text(f: f64) -> String {
    if f == f64::INFINITY {
        "+Inf".to_owned()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else if f.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_translator() {
        let n = |name, unit, kind| metric_name(name, unit, kind, "", true);
        assert_eq!(
            n("http.server.requests", "1", Kind::Counter),
            "http_server_requests_total"
        );
        assert_eq!(
            n("http.server.duration", "ms", Kind::Distribution),
            "http_server_duration_milliseconds"
        );
        assert_eq!(
            n("system.memory.usage", "By", Kind::Gauge),
            "system_memory_usage_bytes"
        );
        assert_eq!(
            n("cpu.utilization", "1", Kind::Gauge),
            "cpu_utilization_ratio"
        );
        assert_eq!(n("net.io", "By/s", Kind::Gauge), "net_io_bytes_per_second");
        assert_eq!(n("requests", "{request}", Kind::Counter), "requests_total");
        assert_eq!(
            n("requests.total.count", "1", Kind::Counter),
            "requests_count_total"
        );
        assert_eq!(n("latency_seconds", "s", Kind::Gauge), "latency_seconds");
        assert_eq!(n("2xx", "", Kind::Gauge), "_2xx");
        assert_eq!(
            metric_name("queue", "", Kind::Gauge, "app", true),
            "app_queue"
        );
        assert_eq!(metric_name("a.b", "ms", Kind::Counter, "", false), "a_b");
    }

    #[test]
    fn label_names_are_sanitised() {
        assert_eq!(label_name("http.method"), "http_method");
        assert_eq!(label_name("3d"), "key_3d");
        assert_eq!(label_name("_x"), "key_x");
        assert_eq!(label_name("__name__"), "__name__");
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(10.0), "10");
        assert_eq!(float_text(f64::INFINITY), "+Inf");
    }
}
