//! Special-case financing through the gateway: programmes, and companies'
//! applications up to submission (eligibility asked of the registry live).
//! The platform runs on a manual clock, so windows open and close when a
//! test moves time.

use std::sync::Arc;

use gearshift_platform::clock::{Clock, ManualTime};
use gearshift_platform::engine_tests;
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::common::*;

engine_tests!(
    a_programme_opens_and_a_company_applies,
    money_and_drafts_are_checked,
    drafts_are_edited_withdrawn_cancelled_and_listed,
    an_advising_institute_reads_and_changes_nothing,
);

/// 2026-11-25, 10:00 in Seoul.
const NOW: &str = "2026-11-25T01:00:00Z";

struct Office {
    app: TestApp,
    time: Arc<ManualTime>,
}

impl Office {
    async fn open(engine: Engine) -> Office {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = test_args(engine, dir.path()).await;
        let (clock, time) = Clock::manual(NOW.parse().expect("time"));
        let app = spawn_with_clock(args, dir, clock).await;
        Office { app, time }
    }

    async fn ok(&self, path: &str, key: &str, body: Value) -> Value {
        let r = self.app.post(path, key, body).await;
        assert_eq!(r.status, 200, "POST {path}: {}", r.text);
        r.body
    }

    /// An OPEN programme: policy loans for facility conversion, 10 billion
    /// won, 10 million to 500 million per company, active companies only,
    /// a business plan required; applications in November and December.
    async fn programme(&self) -> String {
        let p = self
            .ok(
                "/v1/financing/programmes",
                &self.app.admin_key,
                json!({
                    "nameKo": "미래차 전환 시설자금",
                    "nameEn": "Future-car facility conversion loans",
                    "kind": "POLICY_LOAN",
                    "purposes": ["FACILITY_CONVERSION"],
                    "totalBudgetWon": "10000000000",
                    "perCompanyCapWon": 500000000,
                    "perCompanyMinWon": 10000000,
                    "opensTime": "2026-11-01T00:00:00+09:00",
                    "closesTime": "2027-01-01T00:00:00+09:00",
                    "eligibility": [{"active": true}],
                    "requiredDocuments": ["business plan"],
                }),
            )
            .await;
        let id = p["id"].as_str().expect("id").to_string();
        self.ok(
            &format!("/v1/financing/programmes/{id}:open"),
            &self.app.admin_key,
            json!({}),
        )
        .await;
        id
    }
}

fn application(programme: &str, supplier: &str, amount: Value, plan_provided: bool) -> Value {
    json!({
        "programmeId": programme,
        "supplierId": supplier,
        "requestedAmountWon": amount,
        "purpose": "FACILITY_CONVERSION",
        "transitionPlanSummary": "Convert the engine-mount line to battery-pack housings.",
        "plannedHires": 12,
        "plannedYoungHires": 5,
        "documents": [{
            "name": "business plan",
            "provided": plan_provided,
            "fileRef": if plan_provided { "docs://plans/2026-11.pdf" } else { "" },
            "checksum": if plan_provided { "ab".repeat(32) } else { String::new() },
        }],
    })
}

async fn a_programme_opens_and_a_company_applies(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let op = app.admin_key.clone();
    let supplier = app.create_supplier(SAMSUNG, "알파정밀").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let company = app.key_for(&format!("supplier:{supplier}")).await;
    let other = app.create_supplier(KIA, "베타모터").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let stranger = app.key_for(&format!("supplier:{other}")).await;
    let reviewer = app.key_for("reviewer").await;

    // A draft programme is the operators' business.
    let draft = office
        .ok(
            "/v1/financing/programmes",
            &op,
            json!({"nameKo": "초안", "kind": "GRANT", "purposes": ["RESEARCH_AND_DEVELOPMENT"],
                   "totalBudgetWon": 1000, "perCompanyCapWon": 100,
                   "opensTime": "2026-12-01T00:00:00Z", "closesTime": "2026-12-31T00:00:00Z"}),
        )
        .await;
    assert_eq!(draft["status"], "DRAFT");
    let draft_path = format!(
        "/v1/financing/programmes/{}",
        draft["id"].as_str().expect("id")
    );
    app.get(&draft_path, &company)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.post("/v1/financing/programmes", &company, json!({"nameKo": "x"}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let programme = office.programme().await;
    let listed = app.get("/v1/financing/programmes", &company).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let names: Vec<&str> = listed.body["programmes"]
        .as_array()
        .expect("programmes")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [programme.as_str()],
        "the draft is not listed to a company"
    );
    assert_eq!(
        app.get(&format!("/v1/financing/programmes/{programme}"), &company)
            .await
            .body["totalBudgetWon"],
        "10000000000",
        "int64 won as a JSON string"
    );

    // The company applies for itself, not for another.
    app.post(
        "/v1/financing/applications",
        &company,
        application(&programme, &other, json!(100_000_000), true),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let a = office
        .ok(
            "/v1/financing/applications",
            &company,
            application(&programme, &supplier, json!(300_000_000), true),
        )
        .await;
    assert_eq!(a["status"], "DRAFT");
    let path = format!(
        "/v1/financing/applications/{}",
        a["id"].as_str().expect("id")
    );
    app.get(&path, &stranger)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get(&path, &reviewer)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(
        "/v1/financing/applications",
        &company,
        application(&programme, &supplier, json!(100_000_000), true),
    )
    .await
    .assert_problem(409, "ALREADY_EXISTS");

    // Not yet verified: the registry says the company is not active.
    let r = app
        .post(&format!("{path}:submit"), &company, json!({}))
        .await;
    r.assert_problem(409, "NOT_ELIGIBLE");
    assert!(r.text.contains("active"), "{}", r.text);
    assert_eq!(app.get(&path, &company).await.body["status"], "DRAFT");
    office
        .ok(&format!("/v1/suppliers/{supplier}:verify"), &op, json!({}))
        .await;
    let submitted = office
        .ok(&format!("{path}:submit"), &company, json!({}))
        .await;
    assert_eq!(submitted["status"], "SUBMITTED");
    assert_eq!(submitted["eligibility"]["eligible"], true);
    assert_eq!(submitted["eligibility"]["results"][0]["rule"], "active");
    app.post(&format!("{path}:submit"), &company, json!({}))
        .await
        .assert_problem(409, "INVALID_TRANSITION");

    // Another company without its business plan, then after the window.
    office
        .ok(&format!("/v1/suppliers/{other}:verify"), &op, json!({}))
        .await;
    let b = office
        .ok(
            "/v1/financing/applications",
            &stranger,
            application(&programme, &other, json!(50_000_000), false),
        )
        .await;
    let b_path = format!(
        "/v1/financing/applications/{}",
        b["id"].as_str().expect("id")
    );
    let r = app
        .post(&format!("{b_path}:submit"), &stranger, json!({}))
        .await;
    r.assert_problem(409, "DOCUMENTS_MISSING");
    assert!(r.text.contains("business plan"), "{}", r.text);
    office.time.advance(SignedDuration::from_hours(40 * 24));
    app.post(&format!("{b_path}:submit"), &stranger, json!({}))
        .await
        .assert_problem(409, "PROGRAMME_NOT_OPEN");
}

async fn money_and_drafts_are_checked(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let supplier = app.create_supplier(SAMSUNG, "알파정밀").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let programme = office.programme().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!(-1), "application.requestedAmountWon"),
        (json!(0), "application.requestedAmountWon"),
        (
            json!("1000000000000000001"),
            "application.requestedAmountWon",
        ),
    ];
    for (amount, field) in cases {
        let r = app
            .post(
                "/v1/financing/applications",
                &app.admin_key,
                application(&programme, &supplier, amount.clone(), true),
            )
            .await;
        assert_eq!(r.status, 400, "{amount}: {}", r.text);
        assert_eq!(r.violation_fields(), [field], "{amount}");
    }
    // Not a whole number, or past int64: refused before the service sees it.
    for amount in [json!(1.5), json!("99999999999999999999"), json!("12abc")] {
        let r = app
            .post(
                "/v1/financing/applications",
                &app.admin_key,
                application(&programme, &supplier, amount.clone(), true),
            )
            .await;
        r.assert_problem(400, "INVALID_ARGUMENT");
    }
    // Over the cap is refused at submission, naming the cap.
    let a = office
        .ok(
            "/v1/financing/applications",
            &app.admin_key,
            application(&programme, &supplier, json!(600_000_000), true),
        )
        .await;
    office
        .ok(
            &format!("/v1/suppliers/{supplier}:verify"),
            &app.admin_key,
            json!({}),
        )
        .await;
    let r = app
        .post(
            &format!(
                "/v1/financing/applications/{}:submit",
                a["id"].as_str().expect("id")
            ),
            &app.admin_key,
            json!({}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert!(r.text.contains("500000000"), "{}", r.text);
    // A programme whose cap is over its budget is refused with the field.
    let r = app
        .post(
            "/v1/financing/programmes",
            &app.admin_key,
            json!({"nameKo": "x", "kind": "GRANT", "purposes": ["RESTRUCTURING"],
                   "totalBudgetWon": 100, "perCompanyCapWon": 200,
                   "opensTime": "2026-12-01T00:00:00Z", "closesTime": "2026-12-31T00:00:00Z"}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["programme.perCompanyCapWon"]);
}

async fn drafts_are_edited_withdrawn_cancelled_and_listed(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let op = app.admin_key.clone();
    let supplier = app.create_supplier(SAMSUNG, "알파정밀").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    office
        .ok(&format!("/v1/suppliers/{supplier}:verify"), &op, json!({}))
        .await;
    let company = app.key_for(&format!("supplier:{supplier}")).await;
    let other = app.create_supplier(KIA, "베타모터").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let stranger = app.key_for(&format!("supplier:{other}")).await;
    let reviewer = app.key_for("reviewer").await;
    let programme = office.programme().await;
    let a = office
        .ok(
            "/v1/financing/applications",
            &company,
            application(&programme, &supplier, json!(100_000_000), false),
        )
        .await;
    let id = a["id"].as_str().expect("id").to_string();
    let path = format!("/v1/financing/applications/{id}");

    // Edited while a draft, by the company, checked like a new one.
    let plan = json!({"documents": [{"name": "business plan", "provided": true,
        "fileRef": "docs://plans/v2.pdf", "checksum": "cd".repeat(32)}]});
    app.patch(&path, &stranger, plan.clone())
        .await
        .assert_problem(404, "NOT_FOUND");
    let r = app
        .patch(&path, &company, json!({"requestedAmountWon": -1}))
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["application.requestedAmountWon"]);
    let edited = app.patch(&path, &company, plan.clone()).await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["requestedAmountWon"], "100000000", "untouched");
    office
        .ok(&format!("{path}:submit"), &company, json!({}))
        .await;
    app.patch(&path, &company, plan)
        .await
        .assert_problem(409, "INVALID_TRANSITION");

    // Lists: a company its own, operators any, reviewers none.
    let mine = app.get("/v1/financing/applications", &company).await;
    assert_eq!(mine.body["applications"].as_array().map(Vec::len), Some(1));
    let theirs = app.get("/v1/financing/applications", &stranger).await;
    assert_eq!(theirs.body["applications"], json!([]));
    let by_programme = app
        .get(
            &format!("/v1/financing/applications?programmeId={programme}&status=SUBMITTED"),
            &op,
        )
        .await;
    assert_eq!(by_programme.body["applications"][0]["id"], json!(id));
    app.get("/v1/financing/applications", &reviewer)
        .await
        .assert_problem(403, "PERMISSION_DENIED");

    // Only the company withdraws; then it may apply again.
    app.post(&format!("{path}:withdraw"), &op, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let w = office
        .ok(
            &format!("{path}:withdraw"),
            &company,
            json!({"reason": "financed by the bank instead"}),
        )
        .await;
    assert_eq!(w["status"], "WITHDRAWN");
    assert_eq!(w["statusReason"], "financed by the bank instead");
    let again = office
        .ok(
            "/v1/financing/applications",
            &company,
            application(&programme, &supplier, json!(200_000_000), true),
        )
        .await;
    let again_path = format!(
        "/v1/financing/applications/{}",
        again["id"].as_str().expect("id")
    );

    // Operators cancel, with a reason; a company cannot.
    app.post(
        &format!("{again_path}:cancel"),
        &company,
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .post(&format!("{again_path}:cancel"), &op, json!({}))
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["reason"]);
    let c = office
        .ok(
            &format!("{again_path}:cancel"),
            &op,
            json!({"reason": "duplicate of a paper application"}),
        )
        .await;
    assert_eq!(c["status"], "CANCELLED");

    // The trail, in order, for the company and operators only.
    let events = app.get(&format!("{path}/events"), &company).await;
    assert_eq!(events.status, 200, "{}", events.text);
    let types: Vec<&str> = events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "application.created",
            "application.updated",
            "application.submitted",
            "application.withdrawn"
        ]
    );
    assert!(
        events.body["events"][2]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("\"eligible\":true"),
        "{}",
        events.body
    );
    app.get(&format!("{path}/events"), &stranger)
        .await
        .assert_problem(404, "NOT_FOUND");

    // A closed programme takes no submissions, nor new drafts.
    let late = office
        .ok(
            "/v1/financing/applications",
            &stranger,
            application(&programme, &other, json!(100_000_000), true),
        )
        .await;
    office
        .ok(
            &format!("/v1/financing/programmes/{programme}:close"),
            &op,
            json!({}),
        )
        .await;
    app.post(
        "/v1/financing/applications",
        &stranger,
        application(&programme, &other, json!(100_000_000), true),
    )
    .await
    .assert_problem(409, "PROGRAMME_NOT_OPEN");
    app.post(
        &format!(
            "/v1/financing/applications/{}:submit",
            late["id"].as_str().expect("id")
        ),
        &stranger,
        json!({}),
    )
    .await
    .assert_problem(409, "PROGRAMME_NOT_OPEN");
}

/// The registry goes away between the draft and its submission: the
/// submission is a 503 naming the registry and the application stays a
/// DRAFT with the same etag; once the registry is back, it goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_while_the_registry_is_down_leaves_the_draft_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut registry_args = test_args(Engine::Sqlite, dir.path()).await;
    registry_args.common.target = vec![gearshift::Target::Registry];
    let registry = gearshift::Platform::build(&registry_args)
        .await
        .expect("registry builds");
    let relay = Relay::start(registry.registry_addr().expect("registry")).await;
    let stop_registry = gearshift_platform::shutdown::Shutdown::new();
    let _registry = tokio::spawn(registry.run(stop_registry.clone()));

    // Financing and the gateway in another platform (same data folder, so
    // the same principal key), reaching the registry through the relay.
    let mut args = registry_args.clone();
    args.common.target = vec![gearshift::Target::Financing, gearshift::Target::Gateway];
    args.registry.addr = format!("http://{}", relay.addr);
    let (clock, _time) = Clock::manual(NOW.parse().expect("time"));
    let app = spawn_with_clock(args, tempfile::tempdir().expect("temp dir"), clock).await;
    let office = Office { app, time: _time };
    let app = &office.app;
    let supplier = app.create_supplier(SAMSUNG, "알파정밀").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    office
        .ok(
            &format!("/v1/suppliers/{supplier}:verify"),
            &app.admin_key,
            json!({}),
        )
        .await;
    let programme = office.programme().await;
    let a = office
        .ok(
            "/v1/financing/applications",
            &app.admin_key,
            application(&programme, &supplier, json!(100_000_000), true),
        )
        .await;
    let path = format!(
        "/v1/financing/applications/{}",
        a["id"].as_str().expect("id")
    );

    relay.cut();
    let r = app
        .post(&format!("{path}:submit"), &app.admin_key, json!({}))
        .await;
    r.assert_problem(503, "UNAVAILABLE");
    assert!(r.text.contains("registry"), "{}", r.text);
    let after = app.get(&path, &app.admin_key).await;
    assert_eq!(after.body["status"], "DRAFT");
    assert_eq!(after.body["etag"], a["etag"], "nothing written");

    relay.restore().await;
    let submitted = office
        .ok(&format!("{path}:submit"), &app.admin_key, json!({}))
        .await;
    assert_eq!(submitted["status"], "SUBMITTED");
    stop_registry.trigger();
}

async fn an_advising_institute_reads_and_changes_nothing(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let op = app.admin_key.clone();
    let supplier = app.create_supplier(SAMSUNG, "알파정밀").await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let company = app.key_for(&format!("supplier:{supplier}")).await;
    let gjtp = app.key_for("institute:GJTP").await;
    let keti = app.key_for("institute:KETI").await;
    let body = |advisors: Value| {
        json!({"nameKo": "지역 전환 보조금", "kind": "GRANT", "purposes": ["RESTRUCTURING"],
               "totalBudgetWon": 1_000_000_000, "perCompanyCapWon": 100_000_000,
               "opensTime": "2026-11-01T00:00:00Z", "closesTime": "2026-12-31T00:00:00Z",
               "advisorInstitutes": advisors})
    };
    let r = app
        .post("/v1/financing/programmes", &op, body(json!(["NOWHERE"])))
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["programme.advisorInstitutes[0]"]);
    let p = office
        .ok("/v1/financing/programmes", &op, body(json!(["GJTP"])))
        .await;
    let programme = p["id"].as_str().expect("id").to_string();
    office
        .ok(
            &format!("/v1/financing/programmes/{programme}:open"),
            &op,
            json!({}),
        )
        .await;
    let mut draft = application(&programme, &supplier, json!(50_000_000), true);
    draft["purpose"] = json!("RESTRUCTURING");
    let a = office
        .ok("/v1/financing/applications", &company, draft)
        .await;
    let path = format!(
        "/v1/financing/applications/{}",
        a["id"].as_str().expect("id")
    );

    // The advisor reads the application, its trail and the list…
    assert_eq!(app.get(&path, &gjtp).await.status, 200);
    assert_eq!(app.get(&format!("{path}/events"), &gjtp).await.status, 200);
    let listed = app.get("/v1/financing/applications", &gjtp).await;
    assert_eq!(listed.body["applications"][0]["id"], a["id"]);
    // …and changes nothing.
    app.patch(&path, &gjtp, json!({"transitionPlanSummary": "x"}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{path}:withdraw"), &gjtp, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{path}:cancel"), &gjtp, json!({"reason": "x"}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{path}:submit"), &gjtp, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // Another institute sees nothing.
    app.get(&path, &keti)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let none = app.get("/v1/financing/applications", &keti).await;
    assert_eq!(none.body["applications"], json!([]));
}
