//! The gateway calls a service built in the same process directly, and one
//! elsewhere over the network. Nothing a client sees may differ: the same
//! answers and problem documents, the principal still checked by the
//! service, the deadline still cutting a write off, a revoked key refused at
//! once.

use std::time::Duration;

use gearshift_gateway::Dispatch;
use gearshift_platform::engine_tests;
use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
use gearshift_platform::target::{Context, Target};
use gearshift_platform::{Principal, Role};
use gearshift_proto::registry::v1 as pb;
use serde_json::json;

use crate::common::*;

engine_tests!(both_dispatch_modes_answer_check_and_cut_off_alike);

/// What a client saw: status, code and detail of each step.
type Seen = Vec<(u16, String, String)>;

async fn story(engine: Engine, dispatch: Dispatch) -> Seen {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(engine, dir.path()).await;
    args.gateway.dispatch = dispatch;
    args.gateway.request_timeout = Duration::from_millis(300);
    let registry_db = args.registry.database_url.clone().unwrap();
    let app = spawn_with(args, dir).await;
    let mut seen = Seen::new();
    let mut note = |r: &Reply| {
        let detail = r.body["detail"].as_str().unwrap_or_default();
        // Ids differ from run to run; what matters is the rest.
        let detail = detail.split("sup_").next().unwrap_or_default().to_string();
        seen.push((r.status.as_u16(), r.code().to_string(), detail));
    };

    let created = app
        .post(
            "/v1/suppliers",
            &app.admin_key,
            json!({"businessNumber": SAMSUNG, "legalName": "광주정밀"}),
        )
        .await;
    note(&created);
    let id = created.body["id"].as_str().unwrap().to_string();
    note(
        &app.post(
            &format!("/v1/suppliers/{id}:verify"),
            &app.admin_key,
            json!({}),
        )
        .await,
    );
    note(
        &app.post(
            &format!("/v1/suppliers/{id}:verify"),
            &app.admin_key,
            json!({}),
        )
        .await,
    );
    note(
        &app.get(
            "/v1/suppliers/sup_01m8gc4vy40mf450tzes33dn7x",
            &app.admin_key,
        )
        .await,
    );

    // Who may do what is decided by the service, with the gateway's principal.
    let reviewer = app.key_for("reviewer").await;
    note(&app.get(&format!("/v1/suppliers/{id}"), &reviewer).await);
    note(
        &app.post(
            "/v1/suppliers",
            &reviewer,
            json!({"businessNumber": KIA, "legalName": "기아"}),
        )
        .await,
    );
    let keys = app.get("/v1/apiKeys", &app.admin_key).await;
    let reviewer_id = keys.body["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "reviewer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    note(
        &app.post(
            &format!("/v1/apiKeys/{reviewer_id}:revoke"),
            &app.admin_key,
            json!({}),
        )
        .await,
    );
    note(&app.get(&format!("/v1/suppliers/{id}"), &reviewer).await);

    // The deadline reaches the write: held up by a lock, it is cut off at
    // 300 ms and leaves nothing behind.
    sqlx::any::install_default_drivers();
    let mut blocker = sqlx::AnyConnection::connect(&registry_db).await.unwrap();
    let lock = match engine {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::Postgres => "BEGIN; LOCK TABLE suppliers IN EXCLUSIVE MODE",
    };
    sqlx::raw_sql(lock).execute(&mut blocker).await.unwrap();
    note(
        &app.post(
            "/v1/suppliers",
            &app.admin_key,
            json!({"businessNumber": NAVER, "legalName": "네이버"}),
        )
        .await,
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let list = app.get("/v1/suppliers", &app.admin_key).await;
    assert_eq!(
        list.body["suppliers"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.text
    );
    seen
}

async fn both_dispatch_modes_answer_check_and_cut_off_alike(engine: Engine) {
    let direct = story(engine, Dispatch::Auto).await;
    let network = story(engine, Dispatch::Network).await;

    let codes: Vec<(u16, &str)> = direct.iter().map(|(s, c, _)| (*s, c.as_str())).collect();
    assert_eq!(
        codes,
        [
            (200, ""),
            (200, ""),
            (409, "INVALID_TRANSITION"),
            (404, "NOT_FOUND"),
            (200, ""),
            (403, "PERMISSION_DENIED"),
            (200, ""),
            (401, "UNAUTHENTICATED"),
            (504, "DEADLINE_EXCEEDED"),
        ]
    );
    assert_eq!(direct, network, "in-process and network dispatch differ");
}

/// In one process the registry is called without a socket, and still
/// refuses a call without a valid principal before any handler runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_service_still_checks_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let args = test_args(Engine::Sqlite, dir.path()).await;
    let key = PrincipalKey::new(&[7u8; 32]).unwrap();
    let ctx = Context {
        data_dir: dir.path().to_path_buf(),
        principal_key: key.clone(),
        clock: gearshift_platform::clock::Clock::system(),
        calendar: std::sync::Arc::new(gearshift_platform::calendar::BusinessCalendar::korea()),
        directory: Default::default(),
    };
    let registry = gearshift_registry::Registry::build(&args.registry, &ctx)
        .await
        .unwrap();
    let local = registry.local_service().expect("served in-process");
    let mut client = pb::supplier_registry_client::SupplierRegistryClient::new(local);

    let anonymous = client
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let sign = |with: &PrincipalKey| {
        let mut request = tonic::Request::new(pb::ListSuppliersRequest::default());
        let token = with.sign(&Principal {
            subject: "key_direct".into(),
            role: Role::Operator,
        });
        request
            .metadata_mut()
            .insert(METADATA_KEY, token.parse().unwrap());
        request
    };
    let forged = PrincipalKey::new(&[1u8; 32]).unwrap();
    let refused = client.list_suppliers(sign(&forged)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(client.list_suppliers(sign(&key)).await.is_ok());
}

/// The caller's trace reaches the audit trail: the event a write leaves
/// carries the trace id of the request, in-process and over the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_records_the_callers_trace_in_its_event() {
    use sqlx::Connection;
    for (dispatch, trace) in [
        (Dispatch::Auto, "4bf92f3577b34da6a3ce929d0e0e4736"),
        (Dispatch::Network, "5c0a93f1a9b34da6a3ce929d0e0e4737"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = test_args(Engine::Sqlite, dir.path()).await;
        args.gateway.dispatch = dispatch;
        let registry_db = args.registry.database_url.clone().unwrap();
        let app = spawn_with(args, dir).await;

        let r = TestApp::send(
            app.request(reqwest::Method::POST, "/v1/suppliers", Some(&app.admin_key))
                .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
                .json(&json!({"businessNumber": SAMSUNG, "legalName": "광주정밀"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);

        sqlx::any::install_default_drivers();
        let mut db = sqlx::AnyConnection::connect(&registry_db).await.unwrap();
        let (recorded,): (String,) = sqlx::query_as(
            "SELECT trace_id FROM outbox_events WHERE event_type = 'supplier.created'",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(recorded, trace, "{dispatch:?}");
    }
}
