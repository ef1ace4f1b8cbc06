//! Storage on SQLite (embedded, the default) or PostgreSQL (when configured),
//! through one `sqlx::Any` pool so every query has one code path.
//!
//! Rules the queries follow so that both engines accept them: `$1`
//! placeholders; integers as BIGINT, flags as BIGINT 0/1, times as BIGINT
//! microseconds; no engine-specific DDL. Write transactions on SQLite start
//! with `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of
//! failing on a lock upgrade.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, SqlSafeStr, Transaction};

use crate::Error;
use crate::clock::Clock;

static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A service's database: the pool, which engine is behind it, and the
/// clock its writes are stamped with.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    clock: Clock,
    /// How to open a connection outside the pool: to ask a server that
    /// keeps the pool waiting whether it is there at all.
    options: AnyConnectOptions,
    /// The last answer to that question, shared by every waiting request:
    /// one probe at a time per pool (a burst of 200 waiting writes once
    /// opened 200 probe connections, past PostgreSQL's connection limit,
    /// and turned a busy pool into 503s).
    last_probe: std::sync::Arc<tokio::sync::Mutex<Option<ProbeAnswer>>>,
}

/// How long an acquisition may wait before the server is asked directly
/// whether it is there (most acquisitions take microseconds).
const PROBE_AFTER: Duration = Duration::from_millis(100);
/// How long that direct question may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(750);
/// When a probe was answered, and what.
type ProbeAnswer = (std::time::Instant, Result<(), String>);

/// How long its answer stands for the requests that wait after it.
const PROBE_FRESH: Duration = Duration::from_secs(1);

impl Db {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:` or
    /// `postgres://…`), creating a SQLite file and its folder when missing.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            anyhow::bail!(
                "unsupported database URL {:?}: use sqlite://path/file.db or postgres://…",
                redact(url)
            );
        };
        let mut url = url.to_string();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if engine == Engine::Sqlite && !in_memory {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string();
            if let Some(dir) = Path::new(&path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)?;
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options = AnyConnectOptions::from_str(&url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(250));
        let pool = AnyPoolOptions::new()
            // An in-memory SQLite database lives and dies with its one connection.
            .max_connections(if in_memory { 1 } else { max_connections })
            .min_connections(if in_memory { 1 } else { 0 })
            .idle_timeout(if in_memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings every connection it hands out by default: a round
            // trip to the connection's worker thread on SQLite (a thread
            // wake-up per read, ~10 % of a cached GET under load) for a file
            // that cannot go away. PostgreSQL keeps the ping, which finds
            // connections a server restart has cut.
            .test_before_acquire(engine == Engine::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL: readers never block the writer. synchronous=FULL:
                        // a commit is on disk before it is acknowledged.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    } else {
                        // Statements are prepared per query shape, but their
                        // values differ widely in selectivity (a common status,
                        // a rare name): plan each execution with its values.
                        // A cached generic plan made a name search 5x slower.
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        Ok(Db {
            pool,
            engine,
            clock: Clock::system(),
            options,
            last_probe: Default::default(),
        })
    }

    /// The same database, with writes stamped by `clock` (tests set time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock this database's writes read "now" from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Applies the platform's and then the service's migrations.
    pub async fn migrate(&self, service: &Migrator) -> anyhow::Result<()> {
        let mut all: Vec<_> = PLATFORM_MIGRATIONS.iter().cloned().collect();
        all.extend(service.iter().cloned());
        Migrator::with_migrations(all).run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// A connection for reads. A server that is down answers 503
    /// UNAVAILABLE within a second instead of after the pool's timeout: an
    /// acquisition that waits is checked against a direct connection.
    pub async fn conn(&self) -> Result<PoolConnection<Any>, Error> {
        let acquire = self.pool.acquire();
        if self.engine == Engine::Sqlite {
            // A file does not go away; a busy pool waits its timeout.
            return Ok(acquire.await?);
        }
        tokio::pin!(acquire);
        tokio::select! {
            acquired = &mut acquire => return Ok(acquired?),
            _ = tokio::time::sleep(PROBE_AFTER) => {}
        }
        let probe = self.probe();
        tokio::pin!(probe);
        tokio::select! {
            acquired = &mut acquire => Ok(acquired?),
            answer = &mut probe => match answer {
                // The server is there: the pool is only busy, so wait for it.
                Ok(()) => Ok(acquire.await?),
                Err(why) => {
                    tracing::warn!(why, "the database is unavailable");
                    Err(Error::Unavailable(format!(
                        "the database is unavailable ({why}); retry shortly"
                    )))
                }
            },
        }
    }

    /// Whether a new connection can be opened right now. Asked by one
    /// request at a time; those waiting meanwhile take its answer while it
    /// is fresh.
    async fn probe(&self) -> Result<(), String> {
        let mut last = self.last_probe.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < PROBE_FRESH
        {
            return answer.clone();
        }
        let answer = self.connect_once().await;
        *last = Some((std::time::Instant::now(), answer.clone()));
        answer
    }

    async fn connect_once(&self) -> Result<(), String> {
        match tokio::time::timeout(PROBE_TIMEOUT, self.options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                Ok(())
            }
            Ok(Err(sqlx::Error::Io(e))) => Err(format!("cannot connect: {e}")),
            Ok(Err(e)) => Err(format!("cannot connect: {e}")),
            Err(_) => Err(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
        }
    }

    /// Starts a write transaction: only the write path (`write::write`)
    /// opens one, so every write claims its key and leaves its event.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, Error> {
        let conn = self.conn().await?;
        let begin = match self.engine {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        };
        Ok(Transaction::begin(conn, Some(begin.into_sql_str())).await?)
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether `e` is a conflict that succeeds when the transaction is retried.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            // PostgreSQL: serialization_failure, deadlock_detected.
            Some("40001") | Some("40P01")
            // SQLite: BUSY, LOCKED, BUSY_SNAPSHOT.
            | Some("5") | Some("6") | Some("517")
        ),
        _ => false,
    }
}

/// Whether `e` violates a unique constraint (both engines).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/registry"),
            "postgres://app:***@db:5432/registry"
        );
        assert_eq!(
            redact("sqlite://data/registry.db"),
            "sqlite://data/registry.db"
        );
    }

    #[tokio::test]
    async fn sqlite_file_is_created_with_its_folder_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/x.db", dir.path().display());
        let db = Db::connect(&url, 2).await.unwrap();
        db.migrate(&Migrator::DEFAULT).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_events")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert!(dir.path().join("nested/x.db").exists());
    }

    #[tokio::test]
    async fn unknown_url_scheme_is_a_clear_error() {
        let err = Db::connect("mysql://x", 1).await.unwrap_err().to_string();
        assert!(err.contains("unsupported database URL"), "{err}");
    }
}
