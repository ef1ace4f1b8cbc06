//! The tickets' SQL (SQLite or PostgreSQL, one code path).

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value};
use sqlx::AnyConnection;

use super::rules::{Category, Channel, Priority, Requester, Status, Ticket};
use super::sla::Levels;

const COLUMNS: &str = "id, number, supplier_id, category, parts_group, priority, status, \
                       institute, person, subject, subject_search, content, levels, create_time, \
                       update_time, resolve_time, close_time, revision, reroute_count, fr_due, \
                       fr_risk, fr_stop, nr_due, nr_risk, nr_stop, res_due, res_risk, res_stop, \
                       next_due, breach_due, month, rating";

const READ_COLUMNS: &str = "id, number, supplier_id, category, parts_group, priority, status, \
                            institute, person, subject, content, levels, create_time, \
                            update_time, resolve_time, close_time, revision, reroute_count, \
                            month";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    number: String,
    supplier_id: String,
    category: String,
    parts_group: String,
    priority: String,
    status: String,
    institute: String,
    person: String,
    subject: String,
    content: String,
    levels: String,
    create_time: i64,
    update_time: i64,
    resolve_time: Option<i64>,
    close_time: Option<i64>,
    revision: i64,
    reroute_count: i32,
    month: String,
}

/// The free-text parts of a ticket, stored as one JSON column.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Content {
    requester: Requester,
    description: String,
    tags: Vec<String>,
    channel: String,
    resolution: String,
    cancel_reason: String,
    satisfaction: Option<super::rules::Satisfaction>,
    merged_into: String,
}

impl TryFrom<Row> for Ticket {
    type Error = Error;

    fn try_from(r: Row) -> Result<Ticket, Error> {
        let corrupt =
            |what: &str, v: &str| Error::internal(anyhow::anyhow!("unknown stored {what} {v:?}"));
        let content: Content = serde_json::from_str(&r.content).map_err(Error::internal)?;
        let levels: Levels = serde_json::from_str(&r.levels).map_err(Error::internal)?;
        Ok(Ticket {
            category: Category::parse(&r.category)
                .ok_or_else(|| corrupt("category", &r.category))?,
            priority: Priority::parse(&r.priority)
                .ok_or_else(|| corrupt("priority", &r.priority))?,
            status: Status::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            channel: Channel::parse(&content.channel)
                .ok_or_else(|| corrupt("channel", &content.channel))?,
            id: r.id,
            number: r.number,
            supplier_id: r.supplier_id,
            requester: content.requester,
            parts_group: r.parts_group,
            subject: r.subject,
            description: content.description,
            tags: content.tags,
            institute: r.institute,
            person: r.person,
            create_time: r.create_time,
            update_time: r.update_time,
            revision: r.revision,
            levels,
            resolution: content.resolution,
            resolve_time: r.resolve_time,
            close_time: r.close_time,
            cancel_reason: content.cancel_reason,
            reroute_count: r.reroute_count,
            satisfaction: content.satisfaction,
            merged_into: content.merged_into,
            month: r.month,
        })
    }
}

/// Lower-case, for searching Latin letters in any case (Hangul has none).
pub fn search_text(s: &str) -> String {
    s.to_lowercase()
}

/// The values of every column, in `COLUMNS` order.
fn values(t: &Ticket) -> Result<Vec<Value>, Error> {
    let content = serde_json::to_string(&Content {
        requester: t.requester.clone(),
        description: t.description.clone(),
        tags: t.tags.clone(),
        channel: t.channel.as_str().to_string(),
        resolution: t.resolution.clone(),
        cancel_reason: t.cancel_reason.clone(),
        satisfaction: t.satisfaction.clone(),
        merged_into: t.merged_into.clone(),
    })
    .map_err(Error::internal)?;
    let levels = serde_json::to_string(&t.levels).map_err(Error::internal)?;
    let l = &t.levels;
    let running = t.status.is_open();
    let breach_due = if running {
        l.clocks()
            .iter()
            .filter(|(_, c)| c.stop.is_none() && !c.breach_recorded)
            .filter_map(|(_, c)| c.due)
            .min()
    } else {
        None
    };
    let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    Ok(vec![
        t.id.as_str().into(),
        t.number.as_str().into(),
        t.supplier_id.as_str().into(),
        t.category.as_str().into(),
        t.parts_group.as_str().into(),
        t.priority.as_str().into(),
        t.status.as_str().into(),
        t.institute.as_str().into(),
        t.person.as_str().into(),
        t.subject.as_str().into(),
        search_text(&t.subject).into(),
        content.into(),
        levels.into(),
        t.create_time.into(),
        t.update_time.into(),
        opt(t.resolve_time),
        opt(t.close_time),
        t.revision.into(),
        i64::from(t.reroute_count).into(),
        opt(l.first_response.due),
        opt(l.first_response.risk),
        opt(l.first_response.stop),
        opt(l.next_response.due),
        opt(l.next_response.risk),
        opt(l.next_response.stop),
        opt(l.resolution.due),
        opt(l.resolution.risk),
        opt(l.resolution.stop),
        opt(if running { l.next_due() } else { None }),
        opt(breach_due),
        t.month.as_str().into(),
        opt(t.satisfaction.as_ref().map(|s| i64::from(s.rating))),
    ])
}

fn bind_all<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: Vec<Value>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    values.into_iter().fold(query, |q, v| match v {
        Value::Text(s) => q.bind(s),
        Value::Int(i) => q.bind(i),
        Value::Null => q.bind(None::<i64>),
    })
}

#[tracing::instrument(skip_all, fields(ticket.id = %t.id))]
pub async fn insert(conn: &mut AnyConnection, t: &Ticket) -> Result<(), Error> {
    let values = values(t)?;
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO tickets ({COLUMNS}) VALUES ({})",
        placeholders.join(", ")
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes `t` over the stored record if that is still at `expected`
/// revision; `false` when another write got there first.
#[tracing::instrument(skip_all, fields(ticket.id = %t.id))]
pub async fn update(conn: &mut AnyConnection, t: &Ticket, expected: i64) -> Result<bool, Error> {
    let mut values = values(t)?;
    let sets: Vec<String> = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{} = ${}", c.trim(), i + 1))
        .collect();
    let sql = format!(
        "UPDATE tickets SET {} WHERE id = $1 AND revision = ${}",
        sets.join(", "),
        values.len() + 1
    );
    values.push(expected.into());
    let done = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Ticket>, Error> {
    let sql = format!("SELECT {READ_COLUMNS} FROM tickets WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(Ticket::try_from).transpose()
}

/// The next number of `year`: `2026-000123`.
pub async fn next_number(conn: &mut AnyConnection, year: i16) -> Result<String, Error> {
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO ticket_numbers (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(conn)
    .await?;
    Ok(format!("{year}-{last:06}"))
}

/// A list's filters, checked.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<Status>,
    pub open: Option<bool>,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub institute: Option<String>,
    pub supplier_id: Option<String>,
    /// ON_TRACK, AT_RISK, BREACHED or PAUSED.
    pub service_level: Option<super::sla::State>,
    pub create_from: Option<i64>,
    pub create_to: Option<i64>,
    pub update_from: Option<i64>,
    pub update_to: Option<i64>,
    pub query: String,
    pub by_due: bool,
}

/// Where a page starts: after this ticket, in the list's order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct After {
    /// The sort key: create time, or the next due time (`i64::MAX` for
    /// none) when ordered by due time.
    pub key: i64,
    pub id: String,
}

pub fn sort_key(t: &Ticket, by_due: bool) -> i64 {
    if by_due {
        if t.status.is_open() {
            t.levels.next_due().unwrap_or(i64::MAX)
        } else {
            i64::MAX
        }
    } else {
        t.create_time
    }
}

pub async fn list(
    conn: &mut AnyConnection,
    f: &Filter,
    now: i64,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Ticket>, Error> {
    use super::sla::State;
    let mut c = Conditions::new();
    if let Some(s) = f.status {
        c.push("status = {}", [s.as_str()]);
    }
    if let Some(open) = f.open {
        let list: Vec<String> = Status::open()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let fragment = format!(
            "status {} ({})",
            if open { "IN" } else { "NOT IN" },
            list.join(", ")
        );
        c.push(&fragment, Vec::<Value>::new());
    }
    if let Some(v) = f.category {
        c.push("category = {}", [v.as_str()]);
    }
    if let Some(v) = f.priority {
        c.push("priority = {}", [v.as_str()]);
    }
    if let Some(v) = &f.institute {
        c.push("institute = {}", [v.as_str()]);
    }
    if let Some(v) = &f.supplier_id {
        c.push("supplier_id = {}", [v.as_str()]);
    }
    if let Some(state) = f.service_level {
        let running: Vec<String> = Status::open()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let running = running.join(", ");
        // A running clock of an open ticket, for each of the three.
        let clause = |cond: &str| {
            ["fr", "nr", "res"]
                .iter()
                .map(|p| format!("({})", cond.replace("{p}", p)))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let (fragment, n) = match state {
            State::Breached => (
                clause(
                    "({p}_stop IS NULL AND {p}_due IS NOT NULL AND {p}_due <= {}) \
                     OR ({p}_stop IS NOT NULL AND {p}_stop > {p}_due)",
                ),
                3,
            ),
            State::AtRisk => (
                clause("{p}_stop IS NULL AND {p}_risk <= {} AND {p}_due > {}"),
                6,
            ),
            State::OnTrack => (clause("{p}_stop IS NULL AND {p}_risk > {}"), 3),
            State::Paused => ("status = 'WAITING_ON_REQUESTER'".to_string(), 0),
            State::Met => ("fr_stop IS NOT NULL AND fr_stop <= fr_due".to_string(), 0),
        };
        let open_only = if matches!(state, State::Met) || matches!(state, State::Breached) {
            String::new()
        } else {
            format!(" AND status IN ({running})")
        };
        c.push(&format!("(({fragment}){open_only})"), vec![now; n]);
    }
    if let Some(v) = f.create_from {
        c.push("create_time >= {}", [v]);
    }
    if let Some(v) = f.create_to {
        c.push("create_time < {}", [v]);
    }
    if let Some(v) = f.update_from {
        c.push("update_time >= {}", [v]);
    }
    if let Some(v) = f.update_to {
        c.push("update_time < {}", [v]);
    }
    if !f.query.is_empty() {
        c.push(
            "subject_search LIKE {} ESCAPE '\\'",
            [format!("%{}%", escape_like(&search_text(&f.query)))],
        );
    }
    let (key, order) = if f.by_due {
        let open: Vec<String> = Status::open()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        (
            format!(
                "(CASE WHEN status IN ({}) AND next_due IS NOT NULL THEN next_due ELSE {} END)",
                open.join(", "),
                i64::MAX
            ),
            "ASC",
        )
    } else {
        ("create_time".to_string(), "DESC")
    };
    if let Some(after) = after {
        let cmp = if order == "ASC" { ">" } else { "<" };
        c.push(
            &format!("({key} {cmp} {{}} OR ({key} = {{}} AND id {cmp} {{}}))"),
            [
                Value::Int(after.key),
                Value::Int(after.key),
                after.id.as_str().into(),
            ],
        );
    }
    let rows: Vec<Row> = c
        .fetch(
            conn,
            READ_COLUMNS,
            "tickets",
            &format!("{key} {order}, id {order}"),
            limit,
        )
        .await?;
    rows.into_iter().map(Ticket::try_from).collect()
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Up to `limit` tickets matching `condition` (a literal of this module
/// with `$1` bound to `at`), in `order`; on PostgreSQL each row is claimed
/// (`FOR UPDATE SKIP LOCKED`), so replicas sweeping at once take different
/// tickets.
async fn claim(
    conn: &mut AnyConnection,
    condition: &str,
    order: &str,
    at: i64,
    limit: i64,
    postgres: bool,
) -> Result<Vec<Ticket>, Error> {
    let lock = if postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {READ_COLUMNS} FROM tickets WHERE {condition} ORDER BY {order} LIMIT $2{lock}"
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(at)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(Ticket::try_from).collect()
}

/// Open tickets with a clock past its due time whose breach is not yet
/// recorded, oldest due first.
pub async fn breach_candidates(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
    postgres: bool,
) -> Result<Vec<Ticket>, Error> {
    let condition = "breach_due IS NOT NULL AND breach_due <= $1";
    claim(conn, condition, "breach_due, id", now, limit, postgres).await
}

/// RESOLVED tickets resolved at or before `resolved_before`, to close.
pub async fn close_candidates(
    conn: &mut AnyConnection,
    resolved_before: i64,
    limit: i64,
    postgres: bool,
) -> Result<Vec<Ticket>, Error> {
    let condition = "status = 'RESOLVED' AND resolve_time <= $1";
    claim(
        conn,
        condition,
        "resolve_time, id",
        resolved_before,
        limit,
        postgres,
    )
    .await
}
