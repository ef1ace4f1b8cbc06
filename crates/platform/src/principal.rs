//! Who is calling: the principal the gateway authenticated, carried to each
//! service as a signed token in gRPC metadata, and checked there.
//!
//! The gateway authenticates (API keys today, OIDC later) and signs
//! `{sub, role, exp}` with HMAC-SHA256 under a secret shared by the targets.
//! A service trusts nothing else: a call without a valid, unexpired token is
//! refused with UNAUTHENTICATED before any handler runs, and each handler
//! then decides object-level access from the `Principal` it is given.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tonic::{Request, Status};

use crate::{Error, ids};

/// gRPC metadata key carrying the signed principal.
pub const METADATA_KEY: &str = "x-gearshift-principal";

/// How long a signed principal stays valid: long enough for one request's
/// hops, short enough that a captured token is of little use.
pub const TOKEN_TTL_SECS: u64 = 120;

/// What a caller may do. Parsed from and shown as `operator`, `reviewer`,
/// `institute:<CODE>`, `supplier:<supplier id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// City programme staff: everything.
    Operator,
    /// Financing reviewers (the second pair of eyes).
    Reviewer,
    /// A partner institute, by its code (`KATECH`).
    Institute(String),
    /// A company, limited to its own records.
    Supplier(String),
    /// A caller without an API key, of a method its proto marks public
    /// (`gearshift.api.public`); never a key's role.
    Public,
}

impl Role {
    /// Parses a role, saying what is wrong when it is not one.
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw.split_once(':') {
            None if raw == "operator" => Ok(Role::Operator),
            None if raw == "reviewer" => Ok(Role::Reviewer),
            None if raw == "public" => Ok(Role::Public),
            Some(("institute", code)) => {
                if crate::check::is_institute_code(code) {
                    Ok(Role::Institute(code.to_string()))
                } else {
                    Err(format!(
                        "institute code {code:?} must be 2-16 upper-case letters or digits, e.g. institute:KATECH"
                    ))
                }
            }
            Some(("supplier", id)) if ids::is_valid("sup", id) => {
                Ok(Role::Supplier(id.to_string()))
            }
            Some(("supplier", id)) => Err(format!(
                "supplier id {id:?} is not a supplier id (sup_ followed by 26 characters)"
            )),
            _ => Err(format!(
                "unknown role {raw:?}: expected operator, reviewer, institute:<CODE> or supplier:<supplier id>"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Operator => f.write_str("operator"),
            Role::Reviewer => f.write_str("reviewer"),
            Role::Institute(code) => write!(f, "institute:{code}"),
            Role::Supplier(id) => write!(f, "supplier:{id}"),
            Role::Public => f.write_str("public"),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The credential behind the call (an API key id, `key_…`).
    pub subject: String,
    pub role: Role,
}

impl Principal {
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// Refuses anyone but an operator.
    pub fn require_operator(&self) -> Result<(), Error> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "this needs the operator role; the key has role {}",
                self.role
            )))
        }
    }

    /// The principal a handler was called with. The interceptor put it
    /// there; its absence means the service was wired without one.
    pub fn from_request<T>(request: &Request<T>) -> Result<Principal, Error> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Error::Unauthenticated("no principal on the call".into()))
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    exp: u64,
}

/// The shared HMAC secret that signs principals.
#[derive(Clone)]
pub struct PrincipalKey(Arc<Vec<u8>>);

impl fmt::Debug for PrincipalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrincipalKey(***)")
    }
}

type Token = tonic::metadata::MetadataValue<tonic::metadata::Ascii>;

/// Tokens signed for principals, by (subject, role), with their expiry.
#[derive(Debug, Default)]
pub struct SignedTokens(
    std::sync::RwLock<std::collections::HashMap<(String, String), (Token, u64)>>,
);

const SIGNED_TOKENS_MAX: usize = 10_000;

impl PrincipalKey {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the principal secret must be at least 32 bytes".into());
        }
        Ok(Self(Arc::new(secret.to_vec())))
    }

    /// The configured secret, or else the one in `{data_dir}/principal.secret`,
    /// made (random, mode 0600) on first use. Targets on one machine sharing
    /// a data folder thus agree without configuration; across machines, set
    /// `GEARSHIFT_PRINCIPAL_SECRET` on every target.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(secret) = configured.filter(|s| !s.is_empty()) {
            return Self::new(secret.as_bytes()).map_err(anyhow::Error::msg);
        }
        let path = data_dir.join("principal.secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Self::new(existing.trim().as_bytes()).map_err(anyhow::Error::msg);
        }
        std::fs::create_dir_all(data_dir)?;
        let secret = crate::ids::random_token(32);
        crate::write_private_file(&path, &secret)?;
        Self::new(secret.as_bytes()).map_err(anyhow::Error::msg)
    }

    /// Signs `principal` for the next hop.
    pub fn sign(&self, principal: &Principal) -> String {
        let exp = unix_now() + TOKEN_TTL_SECS;
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role.to_string(),
            exp,
        };
        // Serialising a struct of strings and an integer cannot fail.
        let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mac = self.mac(payload.as_bytes());
        format!("v1.{payload}.{}", B64.encode(mac))
    }

    /// Signs `principal` for the next hop, reusing a token signed earlier
    /// while it has more than half its life left: signing (JSON, base64,
    /// HMAC) on every request is work the gateway need not do.
    pub fn sign_cached(&self, cache: &SignedTokens, principal: &Principal) -> Result<Token, Error> {
        let now = unix_now();
        let id = (principal.subject.clone(), principal.role.to_string());
        if let Some((token, exp)) = cache.0.read().unwrap_or_else(|e| e.into_inner()).get(&id)
            && *exp > now + TOKEN_TTL_SECS / 2
        {
            return Ok(token.clone());
        }
        let token = tonic::metadata::MetadataValue::try_from(self.sign(principal))
            .map_err(Error::internal)?;
        let mut tokens = cache.0.write().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= SIGNED_TOKENS_MAX {
            tokens.clear();
        }
        tokens.insert(id, (token.clone(), now + TOKEN_TTL_SECS));
        Ok(token)
    }

    /// Checks a token's signature and expiry and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, Error> {
        let bad = || Error::Unauthenticated("the principal token is invalid".into());
        let mut parts = token.split('.');
        let (Some("v1"), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let sig = B64.decode(sig).map_err(|_| bad())?;
        let mut mac = self.hmac();
        mac.update(payload.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        if claims.exp < unix_now() {
            return Err(Error::Unauthenticated(
                "the principal token has expired".into(),
            ));
        }
        let role = Role::parse(&claims.role).map_err(|_| bad())?;
        Ok(Principal {
            subject: claims.sub,
            role,
        })
    }

    fn hmac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = self.hmac();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Server-side interceptor: verifies the principal on every call and puts
/// it in the request's extensions; refuses the call otherwise.
#[derive(Clone, Debug)]
pub struct Authenticate {
    key: PrincipalKey,
}

impl Authenticate {
    pub fn new(key: PrincipalKey) -> Self {
        Self { key }
    }
}

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = request
            .metadata()
            .get(METADATA_KEY)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Status::from(Error::Unauthenticated(
                    "this call carries no principal; call through the gateway with an API key"
                        .into(),
                ))
            })?;
        let principal = self.key.verify(token).map_err(Status::from)?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PrincipalKey {
        PrincipalKey::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn roles_round_trip_and_bad_ones_say_why() {
        let sup = crate::ids::new_id("sup");
        for raw in [
            "operator",
            "reviewer",
            "institute:KATECH",
            &format!("supplier:{sup}"),
        ] {
            assert_eq!(Role::parse(raw).unwrap().to_string(), raw);
        }
        assert!(Role::parse("admin").unwrap_err().contains("unknown role"));
        assert!(
            Role::parse("institute:katech")
                .unwrap_err()
                .contains("upper-case")
        );
        assert!(
            Role::parse("supplier:42")
                .unwrap_err()
                .contains("not a supplier id")
        );
    }

    #[test]
    fn signed_principal_verifies_and_tampering_is_refused() {
        let p = Principal {
            subject: "key_1".into(),
            role: Role::Institute("KETI".into()),
        };
        let token = key().sign(&p);
        assert_eq!(key().verify(&token).unwrap(), p);

        // Another secret, an altered payload, or garbage: all refused.
        let other = PrincipalKey::new(&[8u8; 32]).unwrap();
        assert!(other.verify(&token).is_err());
        let forged_payload = B64.encode(br#"{"sub":"key_1","role":"operator","exp":99999999999}"#);
        let sig = token.rsplit('.').next().unwrap();
        assert!(key().verify(&format!("v1.{forged_payload}.{sig}")).is_err());
        assert!(key().verify("v1.x").is_err());
    }

    #[test]
    fn expired_principal_is_refused() {
        let claims = Claims {
            sub: "key_1".into(),
            role: "operator".into(),
            exp: unix_now() - 1,
        };
        let payload = B64.encode(serde_json::to_vec(&claims).unwrap());
        let token = format!("v1.{payload}.{}", B64.encode(key().mac(payload.as_bytes())));
        let err = key().verify(&token).unwrap_err();
        assert!(err.to_string().contains("expired"));
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(PrincipalKey::new(b"short").is_err());
    }

    #[test]
    fn secret_file_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = PrincipalKey::load_or_create(None, dir.path()).unwrap();
        let b = PrincipalKey::load_or_create(None, dir.path()).unwrap();
        let p = Principal {
            subject: "k".into(),
            role: Role::Operator,
        };
        assert!(b.verify(&a.sign(&p)).is_ok());
    }

    #[test]
    fn a_signed_principal_is_reused_while_fresh_and_still_verifies() {
        let key = PrincipalKey::new(&[9u8; 32]).unwrap();
        let cache = SignedTokens::default();
        let operator = Principal {
            subject: "key_1".into(),
            role: Role::Operator,
        };
        let first = key.sign_cached(&cache, &operator).unwrap();
        let again = key.sign_cached(&cache, &operator).unwrap();
        assert_eq!(first, again, "reused, not signed again");
        assert_eq!(key.verify(first.to_str().unwrap()).unwrap(), operator);
        let reviewer = Principal {
            subject: "key_1".into(),
            role: Role::Reviewer,
        };
        let other = key.sign_cached(&cache, &reviewer).unwrap();
        assert_ne!(first, other, "a token per subject and role");
        assert_eq!(key.verify(other.to_str().unwrap()).unwrap(), reviewer);
    }
}
