//! API keys: issuing, listing, revoking, and who may do it.

use crate::common::*;
use gearshift_platform::engine_tests;
use reqwest::Method;
use serde_json::json;

engine_tests!(
    an_issued_key_authenticates_until_revoked,
    keys_are_listed_without_secrets,
    only_operators_manage_keys,
    invalid_keys_are_refused_with_the_fields_named,
    requests_without_a_valid_key_are_401,
    the_bootstrap_key_is_an_operator_and_survives_restarts,
);

async fn an_issued_key_authenticates_until_revoked(engine: Engine) {
    let app = spawn_app(engine).await;
    let created = app
        .post(
            "/v1/apiKeys",
            &app.admin_key,
            json!({"displayName": "KATECH integration", "role": "institute:KATECH"}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("gsk_") && secret.len() > 40);
    assert_eq!(created.body["state"], "ENABLED");
    assert_eq!(created.body["secretPrefix"], secret[..8]);

    assert_eq!(app.get("/v1/suppliers", &secret).await.status, 200);

    let revoked = TestApp::send(app.request(
        Method::POST,
        &format!("/v1/apiKeys/{id}:revoke"),
        Some(&app.admin_key),
    ))
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_eq!(revoked.body["state"], "REVOKED");
    assert!(revoked.body["revokeTime"].is_string());

    // At once, on this gateway: no grace period for a revoked key.
    app.get("/v1/suppliers", &secret)
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    // Revoking again changes nothing.
    let again = app
        .post(
            &format!("/v1/apiKeys/{id}:revoke"),
            &app.admin_key,
            json!({}),
        )
        .await;
    assert_eq!(again.body["revokeTime"], revoked.body["revokeTime"]);
    app.post(
        "/v1/apiKeys/key_00000000000000000000000000:revoke",
        &app.admin_key,
        json!({}),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
}

async fn keys_are_listed_without_secrets(engine: Engine) {
    let app = spawn_app(engine).await;
    app.key_for("reviewer").await;
    let created = app
        .post(
            "/v1/apiKeys",
            &app.admin_key,
            json!({"displayName": "again", "role": "operator"}),
        )
        .await;

    let list = app.get("/v1/apiKeys", &app.admin_key).await;
    assert_eq!(list.status, 200);
    let keys = list.body["apiKeys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "bootstrap + 2");
    assert!(keys.iter().all(|k| k["secret"] == ""), "{}", list.text);
    assert!(!list.text.contains(created.body["secret"].as_str().unwrap()));

    let one = app
        .get(
            &format!("/v1/apiKeys/{}", created.body["id"].as_str().unwrap()),
            &app.admin_key,
        )
        .await;
    assert_eq!(one.body["displayName"], "again");
    assert_eq!(one.body["secret"], "");

    // A replayed create does not show the secret again: it is not kept.
    let post = || {
        TestApp::send(
            app.request(Method::POST, "/v1/apiKeys", Some(&app.admin_key))
                .header("idempotency-key", "k1")
                .json(&json!({"displayName": "once", "role": "reviewer"})),
        )
    };
    let first = post().await;
    let replay = post().await;
    assert_eq!(first.body["id"], replay.body["id"]);
    assert!(first.body["secret"].as_str().unwrap().starts_with("gsk_"));
    assert_eq!(replay.body["secret"], "");
}

async fn only_operators_manage_keys(engine: Engine) {
    let app = spawn_app(engine).await;
    let sup = app.create_supplier(SAMSUNG, "삼성전자").await;
    let roles = [
        "reviewer".to_string(),
        "institute:GJTP".to_string(),
        format!("supplier:{}", sup["id"].as_str().unwrap()),
    ];
    for role in roles {
        let key = app.key_for(&role).await;
        app.get("/v1/apiKeys", &key)
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        app.post(
            "/v1/apiKeys",
            &key,
            json!({"displayName": "escalate", "role": "operator"}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");
        let own_id = app.get("/v1/apiKeys", &app.admin_key).await.body["apiKeys"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(&format!("/v1/apiKeys/{own_id}:revoke"), &key, json!({}))
            .await
            .assert_problem(403, "PERMISSION_DENIED");
    }
}

async fn invalid_keys_are_refused_with_the_fields_named(engine: Engine) {
    let app = spawn_app(engine).await;
    for (body, fields) in [
        (
            json!({"displayName": "x", "role": "admin"}),
            vec!["apiKey.role"],
        ),
        (
            json!({"displayName": "x", "role": "institute:katech"}),
            vec!["apiKey.role"],
        ),
        (
            json!({"displayName": "x", "role": "supplier:42"}),
            vec!["apiKey.role"],
        ),
        (
            json!({"displayName": "x", "role": "institute:NOSUCH"}),
            vec!["apiKey.role"],
        ),
        (
            json!({"displayName": "x", "role": "supplier:sup_00000000000000000000000000"}),
            vec!["apiKey.role"],
        ),
        (
            json!({"displayName": "", "role": "operator"}),
            vec!["apiKey.displayName"],
        ),
        (
            json!({"displayName": "x".repeat(101), "role": ""}),
            vec!["apiKey.displayName", "apiKey.role"],
        ),
        (
            json!({"displayName": "x", "role": "operator", "secret": 1}),
            vec!["apiKey.secret"],
        ),
    ] {
        let r = app.post("/v1/apiKeys", &app.admin_key, body.clone()).await;
        r.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(r.violation_fields(), fields, "{body}: {}", r.text);
    }
}

async fn requests_without_a_valid_key_are_401(engine: Engine) {
    let app = spawn_app(engine).await;
    let none = TestApp::send(app.request(Method::GET, "/v1/suppliers", None)).await;
    none.assert_problem(401, "UNAUTHENTICATED");
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"gearshift\"")
    );
    app.get("/v1/suppliers", "gsk_made_up")
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    let basic = TestApp::send(
        app.request(Method::GET, "/v1/suppliers", None)
            .header("authorization", "Basic dTpw"),
    )
    .await;
    basic.assert_problem(401, "UNAUTHENTICATED");
    // Authentication is checked before the body is even read.
    let anon_post = TestApp::send(
        app.request(Method::POST, "/v1/suppliers", None)
            .json(&json!({"businessNumber": KIA, "legalName": "x"})),
    )
    .await;
    anon_post.assert_problem(401, "UNAUTHENTICATED");
}

async fn the_bootstrap_key_is_an_operator_and_survives_restarts(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let args = test_args(engine, dir.path()).await;
    let app = spawn_with(args.clone(), tempfile::tempdir().unwrap()).await;
    let s = app.create_supplier(LG, "LG전자").await;
    drop(app);

    // Same databases, same bootstrap secret: no second key, data intact.
    let again = spawn_with(args, dir).await;
    let keys = again.get("/v1/apiKeys", &again.admin_key).await;
    assert_eq!(
        keys.body["apiKeys"].as_array().unwrap().len(),
        1,
        "{}",
        keys.text
    );
    assert_eq!(keys.body["apiKeys"][0]["role"], "operator");
    let read = again
        .get(
            &format!("/v1/suppliers/{}", s["id"].as_str().unwrap()),
            &again.admin_key,
        )
        .await;
    assert_eq!(read.body["legalName"], "LG전자");
}
