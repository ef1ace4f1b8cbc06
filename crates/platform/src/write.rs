//! The one write path. Every state change in every service runs through
//! [`write`], which does, in order, in one transaction:
//!
//! 1. claim the request's `Idempotency-Key` (before anything else, so a
//!    concurrent duplicate waits on or collides with the key itself, never
//!    with the resource it is creating), or replay the first response;
//! 2. run the service's work, which reads, checks and writes through the
//!    [`Tx`] and appends its audit/outbox events with [`Tx::append`];
//! 3. refuse to commit a change without an event (a gap in the audit trail
//!    and the future event feed), unless the work said nothing changed;
//! 4. record the response for the key, and commit.
//!
//! A lost race ([`Error::Conflict`]: a conditional update found another
//! revision) or a database conflict (SQLite busy, PostgreSQL serialization
//! failure or deadlock) runs the whole unit again, a bounded number of
//! times with backoff; a business refusal never does.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::{Any, AnyConnection, Transaction};

use crate::Error;
use crate::db::Db;
use crate::idempotency::Idempotency;
use crate::outbox::{self, NewEvent};

/// How many times a unit of work runs before a conflict is given up on.
/// A run loses a race only when another write to the same record committed,
/// so with up to ten writers at once on one record every one gets through.
pub const MAX_ATTEMPTS: u32 = 10;

/// A unit of work's transaction: the connection to write through, the time
/// the unit runs at, and the events it appended.
pub struct Tx {
    inner: Transaction<'static, Any>,
    now: i64,
    events: usize,
    unchanged: bool,
}

impl Tx {
    /// The unit's time, read once from the clock: every row and event it
    /// writes carries the same instant (microseconds since the epoch).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Appends an audit/outbox event in this transaction; returns its id.
    pub async fn append(&mut self, event: NewEvent<'_>) -> Result<String, Error> {
        let now = self.now;
        let id = outbox::append(&mut self.inner, now, event).await?;
        self.events += 1;
        Ok(id)
    }

    /// Declares that the work changed nothing (an update to the values the
    /// record already has), so no event is owed.
    pub fn unchanged(&mut self) {
        self.unchanged = true;
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// A write's response, and whether it is the replay of an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub struct Written<R> {
    pub response: R,
    /// The `Idempotency-Key` was used before: `response` is the first
    /// request's, and the work did not run.
    pub replayed: bool,
}

/// Runs `work` as one unit of work on `db` (see the module's header).
///
/// `work` is given the transaction and hands it back with the response:
/// `|mut tx| async move { …; Ok((tx, response)) }`. (Passing it by value
/// keeps the future free of higher-ranked borrows, which tonic's `Send`
/// handlers cannot prove.) It may run more than once, so it must not have
/// effects outside the transaction.
pub async fn write<R, F, Fut>(
    db: &Db,
    idempotency: Option<&Idempotency>,
    mut work: F,
) -> Result<Written<R>, Error>
where
    R: prost::Message + Default,
    F: FnMut(Tx) -> Fut,
    Fut: Future<Output = Result<(Tx, R), Error>>,
{
    let mut backoff = Duration::from_millis(5);
    for attempt in 1..=MAX_ATTEMPTS {
        match once(db, idempotency, &mut work).await {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "write conflicted; running it again");
                tokio::time::sleep(jittered(backoff)).await;
                backoff = (backoff * 3).min(Duration::from_millis(500));
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(attempts = attempt, error = %e, "write kept conflicting");
                return Err(Error::Unavailable(
                    "the record kept changing under this request; retry".into(),
                ));
            }
            other => return other,
        }
    }
    unreachable!("the last attempt returns")
}

/// Half of `backoff` plus a random part of the other half, so writers that
/// lost the same race do not all come back at the same moment.
fn jittered(backoff: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    backoff / 2 + backoff / 2 * u32::from(byte[0]) / 255
}

async fn once<R, F, Fut>(
    db: &Db,
    idempotency: Option<&Idempotency>,
    work: &mut F,
) -> Result<Written<R>, Error>
where
    R: prost::Message + Default,
    F: FnMut(Tx) -> Fut,
    Fut: Future<Output = Result<(Tx, R), Error>>,
{
    let mut tx = Tx {
        inner: db.begin().await?,
        now: db.clock().now_micros(),
        events: 0,
        unchanged: false,
    };
    if let Some(key) = idempotency
        && let Some(first) = key.claim::<R>(&mut tx.inner, tx.now).await?
    {
        return Ok(Written {
            response: first,
            replayed: true,
        });
    }
    let (mut tx, response) = work(tx).await?;
    if tx.events == 0 && !tx.unchanged {
        return Err(Error::internal(anyhow::anyhow!(
            "a write appended no outbox event; every change must leave one"
        )));
    }
    if let Some(key) = idempotency {
        key.record(&mut tx.inner, &response).await?;
    }
    tx.inner.commit().await?;
    Ok(Written {
        response,
        replayed: false,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::migrate::Migrator;
    use tonic::Request;

    use super::*;
    use crate::server::GrpcMethodName;
    use crate::testing::{Engine, fresh_database};
    use crate::{Principal, Role};

    crate::engine_tests!(
        a_retried_request_replays_the_first_response_and_writes_once,
        a_key_reused_with_another_request_is_refused,
        a_change_without_an_event_is_not_committed,
        a_lost_race_runs_the_work_again_and_a_business_refusal_does_not,
        concurrent_duplicates_write_once,
        concurrent_writers_each_win_once,
    );

    fn principal() -> Principal {
        Principal {
            subject: "key_test".into(),
            role: Role::Operator,
        }
    }

    /// A database with one counter row `c` at value 0, revision 1.
    async fn counter_db(engine: Engine) -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(engine, dir.path(), "write").await;
        let db = Db::connect(&url, 8).await.unwrap();
        db.migrate(&Migrator::DEFAULT).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE counters (id TEXT PRIMARY KEY, value BIGINT NOT NULL, revision BIGINT NOT NULL); \
             INSERT INTO counters VALUES ('c', 0, 1)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        (db, dir)
    }

    fn keyed(key: &str, body: &str) -> Idempotency {
        let mut request = Request::new(body.to_string());
        request
            .metadata_mut()
            .insert(crate::idempotency::METADATA_KEY, key.parse().unwrap());
        request
            .extensions_mut()
            .insert(GrpcMethodName::new("/test.v1.Counters/Add"));
        Idempotency::from_request(&request, &principal())
            .unwrap()
            .expect("a key was sent")
    }

    /// Adds `by` to the counter with a conditional update, as a service does.
    async fn add(db: &Db, key: Option<&Idempotency>, by: i64) -> Result<Written<String>, Error> {
        let actor = &principal();
        write(db, key, |mut tx| async move {
            let (value, revision): (i64, i64) =
                sqlx::query_as("SELECT value, revision FROM counters WHERE id = 'c'")
                    .fetch_one(&mut *tx)
                    .await?;
            let done = sqlx::query(
                "UPDATE counters SET value = $1, revision = $2 WHERE id = 'c' AND revision = $3",
            )
            .bind(value + by)
            .bind(revision + 1)
            .bind(revision)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(Error::Conflict);
            }
            tx.append(event(actor)).await?;
            Ok((tx, (value + by).to_string()))
        })
        .await
    }

    fn event(actor: &Principal) -> NewEvent<'_> {
        NewEvent {
            aggregate_type: "counter",
            aggregate_id: "c",
            event_type: "counter.added",
            actor,
            before: None,
            after: None,
            changed_fields: vec!["value".into()],
            detail: None,
        }
    }

    async fn state(db: &Db) -> (i64, i64, i64) {
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM counters WHERE id = 'c'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox_events")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM idempotency_keys")
            .fetch_one(db.pool())
            .await
            .unwrap();
        (value, events, keys)
    }

    async fn a_retried_request_replays_the_first_response_and_writes_once(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;
        let key = keyed("k1", "add 5");

        let first = add(&db, Some(&key), 5).await.unwrap();
        let again = add(&db, Some(&key), 5).await.unwrap();

        assert_eq!((first.response.as_str(), first.replayed), ("5", false));
        assert_eq!((again.response.as_str(), again.replayed), ("5", true));
        assert_eq!(state(&db).await, (5, 1, 1));
        // Without a key, the same request is a new write.
        assert_eq!(add(&db, None, 5).await.unwrap().response, "10");
    }

    async fn a_key_reused_with_another_request_is_refused(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;
        add(&db, Some(&keyed("k1", "add 5")), 5).await.unwrap();

        let err = add(&db, Some(&keyed("k1", "add 7")), 7).await.unwrap_err();

        assert!(matches!(err, Error::IdempotencyKeyReused), "{err:?}");
        assert_eq!(state(&db).await, (5, 1, 1));
    }

    async fn a_change_without_an_event_is_not_committed(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;
        let key = keyed("k1", "silent");

        let err = write(&db, Some(&key), |mut tx| async move {
            sqlx::query("UPDATE counters SET value = 99 WHERE id = 'c'")
                .execute(&mut *tx)
                .await?;
            Ok((tx, String::from("99")))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err:?}");
        assert_eq!(state(&db).await, (0, 0, 0), "nothing written, key not kept");

        // Saying that nothing changed is the one way to commit without one.
        let same = write(&db, None, |mut tx| async move {
            tx.unchanged();
            Ok((tx, String::from("0")))
        })
        .await
        .unwrap();
        assert_eq!(same.response, "0");
    }

    async fn a_lost_race_runs_the_work_again_and_a_business_refusal_does_not(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;
        let actor = &principal();
        let runs = &AtomicU32::new(0);

        let won = write(&db, None, |mut tx| async move {
            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(Error::Conflict);
            }
            tx.append(event(actor)).await?;
            Ok((tx, String::from("second run")))
        })
        .await
        .unwrap();
        assert_eq!(won.response, "second run");
        assert_eq!(runs.swap(0, Ordering::SeqCst), 2);

        let lost = write(&db, None, |_tx| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Err::<(Tx, String), _>(Error::Conflict)
        })
        .await
        .unwrap_err();
        assert!(matches!(lost, Error::Unavailable(_)), "{lost:?}");
        assert_eq!(runs.swap(0, Ordering::SeqCst), MAX_ATTEMPTS);

        crate::reasons! {
            enum Why {
                Full = "FULL",
            }
        }
        let refused = write(&db, None, |_tx| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Err::<(Tx, String), _>(Error::limit(Why::Full, "counter", "the counter is full"))
        })
        .await
        .unwrap_err();
        assert_eq!(refused.reason(), "FULL");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "a refusal is not retried");
        assert_eq!(state(&db).await.1, 1, "only the won race left an event");
    }

    async fn concurrent_duplicates_write_once(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;
        let key = Arc::new(keyed("same", "add 1"));

        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (db, key) = (db.clone(), key.clone());
            tasks.spawn(async move { add(&db, Some(&key), 1).await });
        }
        let mut first = 0;
        while let Some(result) = tasks.join_next().await {
            match result.unwrap() {
                Ok(w) if !w.replayed => first += 1,
                Ok(w) => assert_eq!(w.response, "1"),
                // PostgreSQL: the duplicate met the key while the first held it.
                Err(Error::IdempotencyKeyInUse) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }

        assert_eq!(first, 1);
        assert_eq!(state(&db).await, (1, 1, 1));
    }

    async fn concurrent_writers_each_win_once(engine: Engine) {
        let (db, _dir) = counter_db(engine).await;

        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let db = db.clone();
            tasks.spawn(async move { add(&db, None, 1).await });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }

        // Every lost race was run again: no update was lost or doubled.
        assert_eq!(state(&db).await, (10, 10, 0));
    }
}
