//! What a scrape endpoint serves: the latest sample of each series a
//! `scrape` exporter handed over, forgotten after `metric_expiration`, and
//! the Prometheus text exposition (format 0.0.4) of them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prost::Message;

use weir_remote_write::{Label, STALE_NAN, WriteRequest, type_word};

/// One series' latest sample.
#[derive(Debug, Clone, Copy)]
struct Latest {
    value: f64,
    timestamp_ms: i64,
    updated: Instant,
}

/// A family's `# TYPE` and `# HELP`.
#[derive(Debug, Clone)]
struct Family {
    kind: &'static str,
    help: String,
}

#[derive(Debug, Default)]
struct Held {
    /// Series by metric name, then by their other labels (sorted).
    series: BTreeMap<String, BTreeMap<Vec<Label>, Latest>>,
    families: BTreeMap<String, Family>,
}

/// The series a scrape endpoint serves.
#[derive(Debug, Default)]
pub struct ScrapeStore {
    held: Mutex<Held>,
}

/// Why a body could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the exporter's body is not a remote write request: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("a series has no __name__ label")]
    Unnamed,
}

impl ScrapeStore {
    /// Keeps the newest sample of each series in `body` (a `WriteRequest`);
    /// the number of series it updated.
    pub fn apply(&self, body: &[u8], now: Instant) -> Result<usize, StoreError> {
        let request = WriteRequest::decode(body)?;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for m in request.metadata {
            held.families.insert(
                m.metric_family_name,
                Family {
                    kind: type_word(m.r#type),
                    help: m.help,
                },
            );
        }
        let mut updated = 0;
        for ts in request.timeseries {
            let Some(sample) = ts.samples.iter().max_by_key(|s| s.timestamp).copied() else {
                continue;
            };
            let mut name = None;
            let mut labels: Vec<Label> = Vec::with_capacity(ts.labels.len());
            for label in ts.labels {
                if label.name == "__name__" {
                    name = Some(label.value);
                } else {
                    labels.push(label);
                }
            }
            let name = name.ok_or(StoreError::Unnamed)?;
            labels.sort();
            let series = held.series.entry(name).or_default();
            if sample.value.to_bits() == STALE_NAN {
                series.remove(&labels);
                continue;
            }
            let newer = series
                .get(&labels)
                .is_none_or(|old| old.timestamp_ms <= sample.timestamp);
            if newer {
                series.insert(
                    labels,
                    Latest {
                        value: sample.value,
                        timestamp_ms: sample.timestamp,
                        updated: now,
                    },
                );
                updated += 1;
            }
        }
        Ok(updated)
    }

    /// Forgets series not updated within `expiration` of `now`.
    pub fn expire(&self, expiration: Duration, now: Instant) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for series in held.series.values_mut() {
            series.retain(|_, s| now.saturating_duration_since(s.updated) < expiration);
        }
        held.series.retain(|_, s| !s.is_empty());
    }

    /// Number of series held.
    pub fn len(&self) -> usize {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.series.values().map(BTreeMap::len).sum()
    }

    /// Whether no series is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text exposition: each family's `# HELP` and `# TYPE`, then its
    /// series (a histogram's `_bucket`, `_sum` and `_count` under it).
    pub fn render(&self, timestamps: bool) -> String {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        // Series names grouped under their family.
        let mut families: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for name in held.series.keys() {
            families
                .entry(family_of(&held.families, name))
                .or_default()
                .push(name);
        }
        let mut out = String::new();
        for (family, names) in families {
            let meta = held.families.get(family);
            if let Some(meta) = meta.filter(|m| !m.help.is_empty()) {
                let _ = writeln!(out, "# HELP {family} {}", escape_help(&meta.help));
            }
            let kind = meta.map_or("untyped", |m| m.kind);
            let _ = writeln!(out, "# TYPE {family} {kind}");
            for name in names {
                for (labels, latest) in &held.series[name] {
                    out.push_str(name);
                    if !labels.is_empty() {
                        out.push('{');
                        for (i, l) in labels.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            let _ = write!(out, "{}=\"{}\"", l.name, escape_value(&l.value));
                        }
                        out.push('}');
                    }
                    let _ = write!(out, " {}", float_text(latest.value));
                    if timestamps {
                        let _ = write!(out, " {}", latest.timestamp_ms);
                    }
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// The family a series name belongs to: itself when it has metadata, or
/// the histogram or summary it is the `_bucket`/`_sum`/`_count` of.
fn family_of<'a>(families: &BTreeMap<String, Family>, name: &'a str) -> &'a str {
    if families.contains_key(name) {
        return name;
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && families
                .get(base)
                .is_some_and(|f| matches!(f.kind, "histogram" | "summary" | "gaugehistogram"))
        {
            return base;
        }
    }
    name
}

fn float_text(f: f64) -> String {
    if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else if f.is_nan() {
        "NaN".into()
    } else {
        format!("{f}")
    }
}

fn escape_value(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', r"\\").replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_remote_write::{MetricMetadata, Sample, TimeSeries};

    fn series(name: &str, labels: &[(&str, &str)], value: f64, ts: i64) -> TimeSeries {
        let mut all = vec![Label {
            name: "__name__".into(),
            value: name.into(),
        }];
        all.extend(labels.iter().map(|(k, v)| Label {
            name: (*k).into(),
            value: (*v).into(),
        }));
        TimeSeries {
            labels: all,
            samples: vec![Sample {
                value,
                timestamp: ts,
            }],
        }
    }

    fn meta(name: &str, kind: i32, help: &str) -> MetricMetadata {
        MetricMetadata {
            r#type: kind,
            metric_family_name: name.into(),
            help: help.into(),
            unit: String::new(),
        }
    }

    fn body(timeseries: Vec<TimeSeries>, metadata: Vec<MetricMetadata>) -> Vec<u8> {
        WriteRequest {
            timeseries,
            metadata,
        }
        .encode_to_vec()
    }

    #[test]
    fn keeps_the_newest_sample_and_renders_families() {
        let store = ScrapeStore::default();
        let now = Instant::now();
        store
            .apply(
                &body(
                    vec![
                        series("orders_total", &[("region", "eu")], 5.0, 1000),
                        series("lat_bucket", &[("le", "5")], 1.0, 1000),
                        series("lat_bucket", &[("le", "+Inf")], 3.0, 1000),
                        series("lat_sum", &[], 555.0, 1000),
                        series("lat_count", &[], 3.0, 1000),
                        series("other", &[("q", "a\"b\\c\nd")], 0.5, 1000),
                    ],
                    vec![meta("orders_total", 1, "orders\ntaken"), meta("lat", 3, "")],
                ),
                now,
            )
            .unwrap();
        // An older sample does not replace a newer one; a newer one does.
        store
            .apply(
                &body(
                    vec![
                        series("orders_total", &[("region", "eu")], 4.0, 900),
                        series("lat_count", &[], 4.0, 2000),
                    ],
                    vec![],
                ),
                now,
            )
            .unwrap();
        assert_eq!(
            store.render(false),
            "# TYPE lat histogram\n\
             lat_bucket{le=\"+Inf\"} 3\n\
             lat_bucket{le=\"5\"} 1\n\
             lat_count 4\n\
             lat_sum 555\n\
             # HELP orders_total orders\\ntaken\n\
             # TYPE orders_total counter\n\
             orders_total{region=\"eu\"} 5\n\
             # TYPE other untyped\n\
             other{q=\"a\\\"b\\\\c\\nd\"} 0.5\n"
        );
        assert!(
            store
                .render(true)
                .contains("orders_total{region=\"eu\"} 5 1000\n")
        );
    }

    #[test]
    fn stale_markers_and_expiry_forget_series() {
        let store = ScrapeStore::default();
        let start = Instant::now();
        store
            .apply(
                &body(
                    vec![series("a", &[], 1.0, 1), series("b", &[], 2.0, 1)],
                    vec![],
                ),
                start,
            )
            .unwrap();
        store
            .apply(
                &body(vec![series("a", &[], f64::from_bits(STALE_NAN), 2)], vec![]),
                start,
            )
            .unwrap();
        assert_eq!(store.len(), 1);
        store
            .apply(
                &body(vec![series("c", &[], 3.0, 1)], vec![]),
                start + Duration::from_secs(60),
            )
            .unwrap();
        store.expire(Duration::from_secs(30), start + Duration::from_secs(61));
        assert_eq!(store.render(false), "# TYPE c untyped\nc 3\n");
        assert!(store.apply(b"\xff\xff", start).is_err());
    }
}
