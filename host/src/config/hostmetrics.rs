//! The `hostmetrics` receiver's configuration, as the Go collector spells it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// `receivers: hostmetrics[/name]: {collection_interval, initial_delay, scrapers}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostMetricsConfig {
    /// How often every scraper runs. Default `1m`, as in the Go collector.
    #[serde(default = "one_minute", deserialize_with = "super::units::duration")]
    pub collection_interval: Duration,
    /// Wait before the first scrape. Default `1s`.
    #[serde(default = "one_second", deserialize_with = "super::units::duration")]
    pub initial_delay: Duration,
    /// Which scrapers run; at least one. A scraper with no settings is written
    /// `cpu:` (or `cpu: {}`).
    pub scrapers: Scrapers,
}

/// The scrapers there are. Their Go settings (`metrics`, `include`,
/// `exclude`) are not supported yet and are refused by name.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Scrapers {
    #[serde(default, deserialize_with = "present")]
    pub cpu: bool,
    #[serde(default, deserialize_with = "present")]
    pub memory: bool,
    #[serde(default, deserialize_with = "present")]
    pub disk: bool,
    #[serde(default, deserialize_with = "present")]
    pub network: bool,
    #[serde(default, deserialize_with = "present")]
    pub load: bool,
}

impl Scrapers {
    pub fn any(&self) -> bool {
        self.cpu || self.memory || self.disk || self.network || self.load
    }
}

/// `cpu:` or `cpu: {}` turns a scraper on; settings inside are refused by name.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let settings = Option::<BTreeMap<String, serde::de::IgnoredAny>>::deserialize(d)?;
    match settings.unwrap_or_default().keys().next() {
        None => Ok(true),
        Some(key) => Err(serde::de::Error::custom(format!(
            "`{key}` is not supported yet; a scraper takes no settings"
        ))),
    }
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

fn one_second() -> Duration {
    Duration::from_secs(1)
}
