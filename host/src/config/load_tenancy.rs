//! Loading `extensions:`, `service.extensions`, `tenants:` and checking the
//! references between them and the receivers' `auth:` blocks.

use std::collections::{BTreeMap, BTreeSet};

use super::auth::{BasicAuthConfig, BearerTokenAuthConfig};
use super::error::Errors;
use super::extensions::{ExtensionConfig, FileStorageConfig, HealthCheckConfig};
use super::load::{declared_ids, entries, typed};
use super::model::{
    ComponentId, Config, ExporterConfig, PipelineConfig, PipelineId, ProcessorConfig,
    ReceiverConfig,
};
use super::tenancy::{PluginLimitOverrides, RateLimitConfig, TenantConfig};
use super::tree::{Node, Value};

/// Extension types Weir knows.
const EXTENSION_TYPES: &[&str] = &[
    "basicauth",
    "bearertokenauth",
    "health_check",
    "file_storage",
];

/// `extensions:`.
pub(super) fn extensions(
    section: Option<&Node>,
    errors: &mut Errors,
) -> BTreeMap<ComponentId, ExtensionConfig> {
    let mut out = BTreeMap::new();
    let Some(section) = section else { return out };
    for (key, node) in entries(section, "extensions", errors) {
        let path = format!("extensions.{key}");
        let id = match ComponentId::parse(key) {
            Ok(id) => id,
            Err(message) => {
                errors.add(path, message);
                continue;
            }
        };
        let config = match id.kind.as_str() {
            "basicauth" => typed::<BasicAuthConfig>(node, &path, errors).and_then(|c| {
                if c.htpasswd.file.is_none() && c.htpasswd.inline.is_none() {
                    errors.add(
                        format!("{path}.htpasswd"),
                        "expected `file`, `inline` or both",
                    );
                    return None;
                }
                Some(ExtensionConfig::BasicAuth(c))
            }),
            "bearertokenauth" => {
                typed::<BearerTokenAuthConfig>(node, &path, errors).and_then(|c| {
                    let sources = usize::from(c.token.is_some())
                        + usize::from(!c.tokens.is_empty())
                        + usize::from(c.filename.is_some());
                    if sources != 1 {
                        errors.add(
                            path,
                            "expected exactly one of `token`, `tokens` and `filename`",
                        );
                        return None;
                    }
                    if c.header.is_empty() || http::HeaderName::try_from(c.header.as_str()).is_err()
                    {
                        errors.add(format!("{path}.header"), "expected an HTTP header name");
                        return None;
                    }
                    Some(ExtensionConfig::BearerTokenAuth(c))
                })
            }
            "health_check" => {
                typed::<HealthCheckConfig>(node, &path, errors).map(ExtensionConfig::HealthCheck)
            }
            "file_storage" => {
                typed::<FileStorageConfig>(node, &path, errors).map(ExtensionConfig::FileStorage)
            }
            other => {
                errors.add(
                    path,
                    format!(
                        "unknown extension type `{other}`; expected {}",
                        EXTENSION_TYPES.join(", ")
                    ),
                );
                None
            }
        };
        if let Some(config) = config {
            out.insert(id, config);
        }
    }
    out
}

/// `service.extensions`: ids defined under `extensions:`.
pub(super) fn service_extensions(
    node: &Node,
    declared: &BTreeSet<ComponentId>,
    errors: &mut Errors,
) -> Vec<ComponentId> {
    let Value::Seq(items) = &node.value else {
        if node.value != Value::Null {
            errors.add("service.extensions", "expected a list of extension ids");
        }
        return Vec::new();
    };
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("service.extensions[{i}]");
        let Value::String(text) = &item.value else {
            errors.add(at, "expected an extension id");
            continue;
        };
        match ComponentId::parse(text) {
            Ok(id) if declared.contains(&id) => {
                if ids.contains(&id) {
                    errors.add(at, format!("`{id}` is listed twice"));
                } else {
                    ids.push(id);
                }
            }
            Ok(id) => errors.add(at, format!("`{id}` is not defined under `extensions:`")),
            Err(message) => errors.add(at, message),
        }
    }
    ids
}

/// How the sections inside a tenant's block are read (the same way as
/// their top-level namesakes, at the tenant's key path).
pub(super) struct TenantParsers<'a> {
    /// `pipelines`, given the ids the tenant defines itself (processors,
    /// exporters), which its pipelines may name besides the top-level ones.
    #[allow(clippy::type_complexity)]
    pub pipelines: &'a dyn Fn(
        &Node,
        &str,
        &BTreeSet<ComponentId>,
        &BTreeSet<ComponentId>,
        &mut Errors,
    ) -> BTreeMap<PipelineId, PipelineConfig>,
    pub processors: &'a dyn Fn(&Node, &str, &mut Errors) -> BTreeMap<ComponentId, ProcessorConfig>,
    pub exporters: &'a dyn Fn(&Node, &str, &mut Errors) -> BTreeMap<ComponentId, ExporterConfig>,
}

/// `tenants:`: name → its own components, pipelines, budgets and limits.
pub(super) fn tenants(
    section: Option<&Node>,
    parsers: &TenantParsers<'_>,
    errors: &mut Errors,
) -> BTreeMap<String, TenantConfig> {
    let mut out = BTreeMap::new();
    let Some(section) = section else { return out };
    for (name, node) in entries(section, "tenants", errors) {
        let path = format!("tenants.{name}");
        if !valid_tenant_name(name) {
            errors.add(
                path,
                "a tenant name is made of letters, digits, `-`, `.` and `_` (at most 128)",
            );
            continue;
        }
        let mut tenant = TenantConfig::default();
        let mut ok = true;
        let keys = entries(node, &path, errors);
        // The tenant's own components first: its pipelines may name them.
        let own = |section: &str| keys.iter().find(|(k, _)| k == section).map(|(_, n)| n);
        let own_ids = |section: &str| own(section).map(declared_ids).unwrap_or_default();
        let (own_processors, own_exporters) = (own_ids("processors"), own_ids("exporters"));
        if let Some(node) = own("processors") {
            tenant.processors = (parsers.processors)(node, &format!("{path}.processors"), errors);
        }
        if let Some(node) = own("exporters") {
            tenant.exporters = (parsers.exporters)(node, &format!("{path}.exporters"), errors);
        }
        for (key, node) in keys {
            let at = format!("{path}.{key}");
            match key.as_str() {
                "processors" | "exporters" => {}
                "pipelines" => {
                    tenant.pipelines =
                        (parsers.pipelines)(node, &at, &own_processors, &own_exporters, errors)
                }
                "memory_limit_mib" => match typed::<u64>(node, &at, errors) {
                    Some(0) => {
                        errors.add(at, "expected a number of MiB above 0");
                        ok = false;
                    }
                    Some(mib) => tenant.memory_limit_mib = Some(mib),
                    None => ok = false,
                },
                "rate_limit" => match typed::<RateLimitConfig>(node, &at, errors) {
                    Some(r) if !(r.items_per_second > 0.0 && r.items_per_second.is_finite()) => {
                        errors.add(
                            format!("{at}.items_per_second"),
                            "expected a number of items above 0",
                        );
                        ok = false;
                    }
                    Some(r) if r.burst == Some(0) => {
                        errors.add(format!("{at}.burst"), "expected a number of items above 0");
                        ok = false;
                    }
                    Some(r) => tenant.rate_limit = Some(r),
                    None => ok = false,
                },
                "plugin_limits" => match typed::<PluginLimitOverrides>(node, &at, errors) {
                    Some(l) => tenant.plugin_limits = l,
                    None => ok = false,
                },
                _ => {
                    errors.add(
                        at,
                        "unknown key; expected processors, exporters, pipelines, memory_limit_mib, rate_limit or plugin_limits",
                    );
                    ok = false;
                }
            }
        }
        if ok {
            out.insert(name.clone(), tenant);
        }
    }
    out
}

/// Tenant names travel in headers and metric labels: keep them plain.
fn valid_tenant_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Each receiver protocol's `auth.authenticator` names an extension that
/// is defined, authenticates, and is turned on in `service.extensions`;
/// `tenancy.default_tenant` is a valid name.
pub(super) fn check_auth_references(config: &Config, errors: &mut Errors) {
    for (id, receiver) in &config.receivers {
        let ReceiverConfig::Otlp(otlp) = receiver else {
            continue; // Native receivers take no requests to authenticate.
        };
        let protocols = [
            (
                "grpc",
                otlp.protocols.grpc.as_ref().and_then(|g| g.auth.as_ref()),
            ),
            (
                "http",
                otlp.protocols.http.as_ref().and_then(|h| h.auth.as_ref()),
            ),
        ];
        for (transport, auth) in protocols {
            let Some(auth) = auth else { continue };
            let at = format!("receivers.{id}.protocols.{transport}.auth.authenticator");
            match ComponentId::parse(&auth.authenticator) {
                Ok(ext) if !config.extensions.contains_key(&ext) => {
                    errors.add(at, format!("`{ext}` is not defined under `extensions:`"))
                }
                Ok(ext) if !config.service_extensions.contains(&ext) => errors.add(
                    at,
                    format!("`{ext}` is not turned on: list it in `service.extensions`"),
                ),
                Ok(ext)
                    if !matches!(
                        config.extensions[&ext],
                        ExtensionConfig::BasicAuth(_) | ExtensionConfig::BearerTokenAuth(_)
                    ) =>
                {
                    errors.add(
                        at,
                        format!("`{ext}` is not an authenticator (basicauth or bearertokenauth)"),
                    )
                }
                Ok(_) => {}
                Err(message) => errors.add(at, message),
            }
        }
    }
    if !valid_tenant_name(&config.tenancy.default_tenant) {
        errors.add(
            "tenancy.default_tenant",
            "a tenant name is made of letters, digits, `-`, `.` and `_` (at most 128)",
        );
    }
    for (i, source) in config.tenancy.sources.iter().enumerate() {
        if let super::tenancy::TenantSource::ClientCert {
            pattern: Some(p), ..
        } = source
            && p.matches('*').count() != 1
        {
            errors.add(
                format!("tenancy.sources[{i}].pattern"),
                "expected exactly one `*` standing for the tenant",
            );
        }
        if let super::tenancy::TenantSource::Header { name } = source
            && http::HeaderName::try_from(name.as_str()).is_err()
        {
            errors.add(
                format!("tenancy.sources[{i}].name"),
                "expected an HTTP header name",
            );
        }
    }
}
