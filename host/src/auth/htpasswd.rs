//! `basicauth`: HTTP Basic credentials against htpasswd lines, with the
//! hashes the Go collector's `basicauth` (go-htpasswd) accepts: bcrypt,
//! `$apr1$` and `$1$` MD5-crypt, `{SHA}`, `{SSHA}`, `$5$`/`$6$` SHA-crypt,
//! and plain text when a hash has none of those prefixes.
//!
//! bcrypt costs tens of milliseconds by design; a successful check is
//! remembered (as a SHA-256 of user and password, never the password) so a
//! client sending the same credentials on every request pays once.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{AuthFailure, Authenticated};

/// Successful checks remembered at most (then the memory starts over).
const REMEMBERED: usize = 4096;

/// What is wrong with the htpasswd source.
#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    #[error("cannot read the htpasswd file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("htpasswd {source_name} line {line}: expected `user:hash`")]
    Line { source_name: String, line: usize },
    #[error("htpasswd has no users")]
    Empty,
}

/// Users and their password hashes.
#[derive(Debug)]
pub struct Htpasswd {
    users: HashMap<String, String>,
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl Htpasswd {
    /// Reads the file (if any), then the inline lines; a user in both is
    /// taken from the inline lines.
    pub fn load(file: Option<&Path>, inline: Option<&str>) -> Result<Self, HtpasswdError> {
        let mut users = HashMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| HtpasswdError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            parse(&text, &path.display().to_string(), &mut users)?;
        }
        if let Some(text) = inline {
            parse(text, "inline", &mut users)?;
        }
        if users.is_empty() {
            return Err(HtpasswdError::Empty);
        }
        Ok(Htpasswd {
            users,
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// Checks `Authorization: Basic base64(user:password)`.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Authenticated, AuthFailure> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(AuthFailure::Missing)?
            .to_str()
            .map_err(|_| AuthFailure::Malformed)?;
        let (scheme, encoded) = value.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(AuthFailure::Malformed);
        }
        let decoded = BASE64
            .decode(encoded.trim())
            .map_err(|_| AuthFailure::Malformed)?;
        let decoded = String::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
        let (user, password) = decoded.split_once(':').ok_or(AuthFailure::Malformed)?;
        if self.check(user, password) {
            Ok(Authenticated {
                user: Some(user.to_string()),
            })
        } else {
            Err(AuthFailure::Invalid)
        }
    }

    /// Whether `password` is `user`'s.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .chain_update([0])
            .chain_update(hash.as_bytes())
            .finalize()
            .into();
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.contains(&key) {
            return true;
        }
        drop(verified);
        if !verify(password, hash) {
            return false;
        }
        verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= REMEMBERED {
            verified.clear();
        }
        verified.insert(key);
        true
    }
}

fn parse(
    text: &str,
    source_name: &str,
    users: &mut HashMap<String, String>,
) -> Result<(), HtpasswdError> {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((user, hash)) if !user.is_empty() => {
                users.insert(user.to_string(), hash.to_string());
            }
            _ => {
                return Err(HtpasswdError::Line {
                    source_name: source_name.to_string(),
                    line: i + 1,
                });
            }
        }
    }
    Ok(())
}

/// Checks a password against one htpasswd hash, by its prefix.
fn verify(password: &str, hash: &str) -> bool {
    if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
    {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        return md5_crypt_matches(password, "$apr1$", rest);
    }
    if let Some(rest) = hash.strip_prefix("$1$") {
        return md5_crypt_matches(password, "$1$", rest);
    }
    if hash.starts_with("$5$") || hash.starts_with("$6$") {
        use sha_crypt::PasswordVerifier;
        return sha_crypt::ShaCrypt::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
    }
    if let Some(encoded) = hash.strip_prefix("{SHA}") {
        let digest = sha1::Sha1::digest(password.as_bytes());
        return BASE64
            .decode(encoded)
            .is_ok_and(|d| bool::from(d.as_slice().ct_eq(digest.as_slice())));
    }
    if let Some(encoded) = hash.strip_prefix("{SSHA}") {
        let Ok(decoded) = BASE64.decode(encoded) else {
            return false;
        };
        if decoded.len() <= 20 {
            return false;
        }
        let (digest, salt) = decoded.split_at(20);
        let actual = sha1::Sha1::new()
            .chain_update(password.as_bytes())
            .chain_update(salt)
            .finalize();
        return bool::from(actual.as_slice().ct_eq(digest));
    }
    // No known prefix: a plain-text password, as go-htpasswd accepts.
    bool::from(password.as_bytes().ct_eq(hash.as_bytes()))
}

/// `salt$hash` after the magic, checked with MD5-crypt (`$1$`) or its
/// Apache variant (`$apr1$`), which differ only in the magic.
fn md5_crypt_matches(password: &str, magic: &str, rest: &str) -> bool {
    let Some((salt, expected)) = rest.split_once('$') else {
        return false;
    };
    let salt = &salt[..salt.len().min(8)];
    let actual = md5_crypt(password.as_bytes(), magic.as_bytes(), salt.as_bytes());
    bool::from(actual.as_bytes().ct_eq(expected.as_bytes()))
}

/// Poul-Henning Kamp's MD5-crypt: the encoded 22-character hash.
fn md5_crypt(password: &[u8], magic: &[u8], salt: &[u8]) -> String {
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(magic)
        .chain_update(salt);
    let mut left = password.len();
    while left > 0 {
        ctx.update(&alternate[..left.min(16)]);
        left = left.saturating_sub(16);
    }
    let mut bits = password.len();
    while bits != 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..password.len().min(1)]);
        }
        bits >>= 1;
    }
    let mut digest = ctx.finalize();
    // 1000 rounds, to make it slower.
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(password);
        } else {
            c.update(digest);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round & 1 == 1 {
            c.update(digest);
        } else {
            c.update(password);
        }
        digest = c.finalize();
    }
    const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let d = digest;
    let mut out = String::with_capacity(22);
    let mut put = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put(
            (u32::from(d[a]) << 16) | (u32::from(d[b]) << 8) | u32::from(d[c]),
            4,
        );
    }
    put(u32::from(d[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hashes of "s3cret" made by `openssl passwd` and Python's hashlib,
    // independent of the code above.
    const LINES: &str = "\
# users
apr:$apr1$xyzsalt$46mF7obnb9sH9blgrPZAj0
md5:$1$abcd$ofJb3YcbYuAu5VuIH736J1
s256:$5$saltsalt$i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1.
s512:$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1
sha:{SHA}/vNB+F2HQ559kaLUZbmHHvZrXpg=
ssha:{SSHA}xhwvAVlxQgjdD+6rzZoVg7iQWZROYUNs
plain:s3cret
";

    #[test]
    fn every_hash_kind_checks_the_right_password_only() {
        let h = Htpasswd::load(None, Some(LINES)).unwrap();
        for user in ["apr", "md5", "s256", "s512", "sha", "ssha", "plain"] {
            assert!(h.check(user, "s3cret"), "{user} with the right password");
            assert!(!h.check(user, "s3cret!"), "{user} with a wrong password");
            assert!(!h.check(user, ""), "{user} with no password");
        }
        assert!(!h.check("nobody", "s3cret"));
    }

    #[test]
    fn apr1_matches_a_published_vector() {
        assert_eq!(
            md5_crypt(b"password", b"$apr1$", b"lZL6V/ci"),
            "eIMz/iKDkbtys/uU7LEK00"
        );
    }

    #[test]
    fn bcrypt_and_the_basic_header() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let h = Htpasswd::load(None, Some(&format!("alice:{hash}\n"))).unwrap();
        let mut headers = http::HeaderMap::new();
        let basic = |cred: &str| format!("Basic {}", BASE64.encode(cred)).parse().unwrap();
        headers.insert(http::header::AUTHORIZATION, basic("alice:pw"));
        assert_eq!(
            h.authenticate(&headers).unwrap().user.as_deref(),
            Some("alice")
        );
        // Remembered: the second check does not run bcrypt again, and still says yes.
        assert_eq!(h.verified.lock().unwrap().len(), 1);
        assert!(h.authenticate(&headers).is_ok());
        headers.insert(http::header::AUTHORIZATION, basic("alice:wrong"));
        assert_eq!(h.authenticate(&headers), Err(AuthFailure::Invalid));
        headers.insert(http::header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert_eq!(h.authenticate(&headers), Err(AuthFailure::Malformed));
    }

    #[test]
    fn a_line_without_a_colon_is_an_error() {
        let err = Htpasswd::load(None, Some("ok:x\nbroken\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "htpasswd inline line 2: expected `user:hash`"
        );
    }
}
