//! What a verified client certificate says about its holder, read once per
//! connection at the TLS handshake.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The names in a client's leaf certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertIdentity {
    /// Subject common name.
    pub cn: Option<String>,
    /// DNS subject alternative names.
    pub dns: Vec<String>,
    /// URI subject alternative names (SPIFFE ids and the like).
    pub uris: Vec<String>,
}

impl CertIdentity {
    /// Reads the names of a DER certificate; `None` if it does not parse
    /// (rustls verified it already, so this does not happen in practice).
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let mut out = CertIdentity {
            cn,
            ..Default::default()
        };
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(d) => out.dns.push(d.to_string()),
                    GeneralName::URI(u) => out.uris.push(u.to_string()),
                    _ => {}
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cn_of_a_generated_client_certificate() {
        let certs = crate::certs::generate(&crate::certs::CertsRequest {
            client_cn: "team-a".into(),
            ..Default::default()
        })
        .unwrap();
        let der = rustls_pemfile::certs(&mut certs.client_crt.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let id = CertIdentity::from_der(&der).unwrap();
        assert_eq!(id.cn.as_deref(), Some("team-a"));
        let der = rustls_pemfile::certs(&mut certs.server_crt.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let id = CertIdentity::from_der(&der).unwrap();
        assert_eq!(id.dns, vec!["localhost".to_string()]);
    }
}
