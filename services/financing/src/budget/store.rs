//! The budget's SQL.
//!
//! Committing is one conditional statement,
//! `UPDATE budgets SET committed_won = committed_won + $amount
//!  WHERE programme_id = $id AND committed_won + $amount <= total_won`:
//! PostgreSQL re-checks the condition on the newest row version when a
//! concurrent approval committed first (READ COMMITTED's re-evaluation),
//! and SQLite runs one writer at a time, so under any interleaving the
//! commitments never add up to more than the budget.

use gearshift_platform::{Error, ids};
use gearshift_proto::financing::v1 as pb;
use pb::ledger_entry::Kind;
use sqlx::AnyConnection;

/// A programme's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Figures {
    pub total_won: i64,
    pub committed_won: i64,
    pub disbursed_won: i64,
}

impl Figures {
    pub fn remaining_won(&self) -> i64 {
        self.total_won - self.committed_won
    }
}

/// Creates the programme's row (nothing committed); a row that exists is
/// left as it is.
pub async fn open(conn: &mut AnyConnection, programme_id: &str, total: i64) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO budgets (programme_id, total_won, committed_won, disbursed_won) \
         VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(programme_id)
    .bind(total)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn figures(
    conn: &mut AnyConnection,
    programme_id: &str,
) -> Result<Option<Figures>, Error> {
    Ok(sqlx::query_as(
        "SELECT total_won, committed_won, disbursed_won FROM budgets WHERE programme_id = $1",
    )
    .bind(programme_id)
    .fetch_optional(conn)
    .await?)
}

/// The figures of several programmes, by id.
pub async fn figures_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Figures>, Error> {
    use gearshift_platform::sql::{Conditions, Value};
    #[derive(sqlx::FromRow)]
    struct Row {
        programme_id: String,
        total_won: i64,
        committed_won: i64,
        disbursed_won: i64,
    }
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut c = Conditions::new();
    let marks = vec!["{}"; ids.len()].join(", ");
    c.push(
        &format!("programme_id IN ({marks})"),
        ids.iter().map(|i| Value::Text(i.clone())),
    );
    let rows: Vec<Row> = c
        .fetch(
            conn,
            "programme_id, total_won, committed_won, disbursed_won",
            "budgets",
            "programme_id",
            i64::MAX,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.programme_id,
                Figures {
                    total_won: r.total_won,
                    committed_won: r.committed_won,
                    disbursed_won: r.disbursed_won,
                },
            )
        })
        .collect())
}

/// A movement of money, to be recorded.
pub struct Movement<'a> {
    pub programme_id: &'a str,
    pub application_id: &'a str,
    pub kind: Kind,
    pub amount_won: i64,
    pub now: i64,
}

/// Moves money and writes its ledger line; `Ok(None)` when a reservation
/// or consumption does not fit (the budget's figures are then returned by
/// [`figures`] to name the remainder).
pub async fn record(conn: &mut AnyConnection, m: Movement<'_>) -> Result<Option<Figures>, Error> {
    let sql = match m.kind {
        Kind::Reserve => {
            "UPDATE budgets SET committed_won = committed_won + $2 \
             WHERE programme_id = $1 AND committed_won + $2 <= total_won \
             RETURNING total_won, committed_won, disbursed_won"
        }
        Kind::Consume => {
            "UPDATE budgets SET disbursed_won = disbursed_won + $2 \
             WHERE programme_id = $1 AND disbursed_won + $2 <= committed_won \
             RETURNING total_won, committed_won, disbursed_won"
        }
        Kind::Release => {
            "UPDATE budgets SET committed_won = committed_won - $2 \
             WHERE programme_id = $1 AND committed_won - $2 >= disbursed_won \
             RETURNING total_won, committed_won, disbursed_won"
        }
        Kind::Unspecified => return Err(Error::internal(anyhow::anyhow!("no ledger kind"))),
    };
    let after: Option<Figures> = sqlx::query_as(sql)
        .bind(m.programme_id)
        .bind(m.amount_won)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(after) = after else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO ledger_entries (id, programme_id, application_id, kind, amount_won, \
         committed_won, disbursed_won, occur_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ids::new_id("led"))
    .bind(m.programme_id)
    .bind(m.application_id)
    .bind(m.kind.as_str_name())
    .bind(m.amount_won)
    .bind(after.committed_won)
    .bind(after.disbursed_won)
    .bind(m.now)
    .execute(conn)
    .await?;
    Ok(Some(after))
}

#[derive(sqlx::FromRow)]
pub struct EntryRow {
    pub id: String,
    pub programme_id: String,
    pub application_id: String,
    pub kind: String,
    pub amount_won: i64,
    pub committed_won: i64,
    pub disbursed_won: i64,
    pub occur_time: i64,
}

/// Oldest first, after `(occur_time, id)` of the last one seen.
pub async fn entries(
    conn: &mut AnyConnection,
    programme_id: &str,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<EntryRow>, Error> {
    use gearshift_platform::sql::{Conditions, Value};
    let mut c = Conditions::new();
    c.push("programme_id = {}", [programme_id]);
    if let Some((time, id)) = after {
        c.push(
            "(occur_time > {} OR (occur_time = {} AND id > {}))",
            [Value::Int(time), Value::Int(time), Value::Text(id)],
        );
    }
    c.fetch(
        conn,
        "id, programme_id, application_id, kind, amount_won, committed_won, disbursed_won, \
         occur_time",
        "ledger_entries",
        "occur_time, id",
        limit,
    )
    .await
}
