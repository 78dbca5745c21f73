//! `weir certs generate`: a development CA, a server certificate and a
//! client certificate, as the files the OpenTelemetry Collector's mTLS
//! examples use (ca.crt, server.crt, server.key, client.crt, client.key).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Why the certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("cannot make the certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("`{0}` is not a DNS name or an IP address")]
    BadHost(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What to put in the certificates.
#[derive(Debug, Clone)]
pub struct CertsRequest {
    /// Names and addresses the server certificate is valid for.
    pub hosts: Vec<String>,
    /// Common name of the client certificate (a tenant can be derived from it).
    pub client_cn: String,
}

impl Default for CertsRequest {
    fn default() -> Self {
        CertsRequest {
            hosts: vec!["localhost".into(), "127.0.0.1".into()],
            client_cn: "weir-client".into(),
        }
    }
}

/// The PEM texts made by [`generate`].
#[derive(Debug, Clone)]
pub struct Certs {
    pub ca_crt: String,
    pub server_crt: String,
    pub server_key: String,
    pub client_crt: String,
    pub client_key: String,
}

/// Makes a CA and a server and client certificate signed by it.
pub fn generate(request: &CertsRequest) -> Result<Certs, CertsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Weir development CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut server_params = CertificateParams::new(request.hosts.clone())
        .map_err(|_| CertsError::BadHost(request.hosts.join(",")))?;
    server_params.distinguished_name.push(
        DnType::CommonName,
        request.hosts.first().map(String::as_str).unwrap_or("weir"),
    );
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let server_key = KeyPair::generate()?;
    let server = server_params.signed_by(&server_key, &ca)?;

    let mut client_params = CertificateParams::new(Vec::<String>::new())?;
    client_params
        .distinguished_name
        .push(DnType::CommonName, request.client_cn.as_str());
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let client_key = KeyPair::generate()?;
    let client = client_params.signed_by(&client_key, &ca)?;

    Ok(Certs {
        ca_crt: ca.pem(),
        server_crt: server.pem(),
        server_key: server_key.serialize_pem(),
        client_crt: client.pem(),
        client_key: client_key.serialize_pem(),
    })
}

/// Writes the five files into `dir` (created if missing); keys are 0600.
pub fn write(certs: &Certs, dir: &Path) -> Result<Vec<PathBuf>, CertsError> {
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = [
        ("ca.crt", &certs.ca_crt, false),
        ("server.crt", &certs.server_crt, false),
        ("server.key", &certs.server_key, true),
        ("client.crt", &certs.client_crt, false),
        ("client.key", &certs.client_key, true),
    ];
    let mut written = Vec::new();
    for (name, pem, secret) in files {
        let path = dir.join(name);
        write_file(&path, pem, secret).map_err(|source| CertsError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, text: &str, secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_chain_rustls_accepts() {
        let certs = generate(&CertsRequest::default()).unwrap();
        let ca: Vec<_> = rustls_pemfile::certs(&mut certs.ca_crt.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca[0].clone()).unwrap();
        let server: Vec<_> = rustls_pemfile::certs(&mut certs.server_crt.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            provider,
        )
        .build()
        .unwrap();
        use rustls::client::danger::ServerCertVerifier;
        for host in ["localhost", "127.0.0.1"] {
            let name = rustls::pki_types::ServerName::try_from(host).unwrap();
            verifier
                .verify_server_cert(
                    &server[0],
                    &[],
                    &name,
                    &[],
                    rustls::pki_types::UnixTime::now(),
                )
                .unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        assert!(
            rustls_pemfile::private_key(&mut certs.client_key.as_bytes())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn writes_five_files_with_private_keys() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(&generate(&CertsRequest::default()).unwrap(), dir.path()).unwrap();
        assert_eq!(files.len(), 5);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("server.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
