//! The policies' SQL.

use gearshift_platform::Error;
use sqlx::AnyConnection;

use crate::ticket::rules::Priority;
use crate::ticket::sla::{self, Policy};

/// A stored policy with its revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub priority: Priority,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    pub update_time: i64,
    pub revision: i64,
}

impl Stored {
    pub fn policy(&self) -> Policy {
        Policy {
            first_response_minutes: self.first_response_minutes,
            resolution_minutes: self.resolution_minutes,
        }
    }
}

pub async fn get(conn: &mut AnyConnection, priority: Priority) -> Result<Stored, Error> {
    let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT first_response_minutes, resolution_minutes, update_time, revision \
         FROM service_level_policies WHERE priority = $1",
    )
    .bind(priority.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((first_response_minutes, resolution_minutes, update_time, revision)) => Stored {
            priority,
            first_response_minutes,
            resolution_minutes,
            update_time,
            revision,
        },
        None => {
            let p = sla::policy(priority);
            Stored {
                priority,
                first_response_minutes: p.first_response_minutes,
                resolution_minutes: p.resolution_minutes,
                update_time: 0,
                revision: 0,
            }
        }
    })
}

/// The targets for `priority` now.
pub async fn policy(conn: &mut AnyConnection, priority: Priority) -> Result<Policy, Error> {
    Ok(get(conn, priority).await?.policy())
}

pub async fn update(conn: &mut AnyConnection, p: &Stored, expected: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE service_level_policies SET first_response_minutes = $2, resolution_minutes = $3, \
         update_time = $4, revision = $5 WHERE priority = $1 AND revision = $6",
    )
    .bind(p.priority.as_str())
    .bind(p.first_response_minutes)
    .bind(p.resolution_minutes)
    .bind(p.update_time)
    .bind(p.revision)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
