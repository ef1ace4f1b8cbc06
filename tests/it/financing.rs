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
    review_four_eyes_decision_and_tranches,
    approvals_at_once_never_commit_past_the_budget,
    the_figures_add_up,
    over_grpc_four_eyes_hold_and_the_company_sees_no_scores,
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
    /// a business plan required; applications in November and December;
    /// the issue's four criteria, a pass mark of 60, two reviewers whose
    /// scores may be 20 points apart.
    async fn programme(&self) -> String {
        self.programme_with(10_000_000_000, 500_000_000).await
    }

    async fn programme_with(&self, budget: i64, cap: i64) -> String {
        let p = self
            .ok(
                "/v1/financing/programmes",
                &self.app.admin_key,
                json!({
                    "nameKo": "미래차 전환 시설자금",
                    "nameEn": "Future-car facility conversion loans",
                    "kind": "POLICY_LOAN",
                    "purposes": ["FACILITY_CONVERSION"],
                    "totalBudgetWon": budget.to_string(),
                    "perCompanyCapWon": cap,
                    "perCompanyMinWon": 10000000,
                    "opensTime": "2026-11-01T00:00:00+09:00",
                    "closesTime": "2027-01-01T00:00:00+09:00",
                    "eligibility": [{"active": true}],
                    "requiredDocuments": ["business plan"],
                    "criteria": criteria(),
                    "passMark": 60,
                    "minReviewers": 2,
                    "maxScoreSpread": 20,
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

impl Office {
    /// A verified (ACTIVE) company making battery parts.
    async fn company(&self, seed: u64) -> String {
        let r = self
            .ok(
                "/v1/suppliers",
                &self.app.admin_key,
                json!({"businessNumber": business_number(seed), "legalName": format!("회사 {seed}"),
                       "partsGroups": ["BATTERY_ENERGY_STORAGE"],
                       "primaryPartsGroup": "BATTERY_ENERGY_STORAGE"}),
            )
            .await;
        let id = r["id"].as_str().expect("id").to_string();
        self.ok(
            &format!("/v1/suppliers/{id}:verify"),
            &self.app.admin_key,
            json!({}),
        )
        .await;
        id
    }

    /// An application for `amount` won drafted and submitted by `submitter`
    /// (the company's key or an operator's), screened, and given to
    /// `reviewers`; its path.
    async fn under_review(
        &self,
        programme: &str,
        supplier: &str,
        submitter: &str,
        amount: i64,
        reviewers: &[&str],
    ) -> String {
        let a = self
            .ok(
                "/v1/financing/applications",
                submitter,
                application(programme, supplier, json!(amount), true),
            )
            .await;
        let path = format!(
            "/v1/financing/applications/{}",
            a["id"].as_str().expect("id")
        );
        self.ok(&format!("{path}:submit"), submitter, json!({}))
            .await;
        self.ok(&format!("{path}:screen"), &self.app.admin_key, json!({}))
            .await;
        let assigned = self
            .ok(
                &format!("{path}:assignReviewers"),
                &self.app.admin_key,
                json!({"reviewers": reviewers}),
            )
            .await;
        assert_eq!(assigned["status"], "UNDER_REVIEW");
        path
    }

    async fn programme_figures(&self, programme: &str) -> (i64, i64, i64) {
        let p = self
            .app
            .get(
                &format!("/v1/financing/programmes/{programme}"),
                &self.app.admin_key,
            )
            .await;
        let n = |f: &str| p.body[f].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        (n("committedWon"), n("disbursedWon"), n("remainingWon"))
    }
}

/// Whether `key` of `v` says nothing: absent, null, or its type's default
/// (the gateway writes every field).
fn says_nothing(v: &Value, key: &str) -> bool {
    match v.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() || s == "0",
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Bool(b)) => !b,
    }
}

fn types(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn criteria() -> Value {
    json!([
        {"name": "technology", "weight": 30},
        {"name": "feasibility", "weight": 25},
        {"name": "jobs for young people", "weight": 25},
        {"name": "local contribution", "weight": 20},
    ])
}

/// A review with no conflict scoring every criterion `score`.
fn review(score: i64) -> Value {
    let scores: Vec<Value> = criteria()
        .as_array()
        .expect("criteria")
        .iter()
        .map(|c| json!({"criterion": c["name"], "score": score, "comment": "read the plan"}))
        .collect();
    json!({"declaration": "NO_CONFLICT", "scores": scores, "comment": "sound"})
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
                   "totalBudgetWon": 1000, "perCompanyCapWon": 100, "criteria": criteria(),
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
                   "totalBudgetWon": 100, "perCompanyCapWon": 200, "criteria": criteria(),
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

    // Lists: a company its own, operators any, a reviewer none it is not
    // assigned.
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
    let unassigned = app.get("/v1/financing/applications", &reviewer).await;
    assert_eq!(unassigned.status, 200, "{}", unassigned.text);
    assert_eq!(unassigned.body["applications"], json!([]));

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
    // Closed, then archived; an archived one moves no more.
    let archived = office
        .ok(
            &format!("/v1/financing/programmes/{programme}:archive"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(archived["status"], "ARCHIVED");
    app.post(
        &format!("/v1/financing/programmes/{programme}:close"),
        &op,
        json!({}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");
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
               "criteria": criteria(),
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
    // Nor any step of review, decision or payment, once it is submitted.
    office.ok(&format!("{path}:submit"), &op, json!({})).await;
    for (verb, body) in [
        (":screen", json!({})),
        (
            ":assignReviewers",
            json!({"reviewers": [format!("key_{:0>26}", "1"), format!("key_{:0>26}", "2")]}),
        ),
        (":recordConsensus", json!({"note": "x"})),
        (
            ":decide",
            json!({"decision": {"outcome": "REJECTED", "reasons": ["x"], "rationale": "x"}}),
        ),
        (":disburse", json!({"tranche": {"amountWon": 1}})),
        ("/reviews", review(50)),
    ] {
        let r = app.post(&format!("{path}{verb}"), &gjtp, body).await;
        r.assert_problem(403, "PERMISSION_DENIED");
    }
    // The advisor reads the programme's ledger; another institute does not.
    let ledger = format!("/v1/financing/programmes/{programme}/ledger");
    assert_eq!(app.get(&ledger, &gjtp).await.status, 200);
    app.get(&ledger, &keti)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // Another institute sees nothing.
    app.get(&path, &keti)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.get("/v1/financing/stats", &gjtp)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let none = app.get("/v1/financing/applications", &keti).await;
    assert_eq!(none.body["applications"], json!([]));
}

async fn review_four_eyes_decision_and_tranches(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let admin = app.admin_key.clone();
    let supplier = office.company(1).await;
    let company = app.key_for(&format!("supplier:{supplier}")).await;
    let (r1_id, r1) = app.key_with_id("reviewer").await;
    let (r2_id, r2) = app.key_with_id("reviewer").await;
    let (_, r3) = app.key_with_id("reviewer").await;
    let (op_reviewer_id, op_reviewer) = app.key_with_id("operator").await;
    let (_, decider) = app.key_with_id("operator").await;
    let programme = office.programme().await;

    // The company drafts; an operator submits on its behalf.
    let a = office
        .ok(
            "/v1/financing/applications",
            &company,
            application(&programme, &supplier, json!(300_000_000), true),
        )
        .await;
    let path = format!(
        "/v1/financing/applications/{}",
        a["id"].as_str().expect("id")
    );
    office
        .ok(&format!("{path}:submit"), &admin, json!({}))
        .await;
    app.post(
        &format!("{path}:assignReviewers"),
        &admin,
        json!({"reviewers": [r1_id, r2_id]}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");
    app.post(&format!("{path}:screen"), &company, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    office
        .ok(&format!("{path}:screen"), &admin, json!({}))
        .await;
    app.get(&path, &r1)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .post(
            &format!("{path}:assignReviewers"),
            &admin,
            json!({"reviewers": [r1_id]}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert!(r.text.contains("needs 2 reviewers"), "{}", r.text);
    let assigned = office
        .ok(
            &format!("{path}:assignReviewers"),
            &admin,
            json!({"reviewers": [r1_id, r2_id, op_reviewer_id]}),
        )
        .await;
    assert_eq!(assigned["status"], "UNDER_REVIEW");
    assert_eq!(assigned["reviews"].as_array().map(Vec::len), Some(3));

    // A reviewer not assigned sees nothing and cannot review.
    app.get(&path, &r3)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{path}/reviews"), &r3, review(80))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // An assigned one sees the application and only its own review, and
    // finds it in its list; not the trail.
    let seen = app.get(&path, &r1).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["reviews"].as_array().map(Vec::len), Some(1));
    assert_eq!(seen.body["reviews"][0]["reviewer"], json!(r1_id));
    assert!(says_nothing(&seen.body, "reviewSummary"), "{}", seen.body);
    let mine = app.get("/v1/financing/applications", &r1).await;
    assert_eq!(mine.body["applications"][0]["id"], a["id"]);
    app.get(&format!("{path}/events"), &r1)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // Every criterion is scored, each with a comment.
    let mut partial = review(90);
    partial["scores"].as_array_mut().expect("scores").pop();
    let r = app.post(&format!("{path}/reviews"), &r1, partial).await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["review.scores"]);
    assert!(r.text.contains("local contribution"), "{}", r.text);
    let mine = office.ok(&format!("{path}/reviews"), &r1, review(90)).await;
    assert_eq!(mine["state"], "SUBMITTED");
    assert_eq!(mine["weightedScore"], 90.0);
    app.post(&format!("{path}/reviews"), &r1, review(10))
        .await
        .assert_problem(409, "ALREADY_EXISTS");
    // Another reviewer's scores are not the company's business, nor any
    // reviewer's name.
    let theirs = app.get(&path, &company).await;
    assert!(says_nothing(&theirs.body, "reviews"), "{}", theirs.body);
    assert!(!theirs.text.contains(&r1_id), "{}", theirs.text);

    // Not every review in: no decision.
    app.post(
        &format!("{path}:decide"),
        &decider,
        json!({"decision": {"outcome": "APPROVED", "approvedAmountWon": 250_000_000,
                            "rationale": "r"}}),
    )
    .await
    .assert_problem(409, "REVIEWS_INCOMPLETE");
    // r2 recuses: it counts no more.
    let recused = office
        .ok(
            &format!("{path}/reviews"),
            &r2,
            json!({"declaration": "CONFLICT", "comment": "I consulted for this company in 2025"}),
        )
        .await;
    assert_eq!(recused["state"], "RECUSED");
    // The operator-reviewer scores low: 30 points from r1.
    office
        .ok(&format!("{path}/reviews"), &op_reviewer, review(60))
        .await;
    let full = app.get(&path, &admin).await;
    assert_eq!(full.body["reviewSummary"]["submitted"], 2);
    assert_eq!(full.body["reviewSummary"]["recused"], 1);
    assert_eq!(full.body["reviewSummary"]["meanScore"], 75.0);
    assert_eq!(full.body["reviewSummary"]["spread"], 30.0);
    assert_eq!(full.body["reviewSummary"]["consensusRequired"], true);

    // The decision: four eyes, no override.
    let decision = json!({"decision": {
        "outcome": "CONDITIONALLY_APPROVED", "approvedAmountWon": 250_000_000,
        "conditions": ["hire the five young engineers named in the plan by June 2027"],
        "reasons": ["a credible conversion plan"],
        "rationale": "committee of 2026-11-30: strong technology, thin local supply chain",
    }});
    let r = app
        .post(&format!("{path}:decide"), &op_reviewer, decision.clone())
        .await;
    r.assert_problem(403, "PERMISSION_DENIED");
    assert!(r.text.contains("reviewer"), "{}", r.text);
    let r = app
        .post(&format!("{path}:decide"), &admin, decision.clone())
        .await;
    r.assert_problem(403, "PERMISSION_DENIED");
    assert!(r.text.contains("submitted"), "{}", r.text);
    app.post(&format!("{path}:decide"), &r1, decision.clone())
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{path}:decide"), &decider, decision.clone())
        .await
        .assert_problem(409, "CONSENSUS_REQUIRED");
    app.post(
        &format!("{path}:recordConsensus"),
        &r1,
        json!({"note": "x"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    office
        .ok(
            &format!("{path}:recordConsensus"),
            &decider,
            json!({"note": "the committee weighed the local supply-chain risk and sided with r1"}),
        )
        .await;
    let mut too_much = decision.clone();
    too_much["decision"]["approvedAmountWon"] = json!(300_000_001);
    let r = app
        .post(&format!("{path}:decide"), &decider, too_much)
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["decision.approvedAmountWon"]);
    let decided = office
        .ok(&format!("{path}:decide"), &decider, decision.clone())
        .await;
    assert_eq!(decided["status"], "CONDITIONALLY_APPROVED");
    assert_eq!(decided["decision"]["meanScore"], 75.0);
    assert!(
        decided["decision"]["decidedBy"]
            .as_str()
            .is_some_and(|d| d.starts_with("key_"))
    );
    assert_eq!(
        office.programme_figures(&programme).await,
        (250_000_000, 0, 9_750_000_000)
    );

    // The company reads the outcome and its public reasons, never the
    // rationale, who decided or who reviewed.
    let public = app.get(&path, &company).await;
    assert_eq!(public.body["decision"]["outcome"], "CONDITIONALLY_APPROVED");
    assert_eq!(public.body["decision"]["approvedAmountWon"], "250000000");
    assert_eq!(
        public.body["decision"]["reasons"][0],
        "a credible conversion plan"
    );
    assert_eq!(
        public.body["decision"]["conditions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    for hidden in ["rationale", "decidedBy", "meanScore"] {
        assert!(
            says_nothing(&public.body["decision"], hidden),
            "{hidden}: {}",
            public.body
        );
    }
    assert!(says_nothing(&public.body, "consensus"), "{}", public.body);
    assert!(
        says_nothing(&public.body, "reviewSummary"),
        "{}",
        public.body
    );
    for secret in [
        &r1_id,
        &r2_id,
        &op_reviewer_id,
        "committee of",
        "weightedScore",
    ] {
        assert!(!public.text.contains(secret), "{secret}: {}", public.text);
    }
    let trail = app.get(&format!("{path}/events"), &company).await;
    for secret in [
        &r1_id,
        &r2_id,
        &op_reviewer_id,
        "committee of",
        "\"score\"",
        "consulted",
    ] {
        assert!(!trail.text.contains(secret), "{secret}: {}", trail.text);
    }
    assert!(
        trail.text.contains("a credible conversion plan"),
        "{}",
        trail.text
    );
    // The reviewer's view ends with the review.
    app.get(&path, &r1)
        .await
        .assert_problem(403, "PERMISSION_DENIED");

    // The whole trail, in order, for operators: every step with who and why.
    let trail = app.get(&format!("{path}/events"), &admin).await;
    assert_eq!(
        types(&trail.body),
        [
            "application.created",
            "application.submitted",
            "application.screened",
            "application.reviewers_assigned",
            "application.reviewed",
            "application.recused",
            "application.reviewed",
            "application.consensus_recorded",
            "application.decided",
        ]
    );
    assert!(
        trail.text.contains("committee of 2026-11-30"),
        "{}",
        trail.text
    );
    assert!(
        trail.text.contains("consulted for this company"),
        "{}",
        trail.text
    );

    // Tranches: never past the approved amount; the last one finishes it.
    let tranche =
        |amount: i64| json!({"tranche": {"amountWon": amount, "reference": "KB-2026-001"}});
    app.post(&format!("{path}:disburse"), &company, tranche(100_000_000))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .post(&format!("{path}:disburse"), &admin, tranche(250_000_001))
        .await;
    r.assert_problem(409, "OVER_APPROVED_AMOUNT");
    assert!(r.text.contains("250000000"), "{}", r.text);
    let first = office
        .ok(&format!("{path}:disburse"), &admin, tranche(100_000_000))
        .await;
    assert_eq!(first["status"], "DISBURSING");
    assert_eq!(
        first["tranches"][0]["valueDate"], "2026-11-25",
        "today in Seoul"
    );
    let last = office
        .ok(&format!("{path}:disburse"), &admin, tranche(150_000_000))
        .await;
    assert_eq!(last["status"], "DISBURSED");
    assert_eq!(last["disbursedWon"], "250000000");
    app.post(&format!("{path}:disburse"), &admin, tranche(1))
        .await
        .assert_problem(409, "INVALID_TRANSITION");
    assert_eq!(
        office.programme_figures(&programme).await,
        (250_000_000, 250_000_000, 9_750_000_000)
    );

    // The ledger: a reservation, then a consumption per tranche.
    let ledger_path = format!("/v1/financing/programmes/{programme}/ledger");
    app.get(&ledger_path, &company)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let ledger = app.get(&ledger_path, &admin).await;
    assert_eq!(ledger.status, 200, "{}", ledger.text);
    let lines: Vec<(String, String)> = ledger.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["amountWon"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("RESERVE".to_string(), "250000000".to_string()),
            ("CONSUME".to_string(), "100000000".to_string()),
            ("CONSUME".to_string(), "150000000".to_string()),
        ]
    );
}

/// Eight applications of 300 million won each, approved at once against a
/// budget of a billion: exactly three get through, the others are told
/// the 100 million that is left. A cancellation after a tranche gives
/// back the rest, and one of those refused then fits.
async fn approvals_at_once_never_commit_past_the_budget(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let admin = app.admin_key.clone();
    let (r1_id, r1) = app.key_with_id("reviewer").await;
    let (r2_id, r2) = app.key_with_id("reviewer").await;
    let (_, decider) = app.key_with_id("operator").await;
    let programme = office.programme_with(1_000_000_000, 300_000_000).await;
    let mut paths = Vec::new();
    for seed in 0..8 {
        let supplier = office.company(100 + seed).await;
        let path = office
            .under_review(
                &programme,
                &supplier,
                &admin,
                300_000_000,
                &[&r1_id, &r2_id],
            )
            .await;
        office.ok(&format!("{path}/reviews"), &r1, review(80)).await;
        office.ok(&format!("{path}/reviews"), &r2, review(70)).await;
        paths.push(path);
    }
    let approve = json!({"decision": {"outcome": "APPROVED", "approvedAmountWon": 300_000_000,
                                      "rationale": "scored well"}});
    let urls: Vec<String> = paths.iter().map(|p| format!("{p}:decide")).collect();
    let answers =
        futures_util::future::join_all(urls.iter().map(|u| app.post(u, &decider, approve.clone())))
            .await;
    let approved: Vec<&String> = paths
        .iter()
        .zip(&answers)
        .filter(|(_, r)| r.status == 200)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        approved.len(),
        3,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_problem(409, "BUDGET_EXHAUSTED");
        assert!(
            r.text.contains("remaining budget is 100000000 won"),
            "{}",
            r.text
        );
    }
    assert_eq!(
        office.programme_figures(&programme).await,
        (900_000_000, 0, 100_000_000)
    );
    let refused: Vec<&String> = paths.iter().filter(|p| !approved.contains(p)).collect();
    let still = app.get(refused[0], &admin).await;
    assert_eq!(
        still.body["status"], "UNDER_REVIEW",
        "a refusal changes nothing"
    );

    // A rejection and a withdrawal commit and release nothing.
    office
        .ok(
            &format!("{}:decide", refused[1]),
            &decider,
            json!({"decision": {"outcome": "REJECTED", "reasons": ["the budget is spent"],
                                "rationale": "r"}}),
        )
        .await;
    app.post(
        &format!("{}:cancel", refused[1]),
        &admin,
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");
    office
        .ok(
            &format!("{}:cancel", refused[2]),
            &admin,
            json!({"reason": "paper duplicate"}),
        )
        .await;
    assert_eq!(
        office.programme_figures(&programme).await,
        (900_000_000, 0, 100_000_000)
    );

    // Cancelled after a tranche of 100 million: the other 200 go back.
    let paid = approved[0];
    office
        .ok(
            &format!("{paid}:disburse"),
            &admin,
            json!({"tranche": {"amountWon": 100_000_000, "valueDate": "2026-11-30"}}),
        )
        .await;
    let cancelled = office
        .ok(
            &format!("{paid}:cancel"),
            &admin,
            json!({"reason": "the company closed"}),
        )
        .await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(
        office.programme_figures(&programme).await,
        (700_000_000, 100_000_000, 300_000_000)
    );
    let ledger = app
        .get(
            &format!("/v1/financing/programmes/{programme}/ledger"),
            &admin,
        )
        .await;
    let last = ledger.body["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["kind"], "RELEASE");
    assert_eq!(last["amountWon"], "200000000");
    assert_eq!(last["committedWon"], "700000000");
    // Now 300 million fit again.
    let late = office
        .ok(&format!("{}:decide", refused[0]), &decider, approve)
        .await;
    assert_eq!(late["status"], "APPROVED");
    assert_eq!(
        office.programme_figures(&programme).await,
        (1_000_000_000, 100_000_000, 0)
    );
}

async fn the_figures_add_up(engine: Engine) {
    let office = Office::open(engine).await;
    let app = &office.app;
    let admin = app.admin_key.clone();
    let (r1_id, r1) = app.key_with_id("reviewer").await;
    let (r2_id, r2) = app.key_with_id("reviewer").await;
    let (_, decider) = app.key_with_id("operator").await;
    let programme = office.programme().await;
    let a = office.company(200).await;
    let b = office.company(201).await;
    let c = office.company(202).await;
    let a_path = office
        .under_review(&programme, &a, &admin, 200_000_000, &[&r1_id, &r2_id])
        .await;
    let b_path = office
        .under_review(&programme, &b, &admin, 100_000_000, &[&r1_id, &r2_id])
        .await;
    office
        .ok(
            "/v1/financing/applications",
            &admin,
            application(&programme, &c, json!(50_000_000), true),
        )
        .await;
    for p in [&a_path, &b_path] {
        office.ok(&format!("{p}/reviews"), &r1, review(80)).await;
        office.ok(&format!("{p}/reviews"), &r2, review(80)).await;
    }
    // Decided 4 and 10 days after submission: a median of 7.
    office.time.advance(SignedDuration::from_hours(4 * 24));
    office
        .ok(
            &format!("{a_path}:decide"),
            &decider,
            json!({"decision": {"outcome": "APPROVED", "approvedAmountWon": 150_000_000,
                                "rationale": "r"}}),
        )
        .await;
    office.time.advance(SignedDuration::from_hours(6 * 24));
    office
        .ok(
            &format!("{b_path}:decide"),
            &decider,
            json!({"decision": {"outcome": "REJECTED", "reasons": ["no plan for young hires"],
                                "rationale": "r"}}),
        )
        .await;
    office
        .ok(
            &format!("{a_path}:disburse"),
            &admin,
            json!({"tranche": {"amountWon": 50_000_000}}),
        )
        .await;

    app.get("/v1/financing/stats", &r1)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let stats = app.get("/v1/financing/stats", &admin).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let s = &stats.body;
    assert_eq!(s["approvalRate"], 0.5);
    assert_eq!(s["medianDaysToDecision"], 7.0);
    let p = &s["programmes"][0];
    assert_eq!(p["programmeId"], json!(programme));
    assert_eq!(p["totalBudgetWon"], "10000000000");
    assert_eq!(p["committedWon"], "150000000");
    assert_eq!(p["disbursedWon"], "50000000");
    assert_eq!(p["remainingWon"], "9850000000");
    assert_eq!(
        s["applicationsByStatus"],
        json!([
            {"status": "DRAFT", "count": "1"},
            {"status": "REJECTED", "count": "1"},
            {"status": "DISBURSING", "count": "1"},
        ])
    );
    assert_eq!(p["applicationsByStatus"], s["applicationsByStatus"]);
    // Amounts by the applicants' parts group and stage at submission (the
    // draft is not counted).
    let stage = app.get(&format!("/v1/suppliers/{a}"), &admin).await.body["stage"].clone();
    let expected = json!({"applications": "2", "requestedWon": "300000000",
                          "approvedWon": "150000000", "disbursedWon": "50000000"});
    assert_eq!(
        s["byPartsGroup"],
        json!([{"partsGroup": "BATTERY_ENERGY_STORAGE", "amounts": expected}])
    );
    assert_eq!(s["byStage"], json!([{"stage": stage, "amounts": expected}]));
}

/// Called directly over gRPC, as another service would: the same four
/// eyes, and the company's view without reviewers or scores.
async fn over_grpc_four_eyes_hold_and_the_company_sees_no_scores(engine: Engine) {
    use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
    use gearshift_platform::{Principal, Role};
    use gearshift_proto::financing::v1 as pb;
    use pb::financing_client::FinancingClient;

    let office = Office::open(engine).await;
    let addr = office
        .app
        .financing_addr
        .expect("financing runs in the test platform");
    let mut client = FinancingClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    let key = PrincipalKey::load_or_create(None, &office.app.data_dir).expect("key");
    fn signed<T>(key: &PrincipalKey, subject: &str, role: Role, message: T) -> tonic::Request<T> {
        let token = key.sign(&Principal {
            subject: subject.into(),
            role,
        });
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert(METADATA_KEY, token.parse().expect("ascii"));
        request
    }
    let key_id = |n: &str| format!("key_{n:0>26}");
    let supplier = office.company(300).await;
    let programme = office.programme().await;
    let maker = key_id("1");
    let created = client
        .create_application(signed(
            &key,
            &maker,
            Role::Operator,
            pb::CreateApplicationRequest {
                application: Some(pb::Application {
                    programme_id: programme,
                    supplier_id: supplier.clone(),
                    requested_amount_won: 100_000_000,
                    purpose: pb::Purpose::FacilityConversion as i32,
                    transition_plan_summary: "Battery trays".into(),
                    documents: vec![pb::Document {
                        name: "business plan".into(),
                        provided: true,
                        file_ref: "docs://plan.pdf".into(),
                        checksum: "0".repeat(64),
                    }],
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("created")
        .into_inner();
    let id = created.id.clone();
    client
        .submit_application(signed(
            &key,
            &maker,
            Role::Operator,
            pb::SubmitApplicationRequest {
                id: id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("submitted");
    client
        .screen_application(signed(
            &key,
            &maker,
            Role::Operator,
            pb::ScreenApplicationRequest {
                id: id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("screened");
    let reviewers = [key_id("2"), key_id("3")];
    client
        .assign_reviewers(signed(
            &key,
            &maker,
            Role::Operator,
            pb::AssignReviewersRequest {
                id: id.clone(),
                reviewers: reviewers.to_vec(),
                ..Default::default()
            },
        ))
        .await
        .expect("assigned");
    for reviewer in &reviewers {
        let scores = [
            "technology",
            "feasibility",
            "jobs for young people",
            "local contribution",
        ]
        .iter()
        .map(|c| pb::Score {
            criterion: (*c).into(),
            score: 70,
            comment: "fine".into(),
        })
        .collect();
        client
            .submit_review(signed(
                &key,
                reviewer,
                Role::Reviewer,
                pb::SubmitReviewRequest {
                    application_id: id.clone(),
                    review: Some(pb::Review {
                        declaration: pb::review::Declaration::NoConflict as i32,
                        scores,
                        ..Default::default()
                    }),
                },
            ))
            .await
            .expect("reviewed");
    }
    let decide = |by: &str| {
        signed(
            &key,
            by,
            Role::Operator,
            pb::DecideApplicationRequest {
                id: id.clone(),
                decision: Some(pb::Decision {
                    outcome: pb::decision::Outcome::Approved as i32,
                    approved_amount_won: 100_000_000,
                    rationale: "two reviews at 70".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
    };
    let refused = client
        .decide_application(decide(&maker))
        .await
        .expect_err("maker");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let refused = client
        .decide_application(decide(&reviewers[0]))
        .await
        .expect_err("reviewer");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let decided = client
        .decide_application(decide(&key_id("4")))
        .await
        .expect("a second pair of eyes")
        .into_inner();
    assert_eq!(decided.status, pb::application::Status::Approved as i32);
    assert_eq!(decided.reviews.len(), 2, "operators see the reviews");

    let seen = client
        .get_application(signed(
            &key,
            &key_id("5"),
            Role::Supplier(supplier),
            pb::GetApplicationRequest { id },
        ))
        .await
        .expect("the company reads its application")
        .into_inner();
    assert!(seen.reviews.is_empty());
    assert!(seen.review_summary.is_none());
    let decision = seen.decision.expect("decision");
    assert_eq!(decision.approved_amount_won, 100_000_000);
    assert!(decision.rationale.is_empty() && decision.decided_by.is_empty());
}
