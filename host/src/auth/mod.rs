//! Server authenticators, built from `extensions:` (`basicauth`,
//! `bearertokenauth`) and checked by a receiver before it reads a request's
//! body. A failure says only *why* in general terms: the credential itself
//! is never logged or echoed.

mod bearer;
mod htpasswd;

use std::sync::Arc;

pub use bearer::BearerTokens;
pub use htpasswd::{Htpasswd, HtpasswdError};

use crate::config::ExtensionConfig;

/// Why a request did not authenticate (the `reason` label of
/// `weir_receiver_auth_failures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No credential in the request.
    #[error("missing credentials")]
    Missing,
    /// A credential in the wrong form (not Basic, not the scheme, not base64).
    #[error("malformed credentials")]
    Malformed,
    /// A credential that does not match.
    #[error("invalid credentials")]
    Invalid,
}

impl AuthFailure {
    pub fn label(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Invalid => "invalid",
        }
    }
}

/// Why an authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Htpasswd(#[from] HtpasswdError),
    #[error("cannot read the token file {path}: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("the token file {path} is empty")]
    EmptyToken { path: String },
}

/// Who a request authenticated as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authenticated {
    /// The user name (basic auth); bearer tokens carry none.
    pub user: Option<String>,
}

/// A configured authenticator extension.
#[derive(Debug, Clone)]
pub enum Authenticator {
    Basic(Arc<Htpasswd>),
    Bearer(Arc<BearerTokens>),
}

impl Authenticator {
    /// Builds an authenticator, reading the files its config names; `None`
    /// for an extension that does not authenticate.
    pub fn build(config: &ExtensionConfig) -> Result<Option<Self>, AuthError> {
        Ok(Some(match config {
            ExtensionConfig::BasicAuth(c) => Authenticator::Basic(Arc::new(Htpasswd::load(
                c.htpasswd.file.as_deref(),
                c.htpasswd.inline.as_deref(),
            )?)),
            ExtensionConfig::BearerTokenAuth(c) => {
                Authenticator::Bearer(Arc::new(BearerTokens::load(c)?))
            }
            ExtensionConfig::HealthCheck(_) | ExtensionConfig::FileStorage(_) => return Ok(None),
        }))
    }

    /// Checks a request's headers (gRPC metadata are headers too).
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Authenticated, AuthFailure> {
        match self {
            Authenticator::Basic(h) => h.authenticate(headers),
            Authenticator::Bearer(b) => b.authenticate(headers),
        }
    }
}
