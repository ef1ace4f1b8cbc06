//! The registry beyond the supplier record: the transition ladder,
//! certifications, the institute directory, programme figures and the
//! eligibility check. Over REST (and gRPC where the API is gRPC-only), on
//! SQLite and PostgreSQL.

mod stages {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::{Value, json};

    engine_tests!(
        operators_record_moves_and_the_supplier_follows,
        a_company_proposes_one_step_and_an_operator_decides,
        stage_change_refusals_name_the_rule,
        institutes_read_the_history_but_companies_only_their_own,
        a_retried_stage_change_is_recorded_once_and_history_pages,
    );

    async fn change(app: &TestApp, id: &str, key: &str, body: Value) -> Reply {
        app.post(&format!("/v1/suppliers/{id}/stageChanges"), key, body)
            .await
    }

    async fn history(app: &TestApp, id: &str, key: &str) -> Vec<Value> {
        let r = app
            .get(&format!("/v1/suppliers/{id}/stageChanges"), key)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["stageChanges"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn operators_record_moves_and_the_supplier_follows(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(SAMSUNG, "광주부품").await;
        let id = s["id"].as_str().unwrap();
        let admin = app.admin_key.clone();
        assert_eq!(s["stage"], "ICE_DEPENDENT");

        let first = change(
            &app,
            id,
            &admin,
            json!({"toStage": "EXPLORING", "evidence": "전동화 부품 조사 착수",
                   "evidenceDocuments": ["doc_survey_2026", "https://example.kr/plan.pdf"]}),
        )
        .await;
        assert_eq!(first.status, 200, "{}", first.text);
        let c = &first.body;
        assert!(c["id"].as_str().unwrap().starts_with("stc_"));
        assert_eq!(c["fromStage"], "ICE_DEPENDENT");
        assert_eq!(c["toStage"], "EXPLORING");
        assert_eq!(c["state"], "CONFIRMED");
        assert_eq!(c["recordedByRole"], "operator");
        assert_eq!(c["evidenceDocuments"][1], "https://example.kr/plan.pdf");
        assert_eq!(c["decideTime"], c["createTime"]);

        // Two steps up: only with a reason.
        change(&app, id, &admin, json!({"toStage": "CONVERTING"}))
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
        let jump = change(
            &app,
            id,
            &admin,
            json!({"toStage": "CONVERTING", "reason": "배터리 케이스 양산 라인 전환 확인"}),
        )
        .await;
        assert_eq!(jump.status, 200, "{}", jump.text);
        assert_eq!(jump.body["fromStage"], "EXPLORING");

        let read = app.get(&format!("/v1/suppliers/{id}"), &admin).await;
        assert_eq!(read.body["stage"], "CONVERTING");
        assert_ne!(
            read.body["etag"], s["etag"],
            "a stage move is a new revision"
        );

        // Down, with a reason.
        let down = change(
            &app,
            id,
            &admin,
            json!({"toStage": "PLANNING", "reason": "전환 라인 가동 중단"}),
        )
        .await;
        assert_eq!(down.body["state"], "CONFIRMED", "{}", down.text);

        let list = history(&app, id, &admin).await;
        let moves: Vec<(Value, Value)> = list
            .iter()
            .map(|c| (c["fromStage"].clone(), c["toStage"].clone()))
            .collect();
        assert_eq!(
            moves,
            [
                (json!("ICE_DEPENDENT"), json!("EXPLORING")),
                (json!("EXPLORING"), json!("CONVERTING")),
                (json!("CONVERTING"), json!("PLANNING")),
            ]
        );

        let events = app.get(&format!("/v1/suppliers/{id}/events"), &admin).await;
        let staged: Vec<&Value> = events.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "supplier.stage_changed")
            .collect();
        assert_eq!(staged.len(), 3);
        assert_eq!(staged[1]["before"]["stage"], "EXPLORING");
        assert_eq!(staged[1]["after"]["stage"], "CONVERTING");
        assert_eq!(staged[1]["changedFields"], json!(["stage"]));
        assert_eq!(staged[1]["stageChange"]["id"], jump.body["id"]);
        assert_eq!(
            staged[1]["stageChange"]["reason"],
            "배터리 케이스 양산 라인 전환 확인"
        );

        // The stage is output only on the supplier itself.
        app.patch(
            &format!("/v1/suppliers/{id}"),
            &admin,
            json!({"stage": "FUTURE_CAR_SUPPLIER"}),
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    }

    async fn a_company_proposes_one_step_and_an_operator_decides(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(KIA, "기아부품").await;
        let id = s["id"].as_str().unwrap();
        let own = app.key_for(&format!("supplier:{id}")).await;
        let admin = app.admin_key.clone();

        let proposal = change(
            &app,
            id,
            &own,
            json!({"toStage": "EXPLORING", "evidence": "전기차 부품 시장 조사 보고서"}),
        )
        .await;
        assert_eq!(proposal.status, 200, "{}", proposal.text);
        assert_eq!(proposal.body["state"], "PROPOSED");
        assert!(proposal.body.get("decideTime").is_none());
        let pid = proposal.body["id"].as_str().unwrap();
        let read = app.get(&format!("/v1/suppliers/{id}"), &own).await;
        assert_eq!(
            read.body["stage"], "ICE_DEPENDENT",
            "a proposal moves nothing"
        );

        // One proposal at a time.
        change(
            &app,
            id,
            &own,
            json!({"toStage": "EXPLORING", "evidence": "again"}),
        )
        .await
        .assert_problem(409, "PROPOSAL_PENDING");

        // The company cannot decide its own proposal.
        app.post(
            &format!("/v1/suppliers/{id}/stageChanges/{pid}:confirm"),
            &own,
            json!({}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");

        let confirmed = app
            .post(
                &format!("/v1/suppliers/{id}/stageChanges/{pid}:confirm"),
                &admin,
                json!({"note": "보고서 확인"}),
            )
            .await;
        assert_eq!(confirmed.status, 200, "{}", confirmed.text);
        assert_eq!(confirmed.body["state"], "CONFIRMED");
        assert_eq!(confirmed.body["decisionNote"], "보고서 확인");
        assert_eq!(confirmed.body["evidence"], "전기차 부품 시장 조사 보고서");
        let read = app.get(&format!("/v1/suppliers/{id}"), &own).await;
        assert_eq!(read.body["stage"], "EXPLORING");

        // Decided once.
        app.post(
            &format!("/v1/suppliers/{id}/stageChanges/{pid}:reject"),
            &admin,
            json!({"note": "늦은 거절"}),
        )
        .await
        .assert_problem(409, "STAGE_CHANGE_DECIDED");

        // A proposal overtaken by an operator's move cannot be confirmed,
        // but can be turned down.
        let second = change(
            &app,
            id,
            &own,
            json!({"toStage": "PLANNING", "evidenceDocuments": ["doc_plan_v1"]}),
        )
        .await;
        let sid = second.body["id"].as_str().unwrap().to_string();
        change(
            &app,
            id,
            &admin,
            json!({"toStage": "CONVERTING", "reason": "현장 실사 결과"}),
        )
        .await;
        app.post(
            &format!("/v1/suppliers/{id}/stageChanges/{sid}:confirm"),
            &admin,
            json!({}),
        )
        .await
        .assert_problem(409, "STAGE_MOVED");
        app.post(
            &format!("/v1/suppliers/{id}/stageChanges/{sid}:reject"),
            &admin,
            json!({}),
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
        let rejected = app
            .post(
                &format!("/v1/suppliers/{id}/stageChanges/{sid}:reject"),
                &admin,
                json!({"note": "이미 전환 단계로 기록됨"}),
            )
            .await;
        assert_eq!(rejected.body["state"], "REJECTED", "{}", rejected.text);

        let proposed_only = app
            .get(
                &format!("/v1/suppliers/{id}/stageChanges?state=REJECTED"),
                &own,
            )
            .await;
        assert_eq!(proposed_only.body["stageChanges"][0]["id"], sid.as_str());
        assert_eq!(
            proposed_only.body["stageChanges"].as_array().unwrap().len(),
            1
        );

        let events = app.get(&format!("/v1/suppliers/{id}/events"), &admin).await;
        let types: Vec<&str> = events.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        assert_eq!(
            types,
            [
                "supplier.created",
                "supplier.stage_change_proposed",
                "supplier.stage_changed",
                "supplier.stage_change_proposed",
                "supplier.stage_changed",
                "supplier.stage_change_rejected",
            ]
        );
    }

    async fn stage_change_refusals_name_the_rule(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(LG, "엘지부품").await;
        let id = s["id"].as_str().unwrap();
        let own = app.key_for(&format!("supplier:{id}")).await;
        let admin = app.admin_key.clone();

        // More than one step, or down: an operator's.
        change(
            &app,
            id,
            &own,
            json!({"toStage": "PLANNING", "evidence": "x", "reason": "서두름"}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");
        // A proposal needs evidence.
        let bare = change(&app, id, &own, json!({"toStage": "EXPLORING"})).await;
        bare.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(bare.violation_fields(), ["stageChange.evidence"]);
        assert_eq!(
            bare.body["detail"],
            "stageChange.evidence: a proposal needs evidence: a text or at least one document"
        );

        let bad = change(
            &app,
            id,
            &admin,
            json!({"evidence": "x".repeat(2001), "evidenceDocuments": ["has space"]}),
        )
        .await;
        bad.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(
            bad.violation_fields(),
            [
                "stageChange.toStage",
                "stageChange.evidence",
                "stageChange.evidenceDocuments[0]"
            ]
        );
        assert_eq!(
            bad.body["detail"],
            "3 problems with the request, in stageChange.toStage, stageChange.evidence, \
             stageChange.evidenceDocuments[0]"
        );
        change(&app, id, &admin, json!({"toStage": "ELECTRIC"}))
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
        change(&app, id, &admin, json!({"toStage": "ICE_DEPENDENT"}))
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
        change(
            &app,
            "sup_00000000000000000000000000",
            &admin,
            json!({"toStage": "EXPLORING"}),
        )
        .await
        .assert_problem(404, "NOT_FOUND");
        app.post(
            &format!("/v1/suppliers/{id}/stageChanges/stc_00000000000000000000000000:confirm"),
            &admin,
            json!({}),
        )
        .await
        .assert_problem(404, "NOT_FOUND");

        // A withdrawn company's ladder is frozen.
        app.post(&format!("/v1/suppliers/{id}:withdraw"), &admin, json!({}))
            .await;
        change(&app, id, &admin, json!({"toStage": "EXPLORING"}))
            .await
            .assert_problem(409, "SUPPLIER_WITHDRAWN");
        assert!(history(&app, id, &admin).await.is_empty());
    }

    async fn a_retried_stage_change_is_recorded_once_and_history_pages(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(SAMSUNG, "재시도부품").await;
        let id = s["id"].as_str().unwrap();
        let send = || {
            TestApp::send(
                app.request(
                    reqwest::Method::POST,
                    &format!("/v1/suppliers/{id}/stageChanges"),
                    Some(&app.admin_key),
                )
                .header("idempotency-key", "move-1")
                .json(&json!({"toStage": "EXPLORING"})),
            )
        };
        let first = send().await;
        let again = send().await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert_eq!(again.body, first.body, "the retry replays the first answer");
        let other = TestApp::send(
            app.request(
                reqwest::Method::POST,
                &format!("/v1/suppliers/{id}/stageChanges"),
                Some(&app.admin_key),
            )
            .header("idempotency-key", "move-1")
            .json(&json!({"toStage": "PLANNING"})),
        )
        .await;
        other.assert_problem(422, "IDEMPOTENCY_KEY_REUSED");
        assert_eq!(history(&app, id, &app.admin_key).await.len(), 1);

        for stage in ["PLANNING", "CONVERTING"] {
            change(&app, id, &app.admin_key, json!({"toStage": stage})).await;
        }
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = app
                .get(
                    &format!("/v1/suppliers/{id}/stageChanges?pageSize=2&pageToken={token}"),
                    &app.admin_key,
                )
                .await;
            for c in page.body["stageChanges"].as_array().unwrap() {
                seen.push(c["toStage"].as_str().unwrap().to_string());
            }
            token = page.body["nextPageToken"].as_str().unwrap().to_string();
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(seen, ["EXPLORING", "PLANNING", "CONVERTING"]);
    }

    async fn institutes_read_the_history_but_companies_only_their_own(engine: Engine) {
        let app = spawn_app(engine).await;
        let mine = app.create_supplier(NAVER, "네이버부품").await;
        let other = app.create_supplier(KAKAO, "카카오부품").await;
        let (my_id, other_id) = (mine["id"].as_str().unwrap(), other["id"].as_str().unwrap());
        let company = app.key_for(&format!("supplier:{my_id}")).await;
        let institute = app.key_for("institute:KATECH").await;
        let reviewer = app.key_for("reviewer").await;
        change(
            &app,
            other_id,
            &app.admin_key,
            json!({"toStage": "EXPLORING"}),
        )
        .await;

        assert_eq!(history(&app, other_id, &institute).await.len(), 1);
        assert_eq!(history(&app, other_id, &reviewer).await.len(), 1);
        app.get(&format!("/v1/suppliers/{other_id}/stageChanges"), &company)
            .await
            .assert_problem(404, "NOT_FOUND");
        for key in [&institute, &reviewer] {
            change(
                &app,
                other_id,
                key,
                json!({"toStage": "PLANNING", "evidence": "x"}),
            )
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        }
        // Proposing for another company reveals nothing.
        change(
            &app,
            other_id,
            &company,
            json!({"toStage": "PLANNING", "evidence": "x"}),
        )
        .await
        .assert_problem(404, "NOT_FOUND");
        let p = change(
            &app,
            my_id,
            &company,
            json!({"toStage": "EXPLORING", "evidence": "x"}),
        )
        .await;
        let pid = p.body["id"].as_str().unwrap();
        app.post(
            &format!("/v1/suppliers/{my_id}/stageChanges/{pid}:confirm"),
            &institute,
            json!({}),
        )
        .await
        .assert_problem(403, "PERMISSION_DENIED");
        let after = app
            .get(&format!("/v1/suppliers/{other_id}"), &app.admin_key)
            .await;
        assert_eq!(after.body["stage"], "EXPLORING");
    }
}

mod certifications {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::{Value, json};

    engine_tests!(
        certificates_round_trip_and_show_expiry,
        invalid_certificates_are_refused_with_the_fields_named,
        lists_find_standards_and_certificates_expiring_soon,
    );

    fn cert(standard: &str, from: &str, until: &str) -> Value {
        json!({"standard": standard, "number": format!("C-{standard}-{until}"),
               "issuer": "한국표준협회", "validFrom": from, "validUntil": until})
    }

    async fn with_certs(app: &TestApp, number: &str, certs: Value) -> String {
        let s = app.create_supplier(number, "인증부품").await;
        let id = s["id"].as_str().unwrap().to_string();
        let r = app
            .patch(
                &format!("/v1/suppliers/{id}"),
                &app.admin_key,
                json!({"certifications": certs}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id
    }

    async fn certificates_round_trip_and_show_expiry(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(SAMSUNG, "품질부품").await;
        let id = s["id"].as_str().unwrap();
        let own = app.key_for(&format!("supplier:{id}")).await;
        let (past, future) = (seoul_date_in(-1), seoul_date_in(365));
        let updated = app
            .patch(
                &format!("/v1/suppliers/{id}"),
                &own,
                json!({"certifications": [
                    cert("IATF_16949", "2023-01-01", &future),
                    cert("ISO_9001", "2020-01-01", &past),
                    {"standard": "CLUSTER_PARTS_CENTRE_MARK", "standardName": "광주 미래차 부품 인증",
                     "number": "GJ-0001", "issuer": "광주 부품인증센터",
                     "validFrom": "2026-01-01", "validUntil": seoul_date_in(0)},
                ]}),
            )
            .await;
        assert_eq!(updated.status, 200, "{}", updated.text);
        let certs = updated.body["certifications"].as_array().unwrap();
        assert_eq!(certs.len(), 3);
        assert_eq!(certs[0]["standard"], "IATF_16949");
        assert_eq!(certs[0]["expired"], false);
        assert_eq!(certs[1]["expired"], true, "valid until yesterday");
        assert_eq!(certs[2]["expired"], false, "valid through today");
        assert_eq!(certs[2]["standardName"], "광주 미래차 부품 인증");

        let read = app
            .get(&format!("/v1/suppliers/{id}"), &app.admin_key)
            .await;
        assert_eq!(read.body["certifications"], updated.body["certifications"]);

        let events = app
            .get(&format!("/v1/suppliers/{id}/events"), &app.admin_key)
            .await;
        let last = events.body["events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["type"], "supplier.updated");
        assert_eq!(last["changedFields"], json!(["certifications"]));
        assert_eq!(last["actorRole"], format!("supplier:{id}"));
        assert_eq!(last["before"]["certifications"], json!([]));
        assert_eq!(
            last["after"]["certifications"][0]["number"],
            certs[0]["number"]
        );

        // Removing one is a change too.
        let fewer = app
            .patch(
                &format!("/v1/suppliers/{id}"),
                &own,
                json!({"certifications": [certs[0].clone()]}),
            )
            .await;
        assert_eq!(fewer.status, 200, "{}", fewer.text);
        assert_eq!(fewer.body["certifications"].as_array().unwrap().len(), 1);
        assert_eq!(
            app.supplier_ids("certificationStandard=ISO_9001").await,
            Vec::<String>::new()
        );
    }

    async fn invalid_certificates_are_refused_with_the_fields_named(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(KIA, "기아").await;
        let id = s["id"].as_str().unwrap();
        let r = app
            .patch(
                &format!("/v1/suppliers/{id}"),
                &app.admin_key,
                json!({"certifications": [
                    {"standard": "ISO_9001", "number": "N1", "issuer": "KSA",
                     "validFrom": "2025-06-01", "validUntil": "2025-05-31"},
                    {"standard": "OTHER_STANDARD", "number": "", "issuer": "x".repeat(201),
                     "validFrom": "2025-02-30", "validUntil": "2026-01-01"},
                    {"number": "N3", "issuer": "KSA", "validFrom": "2025-01-01"},
                ]}),
            )
            .await;
        r.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(
            r.violation_fields(),
            [
                "supplier.certifications[0].validUntil",
                "supplier.certifications[1].standardName",
                "supplier.certifications[1].number",
                "supplier.certifications[1].issuer",
                "supplier.certifications[1].validFrom",
                "supplier.certifications[2].standard",
                "supplier.certifications[2].validUntil",
            ]
        );
        app.patch(
            &format!("/v1/suppliers/{id}"),
            &app.admin_key,
            json!({"certifications": [{"standard": "ISO_9999"}]}),
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
        let read = app
            .get(&format!("/v1/suppliers/{id}"), &app.admin_key)
            .await;
        assert_eq!(
            read.body["certifications"],
            json!([]),
            "nothing half-written"
        );
        assert_eq!(read.body["etag"], s["etag"]);
    }

    async fn lists_find_standards_and_certificates_expiring_soon(engine: Engine) {
        let app = spawn_app(engine).await;
        let soon = with_certs(
            &app,
            LG,
            json!([cert("IATF_16949", "2023-01-01", &seoul_date_in(30))]),
        )
        .await;
        let later = with_certs(
            &app,
            NAVER,
            json!([
                cert("IATF_16949", "2023-01-01", &seoul_date_in(200)),
                cert("ISO_14001", "2023-01-01", &seoul_date_in(10))
            ]),
        )
        .await;
        let expired = with_certs(
            &app,
            KAKAO,
            json!([cert("IATF_16949", "2020-01-01", &seoul_date_in(-3))]),
        )
        .await;
        app.create_supplier(SAMSUNG, "무인증").await;

        assert_eq!(
            app.supplier_ids("certificationStandard=IATF_16949").await,
            [soon.clone(), later.clone(), expired.clone()]
        );
        assert_eq!(
            app.supplier_ids("certificationExpiringWithinDays=90").await,
            [soon.clone(), later.clone()],
            "expired ones are not 'expiring'"
        );
        assert_eq!(
            app.supplier_ids("certificationExpiringWithinDays=90&certificationStandard=IATF_16949")
                .await,
            std::slice::from_ref(&soon),
            "both conditions hold for the same certificate"
        );
        assert_eq!(
            app.supplier_ids("certificationExpiringWithinDays=365")
                .await,
            [soon, later]
        );
        for bad in [
            "certificationExpiringWithinDays=-1",
            "certificationExpiringWithinDays=5000",
            "certificationStandard=ISO_1",
        ] {
            let r = app
                .get(&format!("/v1/suppliers?{bad}"), &app.admin_key)
                .await;
            r.assert_problem(400, "INVALID_ARGUMENT");
        }
    }
}

mod listing {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::{Value, json};

    engine_tests!(
        order_by_sorts_and_pages_every_supplier_once,
        stage_and_time_ranges_narrow_the_list,
        bad_orders_and_ranges_are_400,
    );

    /// Every supplier of a listing, following page tokens.
    async fn all_pages(app: &TestApp, query: &str, page_size: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let r = app
                .get(
                    &format!("/v1/suppliers?{query}&pageSize={page_size}&pageToken={token}"),
                    &app.admin_key,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let page = r.body["suppliers"].as_array().cloned().unwrap_or_default();
            assert!(page.len() <= page_size);
            out.extend(page);
            token = r.body["nextPageToken"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if token.is_empty() {
                return out;
            }
        }
    }

    fn field(list: &[Value], name: &str) -> Vec<Value> {
        list.iter().map(|s| s[name].clone()).collect()
    }

    async fn order_by_sorts_and_pages_every_supplier_once(engine: Engine) {
        let app = spawn_app(engine).await;
        let admin = app.admin_key.clone();
        // Names, sizes and stages in an order unlike registration order;
        // two share a name and two have no employee count.
        let specs = [
            ("다솜정밀", Some(120), 3),
            ("가온모터스", None, 1),
            ("나래전장", Some(40), 5),
            ("다솜정밀", Some(40), 2),
            ("라온배터리", None, 3),
            ("마루소재", Some(900), 1),
        ];
        let mut ids = Vec::new();
        for (i, (name, employees, rank)) in specs.iter().enumerate() {
            let mut body =
                json!({"businessNumber": business_number(500 + i as u64), "legalName": name});
            if let Some(n) = employees {
                body["employeeCount"] = json!(n);
            }
            let s = app.post("/v1/suppliers", &admin, body).await;
            let id = s.body["id"].as_str().unwrap().to_string();
            let stages = [
                "ICE_DEPENDENT",
                "EXPLORING",
                "PLANNING",
                "CONVERTING",
                "FUTURE_CAR_SUPPLIER",
            ];
            if *rank > 1 {
                let r = app
                    .post(
                        &format!("/v1/suppliers/{id}/stageChanges"),
                        &admin,
                        json!({"toStage": stages[rank - 1], "reason": "기존 사업 확인"}),
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
            ids.push(id);
        }

        let by_name = all_pages(&app, "orderBy=name", 2).await;
        assert_eq!(
            field(&by_name, "legalName"),
            [
                "가온모터스",
                "나래전장",
                "다솜정밀",
                "다솜정밀",
                "라온배터리",
                "마루소재"
            ]
            .map(Value::from)
        );
        assert_eq!(
            by_name[2]["id"],
            ids[0].as_str(),
            "ties in registration order"
        );
        assert_eq!(by_name[3]["id"], ids[3].as_str());

        let newest_first = all_pages(&app, "orderBy=createTime%20desc", 4).await;
        let mut expected: Vec<Value> = ids.iter().rev().map(|i| Value::from(i.as_str())).collect();
        assert_eq!(field(&newest_first, "id"), expected);

        let by_stage = all_pages(&app, "orderBy=stage%20desc", 1).await;
        assert_eq!(
            field(&by_stage, "stage"),
            [
                "FUTURE_CAR_SUPPLIER",
                "PLANNING",
                "PLANNING",
                "EXPLORING",
                "ICE_DEPENDENT",
                "ICE_DEPENDENT"
            ]
            .map(Value::from)
        );

        let by_size = all_pages(&app, "orderBy=employeeCount", 4).await;
        assert_eq!(
            field(&by_size, "employeeCount"),
            [
                Value::Null,
                Value::Null,
                json!(40),
                json!(40),
                json!(120),
                json!(900)
            ]
        );
        expected = vec![
            ids[1].as_str().into(),
            ids[4].as_str().into(),
            ids[2].as_str().into(),
            ids[3].as_str().into(),
            ids[0].as_str().into(),
            ids[5].as_str().into(),
        ];
        assert_eq!(field(&by_size, "id"), expected);

        // Filters and order combine; a token is bound to its order.
        let converting_up = all_pages(&app, "orderBy=name&stage=PLANNING", 1).await;
        assert_eq!(
            field(&converting_up, "legalName"),
            ["다솜정밀", "라온배터리"].map(Value::from)
        );
        let first = app
            .get("/v1/suppliers?orderBy=name&pageSize=1", &admin)
            .await;
        let token = first.body["nextPageToken"].as_str().unwrap();
        app.get(
            &format!("/v1/suppliers?orderBy=stage&pageSize=1&pageToken={token}"),
            &admin,
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    }

    async fn stage_and_time_ranges_narrow_the_list(engine: Engine) {
        let app = spawn_app(engine).await;
        let admin = app.admin_key.clone();
        let a = app.create_supplier(SAMSUNG, "가").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let b = app.create_supplier(KIA, "나").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let c = app.create_supplier(LG, "다").await;
        let (a_id, b_id, c_id) = (
            a["id"].as_str().unwrap(),
            b["id"].as_str().unwrap(),
            c["id"].as_str().unwrap(),
        );
        let b_created = b["createTime"].as_str().unwrap();
        let c_created = c["createTime"].as_str().unwrap();

        let ids = |list: Vec<Value>| -> Vec<String> {
            list.iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            ids(all_pages(&app, &format!("createTimeFrom={b_created}"), 10).await),
            [b_id, c_id]
        );
        assert_eq!(
            ids(all_pages(&app, &format!("createTimeTo={b_created}"), 10).await),
            [a_id]
        );
        assert_eq!(
            ids(all_pages(
                &app,
                &format!("createTimeFrom={b_created}&createTimeTo={c_created}"),
                10
            )
            .await),
            [b_id]
        );

        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let moved = app
            .post(
                &format!("/v1/suppliers/{a_id}/stageChanges"),
                &admin,
                json!({"toStage": "EXPLORING"}),
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        let a_now = app.get(&format!("/v1/suppliers/{a_id}"), &admin).await;
        let a_updated = a_now.body["updateTime"].as_str().unwrap();
        assert_eq!(
            ids(all_pages(&app, &format!("updateTimeFrom={a_updated}"), 10).await),
            [a_id]
        );
        assert_eq!(ids(all_pages(&app, "stage=EXPLORING", 10).await), [a_id]);
        assert_eq!(
            ids(all_pages(&app, "stage=ICE_DEPENDENT", 10).await),
            [b_id, c_id]
        );
    }

    async fn bad_orders_and_ranges_are_400(engine: Engine) {
        let app = spawn_app(engine).await;
        for (query, field) in [
            ("orderBy=legalName%20sideways", "orderBy"),
            ("orderBy=revenue", "orderBy"),
            ("stage=ELECTRIC", "stage"),
            (
                "createTimeFrom=2026-02-01T00:00:00Z&createTimeTo=2026-01-01T00:00:00Z",
                "createTimeTo",
            ),
            ("updateTimeFrom=yesterday", "updateTimeFrom"),
        ] {
            let r = app
                .get(&format!("/v1/suppliers?{query}"), &app.admin_key)
                .await;
            r.assert_problem(400, "INVALID_ARGUMENT");
            assert!(
                r.violation_fields().iter().any(|f| f == field) || r.text.contains(field),
                "{query}: {}",
                r.text
            );
        }
    }
}

mod institutes {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::{Value, json};

    engine_tests!(
        the_directory_is_seeded_and_readable_by_every_role,
        operators_add_and_edit_partners,
        only_operators_change_the_directory,
    );

    fn codes(r: &Reply) -> Vec<String> {
        r.body["institutes"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    }

    async fn the_directory_is_seeded_and_readable_by_every_role(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(SAMSUNG, "삼성").await;
        let company = app
            .key_for(&format!("supplier:{}", s["id"].as_str().unwrap()))
            .await;
        let institute = app.key_for("institute:KETI").await;
        for key in [&app.admin_key, &company, &institute] {
            let all = app.get("/v1/institutes", key).await;
            assert_eq!(all.status, 200, "{}", all.text);
            assert_eq!(
                codes(&all),
                [
                    "AICA", "EPIC", "ETRI", "GGCPA", "GJTP", "HMCRND", "KATECH", "KETI", "KITECH",
                    "KOPTI"
                ]
            );
        }
        let katech = app.get("/v1/institutes/KATECH", &company).await;
        assert_eq!(katech.body["nameKo"], "한국자동차연구원");
        assert_eq!(
            katech.body["nameEn"],
            "Korea Automotive Technology Institute"
        );
        assert_eq!(katech.body["kind"], "RESEARCH_INSTITUTE");
        let research = app
            .get("/v1/institutes?pageSize=100", &institute)
            .await
            .body["institutes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "RESEARCH_INSTITUTE")
            .count();
        assert_eq!(research, 8);

        let hydrogen = app
            .get("/v1/institutes?partsGroup=HYDROGEN_FUEL_CELL", &company)
            .await;
        assert_eq!(codes(&hydrogen), ["GGCPA", "KATECH"]);
        let training = app
            .get("/v1/institutes?ticketCategory=WORKFORCE_TRAINING", &company)
            .await;
        assert_eq!(codes(&training), ["GJTP"]);

        // Paging by code.
        let first = app.get("/v1/institutes?pageSize=4", &company).await;
        assert_eq!(codes(&first).len(), 4);
        let token = first.body["nextPageToken"].as_str().unwrap();
        let rest = app
            .get(
                &format!("/v1/institutes?pageSize=10&pageToken={token}"),
                &company,
            )
            .await;
        assert_eq!(codes(&rest).len(), 6);
        assert_eq!(codes(&rest)[0], "GJTP");

        app.get("/v1/institutes/NOPE", &company)
            .await
            .assert_problem(404, "NOT_FOUND");
        app.get("/v1/institutes/no-pe", &company)
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
        app.get("/v1/institutes?ticketCategory=GOSSIP", &company)
            .await
            .assert_problem(400, "INVALID_ARGUMENT");
    }

    async fn operators_add_and_edit_partners(engine: Engine) {
        let app = spawn_app(engine).await;
        let admin = app.admin_key.clone();
        let created = app
            .post(
                "/v1/institutes",
                &admin,
                json!({"code": "GGM", "kind": "INDUSTRY_PARTNER", "nameKo": "광주글로벌모터스",
                       "nameEn": "Gwangju Global Motors", "partsGroups": ["BODY_EXTERIOR"],
                       "ticketCategories": ["SUPPLY_CHAIN_MARKET"],
                       "contact": {"name": "협력사 지원", "email": "partners@ggm.example"}}),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        assert_eq!(created.body["contact"]["email"], "partners@ggm.example");
        app.post(
            "/v1/institutes",
            &admin,
            json!({"code": "GGM", "kind": "INDUSTRY_PARTNER", "nameKo": "x", "nameEn": "x"}),
        )
        .await
        .assert_problem(409, "ALREADY_EXISTS");

        let bad = app
            .post(
                "/v1/institutes",
                &admin,
                json!({"code": "ggm", "nameKo": " ", "nameEn": "x".repeat(201),
                       "partsGroups": ["BODY_EXTERIOR", "BODY_EXTERIOR"],
                       "contact": {"email": "not-an-email"}}),
            )
            .await;
        bad.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(
            bad.violation_fields(),
            [
                "institute.code",
                "institute.kind",
                "institute.nameKo",
                "institute.nameEn",
                "institute.partsGroups[1]",
                "institute.contact.name",
                "institute.contact.email",
            ]
        );

        let katech = app.get("/v1/institutes/KATECH", &admin).await;
        let etag = katech.body["etag"].as_str().unwrap();
        let edited = app
            .patch(
                "/v1/institutes/KATECH",
                &admin,
                json!({"etag": etag, "ticketCategories": ["TESTING_CERTIFICATION"],
                       "contact": {"name": "광주 분원", "phone": "062-000-0000"}}),
            )
            .await;
        assert_eq!(edited.status, 200, "{}", edited.text);
        assert_eq!(
            edited.body["ticketCategories"],
            json!(["TESTING_CERTIFICATION"])
        );
        assert_eq!(
            edited.body["nameKo"], "한국자동차연구원",
            "untouched fields stay"
        );
        app.patch(
            "/v1/institutes/KATECH",
            &admin,
            json!({"etag": etag, "nameEn": "KATECH"}),
        )
        .await
        .assert_problem(412, "ETAG_MISMATCH");
        app.patch(
            "/v1/institutes/KATECH",
            &admin,
            json!({"createTime": "2020-01-01T00:00:00Z"}),
        )
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
        app.patch("/v1/institutes/NOPE", &admin, json!({"nameEn": "x"}))
            .await
            .assert_problem(404, "NOT_FOUND");
        let events = app.get("/v1/institutes/KATECH/events", &admin).await;
        assert_eq!(events.status, 200, "{}", events.text);
        let list = events.body["events"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["type"], "institute.created");
        assert_eq!(list[0]["actor"], "system:seed");
        assert_eq!(list[1]["type"], "institute.updated");
        assert_eq!(
            list[1]["changedFields"],
            json!(["ticketCategories", "contact"])
        );
        assert_eq!(list[1]["before"]["contact"], Value::Null);
        assert_eq!(list[1]["after"]["contact"]["name"], "광주 분원");
        let routed = app
            .get("/v1/institutes?ticketCategory=SUPPLY_CHAIN_MARKET", &admin)
            .await;
        assert!(codes(&routed).contains(&"GGM".to_string()));
        let _: Value = edited.body;
    }

    async fn only_operators_change_the_directory(engine: Engine) {
        let app = spawn_app(engine).await;
        let s = app.create_supplier(KIA, "기아").await;
        let company = app
            .key_for(&format!("supplier:{}", s["id"].as_str().unwrap()))
            .await;
        let institute = app.key_for("institute:KATECH").await;
        let reviewer = app.key_for("reviewer").await;
        for key in [&company, &institute, &reviewer] {
            app.patch("/v1/institutes/KATECH", key, json!({"nameEn": "Mine now"}))
                .await
                .assert_problem(403, "PERMISSION_DENIED");
            app.post(
                "/v1/institutes",
                key,
                json!({"code": "FAKE", "kind": "INDUSTRY_PARTNER", "nameKo": "가짜", "nameEn": "Fake"}),
            )
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        }
        let katech = app.get("/v1/institutes/KATECH", &company).await;
        assert_eq!(
            katech.body["nameEn"],
            "Korea Automotive Technology Institute"
        );
        for key in [&company, &institute, &reviewer] {
            app.get("/v1/institutes/KATECH/events", key)
                .await
                .assert_problem(403, "PERMISSION_DENIED");
        }
        app.get("/v1/institutes/FAKE", &company)
            .await
            .assert_problem(404, "NOT_FOUND");
        let anonymous =
            TestApp::send(app.request(reqwest::Method::GET, "/v1/institutes", None)).await;
        assert_eq!(anonymous.status, 401);
    }
}

mod programme {
    use crate::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::json;

    engine_tests!(
        stats_show_the_programme_against_its_configured_target,
        parts_groups_say_which_depend_on_the_engine,
    );

    async fn stats_show_the_programme_against_its_configured_target(engine: Engine) {
        let dir = tempfile::tempdir().unwrap();
        let mut args = test_args(engine, dir.path()).await;
        args.registry.target_suppliers = 4;
        args.registry.target_year = 2028;
        let app = spawn_with(args, dir).await;
        let admin = app.admin_key.clone();

        let mut ids = Vec::new();
        for (i, region) in ["GWANGJU_BUK_GU", "GWANGJU_BUK_GU", "GWANGJU_GWANGSAN_GU"]
            .iter()
            .enumerate()
        {
            let r = app
                .post(
                    "/v1/suppliers",
                    &admin,
                    json!({"businessNumber": business_number(900 + i as u64), "legalName": format!("부품{i}"),
                           "address": {"line": "광주광역시", "region": region},
                           "partsGroups": ["BATTERY_ENERGY_STORAGE", "THERMAL_MANAGEMENT"],
                           "primaryPartsGroup": "BATTERY_ENERGY_STORAGE",
                           "certifications": [{"standard": "IATF_16949", "number": format!("N{i}"),
                               "issuer": "KSA", "validFrom": "2024-01-01", "validUntil": seoul_date_in(30 * i as i64 + 10)}]}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
        let withdrawn = app.create_supplier(SAMSUNG, "탈퇴").await;
        app.post(
            &format!(
                "/v1/suppliers/{}:withdraw",
                withdrawn["id"].as_str().unwrap()
            ),
            &admin,
            json!({}),
        )
        .await;
        app.post(
            &format!("/v1/suppliers/{}:verify", ids[0]),
            &admin,
            json!({}),
        )
        .await;
        for id in &ids[..2] {
            let r = app
                .post(
                    &format!("/v1/suppliers/{id}/stageChanges"),
                    &admin,
                    json!({"toStage": "FUTURE_CAR_SUPPLIER", "reason": "양산 납품 확인"}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        app.post(
            &format!("/v1/suppliers/{}/stageChanges", ids[1]),
            &admin,
            json!({"toStage": "CONVERTING", "reason": "납품 중단"}),
        )
        .await;

        let institute = app.key_for("institute:GJTP").await;
        let stats = app.get("/v1/registry/stats", &institute).await;
        assert_eq!(stats.status, 200, "{}", stats.text);
        let s = &stats.body;
        assert_eq!(s["totalSuppliers"], 4);
        assert_eq!(s["suppliersByStatus"]["ACTIVE"], 1);
        assert_eq!(s["suppliersByStatus"]["PENDING_VERIFICATION"], 2);
        assert_eq!(s["suppliersByStatus"]["WITHDRAWN"], 1);
        assert_eq!(s["suppliersByStage"]["FUTURE_CAR_SUPPLIER"], 1);
        assert_eq!(s["suppliersByStage"]["CONVERTING"], 1);
        assert_eq!(
            s["suppliersByStage"]["ICE_DEPENDENT"], 1,
            "the withdrawn one is not counted"
        );
        assert_eq!(s["suppliersByRegion"]["GWANGJU_BUK_GU"], 2);
        assert_eq!(s["suppliersByRegion"]["GWANGJU_GWANGSAN_GU"], 1);
        assert_eq!(
            s["suppliersByPartsGroupAndStage"]["THERMAL_MANAGEMENT"]["byStage"]["FUTURE_CAR_SUPPLIER"],
            1
        );
        assert_eq!(
            s["suppliersByPartsGroupAndStage"]["POWERTRAIN_ENGINE"]["byStage"]["ICE_DEPENDENT"],
            0
        );
        assert_eq!(
            s["target"],
            json!({"futureCarSuppliers": 1, "target": 4, "targetYear": 2028, "percent": 25.0})
        );
        let quarters = s["transitionsPerQuarter"].as_array().unwrap();
        assert_eq!(quarters.len(), 1);
        assert_eq!(quarters[0]["movesUp"], 2);
        assert_eq!(quarters[0]["movesDown"], 1);
        assert_eq!(quarters[0]["reachedFutureCarSupplier"], 2);
        assert_eq!(s["certificationsExpiringIn90Days"], 3);

        assert_eq!(app.get("/v1/registry/stats", &admin).await.status, 200);
        let company = app.key_for(&format!("supplier:{}", ids[0])).await;
        app.get("/v1/registry/stats", &company)
            .await
            .assert_problem(403, "PERMISSION_DENIED");
        let reviewer = app.key_for("reviewer").await;
        app.get("/v1/registry/stats", &reviewer)
            .await
            .assert_problem(403, "PERMISSION_DENIED");
    }

    async fn parts_groups_say_which_depend_on_the_engine(engine: Engine) {
        let app = spawn_app(engine).await;
        let institute = app.key_for("institute:KATECH").await;
        let r = app.get("/v1/partsGroups", &institute).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let groups = r.body["partsGroups"].as_array().unwrap();
        assert_eq!(groups.len(), 16, "every group but UNSPECIFIED");
        let ice: Vec<&str> = groups
            .iter()
            .filter(|g| g["iceDependent"] == true)
            .map(|g| g["partsGroup"].as_str().unwrap())
            .collect();
        assert_eq!(
            ice,
            [
                "POWERTRAIN_ENGINE",
                "TRANSMISSION_DRIVELINE",
                "EXHAUST_SYSTEM",
                "FUEL_SYSTEM"
            ]
        );
        assert_eq!(groups[6]["nameKo"], "배터리·에너지저장");
    }
}

/// On PostgreSQL the name and number search has trigram indexes (created on
/// start); the plan for a search uses them once sequential scans are off.
#[tokio::test]
async fn postgres_search_uses_trigram_indexes() {
    use sqlx::Connection;
    if !gearshift_platform::testing::postgres_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = crate::common::test_args(crate::common::Engine::Postgres, dir.path()).await;
    let url = args.registry.database_url.clone().unwrap();
    let app = crate::common::spawn_with(args, dir).await;
    app.create_supplier(crate::common::SAMSUNG, "광주정밀부품")
        .await;

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan: Vec<(String,)> = sqlx::query_as(
        "EXPLAIN SELECT id FROM suppliers WHERE (search_name LIKE '%정밀부%' \
         OR business_number LIKE '%8100%') ORDER BY id LIMIT 51",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let plan: String = plan.into_iter().map(|(l,)| l + "\n").collect();
    assert!(plan.contains("suppliers_search_name_trgm"), "{plan}");
    assert!(plan.contains("suppliers_business_number_trgm"), "{plan}");
    let found = app.get("/v1/suppliers?query=정밀부", &app.admin_key).await;
    assert_eq!(found.body["suppliers"].as_array().map(Vec::len), Some(1));
}
