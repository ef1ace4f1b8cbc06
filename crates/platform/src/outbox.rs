//! The audit trail and transactional outbox: every state change appends one
//! event in the change's own transaction, saying who did what, when, and the
//! record before and after. Services list a resource's events from here; the
//! event feed and webhooks will relay unpublished rows from here.

use sqlx::AnyConnection;

use crate::pagination::Page;
use crate::{Error, Principal, ids, telemetry};

/// An event to append.
#[derive(Debug)]
pub struct NewEvent<'a> {
    /// The kind of resource, e.g. `supplier`.
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    /// What happened, e.g. `supplier.updated`.
    pub event_type: &'a str,
    pub actor: &'a Principal,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// lowerCamelCase names of the fields that changed.
    pub changed_fields: Vec<String>,
    /// What the event is about besides the record, e.g. a stage change.
    pub detail: Option<serde_json::Value>,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub actor: String,
    pub actor_role: String,
    pub occur_time: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub changed_fields: Vec<String>,
    pub trace_id: String,
    pub detail: Option<serde_json::Value>,
}

/// An event as its row reads.
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    actor: String,
    actor_role: String,
    occur_time: i64,
    before_json: Option<String>,
    after_json: Option<String>,
    changed_fields: String,
    trace_id: String,
    detail_json: Option<String>,
}

const COLUMNS: &str = "id, aggregate_type, aggregate_id, event_type, actor, actor_role, occur_time, \
                       before_json, after_json, changed_fields, trace_id, detail_json";

/// Appends `event` in the caller's transaction, at `now`, and returns its
/// id. Services append through `write::Tx::append`, which counts events.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    now: i64,
    event: NewEvent<'_>,
) -> Result<String, Error> {
    let id = ids::new_id("evt");
    let to_text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO outbox_events (id, aggregate_type, aggregate_id, event_type, actor, actor_role, \
         occur_time, before_json, after_json, changed_fields, trace_id, detail_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(event.aggregate_type)
    .bind(event.aggregate_id)
    .bind(event.event_type)
    .bind(&event.actor.subject)
    .bind(event.actor.role.to_string())
    .bind(now)
    .bind(to_text(&event.before))
    .bind(to_text(&event.after))
    .bind(event.changed_fields.join(","))
    .bind(telemetry::current_trace_id())
    .bind(to_text(&event.detail))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// One resource's events in the order they happened, after `after_id`.
pub async fn list_for(
    conn: &mut AnyConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox_events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(Event::try_from).collect()
}

/// One page of a resource's events, oldest first, each shown by `show` as
/// the service's event message. `page_size` and `page_token` are the
/// request's, checked here (AIP-158).
pub async fn page<T>(
    conn: &mut AnyConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    (page_size, page_token): (i32, &str),
    show: impl FnMut(Event) -> T,
) -> Result<Page<T>, Error> {
    let size = crate::pagination::page_size(page_size)?;
    let list = format!("{aggregate_type}-events");
    let fingerprint = crate::pagination::fingerprint(&[&list, aggregate_id]);
    let after = crate::pagination::decode_after_id(page_token, &fingerprint)?;
    let mut events = list_for(
        conn,
        aggregate_type,
        aggregate_id,
        after.as_deref(),
        size + 1,
    )
    .await?;
    let next_page_token =
        crate::pagination::finish(&mut events, size, &fingerprint, |e| e.id.clone());
    Ok(Page {
        items: events.into_iter().map(show).collect(),
        next_page_token,
    })
}

impl Event {
    /// The record before and after the event, as the service stored it.
    pub fn snapshots<S: serde::de::DeserializeOwned>(&self) -> (Option<S>, Option<S>) {
        let restore = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .and_then(|v| serde_json::from_value::<S>(v.clone()).ok())
        };
        (restore(&self.before), restore(&self.after))
    }
}

impl TryFrom<Row> for Event {
    type Error = Error;

    fn try_from(r: Row) -> Result<Event, Error> {
        let parse = |s: Option<String>| -> Result<Option<serde_json::Value>, Error> {
            s.map(|s| serde_json::from_str(&s).map_err(Error::internal))
                .transpose()
        };
        Ok(Event {
            id: r.id,
            aggregate_type: r.aggregate_type,
            aggregate_id: r.aggregate_id,
            event_type: r.event_type,
            actor: r.actor,
            actor_role: r.actor_role,
            occur_time: r.occur_time,
            before: parse(r.before_json)?,
            after: parse(r.after_json)?,
            changed_fields: r
                .changed_fields
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            trace_id: r.trace_id,
            detail: parse(r.detail_json)?,
        })
    }
}
