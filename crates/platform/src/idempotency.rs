//! `Idempotency-Key` for every POST, enforced by the owning service inside
//! the write's own transaction.
//!
//! Same key and same request: the first response again. Same key and another
//! request: IDEMPOTENCY_KEY_REUSED (422 at the gateway). Two at once: the
//! loser finds the winner's row (SQLite serialises writers) and replays, or
//! hits the primary key (PostgreSQL) and gets IDEMPOTENCY_KEY_IN_USE (409).
//! Keys are scoped to the credential and the method, and kept at least 24 h.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tonic::Request;

use crate::{Error, Principal, db};

/// gRPC metadata key carrying the client's key.
pub const METADATA_KEY: &str = "idempotency-key";

/// How long keys are kept before the purge may drop them.
pub const RETENTION_MICROS: i64 = 48 * 3600 * 1_000_000;

/// A request's idempotency key, with what makes it unique.
#[derive(Debug, Clone)]
pub struct Idempotency {
    scope: String,
    key: String,
    request_hash: String,
}

impl Idempotency {
    /// The key on `request`, if the client sent one, scoped to the caller
    /// and to the gRPC method's full name (`/pkg.Service/Method`), which the
    /// server frame records on every call.
    pub fn from_request<T: prost::Message>(
        request: &Request<T>,
        principal: &Principal,
    ) -> Result<Option<Self>, Error> {
        let Some(raw) = request.metadata().get(METADATA_KEY) else {
            return Ok(None);
        };
        let key = raw
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                Error::invalid(
                    "Idempotency-Key",
                    "must be 1-255 printable ASCII characters without spaces",
                )
            })?;
        let method = request
            .extensions()
            .get::<crate::server::GrpcMethodName>()
            .ok_or_else(|| {
                Error::internal(anyhow::anyhow!(
                    "the call's gRPC method is unknown: serve it through platform::server"
                ))
            })?;
        let hash = Sha256::digest(request.get_ref().encode_to_vec());
        Ok(Some(Self {
            scope: format!("{}|{}", method.as_str(), principal.subject),
            key: key.to_string(),
            request_hash: hex(&hash),
        }))
    }

    /// Claims the key for this transaction, before any other write: returns
    /// the first response when the key was already used for this request.
    /// Claiming first means a concurrent duplicate waits on (or collides
    /// with) the key itself, never on the resource it is creating.
    pub(crate) async fn claim<R: prost::Message + Default>(
        &self,
        conn: &mut AnyConnection,
        now: i64,
    ) -> Result<Option<R>, Error> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((hash, response)) = row {
            if hash != self.request_hash {
                return Err(Error::IdempotencyKeyReused);
            }
            if response.is_empty() {
                return Err(Error::IdempotencyKeyInUse);
            }
            let bytes = B64.decode(response).map_err(Error::internal)?;
            return R::decode(bytes.as_slice())
                .map(Some)
                .map_err(Error::internal);
        }
        let result = sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, response, create_time) \
             VALUES ($1, $2, $3, '', $4)",
        )
        .bind(&self.scope)
        .bind(&self.key)
        .bind(&self.request_hash)
        .bind(now)
        .execute(&mut *conn)
        .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if db::is_unique_violation(&e) => Err(Error::IdempotencyKeyInUse),
            Err(e) => Err(e.into()),
        }
    }

    /// Records `response` as this key's answer, in the claiming transaction.
    pub(crate) async fn record<R: prost::Message>(
        &self,
        conn: &mut AnyConnection,
        response: &R,
    ) -> Result<(), Error> {
        sqlx::query("UPDATE idempotency_keys SET response = $1 WHERE scope = $2 AND idem_key = $3")
            .bind(B64.encode(response.encode_to_vec()))
            .bind(&self.scope)
            .bind(&self.key)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// Drops keys older than the retention period. Returns how many went.
pub async fn purge_expired(db: &db::Db) -> Result<u64, Error> {
    let cutoff = db.clock().now_micros() - RETENTION_MICROS;
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE create_time < $1")
        .bind(cutoff)
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Purges expired keys every hour until `shutdown`.
pub async fn purge_periodically(db: db::Db, shutdown: crate::shutdown::Shutdown) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = tick.tick() => match purge_expired(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired idempotency keys purged"),
                Err(e) => tracing::warn!(error = %e, "idempotency key purge failed"),
            },
            _ = shutdown.wait() => return,
        }
    }
}
