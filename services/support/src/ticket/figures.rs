//! The support centre's figures (`GET /v1/support/stats`): counted in SQL
//! by institute and month of creation, put together here.

use std::collections::BTreeMap;

use gearshift_platform::sql::{Conditions, Value};
use gearshift_platform::{Error, Principal, Role};
use gearshift_proto::support::v1 as pb;
use sqlx::AnyConnection;
use tonic::Request;

use super::rules::Status;
use crate::SupportService;

/// Who sees which figures: operators every institute, an institute its own.
fn scope(p: &Principal) -> Result<Option<&str>, Error> {
    match &p.role {
        Role::Operator => Ok(None),
        Role::Institute(code) => Ok(Some(code.as_str())),
        _ => Err(Error::PermissionDenied(format!(
            "role {} may not read the support centre's figures",
            p.role
        ))),
    }
}

fn open_list() -> String {
    Status::open()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Met and breached counts of one clock (`fr`, `res`), as SQL sums.
fn attainment_sums(p: &str, open: &str) -> String {
    format!(
        "SUM(CASE WHEN {p}_stop IS NOT NULL AND {p}_stop <= {p}_due THEN 1 ELSE 0 END), \
         SUM(CASE WHEN ({p}_stop IS NOT NULL AND {p}_stop > {p}_due) \
         OR ({p}_stop IS NULL AND {p}_due IS NOT NULL AND {p}_due <= $1 AND status IN ({open})) \
         THEN 1 ELSE 0 END)"
    )
}

struct Group {
    institute: String,
    month: String,
    created: i64,
    open: Option<i64>,
    fr_met: Option<i64>,
    fr_breached: Option<i64>,
    res_met: Option<i64>,
    res_breached: Option<i64>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    created: i64,
    open: i64,
    fr: (i64, i64),
    res: (i64, i64),
}

impl Counts {
    fn add(&mut self, g: &Group) {
        self.created += g.created;
        self.open += g.open.unwrap_or(0);
        self.fr.0 += g.fr_met.unwrap_or(0);
        self.fr.1 += g.fr_breached.unwrap_or(0);
        self.res.0 += g.res_met.unwrap_or(0);
        self.res.1 += g.res_breached.unwrap_or(0);
    }
}

fn attainment((met, breached): (i64, i64)) -> pb::Attainment {
    let all = met + breached;
    pb::Attainment {
        met: met as i32,
        breached: breached as i32,
        rate: if all == 0 {
            0.0
        } else {
            met as f64 / all as f64
        },
    }
}

fn month_figures(month: &str, c: &Counts) -> pb::MonthFigures {
    pb::MonthFigures {
        month: month.to_string(),
        created: c.created as i32,
        first_response: Some(attainment(c.fr)),
        resolution: Some(attainment(c.res)),
    }
}

fn median(mut values: Vec<i64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let n = values.len();
    let micros = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    micros / 60_000_000.0
}

/// Durations in microseconds from creation to `column`, where set.
async fn durations(
    conn: &mut AnyConnection,
    column: &str,
    institute: Option<&str>,
) -> Result<Vec<i64>, Error> {
    let mut c = Conditions::new();
    c.push(&format!("{column} IS NOT NULL"), Vec::<Value>::new());
    if let Some(code) = institute {
        c.push("institute = {}", [code]);
    }
    let rows: Vec<(i64,)> = c
        .fetch(
            conn,
            &format!("{column} - create_time"),
            "tickets",
            "1",
            i64::MAX,
        )
        .await?;
    Ok(rows.into_iter().map(|(d,)| d).collect())
}

pub async fn get(
    svc: &SupportService,
    request: Request<pb::GetSupportStatsRequest>,
) -> Result<pb::SupportStats, Error> {
    let principal = Principal::from_request(&request)?;
    let institute = scope(&principal)?;
    let now = svc.db.clock().now_micros();
    let open = open_list();
    let mut conn = svc.db.conn().await?;

    let filter = if institute.is_some() {
        " WHERE institute = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT institute, month, COUNT(*), SUM(CASE WHEN status IN ({open}) THEN 1 ELSE 0 END), \
         {}, {} FROM tickets{filter} GROUP BY institute, month ORDER BY institute, month",
        attainment_sums("fr", &open),
        attainment_sums("res", &open),
    );
    let mut query = sqlx::query_as::<
        _,
        (
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        ),
    >(sqlx::AssertSqlSafe(sql))
    .bind(now);
    if let Some(code) = institute {
        query = query.bind(code);
    }
    let groups: Vec<Group> = query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(
            |(institute, month, created, open, fr_met, fr_breached, res_met, res_breached)| Group {
                institute,
                month,
                created,
                open,
                fr_met,
                fr_breached,
                res_met,
                res_breached,
            },
        )
        .collect();

    let mut by_institute: BTreeMap<&str, (Counts, BTreeMap<&str, Counts>)> = BTreeMap::new();
    let mut by_month: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut total = 0;
    for g in &groups {
        let (all, months) = by_institute.entry(&g.institute).or_default();
        all.add(g);
        months.entry(&g.month).or_default().add(g);
        by_month.entry(&g.month).or_default().add(g);
        total += g.created;
    }

    let sql = format!(
        "SELECT status, COUNT(*) FROM tickets WHERE status IN ({open}){} GROUP BY status",
        if institute.is_some() {
            " AND institute = $1"
        } else {
            ""
        }
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
    if let Some(code) = institute {
        query = query.bind(code);
    }
    let statuses = query.fetch_all(&mut *conn).await?;
    let open_by_status = Status::open()
        .map(|s| pb::StatusCount {
            status: pb::TicketStatus::from_str_name(s.as_str()).map_or(0, |v| v as i32),
            count: statuses
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |(_, n)| *n as i32),
        })
        .collect();

    let sql = format!(
        "SELECT SUM(rating), COUNT(rating) FROM tickets{}",
        if institute.is_some() {
            " WHERE institute = $1"
        } else {
            ""
        }
    );
    let mut query = sqlx::query_as::<_, (Option<i64>, i64)>(sqlx::AssertSqlSafe(sql));
    if let Some(code) = institute {
        query = query.bind(code);
    }
    let (rating_sum, rating_count) = query.fetch_one(&mut *conn).await?;

    let first_response = durations(&mut conn, "fr_stop", institute).await?;
    let resolution = durations(&mut conn, "resolve_time", institute).await?;

    Ok(pb::SupportStats {
        open_by_status,
        institutes: by_institute
            .iter()
            .map(|(code, (all, months))| pb::InstituteFigures {
                institute: code.to_string(),
                open: all.open as i32,
                first_response: Some(attainment(all.fr)),
                resolution: Some(attainment(all.res)),
                months: months.iter().map(|(m, c)| month_figures(m, c)).collect(),
            })
            .collect(),
        months: by_month.iter().map(|(m, c)| month_figures(m, c)).collect(),
        median_first_response_minutes: median(first_response),
        median_resolution_minutes: median(resolution),
        satisfaction_average: if rating_count == 0 {
            0.0
        } else {
            rating_sum.unwrap_or(0) as f64 / rating_count as f64
        },
        satisfaction_count: rating_count as i32,
        total: total as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_are_in_minutes() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(
            median(vec![3 * 60_000_000, 60_000_000, 2 * 60_000_000]),
            2.0
        );
        assert_eq!(median(vec![60_000_000, 2 * 60_000_000]), 1.5);
    }

    #[test]
    fn attainment_rate_counts_only_decided_clocks() {
        assert_eq!(attainment((0, 0)).rate, 0.0);
        assert_eq!(attainment((3, 1)).rate, 0.75);
    }
}
