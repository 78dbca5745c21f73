//! `tenancy:` (how a request's tenant is found) and `tenants:` (what each
//! tenant gets: its own pipelines, memory budget, rate limit and plugin
//! limits).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::model::{ComponentId, ExporterConfig, PipelineConfig, PipelineId, ProcessorConfig};

/// The header read by a `header` source when it names none.
pub const DEFAULT_TENANT_HEADER: &str = "X-Scope-OrgID";

/// `tenancy:`: where the tenant comes from, tried in order; the first source
/// that yields a value names the tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenancyConfig {
    /// Sources tried in order. Default: none (every request is the default tenant).
    #[serde(default)]
    pub sources: Vec<TenantSource>,
    /// What happens to a request no source names a tenant for, or whose
    /// tenant is not listed under `tenants:`: `default` (it becomes the
    /// default tenant, the default) or `refuse` (403 / `PERMISSION_DENIED`).
    #[serde(default)]
    pub unknown: UnknownTenant,
    /// The default tenant's name. Default `default`.
    #[serde(default = "default_tenant")]
    pub default_tenant: String,
}

impl Default for TenancyConfig {
    fn default() -> Self {
        TenancyConfig {
            sources: Vec::new(),
            unknown: UnknownTenant::Default,
            default_tenant: default_tenant(),
        }
    }
}

fn default_tenant() -> String {
    "default".into()
}

/// `tenancy.unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UnknownTenant {
    #[default]
    Default,
    Refuse,
}

/// One place a tenant can come from (`from:` says which).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum TenantSource {
    /// The verified client certificate (mTLS): its subject CN, or a DNS or
    /// URI subject alternative name matching `pattern`.
    ClientCert {
        /// `cn` (default), `san_dns` or `san_uri`.
        #[serde(default)]
        field: CertField,
        /// A pattern with one `*` standing for the tenant, e.g.
        /// `spiffe://acme.org/tenant/*` or `*.tenants.acme.org`. Without
        /// one, the whole value (the first SAN of that kind) is the tenant.
        #[serde(default)]
        pattern: Option<String>,
    },
    /// The user name an authenticator (`basicauth`) verified.
    AuthUser,
    /// A request header (gRPC metadata). Default `X-Scope-OrgID`.
    Header {
        #[serde(default = "default_header")]
        name: String,
    },
    /// A string resource attribute of the request's first resource.
    ResourceAttribute { key: String },
}

fn default_header() -> String {
    DEFAULT_TENANT_HEADER.into()
}

/// Which part of the client certificate names the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CertField {
    #[default]
    Cn,
    SanDns,
    SanUri,
}

/// One entry of `tenants:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TenantConfig {
    /// The tenant's own pipelines, shaped as `service.pipelines`; their
    /// components are instantiated for this tenant alone.
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    /// Bytes of the tenant's requests held at once, MiB; past it, 429 /
    /// `RESOURCE_EXHAUSTED`. Default: no tenant budget (the pipelines'
    /// `memory_limiter`s still apply).
    pub memory_limit_mib: Option<u64>,
    /// Items per second, with a burst.
    pub rate_limit: Option<RateLimitConfig>,
    /// Limits for every plugin instance of this tenant, over the plugin
    /// type's own.
    pub plugin_limits: PluginLimitOverrides,
    /// Processors defined for this tenant alone (`tenants.<name>.processors`);
    /// its pipelines find an id here before the top-level `processors:`.
    pub processors: BTreeMap<ComponentId, ProcessorConfig>,
    /// Exporters defined for this tenant alone, found before the top-level ones.
    pub exporters: BTreeMap<ComponentId, ExporterConfig>,
}

/// `tenants.<name>.rate_limit`: a token bucket of items (spans, data
/// points, log records).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Items per second refilled.
    pub items_per_second: f64,
    /// Most items taken at once (the bucket's size). Default: one second's worth.
    #[serde(default)]
    pub burst: Option<u64>,
}

/// `tenants.<name>.plugin_limits`: any of a plugin's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PluginLimitOverrides {
    pub memory_mib: Option<u64>,
    #[serde(default, deserialize_with = "super::units::opt_duration")]
    pub timeout: Option<Duration>,
    pub max_instances: Option<usize>,
}

impl PluginLimitOverrides {
    /// `base` with these overrides applied.
    pub fn apply(&self, mut base: crate::plugin::PluginLimits) -> crate::plugin::PluginLimits {
        if let Some(m) = self.memory_mib {
            base.memory_mib = m;
        }
        if let Some(t) = self.timeout {
            base.timeout = t;
        }
        if let Some(n) = self.max_instances {
            base.max_instances = n;
        }
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::PluginLimits;

    #[test]
    fn plugin_limit_overrides_replace_only_what_they_name() {
        let base = PluginLimits::default();
        let tenant = PluginLimitOverrides {
            memory_mib: Some(16),
            timeout: Some(Duration::from_millis(250)),
            max_instances: None,
        };
        let limits = tenant.apply(base);
        assert_eq!(limits.memory_mib, 16);
        assert_eq!(limits.timeout, Duration::from_millis(250));
        assert_eq!(limits.max_instances, base.max_instances);
        assert_eq!(limits.recycle_above_mib, base.recycle_above_mib);
        assert_eq!(PluginLimitOverrides::default().apply(base), base);
    }
}
