//! The registry beyond the supplier record: the transition ladder,
//! certifications, the institute directory, programme figures and the
//! eligibility check. Over REST (and gRPC where the API is gRPC-only), on
//! SQLite and PostgreSQL.

mod common;

mod stages {
    use super::common::*;
    use gearshift_platform::engine_tests;
    use serde_json::{Value, json};

    engine_tests!(
        operators_record_moves_and_the_supplier_follows,
        a_company_proposes_one_step_and_an_operator_decides,
        stage_change_refusals_name_the_rule,
        institutes_read_the_history_but_companies_only_their_own,
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
