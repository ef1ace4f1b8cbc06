//! API keys: how callers authenticate to the REST API.
//!
//! A key's secret (`gsk_` + 43 URL-safe characters, 256 random bits) is shown
//! once, at creation; only its SHA-256 is stored. Each request's bearer token
//! is hashed and looked up; a short-lived cache keeps that lookup off the hot
//! path. Revocation clears this gateway's cache at once; other gateway
//! replicas notice within [`CACHE_TTL`].

pub mod grpc;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use gearshift_platform::db::Db;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role, ids};
use sha2::{Digest, Sha256};

/// How long an authenticated key is trusted without asking the database.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

/// Secrets start with this, so they are recognisable in config and scanners.
pub const SECRET_PREFIX: &str = "gsk_";

pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", ids::random_token(32))
}

pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Turns bearer tokens into principals.
#[derive(Debug)]
pub struct Authenticator {
    db: Db,
    cache: RwLock<HashMap<String, (Principal, Instant)>>,
}

impl Authenticator {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The principal of an enabled key with this secret.
    pub async fn authenticate(&self, secret: &str) -> Result<Principal, Error> {
        let hash = hash_secret(secret);
        if let Some((p, at)) = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(p.clone());
        }
        let key = store::find_enabled_by_hash(&self.db, &hash)
            .await?
            .ok_or_else(|| Error::Unauthenticated("the API key is unknown or revoked".into()))?;
        let role = Role::parse(&key.role)
            .map_err(|e| Error::internal(anyhow::anyhow!("stored role of {}: {e}", key.id)))?;
        let principal = Principal {
            subject: key.id,
            role,
        };
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (principal.clone(), Instant::now()));
        Ok(principal)
    }

    /// Drops a revoked key from the cache.
    pub fn forget(&self, key_id: &str) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (p, _)| p.subject != key_id);
    }
}

/// Makes sure an operator can get in on a fresh install.
///
/// With `configured` (GEARSHIFT_BOOTSTRAP_ADMIN_KEY), that secret becomes an
/// operator key if it is not one yet. Without it, when no key exists at all,
/// a key is generated, written to `{data_dir}/admin.key` (mode 0600) and
/// returned so the caller can show it once.
pub async fn bootstrap(
    db: &Db,
    configured: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<Option<String>> {
    if let Some(secret) = configured.filter(|s| !s.is_empty()) {
        if secret.len() < 20 {
            anyhow::bail!("GEARSHIFT_BOOTSTRAP_ADMIN_KEY must be at least 20 characters");
        }
        if store::find_by_hash(db, &hash_secret(secret))
            .await?
            .is_none()
        {
            register(db, bootstrap_key(db, secret)).await?;
            tracing::info!("bootstrap operator key from GEARSHIFT_BOOTSTRAP_ADMIN_KEY registered");
        }
        return Ok(None);
    }
    if store::count(db).await? > 0 {
        return Ok(None);
    }
    let secret = new_secret();
    register(db, bootstrap_key(db, &secret)).await?;
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("admin.key");
    gearshift_platform::write_private_file(&path, &format!("{secret}\n"))?;
    tracing::info!(path = %path.display(), "generated the first operator key");
    Ok(Some(secret))
}

/// Stores a bootstrap key through the write path, with its event.
async fn register(db: &Db, key: store::ApiKey) -> Result<(), Error> {
    let system = &Principal {
        subject: "system:bootstrap".into(),
        role: Role::Operator,
    };
    let key = &key;
    write(db, None, |mut tx| async move {
        store::insert(&mut *tx, key).await?;
        tx.append(grpc::created_event(system, key)).await?;
        Ok((tx, ()))
    })
    .await?;
    Ok(())
}

fn bootstrap_key(db: &Db, secret: &str) -> store::ApiKey {
    store::ApiKey {
        id: ids::new_id("key"),
        display_name: "bootstrap operator".into(),
        role: Role::Operator.to_string(),
        secret_hash: hash_secret(secret),
        secret_prefix: secret.chars().take(8).collect(),
        state: store::ENABLED.into(),
        create_time: db.clock().now_micros(),
        revoke_time: None,
        creator: "bootstrap".into(),
    }
}
