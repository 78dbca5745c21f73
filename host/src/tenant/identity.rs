//! Finding a request's tenant: the configured sources, tried in order.

use std::collections::HashMap;
use std::sync::Arc;

use weir_wire::{FieldReader, Signal, WireType};

use super::cert::CertIdentity;
use crate::config::tenancy::{CertField, TenancyConfig, TenantSource, UnknownTenant};

/// What a receiver knows about who sent a request.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// The verified client certificate's names (mTLS).
    pub cert: Option<Arc<CertIdentity>>,
    /// The user an authenticator verified.
    pub user: Option<String>,
    /// The request's headers (gRPC metadata).
    pub headers: http::HeaderMap,
}

/// The request has no tenant the configuration accepts: refused with 403 /
/// `PERMISSION_DENIED`. The message names no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unidentified(pub String);

/// `tenancy:` made ready: sources, the policy for unknown tenants, and the
/// tenants that have their own configuration.
#[derive(Debug)]
pub struct Tenancy {
    sources: Vec<TenantSource>,
    unknown: UnknownTenant,
    default: Arc<str>,
    /// Tenants listed under `tenants:`; `None` when there is no such section
    /// (then every well-formed name is accepted).
    known: Option<HashMap<String, Arc<str>>>,
}

impl Default for Tenancy {
    fn default() -> Self {
        Tenancy::new(&TenancyConfig::default(), None)
    }
}

impl Tenancy {
    pub fn new(config: &TenancyConfig, known: Option<Vec<String>>) -> Self {
        Tenancy {
            sources: config.sources.clone(),
            unknown: config.unknown,
            default: Arc::from(config.default_tenant.as_str()),
            known: known.map(|names| {
                names
                    .into_iter()
                    .map(|n| (n.clone(), Arc::from(n.as_str())))
                    .collect()
            }),
        }
    }

    /// The default tenant's name.
    pub fn default_tenant(&self) -> &Arc<str> {
        &self.default
    }

    /// The tenant of a request: the first source that yields a name. A name
    /// that is missing, malformed or not listed under `tenants:` becomes the
    /// default tenant, or is refused, as `tenancy.unknown` says.
    pub fn resolve(
        &self,
        principal: &Principal,
        signal: Signal,
        payload: &[u8],
    ) -> Result<Arc<str>, Unidentified> {
        let found = self
            .sources
            .iter()
            .find_map(|source| from_source(source, principal, signal, payload));
        self.decide(found)
    }

    /// The tenant of a request from what is known before its body is read
    /// (certificate, user, headers); `None` when a `resource_attribute`
    /// source would be asked before any earlier source yields a name.
    pub fn resolve_early(&self, principal: &Principal) -> Option<Result<Arc<str>, Unidentified>> {
        let mut found = None;
        for source in &self.sources {
            if matches!(source, TenantSource::ResourceAttribute { .. }) {
                return None;
            }
            found = from_source(source, principal, Signal::Traces, &[]);
            if found.is_some() {
                break;
            }
        }
        Some(self.decide(found))
    }

    /// Names the tenant `found` stands for, as `tenancy.unknown` says.
    fn decide(&self, found: Option<String>) -> Result<Arc<str>, Unidentified> {
        let named = match &found {
            Some(name) if well_formed(name) => match &self.known {
                Some(known) => known.get(name.as_str()).cloned(),
                None => Some(Arc::from(name.as_str())),
            },
            _ => None,
        };
        match (named, self.unknown) {
            (Some(tenant), _) => Ok(tenant),
            (None, UnknownTenant::Default) => Ok(self.default.clone()),
            (None, UnknownTenant::Refuse) => Err(Unidentified(match found {
                Some(name) if well_formed(&name) => format!("tenant `{name}` is not known"),
                Some(_) => "the tenant name is malformed".into(),
                None => "the request names no tenant".into(),
            })),
        }
    }
}

/// Tenant names end up in metric labels and headers: letters, digits,
/// `-`, `_` and `.`, at most 128.
fn well_formed(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn from_source(
    source: &TenantSource,
    principal: &Principal,
    signal: Signal,
    payload: &[u8],
) -> Option<String> {
    match source {
        TenantSource::ClientCert { field, pattern } => {
            let cert = principal.cert.as_ref()?;
            let candidates: Vec<&str> = match field {
                CertField::Cn => cert.cn.iter().map(String::as_str).collect(),
                CertField::SanDns => cert.dns.iter().map(String::as_str).collect(),
                CertField::SanUri => cert.uris.iter().map(String::as_str).collect(),
            };
            candidates.into_iter().find_map(|value| match pattern {
                Some(pattern) => capture(pattern, value),
                None => Some(value.to_string()),
            })
        }
        TenantSource::AuthUser => principal.user.clone(),
        TenantSource::Header { name } => principal
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
        TenantSource::ResourceAttribute { key } => resource_attribute(signal, payload, key),
    }
}

/// What `*` stands for when `value` matches `pattern` (one `*`, non-empty).
fn capture(pattern: &str, value: &str) -> Option<String> {
    let (prefix, suffix) = pattern.split_once('*')?;
    let middle = value.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!middle.is_empty()).then(|| middle.to_string())
}

/// The string value of `key` in the first resource of a request, read off
/// the wire: request.1 (resource_*) → .1 (resource) → .1 (attributes:
/// KeyValue) → key 1, value 2 → AnyValue.string_value 1.
fn resource_attribute(_signal: Signal, payload: &[u8], key: &str) -> Option<String> {
    let first = |message: &[u8], number: u32| -> Option<Vec<u8>> {
        FieldReader::new(message, 0)
            .map_while(Result::ok)
            .find(|f| f.number == number && f.wire_type == WireType::LengthDelimited)
            .map(|f| f.value.to_vec())
    };
    let resource_x = first(payload, 1)?;
    let resource = first(&resource_x, 1)?;
    for attribute in FieldReader::new(&resource, 0).map_while(Result::ok) {
        if attribute.number != 1 || attribute.wire_type != WireType::LengthDelimited {
            continue;
        }
        let Ok((k, value)) = weir_wire::key_value(attribute.value) else {
            continue;
        };
        if k == key.as_bytes() {
            let text = first(value, 1)?;
            return String::from_utf8(text).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tenancy::TenancyConfig;

    fn tenancy(sources: Vec<TenantSource>, unknown: UnknownTenant, known: &[&str]) -> Tenancy {
        Tenancy::new(
            &TenancyConfig {
                sources,
                unknown,
                default_tenant: "default".into(),
            },
            (!known.is_empty()).then(|| known.iter().map(|s| s.to_string()).collect()),
        )
    }

    fn with_header(name: &str, value: &str) -> Principal {
        let mut p = Principal::default();
        p.headers.insert(
            http::HeaderName::try_from(name).unwrap(),
            value.parse().unwrap(),
        );
        p
    }

    #[test]
    fn the_first_source_that_yields_wins() {
        let t = tenancy(
            vec![
                TenantSource::ClientCert {
                    field: CertField::SanUri,
                    pattern: Some("spiffe://acme.org/tenant/*".into()),
                },
                TenantSource::AuthUser,
                TenantSource::Header {
                    name: "X-Scope-OrgID".into(),
                },
            ],
            UnknownTenant::Refuse,
            &[],
        );
        let mut p = with_header("x-scope-orgid", "from-header");
        assert_eq!(&*t.resolve(&p, Signal::Traces, &[]).unwrap(), "from-header");
        p.user = Some("alice".into());
        assert_eq!(&*t.resolve(&p, Signal::Traces, &[]).unwrap(), "alice");
        p.cert = Some(Arc::new(CertIdentity {
            cn: Some("ignored".into()),
            dns: vec![],
            uris: vec!["urn:x".into(), "spiffe://acme.org/tenant/blue".into()],
        }));
        assert_eq!(&*t.resolve(&p, Signal::Traces, &[]).unwrap(), "blue");
        assert_eq!(
            t.resolve(&Principal::default(), Signal::Traces, &[]),
            Err(Unidentified("the request names no tenant".into()))
        );
    }

    #[test]
    fn unknown_tenants_go_to_the_default_or_are_refused() {
        let header = vec![TenantSource::Header {
            name: "X-Scope-OrgID".into(),
        }];
        let p = with_header("x-scope-orgid", "mallory");
        let lenient = tenancy(header.clone(), UnknownTenant::Default, &["a"]);
        assert_eq!(&*lenient.resolve(&p, Signal::Logs, &[]).unwrap(), "default");
        let strict = tenancy(header, UnknownTenant::Refuse, &["a"]);
        assert_eq!(
            strict.resolve(&p, Signal::Logs, &[]),
            Err(Unidentified("tenant `mallory` is not known".into()))
        );
        let a = with_header("x-scope-orgid", "a");
        assert_eq!(&*strict.resolve(&a, Signal::Logs, &[]).unwrap(), "a");
        let bad = with_header("x-scope-orgid", "a b");
        assert!(strict.resolve(&bad, Signal::Logs, &[]).is_err());
    }

    #[test]
    fn the_tenant_is_known_early_unless_the_body_must_be_read() {
        let header = TenantSource::Header {
            name: "X-Scope-OrgID".into(),
        };
        let attribute = TenantSource::ResourceAttribute {
            key: "tenant.id".into(),
        };
        let p = with_header("x-scope-orgid", "a");
        let t = tenancy(
            vec![header.clone(), attribute.clone()],
            UnknownTenant::Refuse,
            &["a"],
        );
        assert_eq!(&*t.resolve_early(&p).unwrap().unwrap(), "a");
        // No header: the body's resource attribute may still name one.
        assert!(t.resolve_early(&Principal::default()).is_none());
        let t = tenancy(
            vec![attribute, header.clone()],
            UnknownTenant::Refuse,
            &["a"],
        );
        assert!(t.resolve_early(&p).is_none());
        // Only headers: an unknown tenant is refused before the body.
        let t = tenancy(vec![header], UnknownTenant::Refuse, &["a"]);
        assert!(t.resolve_early(&Principal::default()).unwrap().is_err());
    }

    #[test]
    fn reads_a_resource_attribute_off_the_wire() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
        use opentelemetry_proto::tonic::resource::v1::Resource;
        use prost::Message;
        let kv = crate::test_util::kv;
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "api"), kv("tenant.id", "green")],
                    ..Default::default()
                }),
                ..Default::default()
            }],
        };
        let bytes = request.encode_to_vec();
        let t = tenancy(
            vec![TenantSource::ResourceAttribute {
                key: "tenant.id".into(),
            }],
            UnknownTenant::Refuse,
            &[],
        );
        assert_eq!(
            &*t.resolve(&Principal::default(), Signal::Logs, &bytes)
                .unwrap(),
            "green"
        );
    }
}
