//! The supplier registry through the REST API, on SQLite and PostgreSQL.

use crate::common::*;
use gearshift_platform::engine_tests;
use reqwest::Method;
use serde_json::json;

engine_tests!(
    registering_a_supplier_then_reading_it_back,
    invalid_suppliers_are_refused_with_the_fields_named,
    a_business_number_is_registered_once,
    idempotency_key_replays_the_first_response,
    concurrent_retries_with_one_idempotency_key_make_one_supplier,
    updates_change_masked_fields_and_respect_etags,
    bad_updates_are_refused_with_the_fields_named,
    pages_cover_every_supplier_once_despite_concurrent_inserts,
    bad_page_parameters_are_400,
    every_change_is_an_event_in_order,
    a_company_key_sees_and_changes_only_its_own_record,
    institutes_and_reviewers_read_but_cannot_write,
    lookup_finds_a_supplier_by_business_number_in_any_notation,
);

async fn registering_a_supplier_then_reading_it_back(engine: Engine) {
    let app = spawn_app(engine).await;

    let created = app
        .post(
            "/v1/suppliers",
            &app.admin_key,
            json!({"businessNumber": "1248100998", "legalName": "  삼성전자 주식회사  "}),
        )
        .await;

    assert_eq!(created.status, 200, "{}", created.text);
    let s = &created.body;
    let id = s["id"].as_str().unwrap();
    assert!(id.starts_with("sup_") && id.len() == 30, "{id}");
    assert_eq!(s["businessNumber"], SAMSUNG);
    assert_eq!(s["legalName"], "삼성전자 주식회사");
    assert_eq!(s["status"], "PENDING_VERIFICATION");
    assert!(s["createTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(s["createTime"], s["updateTime"]);
    assert_eq!(
        created.header("etag"),
        Some(format!("\"{}\"", s["etag"].as_str().unwrap()).as_str())
    );

    let read = app
        .get(&format!("/v1/suppliers/{id}"), &app.admin_key)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);

    let missing = app
        .get(
            "/v1/suppliers/sup_00000000000000000000000000",
            &app.admin_key,
        )
        .await;
    missing.assert_problem(404, "NOT_FOUND");
    let malformed = app.get("/v1/suppliers/42", &app.admin_key).await;
    malformed.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(malformed.violation_fields(), ["id"]);
}

async fn invalid_suppliers_are_refused_with_the_fields_named(engine: Engine) {
    let app = spawn_app(engine).await;
    let cases = [
        (
            json!({"businessNumber": "124-81-00999", "legalName": "x"}),
            vec!["supplier.businessNumber"],
        ),
        (
            json!({"businessNumber": "12481", "legalName": "x"}),
            vec!["supplier.businessNumber"],
        ),
        (json!({"legalName": "x"}), vec!["supplier.businessNumber"]),
        (
            json!({"businessNumber": SAMSUNG, "legalName": "   "}),
            vec!["supplier.legalName"],
        ),
        (
            json!({"businessNumber": SAMSUNG, "legalName": "가".repeat(201)}),
            vec!["supplier.legalName"],
        ),
        (
            json!({"businessNumber": "1", "legalName": ""}),
            vec!["supplier.businessNumber", "supplier.legalName"],
        ),
        (
            json!({"businessNumber": SAMSUNG, "legalName": "x", "color": "red"}),
            vec!["supplier.color"],
        ),
        (
            json!({"businessNumber": SAMSUNG, "legalName": 5}),
            vec!["supplier.legalName"],
        ),
        (
            json!({"businessNumber": SAMSUNG, "legalName": "x", "status": "FLYING"}),
            vec!["supplier.status"],
        ),
        (json!(["not", "an", "object"]), vec!["body"]),
    ];
    for (body, fields) in cases {
        let r = app
            .post("/v1/suppliers", &app.admin_key, body.clone())
            .await;
        r.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(r.violation_fields(), fields, "for {body}: {}", r.text);
    }

    let not_json = TestApp::send(
        app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
            .header("content-type", "application/json")
            .body("{\"businessNumber\": "),
    )
    .await;
    not_json.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(not_json.violation_fields(), ["body"]);

    let wrong_type = TestApp::send(
        app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
            .header("content-type", "text/plain")
            .body("hello"),
    )
    .await;
    wrong_type.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE");

    let huge = TestApp::send(
        app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
            .header("content-type", "application/json")
            .body(format!(
                "{{\"legalName\": \"{}\"}}",
                "x".repeat(2 * 1024 * 1024)
            )),
    )
    .await;
    huge.assert_problem(413, "PAYLOAD_TOO_LARGE");

    // Nothing above was half-written.
    let list = app.get("/v1/suppliers", &app.admin_key).await;
    assert_eq!(list.body["suppliers"].as_array().unwrap().len(), 0);
}

async fn a_business_number_is_registered_once(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_supplier(KIA, "기아").await;

    // The same number in the other notation is the same company.
    let again = app
        .post(
            "/v1/suppliers",
            &app.admin_key,
            json!({"businessNumber": "1198102316", "legalName": "기아 2"}),
        )
        .await;

    again.assert_problem(409, "ALREADY_EXISTS");
    assert_eq!(again.body["metadata"]["field"], "businessNumber");
    assert!(again.body["detail"].as_str().unwrap().contains(KIA));
}

async fn idempotency_key_replays_the_first_response(engine: Engine) {
    let app = spawn_app(engine).await;
    let body = json!({"businessNumber": LG, "legalName": "LG전자"});
    let post = |key: &'static str, body: serde_json::Value| {
        TestApp::send(
            app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
                .header("idempotency-key", key)
                .json(&body),
        )
    };

    let first = post("retry-1", body.clone()).await;
    let second = post("retry-1", body.clone()).await;
    let other_body = post("retry-1", json!({"businessNumber": LG, "legalName": "LG"})).await;

    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(first.body, second.body, "the replay is the first response");
    other_body.assert_problem(422, "IDEMPOTENCY_KEY_REUSED");
    let list = app.get("/v1/suppliers", &app.admin_key).await;
    assert_eq!(list.body["suppliers"].as_array().unwrap().len(), 1);

    // Another key is another request: a duplicate number now.
    post("retry-2", body)
        .await
        .assert_problem(409, "ALREADY_EXISTS");
    // A key that is not printable ASCII is refused.
    let bad = TestApp::send(
        app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
            .header("idempotency-key", "has space")
            .json(&json!({"businessNumber": NAVER, "legalName": "네이버"})),
    )
    .await;
    bad.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(bad.violation_fields(), ["Idempotency-Key"]);
}

async fn concurrent_retries_with_one_idempotency_key_make_one_supplier(engine: Engine) {
    let app = spawn_app(engine).await;
    let body = json!({"businessNumber": KAKAO, "legalName": "카카오"});
    let attempts = (0..8).map(|_| {
        TestApp::send(
            app.request(Method::POST, "/v1/suppliers", Some(&app.admin_key))
                .header("idempotency-key", "burst")
                .json(&body),
        )
    });

    let replies = futures_util::future::join_all(attempts).await;

    let ok: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert!(!ok.is_empty());
    assert!(
        ok.iter().all(|r| r.body["id"] == ok[0].body["id"]),
        "one id for every success"
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        r.assert_problem(409, "IDEMPOTENCY_KEY_IN_USE");
    }
    let list = app.get("/v1/suppliers", &app.admin_key).await;
    assert_eq!(list.body["suppliers"].as_array().unwrap().len(), 1);
}

async fn updates_change_masked_fields_and_respect_etags(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = app.create_supplier(NAVER, "네이버").await;
    let id = s["id"].as_str().unwrap();
    let path = format!("/v1/suppliers/{id}");

    // Without a mask, the fields in the body are the ones to change.
    let renamed = app
        .patch(
            &path,
            &app.admin_key,
            json!({"legalName": "네이버 주식회사"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["legalName"], "네이버 주식회사");
    assert_eq!(renamed.body["businessNumber"], NAVER);
    assert_ne!(renamed.body["etag"], s["etag"]);
    assert_ne!(renamed.body["updateTime"], s["updateTime"]);
    assert_eq!(renamed.body["createTime"], s["createTime"]);

    // A stale etag, in If-Match or in the body, is refused and changes nothing.
    let stale = TestApp::send(
        app.request(Method::PATCH, &path, Some(&app.admin_key))
            .header("if-match", format!("\"{}\"", s["etag"].as_str().unwrap()))
            .json(&json!({"legalName": "lost update"})),
    )
    .await;
    stale.assert_problem(412, "ETAG_MISMATCH");
    let stale_body = app
        .patch(
            &path,
            &app.admin_key,
            json!({"legalName": "lost update", "etag": s["etag"]}),
        )
        .await;
    stale_body.assert_problem(412, "ETAG_MISMATCH");
    assert_eq!(
        app.get(&path, &app.admin_key).await.body["legalName"],
        "네이버 주식회사"
    );

    // The current etag goes through.
    let current = renamed.header("etag").unwrap().to_string();
    let fresh = TestApp::send(
        app.request(
            Method::PATCH,
            &format!("{path}?updateMask=businessNumber"),
            Some(&app.admin_key),
        )
        .header("if-match", current)
        .json(&json!({"businessNumber": "1208147521", "legalName": "ignored: not in the mask"})),
    )
    .await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(fresh.body["businessNumber"], KAKAO);
    assert_eq!(fresh.body["legalName"], "네이버 주식회사");

    // Changing nothing writes nothing: same etag.
    let same = app
        .patch(
            &path,
            &app.admin_key,
            json!({"legalName": "네이버 주식회사"}),
        )
        .await;
    assert_eq!(same.body["etag"], fresh.body["etag"]);

    // Taking another supplier's number is a conflict.
    app.create_supplier(SAMSUNG, "삼성전자").await;
    app.patch(&path, &app.admin_key, json!({"businessNumber": SAMSUNG}))
        .await
        .assert_problem(409, "ALREADY_EXISTS");
}

async fn bad_updates_are_refused_with_the_fields_named(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = app.create_supplier(SAMSUNG, "삼성전자").await;
    let path = format!("/v1/suppliers/{}", s["id"].as_str().unwrap());

    let status = app
        .patch(&path, &app.admin_key, json!({"status": "ACTIVE"}))
        .await;
    status.assert_problem(400, "INVALID_ARGUMENT");
    assert!(status.text.contains("output only"), "{}", status.text);

    let unknown = TestApp::send(
        app.request(
            Method::PATCH,
            &format!("{path}?updateMask=colour"),
            Some(&app.admin_key),
        )
        .json(&json!({"legalName": "x"})),
    )
    .await;
    unknown.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(unknown.violation_fields(), ["updateMask"]);

    let empty = app.patch(&path, &app.admin_key, json!({})).await;
    empty.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(empty.violation_fields(), ["updateMask"]);

    let bad_number = app
        .patch(
            &path,
            &app.admin_key,
            json!({"businessNumber": "000-00-00001"}),
        )
        .await;
    bad_number.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(bad_number.violation_fields(), ["supplier.businessNumber"]);

    app.patch(
        "/v1/suppliers/sup_00000000000000000000000000",
        &app.admin_key,
        json!({"legalName": "x"}),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
}

async fn pages_cover_every_supplier_once_despite_concurrent_inserts(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let s = app
            .create_supplier(&business_number(1000 + i), &format!("부품회사 {i}"))
            .await;
        expected.push(s["id"].as_str().unwrap().to_string());
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let r = app
            .get(
                &format!("/v1/suppliers?pageSize=3&pageToken={token}"),
                &app.admin_key,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        for s in r.body["suppliers"].as_array().unwrap() {
            seen.push(s["id"].as_str().unwrap().to_string());
        }
        // A company registers while the client is paging.
        app.create_supplier(&business_number(5000 + pages), "동시 등록")
            .await;
        token = r.body["nextPageToken"].as_str().unwrap().to_string();
        if token.is_empty() || pages > 20 {
            break;
        }
    }

    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no supplier twice");
    assert!(
        expected.iter().all(|id| seen.contains(id)),
        "every existing supplier once"
    );
    let sorted = {
        let mut s = seen.clone();
        s.sort();
        s
    };
    assert_eq!(seen, sorted, "stable creation order");
}

async fn bad_page_parameters_are_400(engine: Engine) {
    let app = spawn_app(engine).await;
    for (query, field) in [
        ("pageToken=not-a-token", "pageToken"),
        ("pageSize=-1", "pageSize"),
        ("pageSize=many", "pageSize"),
        ("colour=red", "colour"),
    ] {
        let r = app
            .get(&format!("/v1/suppliers?{query}"), &app.admin_key)
            .await;
        r.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(r.violation_fields(), [field], "{query}: {}", r.text);
    }
    // A token from another list is refused, not misapplied.
    let s = app.create_supplier(KIA, "기아").await;
    app.patch(
        &format!("/v1/suppliers/{}", s["id"].as_str().unwrap()),
        &app.admin_key,
        json!({"legalName": "기아(주)"}),
    )
    .await;
    let events = app
        .get(
            &format!(
                "/v1/suppliers/{}/events?pageSize=1",
                s["id"].as_str().unwrap()
            ),
            &app.admin_key,
        )
        .await;
    let token = events.body["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    app.get(&format!("/v1/suppliers?pageToken={token}"), &app.admin_key)
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    // A huge page size is capped, not refused.
    assert_eq!(
        app.get("/v1/suppliers?pageSize=100000", &app.admin_key)
            .await
            .status,
        200
    );
}

async fn every_change_is_an_event_in_order(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = app.create_supplier(LG, "LG전자").await;
    let id = s["id"].as_str().unwrap();
    app.patch(
        &format!("/v1/suppliers/{id}"),
        &app.admin_key,
        json!({"legalName": "엘지전자"}),
    )
    .await;
    app.patch(
        &format!("/v1/suppliers/{id}"),
        &app.admin_key,
        json!({"businessNumber": KIA}),
    )
    .await;

    let r = app
        .get(&format!("/v1/suppliers/{id}/events"), &app.admin_key)
        .await;

    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.body["events"].as_array().unwrap();
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["supplier.created", "supplier.updated", "supplier.updated"]
    );
    assert!(events[0]["before"].is_null());
    assert_eq!(events[0]["after"]["legalName"], "LG전자");
    assert_eq!(events[1]["before"]["legalName"], "LG전자");
    assert_eq!(events[1]["after"]["legalName"], "엘지전자");
    assert_eq!(events[1]["changedFields"], json!(["legalName"]));
    assert_eq!(events[2]["changedFields"], json!(["businessNumber"]));
    assert_eq!(events[2]["after"]["businessNumber"], KIA);
    assert_eq!(events[0]["actorRole"], "operator");
    assert!(events[0]["actor"].as_str().unwrap().starts_with("key_"));

    // Paged one at a time, same order.
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .get(
                &format!("/v1/suppliers/{id}/events?pageSize=1&pageToken={token}"),
                &app.admin_key,
            )
            .await;
        ids.extend(
            page.body["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        token = page.body["nextPageToken"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(
        ids,
        events.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()
    );

    // Only operators read the audit trail.
    let institute = app.key_for("institute:KATECH").await;
    app.get(&format!("/v1/suppliers/{id}/events"), &institute)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.get(
        "/v1/suppliers/sup_00000000000000000000000000/events",
        &app.admin_key,
    )
    .await
    .assert_problem(404, "NOT_FOUND");
}

async fn a_company_key_sees_and_changes_only_its_own_record(engine: Engine) {
    let app = spawn_app(engine).await;
    let mine = app.create_supplier(SAMSUNG, "삼성전자").await;
    let other = app.create_supplier(KIA, "기아").await;
    let my_id = mine["id"].as_str().unwrap();
    let other_id = other["id"].as_str().unwrap();
    let key = app.key_for(&format!("supplier:{my_id}")).await;

    assert_eq!(
        app.get(&format!("/v1/suppliers/{my_id}"), &key)
            .await
            .status,
        200
    );
    // Another company's record does not exist as far as this key can tell.
    app.get(&format!("/v1/suppliers/{other_id}"), &key)
        .await
        .assert_problem(404, "NOT_FOUND");
    let list = app.get("/v1/suppliers", &key).await;
    let ids: Vec<_> = list.body["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(ids, [json!(my_id)]);

    let renamed = app
        .patch(
            &format!("/v1/suppliers/{my_id}"),
            &key,
            json!({"legalName": "삼성전자(주)"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    app.patch(
        &format!("/v1/suppliers/{other_id}"),
        &key,
        json!({"legalName": "mine now"}),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
    app.patch(
        &format!("/v1/suppliers/{my_id}"),
        &key,
        json!({"businessNumber": LG}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    app.post(
        "/v1/suppliers",
        &key,
        json!({"businessNumber": LG, "legalName": "x"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    app.get("/v1/apiKeys", &key)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    assert_eq!(
        app.get(&format!("/v1/suppliers/{other_id}"), &app.admin_key)
            .await
            .body["legalName"],
        "기아"
    );
}

async fn lookup_finds_a_supplier_by_business_number_in_any_notation(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = app.create_supplier(KAKAO, "카카오").await;
    for number in ["120-81-47521", "1208147521"] {
        let r = app
            .get(
                &format!("/v1/suppliers:lookup?businessNumber={number}"),
                &app.admin_key,
            )
            .await;
        assert_eq!(r.status, 200, "{number}: {}", r.text);
        assert_eq!(r.body["id"], s["id"]);
    }
    let r = app
        .get(
            "/v1/suppliers:lookup?businessNumber=1248100998",
            &app.admin_key,
        )
        .await;
    r.assert_problem(404, "NOT_FOUND");
    let r = app
        .get(
            "/v1/suppliers:lookup?businessNumber=1208147522",
            &app.admin_key,
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["businessNumber"]);

    // A company cannot probe for other companies' numbers.
    let other = app.create_supplier(SAMSUNG, "삼성전자").await;
    let key = app
        .key_for(&format!("supplier:{}", other["id"].as_str().unwrap()))
        .await;
    app.get(
        &format!("/v1/suppliers:lookup?businessNumber={KAKAO}"),
        &key,
    )
    .await
    .assert_problem(404, "NOT_FOUND");
    let own = app
        .get(
            &format!("/v1/suppliers:lookup?businessNumber={SAMSUNG}"),
            &key,
        )
        .await;
    assert_eq!(own.body["id"], other["id"]);
}

async fn institutes_and_reviewers_read_but_cannot_write(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = app.create_supplier(NAVER, "네이버").await;
    let path = format!("/v1/suppliers/{}", s["id"].as_str().unwrap());
    for role in ["institute:KETI", "reviewer"] {
        let key = app.key_for(role).await;
        assert_eq!(app.get(&path, &key).await.status, 200, "{role}");
        assert_eq!(
            app.get("/v1/suppliers", &key).await.body["suppliers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        app.patch(&path, &key, json!({"legalName": "x"}))
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        app.post(
            "/v1/suppliers",
            &key,
            json!({"businessNumber": KIA, "legalName": "x"}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    }
    assert_eq!(
        app.get(&path, &app.admin_key).await.body["legalName"],
        "네이버"
    );
}

mod lifecycle {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use reqwest::Method;
    use serde_json::json;

    engine_tests!(
        a_supplier_moves_only_along_allowed_transitions,
        a_withdrawn_record_is_read_only,
        only_operators_verify_suspend_and_reinstate,
    );

    async fn verb(
        app: &TestApp,
        id: &str,
        verb: &str,
        key: &str,
        body: serde_json::Value,
    ) -> Reply {
        app.post(&format!("/v1/suppliers/{id}:{verb}"), key, body)
            .await
    }

    async fn a_supplier_moves_only_along_allowed_transitions(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(SAMSUNG, "삼성전자").await;
        let id = s["id"].as_str().unwrap();
        let admin = app.admin_key.clone();

        let wrong = verb(&app, id, "reinstate", &admin, json!({})).await;
        wrong.assert_problem(409, "INVALID_TRANSITION");
        assert_eq!(wrong.body["metadata"]["allowed"], "verify,withdraw");

        let verified = verb(&app, id, "verify", &admin, json!({})).await;
        assert_eq!(verified.status, 200, "{}", verified.text);
        assert_eq!(verified.body["status"], "ACTIVE");

        verb(&app, id, "suspend", &admin, json!({}))
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
        let stale = TestApp::send(
            app.request(
                Method::POST,
                &format!("/v1/suppliers/{id}:suspend"),
                Some(&admin),
            )
            .header("if-match", format!("\"{}\"", s["etag"].as_str().unwrap()))
            .json(&json!({"reason": "x"})),
        )
        .await;
        stale.assert_problem(412, "ETAG_MISMATCH");
        let suspended = verb(
            &app,
            id,
            "suspend",
            &admin,
            json!({"reason": "서류 미제출"}),
        )
        .await;
        assert_eq!(suspended.body["status"], "SUSPENDED", "{}", suspended.text);
        assert_eq!(suspended.body["statusReason"], "서류 미제출");

        verb(&app, id, "verify", &admin, json!({}))
            .await
            .assert_problem(409, "INVALID_TRANSITION");
        let reinstated = verb(&app, id, "reinstate", &admin, json!({})).await;
        assert_eq!(reinstated.body["status"], "ACTIVE");

        let events = app.get(&format!("/v1/suppliers/{id}/events"), &admin).await;
        let types: Vec<_> = events.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].clone())
            .collect();
        assert_eq!(
            types,
            [
                json!("supplier.created"),
                json!("supplier.verified"),
                json!("supplier.suspended"),
                json!("supplier.reinstated")
            ]
        );
        assert_eq!(
            events.body["events"][2]["after"]["statusReason"],
            "서류 미제출"
        );
        verb(
            &app,
            "sup_00000000000000000000000000",
            "verify",
            &admin,
            json!({}),
        )
        .await
        .assert_problem(404, "NOT_FOUND");
    }

    async fn a_withdrawn_record_is_read_only(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(KIA, "기아").await;
        let id = s["id"].as_str().unwrap();
        let own = app.key_for(&format!("supplier:{id}")).await;

        let withdrawn = verb(
            &app,
            id,
            "withdraw",
            &own,
            json!({"reason": "사업 전환 포기"}),
        )
        .await;
        assert_eq!(withdrawn.body["status"], "WITHDRAWN", "{}", withdrawn.text);

        app.patch(
            &format!("/v1/suppliers/{id}"),
            &app.admin_key,
            json!({"legalName": "x"}),
        )
        .await
        .assert_problem(409, "SUPPLIER_WITHDRAWN");
        for v in ["verify", "suspend", "reinstate", "withdraw"] {
            verb(&app, id, v, &app.admin_key, json!({"reason": "r"}))
                .await
                .assert_problem(409, "INVALID_TRANSITION");
        }
        let read = app.get(&format!("/v1/suppliers/{id}"), &own).await;
        assert_eq!(read.body["legalName"], "기아");
    }

    async fn only_operators_verify_suspend_and_reinstate(engine: Engine) {
        let app = spawn_app(engine).await;
        let mine = app.create_supplier(LG, "LG전자").await;
        let other = app.create_supplier(NAVER, "네이버").await;
        let (my_id, other_id) = (mine["id"].as_str().unwrap(), other["id"].as_str().unwrap());
        let company = app.key_for(&format!("supplier:{my_id}")).await;
        let institute = app.key_for("institute:KATECH").await;

        for v in ["verify", "suspend", "reinstate"] {
            verb(&app, my_id, v, &company, json!({"reason": "r"}))
                .await
                .assert_problem(403, "PERMISSION_DENIED");
            verb(&app, my_id, v, &institute, json!({"reason": "r"}))
                .await
                .assert_problem(403, "PERMISSION_DENIED");
        }
        verb(&app, other_id, "withdraw", &company, json!({}))
            .await
            .assert_problem(404, "NOT_FOUND");
        verb(&app, my_id, "withdraw", &institute, json!({}))
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        let after = app
            .get(&format!("/v1/suppliers/{other_id}"), &app.admin_key)
            .await;
        assert_eq!(after.body["status"], "PENDING_VERIFICATION");
    }
}

mod profile {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::json;

    engine_tests!(
        a_full_profile_round_trips,
        contact_data_is_shown_only_to_operators_and_the_company,
        invalid_profiles_are_refused_with_the_fields_named,
        a_company_edits_its_profile_but_not_its_council_seat,
    );

    fn full_profile() -> serde_json::Value {
        json!({
            "businessNumber": SAMSUNG,
            "legalName": "광주정밀(주)",
            "corporateNumber": "1301110006246",
            "englishName": "Gwangju Precision Co., Ltd.",
            "representative": "김민수",
            "address": {"line": "광주광역시 광산구 하남산단 1번로 10", "region": "GWANGJU_GWANGSAN_GU", "postalCode": "62213"},
            "foundingDate": "1998-03-15",
            "employeeCount": 87,
            "annualRevenueWon": "12500000000",
            "sme": true,
            "mainCustomers": ["기아", "현대모비스"],
            "website": "https://gjprecision.example.kr",
            "contacts": [{"name": "이지은", "role": "R&D 팀장", "email": "jieun@gjprecision.example.kr", "phone": "062-123-4567"}],
            "partsGroups": ["POWERTRAIN_ENGINE", "THERMAL_MANAGEMENT"],
            "primaryPartsGroup": "POWERTRAIN_ENGINE",
            "councilMember": true,
            "councilSince": "2025-06-01"
        })
    }

    async fn a_full_profile_round_trips(engine: Engine) {
        let app = spawn_app(engine).await;
        let created = app
            .post("/v1/suppliers", &app.admin_key, full_profile())
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        let read = app
            .get(
                &format!("/v1/suppliers/{}", created.body["id"].as_str().unwrap()),
                &app.admin_key,
            )
            .await;
        let s = &read.body;
        assert_eq!(s["corporateNumber"], "130111-0006246");
        assert_eq!(s["address"]["region"], "GWANGJU_GWANGSAN_GU");
        assert_eq!(s["employeeCount"], 87);
        assert_eq!(
            s["annualRevenueWon"], "12500000000",
            "int64 as a string, whole won"
        );
        assert_eq!(s["sme"], true);
        assert_eq!(s["mainCustomers"], json!(["기아", "현대모비스"]));
        assert_eq!(
            s["partsGroups"],
            json!(["POWERTRAIN_ENGINE", "THERMAL_MANAGEMENT"])
        );
        assert_eq!(s["contacts"][0]["email"], "jieun@gjprecision.example.kr");
        assert_eq!(s["councilSince"], "2025-06-01");

        // A masked update replaces just the named fields and is audited.
        let id = s["id"].as_str().unwrap();
        let moved = app
            .patch(
                &format!("/v1/suppliers/{id}?updateMask=address,employeeCount"),
                &app.admin_key,
                json!({"address": {"line": "광주광역시 북구 첨단과기로 1", "region": "GWANGJU_BUK_GU"}, "employeeCount": 120, "englishName": "ignored"}),
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        assert_eq!(moved.body["address"]["region"], "GWANGJU_BUK_GU");
        assert_eq!(moved.body["employeeCount"], 120);
        assert_eq!(moved.body["englishName"], "Gwangju Precision Co., Ltd.");
        let events = app
            .get(&format!("/v1/suppliers/{id}/events"), &app.admin_key)
            .await;
        assert_eq!(
            events.body["events"][1]["changedFields"],
            json!(["address", "employeeCount"])
        );
    }

    async fn contact_data_is_shown_only_to_operators_and_the_company(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app
            .post("/v1/suppliers", &app.admin_key, full_profile())
            .await
            .body;
        let id = s["id"].as_str().unwrap();
        let company = app.key_for(&format!("supplier:{id}")).await;
        let institute = app.key_for("institute:KATECH").await;
        let reviewer = app.key_for("reviewer").await;

        assert_eq!(
            app.get(&format!("/v1/suppliers/{id}"), &company).await.body["contacts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        for key in [&institute, &reviewer] {
            let r = app.get(&format!("/v1/suppliers/{id}"), key).await;
            assert_eq!(r.body["contacts"], json!([]), "{}", r.text);
            assert!(!r.text.contains("jieun@"), "{}", r.text);
            let list = app.get("/v1/suppliers", key).await;
            assert!(!list.text.contains("jieun@"));
            assert_eq!(
                list.body["suppliers"][0]["employeeCount"], 87,
                "the rest of the profile is readable"
            );
        }
    }

    async fn invalid_profiles_are_refused_with_the_fields_named(engine: Engine) {
        let app = spawn_app(engine).await;
        let with = |patch: serde_json::Value| {
            let mut body = full_profile();
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        for (body, fields) in [
            (
                with(json!({"corporateNumber": "1301110006247"})),
                vec!["supplier.corporateNumber"],
            ),
            (
                with(json!({"employeeCount": -1})),
                vec!["supplier.employeeCount"],
            ),
            (
                with(json!({"annualRevenueWon": "-5"})),
                vec!["supplier.annualRevenueWon"],
            ),
            (
                with(json!({"primaryPartsGroup": "HYDROGEN_FUEL_CELL"})),
                vec!["supplier.primaryPartsGroup"],
            ),
            (
                with(json!({"partsGroups": ["ROCKETS"]})),
                vec!["supplier.partsGroups[0]"],
            ),
            (
                with(json!({"address": {"line": "x", "region": "SEOUL"}})),
                vec!["supplier.address.region"],
            ),
            (
                with(json!({"address": {"line": "x"}})),
                vec!["supplier.address.region"],
            ),
            (
                with(json!({"foundingDate": "1998-02-30"})),
                vec!["supplier.foundingDate"],
            ),
            (
                with(json!({"website": "gjprecision.kr"})),
                vec!["supplier.website"],
            ),
            (
                with(json!({"englishName": "x".repeat(201)})),
                vec!["supplier.englishName"],
            ),
            (
                with(json!({"contacts": [{"name": "", "email": "nope"}]})),
                vec!["supplier.contacts[0].name", "supplier.contacts[0].email"],
            ),
            (
                with(json!({"councilMember": false})),
                vec!["supplier.councilSince"],
            ),
        ] {
            let r = app.post("/v1/suppliers", &app.admin_key, body).await;
            r.assert_problem(400, "INVALID_ARGUMENT");
            assert_eq!(r.violation_fields(), fields, "{}", r.text);
        }
        assert_eq!(
            app.get("/v1/suppliers", &app.admin_key).await.body["suppliers"],
            json!([])
        );
    }

    async fn a_company_edits_its_profile_but_not_its_council_seat(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(KIA, "기아").await;
        let id = s["id"].as_str().unwrap();
        let company = app.key_for(&format!("supplier:{id}")).await;
        let r = app
            .patch(&format!("/v1/suppliers/{id}"), &company, json!({"partsGroups": ["BATTERY_ENERGY_STORAGE"], "primaryPartsGroup": "BATTERY_ENERGY_STORAGE", "employeeCount": 40}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["primaryPartsGroup"], "BATTERY_ENERGY_STORAGE");
        app.patch(
            &format!("/v1/suppliers/{id}"),
            &company,
            json!({"councilMember": true}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");
        // Removing the primary group from the list is caught on the stored record.
        app.patch(
            &format!("/v1/suppliers/{id}"),
            &company,
            json!({"partsGroups": ["THERMAL_MANAGEMENT"]}),
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
        let council = app
            .patch(
                &format!("/v1/suppliers/{id}"),
                &app.admin_key,
                json!({"councilMember": true, "councilSince": "2026-01-05"}),
            )
            .await;
        assert_eq!(council.body["councilMember"], true, "{}", council.text);
    }
}

mod filters {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::json;

    engine_tests!(
        lists_narrow_by_status_region_group_flags_and_text,
        filters_reject_unknown_values,
        a_name_with_a_number_is_found_by_name_and_numbers_by_number,
    );

    /// Digits in a name search are part of the name; only a query that is a
    /// business number (three digits or more, dashes and spaces allowed)
    /// also searches the numbers.
    async fn a_name_with_a_number_is_found_by_name_and_numbers_by_number(engine: Engine) {
        let app = spawn_app(engine).await;
        let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_string();
        let alpha = id(app.create_supplier(NAVER, "알파정밀 2호").await);
        let kakao = id(app.create_supplier(KAKAO, "베타테크").await);
        let samsung = id(app.create_supplier(SAMSUNG, "감마부품").await);

        for query in [
            "알파정밀%202호",
            "2호",
            "%EC%95%8C%ED%8C%8C%EC%A0%95%EB%B0%80%202",
        ] {
            assert_eq!(
                app.supplier_ids(&format!("query={query}")).await,
                std::slice::from_ref(&alpha),
                "{query}: every number has a 2, but this is a name"
            );
        }
        for (query, found) in [
            ("120-81", &kakao),
            ("12081", &kakao),
            ("00998", &samsung),
            ("124%2081%2000998", &samsung),
        ] {
            assert_eq!(
                app.supplier_ids(&format!("query={query}")).await,
                std::slice::from_ref(found),
                "{query}: a business number in either notation"
            );
        }
        assert!(
            app.supplier_ids("query=81").await.is_empty(),
            "two digits are too few to be a number search"
        );
    }

    async fn lists_narrow_by_status_region_group_flags_and_text(engine: Engine) {
        let app = spawn_app(engine).await;
        let battery = app
            .post(
                "/v1/suppliers",
                &app.admin_key,
                json!({"businessNumber": SAMSUNG, "legalName": "광주배터리 Solutions", "sme": true,
                       "address": {"line": "광산구", "region": "GWANGJU_GWANGSAN_GU"},
                       "partsGroups": ["BATTERY_ENERGY_STORAGE"], "primaryPartsGroup": "BATTERY_ENERGY_STORAGE"}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let engine_maker = app
            .post(
                "/v1/suppliers",
                &app.admin_key,
                json!({"businessNumber": KIA, "legalName": "빛그린엔진 50%", "englishName": "Bitgreen Engine Works",
                       "sme": false, "councilMember": true,
                       "address": {"line": "북구", "region": "GWANGJU_BUK_GU"},
                       "partsGroups": ["POWERTRAIN_ENGINE", "BATTERY_ENERGY_STORAGE"], "primaryPartsGroup": "POWERTRAIN_ENGINE"}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let bare = app.create_supplier(LG, "엘지부품").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(
            &format!("/v1/suppliers/{bare}:verify"),
            &app.admin_key,
            json!({}),
        )
        .await;

        assert_eq!(
            app.supplier_ids("status=ACTIVE").await,
            std::slice::from_ref(&bare)
        );
        assert_eq!(
            app.supplier_ids("status=PENDING_VERIFICATION").await,
            [battery.clone(), engine_maker.clone()]
        );
        assert_eq!(
            app.supplier_ids("region=GWANGJU_BUK_GU").await,
            std::slice::from_ref(&engine_maker)
        );
        assert_eq!(
            app.supplier_ids("partsGroup=BATTERY_ENERGY_STORAGE").await,
            [battery.clone(), engine_maker.clone()]
        );
        assert_eq!(
            app.supplier_ids("partsGroup=POWERTRAIN_ENGINE").await,
            std::slice::from_ref(&engine_maker)
        );
        assert_eq!(
            app.supplier_ids("sme=true").await,
            std::slice::from_ref(&battery)
        );
        assert_eq!(
            app.supplier_ids("sme=false").await,
            std::slice::from_ref(&engine_maker)
        );
        assert_eq!(
            app.supplier_ids("councilMember=true").await,
            std::slice::from_ref(&engine_maker)
        );
        assert_eq!(
            app.supplier_ids("query=배터리").await,
            std::slice::from_ref(&battery)
        );
        assert_eq!(
            app.supplier_ids("query=SOLUTIONS").await,
            std::slice::from_ref(&battery),
            "Latin letters in any case"
        );
        assert_eq!(
            app.supplier_ids("query=engine%20WORKS").await,
            std::slice::from_ref(&engine_maker),
            "the English name too"
        );
        assert_eq!(
            app.supplier_ids("query=50%25").await,
            std::slice::from_ref(&engine_maker),
            "% is literal"
        );
        assert!(app.supplier_ids("query=_").await.is_empty(), "_ is literal");
        assert_eq!(
            app.supplier_ids("query=119-81").await,
            std::slice::from_ref(&engine_maker),
            "business number, dashes ignored"
        );
        assert_eq!(
            app.supplier_ids("sme=true&region=GWANGJU_BUK_GU").await,
            Vec::<String>::new()
        );

        // Pages keep their filters; a token used with other filters is refused.
        let first = app
            .get(
                "/v1/suppliers?partsGroup=BATTERY_ENERGY_STORAGE&pageSize=1",
                &app.admin_key,
            )
            .await;
        let token = first.body["nextPageToken"].as_str().unwrap().to_string();
        let second = app
            .supplier_ids(&format!(
                "partsGroup=BATTERY_ENERGY_STORAGE&pageSize=1&pageToken={token}"
            ))
            .await;
        assert_eq!(second, std::slice::from_ref(&engine_maker));
        app.get(
            &format!("/v1/suppliers?pageSize=1&pageToken={token}"),
            &app.admin_key,
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    }

    async fn filters_reject_unknown_values(engine: Engine) {
        let app = spawn_app(engine).await;
        for (query, field) in [
            ("status=FLYING", "status"),
            ("sme=yes", "sme"),
            ("region=SEOUL", "region"),
        ] {
            let r = app
                .get(&format!("/v1/suppliers?{query}"), &app.admin_key)
                .await;
            r.assert_problem(400, "INVALID_ARGUMENT");
            assert_eq!(r.violation_fields(), [field], "{query}: {}", r.text);
        }
    }
}
