//! The reviews' SQL: a row per assigned reviewer, the review as its
//! encoded message.

use gearshift_platform::Error;
use gearshift_platform::sql::{Conditions, Value, decode_message, encode_message};
use gearshift_proto::financing::v1 as pb;
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct Row {
    application_id: String,
    content: String,
}

fn state(r: &pb::Review) -> &'static str {
    pb::review::State::try_from(r.state)
        .unwrap_or(pb::review::State::Unspecified)
        .as_str_name()
}

/// Assigns `review.reviewer`; `false` when already assigned.
pub async fn insert(
    conn: &mut AnyConnection,
    application_id: &str,
    review: &pb::Review,
    now: i64,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO reviews (application_id, reviewer, state, content, assign_time) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(application_id)
    .bind(&review.reviewer)
    .bind(state(review))
    .bind(encode_message(review))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a review that was PENDING; `false` when it no longer is.
pub async fn submit(
    conn: &mut AnyConnection,
    application_id: &str,
    review: &pb::Review,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE reviews SET state = $3, content = $4 \
         WHERE application_id = $1 AND reviewer = $2 AND state = 'PENDING'",
    )
    .bind(application_id)
    .bind(&review.reviewer)
    .bind(state(review))
    .bind(encode_message(review))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An application's reviews, in the order they were assigned.
pub async fn of(conn: &mut AnyConnection, application_id: &str) -> Result<Vec<pb::Review>, Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT application_id, content FROM reviews WHERE application_id = $1 \
         ORDER BY assign_time, reviewer",
    )
    .bind(application_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| decode_message(&r.content)).collect()
}

/// The reviews of several applications at once (a page of a list), by
/// application id, each in the order assigned.
pub async fn of_many(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<pb::Review>>, Error> {
    let mut out: std::collections::HashMap<String, Vec<pb::Review>> = Default::default();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut c = Conditions::new();
    let marks = vec!["{}"; ids.len()].join(", ");
    c.push(
        &format!("application_id IN ({marks})"),
        ids.iter().map(|i| Value::Text(i.clone())),
    );
    let rows: Vec<Row> = c
        .fetch(
            conn,
            "application_id, content",
            "reviews",
            "assign_time, reviewer",
            i64::MAX,
        )
        .await?;
    for row in rows {
        let review = decode_message::<pb::Review>(&row.content)?;
        out.entry(row.application_id).or_default().push(review);
    }
    Ok(out)
}
