//! `bearertokenauth`: a static token (or several, for rotation) in a
//! header, `Authorization: Bearer <token>` by default.

use subtle::ConstantTimeEq;

use super::{AuthError, AuthFailure, Authenticated};
use crate::config::auth::BearerTokenAuthConfig;

/// The accepted tokens and where they are read from.
#[derive(Debug)]
pub struct BearerTokens {
    header: http::HeaderName,
    scheme: String,
    tokens: Vec<Vec<u8>>,
}

impl BearerTokens {
    pub fn load(config: &BearerTokenAuthConfig) -> Result<Self, AuthError> {
        let mut tokens: Vec<Vec<u8>> = config
            .tokens
            .iter()
            .map(|t| t.clone().into_bytes())
            .collect();
        tokens.extend(config.token.iter().map(|t| t.clone().into_bytes()));
        if let Some(path) = &config.filename {
            let text = std::fs::read_to_string(path).map_err(|e| AuthError::TokenFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let token = text.trim();
            if token.is_empty() {
                return Err(AuthError::EmptyToken {
                    path: path.display().to_string(),
                });
            }
            tokens.push(token.as_bytes().to_vec());
        }
        Ok(BearerTokens {
            header: http::HeaderName::try_from(config.header.as_str())
                .unwrap_or(http::header::AUTHORIZATION),
            scheme: config.scheme.clone(),
            tokens,
        })
    }

    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Authenticated, AuthFailure> {
        let value = headers.get(&self.header).ok_or(AuthFailure::Missing)?;
        let value = value.to_str().map_err(|_| AuthFailure::Malformed)?.trim();
        let token = if self.scheme.is_empty() {
            value
        } else {
            let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::Malformed)?;
            if !scheme.eq_ignore_ascii_case(&self.scheme) {
                return Err(AuthFailure::Malformed);
            }
            token.trim()
        };
        // Compare against every token in constant time, so timing tells nothing.
        let mut matched = subtle::Choice::from(0);
        for accepted in &self.tokens {
            matched |= accepted.as_slice().ct_eq(token.as_bytes());
        }
        if bool::from(matched) {
            Ok(Authenticated { user: None })
        } else {
            Err(AuthFailure::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(scheme: &str, header: &str, token: &str) -> BearerTokens {
        BearerTokens::load(&BearerTokenAuthConfig {
            scheme: scheme.into(),
            header: header.into(),
            token: Some(token.into()),
            tokens: vec!["old".into()],
            filename: None,
        })
        .unwrap()
    }

    fn headers(name: &str, value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::HeaderName::try_from(name).unwrap(),
            value.parse().unwrap(),
        );
        h
    }

    #[test]
    fn checks_scheme_and_token() {
        let t = tokens("Bearer", "Authorization", "s3cret");
        assert!(
            t.authenticate(&headers("authorization", "Bearer s3cret"))
                .is_ok()
        );
        assert!(
            t.authenticate(&headers("authorization", "bearer old"))
                .is_ok()
        );
        assert_eq!(
            t.authenticate(&headers("authorization", "Bearer nope")),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(
            t.authenticate(&headers("authorization", "Basic s3cret")),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            t.authenticate(&http::HeaderMap::new()),
            Err(AuthFailure::Missing)
        );
    }

    #[test]
    fn a_bare_token_in_another_header() {
        let t = tokens("", "X-Api-Key", "k1");
        assert!(t.authenticate(&headers("x-api-key", "k1")).is_ok());
        assert_eq!(
            t.authenticate(&headers("x-api-key", "Bearer k1")),
            Err(AuthFailure::Invalid)
        );
    }
}
