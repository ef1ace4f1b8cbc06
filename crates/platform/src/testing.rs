//! Helpers for tests that must pass on SQLite and on PostgreSQL with the
//! same body: each test gets a fresh database of its own.
//!
//! PostgreSQL tests run when `GEARSHIFT_TEST_POSTGRES_URL` is set (CI sets
//! it, and `GEARSHIFT_TEST_REQUIRE_POSTGRES=1` so a missing server fails the
//! run instead of skipping). Use [`engine_tests!`](crate::engine_tests).

use std::path::Path;

/// The engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub const POSTGRES_URL_VAR: &str = "GEARSHIFT_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_VAR: &str = "GEARSHIFT_TEST_REQUIRE_POSTGRES";

/// Whether PostgreSQL tests should run. Panics when they are required but
/// no server is configured, so CI cannot pass without them.
pub fn postgres_enabled() -> bool {
    let url = std::env::var(POSTGRES_URL_VAR).unwrap_or_default();
    if url.is_empty() {
        if std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1") {
            panic!("{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set");
        }
        eprintln!("skipping: set {POSTGRES_URL_VAR} to run the PostgreSQL variant");
        return false;
    }
    true
}

/// A URL for a new, empty database on `engine`. SQLite files go in `dir`;
/// a PostgreSQL database `gs_test_<id>` is created on the test server.
pub async fn fresh_database(engine: Engine, dir: &Path, name: &str) -> String {
    match engine {
        Engine::Sqlite => format!("sqlite://{}/{name}.db", dir.display()),
        Engine::Postgres => {
            use sqlx::Connection;
            let base = std::env::var(POSTGRES_URL_VAR).expect("postgres tests need the URL");
            let db_name = crate::ids::new_id("gs_test").to_lowercase();
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
            // The name is generated from [a-z0-9_] only.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            replace_database(&base, &db_name)
        }
    }
}

/// `base` with its database name replaced by `db_name`.
fn replace_database(base: &str, db_name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = head[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(head.len());
    let mut url = format!("{}/{db_name}", &head[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Declares each listed `async fn name(engine: Engine)` as two tests,
/// `sqlite::name` and `postgres::name`, running the same body.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::testing::postgres_enabled() {
                        super::$name($crate::testing::Engine::Postgres).await
                    }
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_keeping_credentials_and_options() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "gs_x"),
            "postgres://postgres@127.0.0.1:5432/gs_x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "gs_x"),
            "postgres://u:p@h/gs_x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "gs_x"),
            "postgres://h:5432/gs_x"
        );
    }
}
