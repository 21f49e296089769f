//! JWTs (HS256) for signed-in people: issue, verify, revoke, and a bounded validation cache.
//!
//! jsonwebtoken's defaults are loose, so [`TokenKeys`] pins the algorithm, requires `exp`, `iat`, `sub`,
//! `iss`, `aud` (and `jti`, through [`Claims`]), checks issuer and audience, checks `nbf`, refuses an `iat`
//! in the future and refuses secrets shorter than 32 bytes.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// How long a token lives: seven days.
pub const TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 60 * 60;
/// The shortest accepted HMAC secret.
pub const MIN_SECRET_LEN: usize = 32;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 5;
/// Entries the validation cache holds at most.
const CACHE_CAPACITY: usize = 10_000;

/// The claims ANYON puts in (and demands from) every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// Why a token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the JWT secret is {0} bytes; at least {MIN_SECRET_LEN} are required")]
    WeakSecret(usize),
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("invalid token: {0}")]
    Decode(#[source] jsonwebtoken::errors::Error),
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token has been revoked")]
    Revoked,
    #[error("cannot sign the token: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
    #[error("cannot sign the token: {0}")]
    Random(#[source] std::io::Error),
}

/// The signing secret with issuer and audience, and the state verification needs.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    revoked: Mutex<HashSet<String>>,
    cache: Mutex<HashMap<String, Claims>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys for `secret`; refuses secrets shorter than [`MIN_SECRET_LEN`].
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(TokenError::WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            revoked: Mutex::new(HashSet::new()),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The issuer this server writes and demands.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience this server writes and demands.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// A fresh token for `sub`, valid for [`TOKEN_LIFETIME_SECS`] from `now`.
    pub fn issue(&self, sub: &str, now: i64) -> Result<(String, Claims), TokenError> {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: sub.to_owned(),
            iat: now,
            exp: now + TOKEN_LIFETIME_SECS,
            jti: crate::util::hex::random(16).map_err(TokenError::Random)?,
            nbf: None,
        };
        let token = self.sign(&claims)?;
        Ok((token, claims))
    }

    /// Signs arbitrary claims with this server's secret (tests make odd tokens with it).
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(TokenError::Sign)
    }

    /// Verifies `token` at `now`: signature, algorithm, claims, revocation. Successful checks are cached
    /// until the token's `exp`; revocation empties the entry.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        if let Some(claims) = self.cache_get(token) {
            if claims.exp > now {
                if self.is_revoked(&claims.jti) {
                    return Err(TokenError::Revoked);
                }
                return Ok(claims);
            }
            self.cache_remove(token);
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(TokenError::Decode)?;
        let claims = data.claims;
        // The crate checks against the system clock; check against `now` too.
        if claims.exp <= now {
            return Err(TokenError::Invalid("expired".into()));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECS as i64) {
            return Err(TokenError::Invalid("not yet valid".into()));
        }
        if claims.iat > now + LEEWAY_SECS as i64 {
            return Err(TokenError::IssuedInFuture);
        }
        if claims.jti.is_empty() || claims.sub.is_empty() {
            return Err(TokenError::Invalid("empty jti or sub".into()));
        }
        if self.is_revoked(&claims.jti) {
            return Err(TokenError::Revoked);
        }
        // Tokens not yet valid stay out of the cache, so `nbf` is checked again next time.
        if claims.nbf.is_none_or(|nbf| nbf <= now) {
            self.cache_put(token, &claims, now);
        }
        Ok(claims)
    }

    /// Marks `jti` revoked for this process (the caller persists it).
    pub fn revoke(&self, jti: &str) {
        if let Ok(mut revoked) = self.revoked.lock() {
            revoked.insert(jti.to_owned());
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, claims| claims.jti != jti);
        }
    }

    /// Whether `jti` has been revoked.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.lock().map(|set| set.contains(jti)).unwrap_or(true)
    }

    /// How many verified tokens the cache holds.
    pub fn cache_len(&self) -> usize {
        self.cache.lock().map(|cache| cache.len()).unwrap_or(0)
    }

    fn cache_get(&self, token: &str) -> Option<Claims> {
        self.cache.lock().ok()?.get(token).cloned()
    }

    fn cache_remove(&self, token: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(token);
        }
    }

    fn cache_put(&self, token: &str, claims: &Claims, now: i64) {
        let Ok(mut cache) = self.cache.lock() else { return };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, claims| claims.exp > now);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(token.to_owned(), claims.clone());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            TokenKeys::new(b"short", "i", "a"),
            Err(TokenError::WeakSecret(5))
        ));
        assert!(matches!(TokenKeys::new(b"", "i", "a"), Err(TokenError::WeakSecret(0))));
    }

    #[test]
    fn issued_tokens_verify_and_revocation_beats_the_cache() {
        let keys = TokenKeys::new(SECRET, "iss", "aud").unwrap();
        // The crate checks `exp` against the system clock too, so the times here are real ones.
        let now = chrono::Utc::now().timestamp();
        let (token, claims) = keys.issue("user-1", now).unwrap();
        assert_eq!(keys.verify(&token, now).unwrap(), claims);
        assert_eq!(keys.cache_len(), 1);
        assert_eq!(keys.verify(&token, now + 1).unwrap().sub, "user-1");
        keys.revoke(&claims.jti);
        assert!(matches!(keys.verify(&token, now + 2), Err(TokenError::Revoked)));
        assert_eq!(keys.cache_len(), 0);
    }

    #[test]
    fn the_cache_never_outlives_exp() {
        let keys = TokenKeys::new(SECRET, "iss", "aud").unwrap();
        let now = chrono::Utc::now().timestamp();
        let (token, claims) = keys.issue("user-1", now).unwrap();
        keys.verify(&token, now).unwrap();
        assert!(keys.verify(&token, claims.exp).is_err());
        assert!(keys.verify(&token, claims.exp + 1).is_err());
    }
}
