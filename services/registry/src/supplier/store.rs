//! The supplier's SQL. One code path for SQLite and PostgreSQL (see
//! `gearshift_platform::db` for the rules the queries follow).

use gearshift_platform::sql::{Conditions, Value};
use gearshift_platform::{Error, db};
use sqlx::AnyConnection;

use super::rules::{BusinessNumber, Status, Supplier};
use crate::stage_change::rules::Stage;

const COLUMNS: &str = "id, business_number, legal_name, status, status_reason, create_time, update_time, revision, profile, stage";

/// A supplier as its row reads.
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    business_number: String,
    legal_name: String,
    status: String,
    status_reason: String,
    create_time: i64,
    update_time: i64,
    revision: i64,
    profile: String,
    stage: String,
}

impl TryFrom<Row> for Supplier {
    type Error = Error;

    fn try_from(r: Row) -> Result<Supplier, Error> {
        let corrupt =
            |what: &str, v: &str| Error::internal(anyhow::anyhow!("unknown stored {what} {v:?}"));
        Ok(Supplier {
            status: Status::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            stage: Stage::parse(&r.stage).ok_or_else(|| corrupt("stage", &r.stage))?,
            id: r.id,
            business_number: BusinessNumber::from_stored(r.business_number),
            legal_name: r.legal_name,
            status_reason: r.status_reason,
            create_time: r.create_time,
            update_time: r.update_time,
            revision: r.revision,
            profile: serde_json::from_str(&r.profile).map_err(Error::internal)?,
        })
    }
}

/// Rows as suppliers.
fn suppliers(rows: Vec<Row>) -> Result<Vec<Supplier>, Error> {
    rows.into_iter().map(Supplier::try_from).collect()
}

fn duplicate_number(number: &BusinessNumber) -> Error {
    Error::AlreadyExists {
        resource: "supplier",
        field: "businessNumber".into(),
        message: format!(
            "a supplier with business number {} is already registered",
            number.formatted()
        ),
    }
}

fn profile_json(s: &Supplier) -> Result<String, Error> {
    serde_json::to_string(&s.profile).map_err(Error::internal)
}

/// What the name search looks in: both names, lower-cased.
fn search_name(s: &Supplier) -> String {
    format!(
        "{}\n{}",
        s.legal_name.to_lowercase(),
        s.profile.english_name.to_lowercase()
    )
}

/// `,A,B,` so that a group filter is `LIKE '%,A,%'` on both engines.
fn groups_column(s: &Supplier) -> String {
    if s.profile.parts_groups.is_empty() {
        String::new()
    } else {
        format!(",{},", s.profile.parts_groups.join(","))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the record's writable values as `$1`..`$15`, in the column order
/// that `insert` and `update` both use.
fn bind_record<'q>(query: AnyQuery<'q>, s: &'q Supplier) -> Result<AnyQuery<'q>, Error> {
    Ok(query
        .bind(s.business_number.digits())
        .bind(&s.legal_name)
        .bind(s.status.as_str())
        .bind(&s.status_reason)
        .bind(s.update_time)
        .bind(s.revision)
        .bind(profile_json(s)?)
        .bind(&s.profile.region)
        .bind(s.profile.employee_count.map(i64::from))
        .bind(s.profile.sme.map(i64::from))
        .bind(i64::from(s.profile.council_member))
        .bind(groups_column(s))
        .bind(s.stage.as_str())
        .bind(s.stage.rank())
        .bind(search_name(s)))
}

#[tracing::instrument(skip_all, fields(supplier.id = %s.id))]
pub async fn insert(conn: &mut AnyConnection, s: &Supplier) -> Result<(), Error> {
    let conn = &mut *conn;
    let query = sqlx::query(
        "INSERT INTO suppliers (business_number, legal_name, status, status_reason, update_time, revision, \
         profile, region, employee_count, sme, council_member, parts_groups, stage, stage_rank, search_name, \
         id, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    );
    let result = bind_record(query, s)?
        .bind(&s.id)
        .bind(s.create_time)
        .execute(&mut *conn)
        .await;
    match result {
        Ok(_) => write_certifications(conn, s).await,
        Err(e) if db::is_unique_violation(&e) => Err(duplicate_number(&s.business_number)),
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the supplier's rows in `supplier_certifications`.
async fn write_certifications(conn: &mut AnyConnection, s: &Supplier) -> Result<(), Error> {
    sqlx::query("DELETE FROM supplier_certifications WHERE supplier_id = $1")
        .bind(&s.id)
        .execute(&mut *conn)
        .await?;
    for (i, c) in s.profile.certifications.iter().enumerate() {
        sqlx::query(
            "INSERT INTO supplier_certifications (supplier_id, position, standard, valid_until) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&s.id)
        .bind(i as i64)
        .bind(&c.standard)
        .bind(&c.valid_until)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[tracing::instrument(skip(conn))]
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Supplier>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM suppliers WHERE id = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(Supplier::try_from).transpose()
}

/// What a supplier list is narrowed to; empty values mean "any".
#[derive(Debug, Clone)]
pub struct Filter {
    /// Only this supplier (a company's own key).
    pub only_id: String,
    pub status: String,
    pub region: String,
    pub parts_group: String,
    pub sme: Option<bool>,
    pub council_member: Option<bool>,
    pub query: String,
    pub stage: String,
    pub certification_standard: String,
    /// Certificates expiring from today (Asia/Seoul) to this many days
    /// ahead; 0 for no such filter.
    pub certification_expiring_within_days: i32,
    /// `[from, to)` in microseconds.
    pub create_time: (i64, i64),
    pub update_time: (i64, i64),
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            only_id: String::new(),
            status: String::new(),
            region: String::new(),
            parts_group: String::new(),
            sme: None,
            council_member: None,
            query: String::new(),
            stage: String::new(),
            certification_standard: String::new(),
            certification_expiring_within_days: 0,
            create_time: (i64::MIN, i64::MAX),
            update_time: (i64::MIN, i64::MAX),
        }
    }
}

impl Filter {
    /// The filter's values in a fixed order, for page-token fingerprints.
    pub fn fingerprint_parts(&self) -> Vec<String> {
        vec![
            self.only_id.clone(),
            self.status.clone(),
            self.region.clone(),
            self.parts_group.clone(),
            format!("{:?}", self.sme),
            format!("{:?}", self.council_member),
            self.query.clone(),
            self.stage.clone(),
            self.certification_standard.clone(),
            self.certification_expiring_within_days.to_string(),
            format!("{:?}", self.create_time),
            format!("{:?}", self.update_time),
        ]
    }
}

/// What a supplier list is sorted by; ties in registration (id) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Id,
    Name,
    CreateTime,
    Stage,
    EmployeeCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Order {
    pub key: SortKey,
    pub descending: bool,
}

impl Order {
    /// Parses `orderBy`: one of the sortable fields, optionally ` desc`
    /// (or ` asc`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let words: Vec<&str> = raw.split_whitespace().collect();
        let (field, descending) = match words.as_slice() {
            [] => return Ok(Self::default()),
            [f] => (*f, false),
            [f, d] if d.eq_ignore_ascii_case("desc") => (*f, true),
            [f, d] if d.eq_ignore_ascii_case("asc") => (*f, false),
            _ => return Err(Self::usage()),
        };
        let key = match field {
            "name" | "legalName" | "legal_name" => SortKey::Name,
            "createTime" | "create_time" => SortKey::CreateTime,
            "stage" => SortKey::Stage,
            "employeeCount" | "employee_count" => SortKey::EmployeeCount,
            _ => return Err(Self::usage()),
        };
        Ok(Self { key, descending })
    }

    fn usage() -> String {
        "must be one of name, createTime, stage, employeeCount, optionally followed by \" desc\""
            .into()
    }

    /// The SQL expression sorted on (a fixed fragment, never input).
    fn expression(self) -> &'static str {
        match self.key {
            SortKey::Id => "id",
            SortKey::Name => "legal_name",
            SortKey::CreateTime => "create_time",
            SortKey::Stage => "stage_rank",
            SortKey::EmployeeCount => "COALESCE(employee_count, -1)",
        }
    }

    /// The value of the sort expression for `s`: the page token's key.
    pub fn key_of(self, s: &Supplier) -> serde_json::Value {
        use serde_json::json;
        match self.key {
            SortKey::Id => json!(s.id),
            SortKey::Name => json!([s.legal_name, s.id]),
            SortKey::CreateTime => json!([s.create_time, s.id]),
            SortKey::Stage => json!([s.stage.rank(), s.id]),
            SortKey::EmployeeCount => {
                json!([s.profile.employee_count.map(i64::from).unwrap_or(-1), s.id])
            }
        }
    }
}

/// Where a page starts: after this sort value and id.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Start,
    Id(String),
    Text(String, String),
    Number(i64, String),
}

impl After {
    /// Reads a page token's key back for `order`.
    pub fn from_key(order: Order, key: Option<serde_json::Value>) -> Option<Self> {
        use serde_json::Value;
        let Some(key) = key else {
            return Some(After::Start);
        };
        match (order.key, key) {
            (SortKey::Id, Value::String(id)) => Some(After::Id(id)),
            (SortKey::Name, Value::Array(a)) => match a.as_slice() {
                [Value::String(v), Value::String(id)] => Some(After::Text(v.clone(), id.clone())),
                _ => None,
            },
            (SortKey::Id | SortKey::Name, _) => None,
            (_, Value::Array(a)) => match a.as_slice() {
                [Value::Number(v), Value::String(id)] => {
                    Some(After::Number(v.as_i64()?, id.clone()))
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// The digits of a search that is (part of) a business number: only
/// digits, dashes and spaces, and at least three digits. Any other search is
/// a name, digits included (`알파정밀 2호`).
fn number_query(query: &str) -> Option<String> {
    let only_number = query
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c.is_whitespace());
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    (only_number && digits.len() >= 3).then_some(digits)
}

/// `%text%` for LIKE, with the wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of suppliers narrowed by `filter`, sorted by `order`, starting
/// after `after`.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &db::Db,
    after: &After,
    filter: &Filter,
    order: Order,
    limit: i64,
) -> Result<Vec<Supplier>, Error> {
    use Value::{Int, Text};
    let engine = db.engine();
    let text = |s: &str| Text(s.to_string());
    let mut c = Conditions::new();
    let expr = order.expression();
    let descending = order.descending;
    let cmp = if descending { "<" } else { ">" };
    // Keyset: after the last row's sort value, ties by id (always ascending).
    let keyset = format!("({expr} {cmp} {{}} OR ({expr} = {{}} AND id > {{}}))");
    match (after, order.key) {
        (After::Start, _) => {}
        (After::Id(id), _) | (After::Text(_, id) | After::Number(_, id), SortKey::Id) => {
            c.push(&format!("id {cmp} {{}}"), vec![text(id)])
        }
        (After::Text(v, id), _) => c.push(&keyset, vec![text(v), text(v), text(id)]),
        (After::Number(v, id), _) => c.push(&keyset, vec![Int(*v), Int(*v), text(id)]),
    }
    if !filter.only_id.is_empty() {
        c.push("id = {}", vec![text(&filter.only_id)]);
    }
    if !filter.status.is_empty() {
        c.push("status = {}", vec![text(&filter.status)]);
    }
    if !filter.region.is_empty() {
        c.push("region = {}", vec![text(&filter.region)]);
    }
    if !filter.parts_group.is_empty() {
        c.push(
            "parts_groups LIKE {}",
            vec![Text(format!("%,{},%", filter.parts_group))],
        );
    }
    if let Some(sme) = filter.sme {
        c.push("sme = {}", vec![Int(i64::from(sme))]);
    }
    if let Some(member) = filter.council_member {
        c.push("council_member = {}", vec![Int(i64::from(member))]);
    }
    let query = filter.query.trim().to_lowercase();
    if !query.is_empty() {
        let pattern = contains_pattern(&query);
        // `\` escapes `%` and `_` in the pattern: PostgreSQL's default,
        // which SQLite must be told. (An explicit ESCAPE on PostgreSQL makes
        // the trigram index search several times slower.)
        let sqlite = engine == db::Engine::Sqlite;
        match (number_query(&query), sqlite) {
            (None, false) => c.push("search_name LIKE {}", vec![Text(pattern)]),
            (None, true) => c.push("search_name LIKE {} ESCAPE '\\'", vec![Text(pattern)]),
            (Some(digits), false) => c.push(
                "(search_name LIKE {} OR business_number LIKE {})",
                vec![Text(pattern), Text(contains_pattern(&digits))],
            ),
            (Some(digits), true) => c.push(
                "(search_name LIKE {} ESCAPE '\\' OR business_number LIKE {} ESCAPE '\\')",
                vec![Text(pattern), Text(contains_pattern(&digits))],
            ),
        }
    }
    if !filter.stage.is_empty() {
        c.push("stage = {}", vec![text(&filter.stage)]);
    }
    let days = filter.certification_expiring_within_days;
    match (filter.certification_standard.as_str(), days) {
        ("", 0) => {}
        (standard, 0) => c.push(
            "EXISTS (SELECT 1 FROM supplier_certifications c \
             WHERE c.supplier_id = suppliers.id AND c.standard = {})",
            vec![text(standard)],
        ),
        ("", days) => c.push(
            "EXISTS (SELECT 1 FROM supplier_certifications c \
             WHERE c.supplier_id = suppliers.id AND c.valid_until >= {} AND c.valid_until <= {})",
            vec![
                Text(db.clock().today().to_string()),
                Text(db.clock().date_in(i64::from(days)).to_string()),
            ],
        ),
        (standard, days) => c.push(
            "EXISTS (SELECT 1 FROM supplier_certifications c \
             WHERE c.supplier_id = suppliers.id AND c.standard = {} \
             AND c.valid_until >= {} AND c.valid_until <= {})",
            vec![
                text(standard),
                Text(db.clock().today().to_string()),
                Text(db.clock().date_in(i64::from(days)).to_string()),
            ],
        ),
    }
    if filter.create_time.0 != i64::MIN {
        c.push("create_time >= {}", vec![Int(filter.create_time.0)]);
    }
    if filter.create_time.1 != i64::MAX {
        c.push("create_time < {}", vec![Int(filter.create_time.1)]);
    }
    if filter.update_time.0 != i64::MIN {
        c.push("update_time >= {}", vec![Int(filter.update_time.0)]);
    }
    if filter.update_time.1 != i64::MAX {
        c.push("update_time < {}", vec![Int(filter.update_time.1)]);
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let order_clause = match order.key {
        SortKey::Id => format!("id {direction}"),
        _ => format!("{expr} {direction}, id ASC"),
    };
    let rows: Vec<Row> = c
        .fetch(
            &mut *db.conn().await?,
            COLUMNS,
            "suppliers",
            &order_clause,
            limit,
        )
        .await?;
    suppliers(rows)
}

/// Writes `s` if the stored revision is still `expected_revision`; returns
/// whether it did. `s.revision` must already be the new revision.
#[tracing::instrument(skip_all, fields(supplier.id = %s.id))]
pub async fn update(
    conn: &mut AnyConnection,
    s: &Supplier,
    expected_revision: i64,
) -> Result<bool, Error> {
    let query = sqlx::query(
        "UPDATE suppliers SET business_number = $1, legal_name = $2, status = $3, status_reason = $4, \
         update_time = $5, revision = $6, profile = $7, region = $8, employee_count = $9, sme = $10, \
         council_member = $11, parts_groups = $12, stage = $13, stage_rank = $14, search_name = $15 \
         WHERE id = $16 AND revision = $17",
    );
    let result = bind_record(query, s)?
        .bind(&s.id)
        .bind(expected_revision)
        .execute(&mut *conn)
        .await;
    match result {
        Ok(done) if done.rows_affected() == 1 => {
            write_certifications(conn, s).await?;
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(e) if db::is_unique_violation(&e) => Err(duplicate_number(&s.business_number)),
        Err(e) => Err(e.into()),
    }
}

/// NOT_FOUND unless the supplier exists (before listing what hangs off it).
pub async fn ensure_exists(conn: &mut AnyConnection, id: &str) -> Result<(), Error> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM suppliers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    found.map(drop).ok_or_else(|| super::access::not_found(id))
}

#[tracing::instrument(skip(conn))]
pub async fn get_by_number(
    conn: &mut AnyConnection,
    digits: &str,
) -> Result<Option<Supplier>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM suppliers WHERE business_number = $1");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(digits)
        .fetch_optional(conn)
        .await?;
    row.map(Supplier::try_from).transpose()
}

/// The suppliers with these ids (in no particular order; missing ones absent).
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn get_many(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<Supplier>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Placeholders only: the SQL is built from fixed fragments, values are bound.
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM suppliers WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id);
    }
    suppliers(query.fetch_all(&mut *conn).await?)
}

/// PostgreSQL only: trigram indexes so that the list's substring search
/// (`LIKE '%…%'` on names and business numbers) need not read every row.
/// They need the `pg_trgm` extension (trusted, so the database owner may
/// create it); without it the search still works, by scanning, and a
/// warning says so. SQLite has no such index; at its scale it scans.
pub async fn ensure_search_indexes(db: &db::Db) {
    if db.engine() != db::Engine::Postgres {
        return;
    }
    const STATEMENTS: [&str; 3] = [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX IF NOT EXISTS suppliers_search_name_trgm ON suppliers \
         USING gin (search_name gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS suppliers_business_number_trgm ON suppliers \
         USING gin (business_number gin_trgm_ops)",
    ];
    for sql in STATEMENTS {
        if let Err(e) = sqlx::raw_sql(sql).execute(db.pool()).await {
            tracing::warn!(
                error = %e,
                "no trigram index for the supplier search; it works, but scans every row \
                 (run CREATE EXTENSION pg_trgm as the database owner to fix)"
            );
            return;
        }
    }
}
