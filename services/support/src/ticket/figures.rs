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
    status: String,
    created: i64,
    fr_met: i64,
    fr_breached: i64,
    res_met: i64,
    res_breached: i64,
    rating_sum: i64,
    rating_count: i64,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    created: i64,
    open: i64,
    fr: (i64, i64),
    res: (i64, i64),
}

impl Counts {
    fn add(&mut self, g: &Group, open: bool) {
        self.created += g.created;
        if open {
            self.open += g.created;
        }
        self.fr.0 += g.fr_met;
        self.fr.1 += g.fr_breached;
        self.res.0 += g.res_met;
        self.res.1 += g.res_breached;
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

/// Microseconds from creation to the first reply and to resolution, of
/// the tickets that had them.
async fn durations(
    conn: &mut AnyConnection,
    institute: Option<&str>,
) -> Result<(Vec<i64>, Vec<i64>), Error> {
    let mut c = Conditions::new();
    c.push(
        "(fr_stop IS NOT NULL OR resolve_time IS NOT NULL)",
        Vec::<Value>::new(),
    );
    if let Some(code) = institute {
        c.push("institute = {}", [code]);
    }
    let rows: Vec<(Option<i64>, Option<i64>)> = c
        .fetch(
            conn,
            "fr_stop - create_time, resolve_time - create_time",
            "tickets",
            "1",
            i64::MAX,
        )
        .await?;
    Ok((
        rows.iter().filter_map(|r| r.0).collect(),
        rows.iter().filter_map(|r| r.1).collect(),
    ))
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

    // One pass over the narrow figures index, grouped by institute, month
    // and status; everything else is added up from these groups.
    let filter = if institute.is_some() {
        " WHERE institute = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT institute, month, status, COUNT(*), {}, {}, SUM(rating), COUNT(rating) \
         FROM tickets{filter} GROUP BY institute, month, status",
        attainment_sums("fr", &open),
        attainment_sums("res", &open),
    );
    type GroupRow = (
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        i64,
    );
    let mut query = sqlx::query_as::<_, GroupRow>(sqlx::AssertSqlSafe(sql)).bind(now);
    if let Some(code) = institute {
        query = query.bind(code);
    }
    let groups: Vec<Group> = query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| Group {
            institute: r.0,
            month: r.1,
            status: r.2,
            created: r.3,
            fr_met: r.4.unwrap_or(0),
            fr_breached: r.5.unwrap_or(0),
            res_met: r.6.unwrap_or(0),
            res_breached: r.7.unwrap_or(0),
            rating_sum: r.8.unwrap_or(0),
            rating_count: r.9,
        })
        .collect();

    let mut by_institute: BTreeMap<&str, (Counts, BTreeMap<&str, Counts>)> = BTreeMap::new();
    let mut by_month: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
    let (mut total, mut rating_sum, mut rating_count) = (0, 0, 0);
    for g in &groups {
        let open = Status::parse(&g.status).is_some_and(Status::is_open);
        let (all, months) = by_institute.entry(&g.institute).or_default();
        all.add(g, open);
        months.entry(&g.month).or_default().add(g, open);
        by_month.entry(&g.month).or_default().add(g, open);
        *by_status.entry(&g.status).or_default() += g.created;
        total += g.created;
        rating_sum += g.rating_sum;
        rating_count += g.rating_count;
    }
    let open_by_status = Status::open()
        .map(|s| pb::StatusCount {
            status: pb::TicketStatus::from_str_name(s.as_str()).map_or(0, |v| v as i32),
            count: by_status.get(s.as_str()).copied().unwrap_or(0) as i32,
        })
        .collect();
    let (first_response, resolution) = durations(&mut conn, institute).await?;

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
            rating_sum as f64 / rating_count as f64
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
