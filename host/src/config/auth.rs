//! `extensions:` that authenticate requests on a receiver, as the
//! OpenTelemetry Collector spells them (`basicauth`, `bearertokenauth`), and
//! the `auth:` block a receiver protocol names one with.

use std::path::PathBuf;

use serde::Deserialize;

/// `extensions: basicauth[/name]`: HTTP Basic credentials checked against
/// an htpasswd file and/or inline htpasswd lines.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    /// Where the users are; at least one of `file` and `inline`.
    pub htpasswd: HtpasswdConfig,
}

/// `htpasswd:` of `basicauth`. Hashes accepted as the Go collector accepts
/// them: bcrypt (`$2a$`, `$2b$`, `$2y$`), `$apr1$` and `$1$` MD5-crypt,
/// `{SHA}`, `{SSHA}`, `$5$`/`$6$` SHA-crypt, and plain text as the fallback.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HtpasswdConfig {
    /// An htpasswd file (`user:hash` per line), read at start and on reload.
    pub file: Option<PathBuf>,
    /// htpasswd lines written in the config.
    pub inline: Option<String>,
}

/// `extensions: bearertokenauth[/name]`: a static token in a header.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerTokenAuthConfig {
    /// The word before the token. Default `Bearer`; empty means the header
    /// holds the bare token.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// The header holding it. Default `Authorization`.
    #[serde(default = "default_header")]
    pub header: String,
    /// The token.
    #[serde(default)]
    pub token: Option<String>,
    /// Several accepted tokens (rotation).
    #[serde(default)]
    pub tokens: Vec<String>,
    /// A file whose content (trimmed) is the token; re-read on reload.
    #[serde(default)]
    pub filename: Option<PathBuf>,
}

fn default_scheme() -> String {
    "Bearer".into()
}

fn default_header() -> String {
    "Authorization".into()
}

/// `auth:` of a receiver protocol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverAuthConfig {
    /// Id of an authenticator extension listed in `service.extensions`.
    pub authenticator: String,
}
