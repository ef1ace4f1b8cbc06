//! The one-stop support centre through the gateway, as its users see it: a
//! company opens a ticket, the rule routes it, the institute works it, the
//! clocks count business hours; every access rule tried from the wrong side.
//! The platform runs on a manual clock set to a Wednesday morning in Seoul,
//! so due times are exact and time moves only when a test moves it.

use std::sync::Arc;

use gearshift_platform::clock::{Clock, ManualTime};
use gearshift_platform::engine_tests;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::common::*;

engine_tests!(
    a_ticket_from_opening_to_close,
    triage_reroute_and_routing_rules,
    bad_input_is_refused_with_the_field,
    breaches_and_automatic_close_run_inside_the_service,
    over_grpc_the_principal_is_checked_where_the_tickets_are,
    rating_merging_and_the_figures,
    institute_desks_assign_people_and_keep_their_own_hours,
    an_institutes_open_tickets_by_due_time_in_one_call,
    two_replicas_sweeping_record_each_breach_once,
    operators_set_the_targets_of_each_priority,
    the_list_filters_as_documented,
);

/// Wednesday 2026-11-25, 10:00 in Seoul.
const WEDNESDAY_10: &str = "2026-11-25T01:00:00Z";

struct Desk {
    app: TestApp,
    /// What the platform was started with (a second replica reuses it).
    args: gearshift::ServeArgs,
    time: Arc<ManualTime>,
    supplier: String,
}

impl Desk {
    async fn open(engine: Engine) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = test_args(engine, dir.path()).await;
        args.support.sweep_interval = std::time::Duration::from_millis(50);
        let (clock, time) = Clock::manual(WEDNESDAY_10.parse().expect("time"));
        let kept = args.clone();
        let app = spawn_with_clock(args, dir, clock).await;
        let r = app
            .post(
                "/v1/suppliers",
                &app.admin_key,
                json!({"businessNumber": SAMSUNG, "legalName": "알파배터리",
                       "partsGroups": ["BATTERY_ENERGY_STORAGE", "THERMAL_MANAGEMENT"],
                       "primaryPartsGroup": "BATTERY_ENERGY_STORAGE"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let supplier = r.body["id"].as_str().expect("id").to_string();
        Desk {
            app,
            args: kept,
            time,
            supplier,
        }
    }

    fn advance(&self, by: SignedDuration) {
        self.time.advance(by);
    }

    fn ticket_body(&self, category: &str, parts_group: &str, priority: &str) -> Value {
        let mut body = json!({
            "supplierId": self.supplier,
            "requester": {"name": "김민수", "email": "ms.kim@alpha.kr", "phone": "+82 62-123-4567"},
            "category": category,
            "partsGroup": parts_group,
            "subject": "Cell balancing for a 48 V pack",
            "description": "Our BMS drifts after 200 cycles.\nCan KETI test it?",
            "priority": priority,
            "tags": ["bms", "48v"],
        });
        if parts_group.is_empty() {
            body.as_object_mut().map(|b| b.remove("partsGroup"));
        }
        body
    }

    async fn post_ok(&self, path: &str, key: &str, body: Value) -> Value {
        let r = self.app.post(path, key, body).await;
        assert_eq!(r.status, 200, "POST {path}: {}", r.text);
        r.body
    }

    async fn get_ok(&self, path: &str, key: &str) -> Value {
        let r = self.app.get(path, key).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.body
    }

    async fn event_types(&self, ticket: &str) -> Vec<String> {
        let body = self
            .get_ok(&format!("/v1/tickets/{ticket}/events"), &self.app.admin_key)
            .await;
        body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn seoul(local: &str) -> String {
    let dt: jiff::civil::DateTime = local.parse().expect("date time");
    let ts: Timestamp = gearshift_platform::clock::seoul()
        .to_timestamp(dt)
        .expect("a time in Seoul");
    ts.to_string()
}

/// RFC 3339 as the API writes it, compared as instants.
fn same_instant(api: &Value, expected: &str) -> bool {
    let (Some(a), Ok(b)) = (
        api.as_str().and_then(|s| s.parse::<Timestamp>().ok()),
        expected.parse::<Timestamp>(),
    ) else {
        return false;
    };
    a == b
}

async fn a_ticket_from_opening_to_close(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    let other = app.create_supplier(KIA, "베타모터").await;
    let other_id = other["id"].as_str().expect("id");
    let stranger = app.key_for(&format!("supplier:{other_id}")).await;
    let keti = app.key_for("institute:KETI").await;
    let etri = app.key_for("institute:ETRI").await;
    let reviewer = app.key_for("reviewer").await;

    // The company opens a ticket; the rule routes battery technology to KETI.
    let t = desk
        .post_ok(
            "/v1/tickets",
            &company,
            desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "URGENT"),
        )
        .await;
    let id = t["id"].as_str().expect("id").to_string();
    assert_eq!(t["status"], "ASSIGNED");
    assert_eq!(t["assigneeInstitute"], "KETI");
    assert_eq!(t["number"], "2026-000001");
    assert_eq!(t["tags"], json!(["bms", "48v"]));
    let fr = &t["serviceLevels"]["firstResponse"];
    assert_eq!(fr["targetMinutes"], 120);
    assert!(
        same_instant(&fr["dueTime"], &seoul("2026-11-25T12:00")),
        "{fr}"
    );
    assert_eq!(fr["state"], "ON_TRACK");
    let res = &t["serviceLevels"]["resolution"];
    assert!(
        same_instant(&res["dueTime"], &seoul("2026-11-26T10:00")),
        "{res}"
    );
    let second = desk
        .post_ok(
            "/v1/tickets",
            &app.admin_key,
            desk.ticket_body("CERTIFICATION", "", "LOW"),
        )
        .await;
    assert_eq!(second["number"], "2026-000002");
    assert_eq!(second["assigneeInstitute"], "KATECH");

    // Nobody else sees it: another company and another institute get 404,
    // a reviewer has no business with tickets.
    let path = format!("/v1/tickets/{id}");
    app.get(&path, &stranger)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get(&path, &etri).await.assert_problem(404, "NOT_FOUND");
    app.get(&path, &reviewer)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    desk.get_ok(&path, &keti).await;
    let listed = desk.get_ok("/v1/tickets", &stranger).await;
    assert_eq!(listed["tickets"], json!([]));
    let listed = desk.get_ok("/v1/tickets", &etri).await;
    assert_eq!(listed["tickets"], json!([]));
    let listed = desk
        .get_ok(&format!("/v1/tickets?supplierId={other_id}"), &company)
        .await;
    assert_eq!(
        listed["tickets"],
        json!([]),
        "a company cannot list another's"
    );
    let listed = desk.get_ok("/v1/tickets", &keti).await;
    assert_eq!(listed["tickets"].as_array().map(Vec::len), Some(1));
    // A company opens tickets only for itself.
    let mut for_other = desk.ticket_body("OTHER_CATEGORY", "", "LOW");
    for_other["supplierId"] = json!(other_id);
    app.post("/v1/tickets", &company, for_other)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // Another institute cannot work it either.
    app.post(&format!("{path}:start"), &etri, json!({}))
        .await
        .assert_problem(404, "NOT_FOUND");

    // Moves are checked against the status, and the refusal says why.
    let r = app
        .post(
            &format!("{path}:resolve"),
            &keti,
            json!({"resolution": "done"}),
        )
        .await;
    r.assert_problem(409, "INVALID_TRANSITION");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("IN_PROGRESS or WAITING_ON_REQUESTER"),
        "{}",
        r.text
    );
    // The company cannot start work, nor write internal notes.
    app.post(&format!("{path}:start"), &company, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(
        &format!("{path}/comments"),
        &company,
        json!({"body": "psst", "visibility": "INTERNAL"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");

    let t = desk
        .post_ok(&format!("{path}:start"), &keti, json!({}))
        .await;
    assert_eq!(t["status"], "IN_PROGRESS");

    // KETI answers publicly 30 minutes in: the first response is met.
    desk.advance(SignedDuration::from_mins(30));
    desk.post_ok(
        &format!("{path}/comments"),
        &keti,
        json!({"body": "Send us the logs, please.", "visibility": "PUBLIC"}),
    )
    .await;
    desk.post_ok(
        &format!("{path}/comments"),
        &keti,
        json!({"body": "Probably the balancing resistor.", "visibility": "INTERNAL"}),
    )
    .await;
    let t = desk.get_ok(&path, &company).await;
    let fr = &t["serviceLevels"]["firstResponse"];
    assert_eq!(fr["state"], "MET", "{fr}");
    assert!(same_instant(&fr["stopTime"], &seoul("2026-11-25T10:30")));
    // The company sees the public reply only; staff see both.
    let seen = desk.get_ok(&format!("{path}/comments"), &company).await;
    assert_eq!(seen["comments"].as_array().map(Vec::len), Some(1));
    assert_eq!(seen["comments"][0]["visibility"], "PUBLIC");
    let seen = desk.get_ok(&format!("{path}/comments"), &keti).await;
    assert_eq!(seen["comments"].as_array().map(Vec::len), Some(2));

    // Waiting on the company pauses the clocks...
    let t = desk
        .post_ok(&format!("{path}:waitOnRequester"), &keti, json!({}))
        .await;
    assert_eq!(t["status"], "WAITING_ON_REQUESTER");
    let res = &t["serviceLevels"]["resolution"];
    assert_eq!(res["state"], "PAUSED");
    assert!(res.get("dueTime").is_none_or(Value::is_null), "{res}");
    // ...over the rest of the week: the company answers on Monday 10:30,
    // which takes the ticket up again. 30 minutes of 9 hours were used, so
    // 8.5 hours are left: 7.5 on Monday and 1 on Tuesday, due 10:00.
    desk.advance(SignedDuration::from_hours(5 * 24));
    desk.post_ok(
        &format!("{path}/comments"),
        &company,
        json!({"body": "Logs attached to the portal."}),
    )
    .await;
    let t = desk.get_ok(&path, &keti).await;
    assert_eq!(t["status"], "IN_PROGRESS");
    let res = &t["serviceLevels"]["resolution"];
    assert!(
        same_instant(&res["dueTime"], &seoul("2026-12-01T10:00")),
        "{res}"
    );
    let nr = &t["serviceLevels"]["nextResponse"];
    assert!(
        same_instant(&nr["dueTime"], &seoul("2026-11-30T12:30")),
        "{nr}"
    );

    // Resolved, reopened by the company, resolved again and closed by it.
    let t = desk
        .post_ok(
            &format!("{path}:resolve"),
            &keti,
            json!({"resolution": "Replaced the balancing resistor; drift gone."}),
        )
        .await;
    assert_eq!(t["status"], "RESOLVED");
    assert_eq!(t["serviceLevels"]["resolution"]["state"], "MET");
    assert_eq!(t["serviceLevels"]["nextResponse"]["state"], "MET");
    app.post(&format!("{path}:reopen"), &company, json!({}))
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    app.post(
        &format!("{path}:reopen"),
        &keti,
        json!({"reason": "not ours to reopen"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let t = desk
        .post_ok(
            &format!("{path}:reopen"),
            &company,
            json!({"reason": "It drifts again after 300 cycles."}),
        )
        .await;
    assert_eq!(t["status"], "IN_PROGRESS");
    desk.post_ok(
        &format!("{path}:resolve"),
        &keti,
        json!({"resolution": "New firmware."}),
    )
    .await;
    let t = desk
        .post_ok(&format!("{path}:close"), &company, json!({}))
        .await;
    assert_eq!(t["status"], "CLOSED");
    app.post(
        &format!("{path}/comments"),
        &company,
        json!({"body": "one more thing"}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");

    // Every step is in the audit trail, for staff only.
    let types = desk.event_types(&id).await;
    for expected in [
        "ticket.created",
        "ticket.assigned",
        "ticket.started",
        "ticket.commented",
        "ticket.waiting",
        "ticket.resolved",
        "ticket.reopened",
        "ticket.closed",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    desk.get_ok(&format!("{path}/events"), &keti).await;
    app.get(&format!("{path}/events"), &company)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
}

async fn triage_reroute_and_routing_rules(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let keti = app.key_for("institute:KETI").await;
    let etri = app.key_for("institute:ETRI").await;
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;

    // No rule for a crisis: it waits in the triage queue.
    let t = desk
        .post_ok(
            "/v1/tickets",
            &op,
            desk.ticket_body("CRISIS_RESPONSE", "", "NORMAL"),
        )
        .await;
    let path = format!("/v1/tickets/{}", t["id"].as_str().expect("id"));
    assert_eq!(t["status"], "NEW");
    assert_eq!(t["assigneeInstitute"], "");
    let queue = desk.get_ok("/v1/tickets?status=NEW", &op).await;
    assert_eq!(queue["tickets"][0]["id"], t["id"]);

    // Only operators triage; a new priority brings new targets.
    app.post(
        &format!("{path}:triage"),
        &company,
        json!({"priority": "URGENT"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let t = desk
        .post_ok(&format!("{path}:triage"), &op, json!({"priority": "HIGH"}))
        .await;
    assert_eq!(t["status"], "TRIAGED");
    assert_eq!(t["serviceLevels"]["firstResponse"]["targetMinutes"], 240);
    app.post(&format!("{path}:assign"), &op, json!({}))
        .await
        .assert_problem(409, "NO_INSTITUTE");
    let r = app
        .post(
            &format!("{path}:assign"),
            &op,
            json!({"institute": "NOWHERE"}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["institute"]);
    let t = desk
        .post_ok(
            &format!("{path}:assign"),
            &op,
            json!({"institute": "KETI", "person": "박연구원"}),
        )
        .await;
    assert_eq!(t["status"], "ASSIGNED");
    assert_eq!(t["assigneePerson"], "박연구원");
    desk.get_ok(&path, &keti).await;

    // An institute cannot send a ticket elsewhere; an operator re-routes
    // with a reason, and RESET starts the clocks again from now.
    app.post(
        &format!("{path}:assign"),
        &keti,
        json!({"institute": "ETRI", "reason": "x"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    desk.advance(SignedDuration::from_hours(3));
    let r = app
        .post(&format!("{path}:assign"), &op, json!({"institute": "ETRI"}))
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["reason"]);
    let t = desk
        .post_ok(
            &format!("{path}:assign"),
            &op,
            json!({"institute": "ETRI", "reason": "sensor fusion, not cells", "carry": "RESET"}),
        )
        .await;
    assert_eq!(t["assigneeInstitute"], "ETRI");
    assert_eq!(t["assigneePerson"], "");
    assert_eq!(t["rerouteCount"], 1);
    let fr = &t["serviceLevels"]["firstResponse"];
    assert!(
        same_instant(&fr["dueTime"], &seoul("2026-11-25T17:00")),
        "{fr}"
    );
    app.get(&path, &keti).await.assert_problem(404, "NOT_FOUND");
    desk.get_ok(&path, &etri).await;
    let id = t["id"].as_str().expect("id");
    let events = desk.get_ok(&format!("/v1/tickets/{id}/events"), &op).await;
    let reroute = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "ticket.rerouted")
        .expect("a ticket.rerouted event")
        .clone();
    let note = reroute["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("from KETI to ETRI") && note.contains("reset"),
        "{note}"
    );
    assert_eq!(reroute["before"]["assigneeInstitute"], "KETI");
    assert_eq!(reroute["after"]["assigneeInstitute"], "ETRI");

    // Routing rules: everyone reads them, operators change them.
    let rules = desk.get_ok("/v1/routingRules", &company).await;
    assert!(
        rules["routingRules"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["category"] == "TECHNOLOGY_DEVELOPMENT"
                && r["partsGroup"] == "BATTERY_ENERGY_STORAGE"
                && r["institute"] == "KETI"),
        "{rules}"
    );
    let crisis = json!({"category": "CRISIS_RESPONSE", "institute": "GJTP"});
    app.post("/v1/routingRules", &company, crisis.clone())
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(
        "/v1/routingRules",
        &op,
        json!({"category": "TECHNOLOGY_DEVELOPMENT", "partsGroup": "BATTERY_ENERGY_STORAGE", "institute": "KITECH"}),
    )
    .await
    .assert_problem(409, "ALREADY_EXISTS");
    app.post(
        "/v1/routingRules",
        &op,
        json!({"category": "CRISIS_RESPONSE", "institute": "NOWHERE"}),
    )
    .await
    .assert_problem(400, "INVALID_ARGUMENT");
    let rule = desk.post_ok("/v1/routingRules", &op, crisis).await;
    let t = desk
        .post_ok(
            "/v1/tickets",
            &op,
            desk.ticket_body("CRISIS_RESPONSE", "", "URGENT"),
        )
        .await;
    assert_eq!(t["assigneeInstitute"], "GJTP");
    let rule_path = format!("/v1/routingRules/{}", rule["id"].as_str().expect("id"));
    // An update that names no field is not a silent no-op (AIP-134: an
    // empty mask is every field, and a rule needs its category).
    let r = TestApp::send(app.request(
        reqwest::Method::PATCH,
        &format!("{rule_path}?updateMask="),
        Some(&op),
    ))
    .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    let changed = app
        .patch(&rule_path, &op, json!({"institute": "KITECH"}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["institute"], "KITECH");
    let r = TestApp::send(app.request(reqwest::Method::DELETE, &rule_path, Some(&op))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = desk
        .post_ok(
            "/v1/tickets",
            &op,
            desk.ticket_body("CRISIS_RESPONSE", "", "URGENT"),
        )
        .await;
    assert_eq!(t["status"], "NEW", "the rule is gone");
}

async fn bad_input_is_refused_with_the_field(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"category": "NOT_A_CATEGORY"}), "ticket.category"),
        (
            json!({"category": "CATEGORY_UNSPECIFIED"}),
            "ticket.category",
        ),
        (json!({"subject": "   "}), "ticket.subject"),
        (json!({"subject": "가".repeat(201)}), "ticket.subject"),
        (
            json!({"description": "x".repeat(20_001)}),
            "ticket.description",
        ),
        (json!({"requester": {"name": ""}}), "ticket.requester.name"),
        (
            json!({"requester": {"name": "Kim", "email": "kim"}}),
            "ticket.requester.email",
        ),
        (json!({"tags": ["has space"]}), "ticket.tags"),
        (json!({"supplierId": "sup_nope"}), "ticket.supplierId"),
        (
            json!({"partsGroup": "HYDROGEN_FUEL_CELL"}),
            "ticket.partsGroup",
        ),
    ];
    for (change, field) in cases {
        let mut body = desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "HIGH");
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = app.post("/v1/tickets", &op, body).await;
        assert_eq!(r.status, 400, "{field}: {}", r.text);
        assert!(
            r.violation_fields().iter().any(|f| f == field),
            "{field}: {}",
            r.text
        );
    }
    // A supplier the registry does not know.
    let mut body = desk.ticket_body("OTHER_CATEGORY", "", "LOW");
    body["supplierId"] = json!("sup_01m8gm4vs2kh7c94aj015wccwv");
    let r = app.post("/v1/tickets", &op, body).await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert!(r.text.contains("there is no supplier"), "{}", r.text);
    // Nothing half-written: no ticket exists after all those refusals.
    let all = desk.get_ok("/v1/tickets", &op).await;
    assert_eq!(all["tickets"], json!([]));
    app.get("/v1/tickets/tkt_nope", &op)
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    app.get("/v1/tickets/tkt_01m8gm4vs2kh7c94aj015wccwv", &op)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/v1/tickets?orderBy=priority", &op)
        .await
        .assert_problem(400, "INVALID_ARGUMENT");

    // A withdrawn company opens no tickets.
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    desk.post_ok(
        &format!("/v1/suppliers/{}:withdraw", desk.supplier),
        &op,
        json!({"reason": "closed the business"}),
    )
    .await;
    app.post(
        "/v1/tickets",
        &company,
        desk.ticket_body("OTHER_CATEGORY", "", "LOW"),
    )
    .await
    .assert_problem(409, "SUPPLIER_WITHDRAWN");
}

/// Polls (the sweep runs every 50 ms) until `check` holds, up to 10 s.
async fn eventually(desk: &Desk, what: &str, mut check: impl AsyncFnMut(&Desk) -> bool) {
    for _ in 0..200 {
        if check(desk).await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

async fn breaches_and_automatic_close_run_inside_the_service(engine: Engine) {
    let desk = Desk::open(engine).await;
    let op = desk.app.admin_key.clone();
    let t = desk
        .post_ok(
            "/v1/tickets",
            &op,
            desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "URGENT"),
        )
        .await;
    let id = t["id"].as_str().expect("id").to_string();
    let path = format!("/v1/tickets/{id}");

    // At 11:40 under 20 % of the 2 hours is left: at risk, not breached.
    desk.advance(SignedDuration::from_mins(100));
    let at_risk = desk
        .get_ok("/v1/tickets?serviceLevelState=AT_RISK", &op)
        .await;
    assert_eq!(at_risk["tickets"][0]["id"], json!(id));
    let t = desk.get_ok(&path, &op).await;
    assert_eq!(t["serviceLevels"]["firstResponse"]["state"], "AT_RISK");
    assert!(
        !desk
            .event_types(&id)
            .await
            .iter()
            .any(|t| t == "ticket.sla_breached")
    );

    // 12:01: breached, and the sweep records it once.
    desk.advance(SignedDuration::from_mins(21));
    eventually(&desk, "a breach event", async |d| {
        d.event_types(&id)
            .await
            .iter()
            .any(|t| t == "ticket.sla_breached")
    })
    .await;
    let breached = desk
        .get_ok("/v1/tickets?serviceLevelState=BREACHED", &op)
        .await;
    assert_eq!(breached["tickets"][0]["id"], json!(id));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let count = desk
        .event_types(&id)
        .await
        .iter()
        .filter(|t| *t == "ticket.sla_breached")
        .count();
    assert_eq!(count, 1, "one breach event per clock run");

    // Resolved, then untouched for the auto-close period: closed by the
    // service itself, as `system`.
    desk.post_ok(&format!("{path}:start"), &op, json!({})).await;
    desk.post_ok(
        &format!("{path}:resolve"),
        &op,
        json!({"resolution": "fixed"}),
    )
    .await;
    desk.advance(SignedDuration::from_hours(6 * 24));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(desk.get_ok(&path, &op).await["status"], "RESOLVED");
    desk.advance(SignedDuration::from_hours(24));
    eventually(&desk, "the automatic close", async |d| {
        d.get_ok(&path, &op).await["status"] == "CLOSED"
    })
    .await;
    let events = desk.get_ok(&format!("{path}/events"), &op).await;
    let closed = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "ticket.closed")
        .expect("closed event")
        .clone();
    assert_eq!(closed["actor"], "system");
    // Past the reopen period nothing reopens it.
    desk.app
        .post(&format!("{path}:reopen"), &op, json!({"reason": "again"}))
        .await
        .assert_problem(409, "INVALID_TRANSITION");
}

/// The registry is down: opening a ticket is a 503 naming it and writes
/// nothing; the tickets already there are still listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_gives_503_and_lists_still_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = test_args(Engine::Sqlite, dir.path()).await;
    args.common.target = vec![gearshift::Target::Support, gearshift::Target::Gateway];
    // Nothing listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    args.registry.addr = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let app = spawn_with(args, dir).await;
    let body = json!({
        "supplierId": "sup_01m8gm4vs2kh7c94aj015wccwv",
        "requester": {"name": "Kim"},
        "category": "OTHER_CATEGORY",
        "subject": "Help",
        "description": "Please",
    });
    let r = app.post("/v1/tickets", &app.admin_key, body).await;
    r.assert_problem(503, "UNAVAILABLE");
    assert!(r.text.contains("registry"), "{}", r.text);
    let listed = app.get("/v1/tickets", &app.admin_key).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["tickets"], json!([]));
}

/// Called directly over gRPC, as another service would: no principal is
/// UNAUTHENTICATED, and a signed company principal sees only its own.
async fn over_grpc_the_principal_is_checked_where_the_tickets_are(engine: Engine) {
    use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
    use gearshift_platform::{Principal, Role};
    use gearshift_proto::support::v1 as pb;
    use pb::support_centre_client::SupportCentreClient;

    let desk = Desk::open(engine).await;
    let addr = desk
        .app
        .support_addr
        .expect("support runs in the test platform");
    let mut client = SupportCentreClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    let key = PrincipalKey::load_or_create(None, &desk.app.data_dir).expect("key");
    fn signed_by<T>(key: &PrincipalKey, message: T, role: Role) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let token = key.sign(&Principal {
            subject: "key_direct".into(),
            role,
        });
        request
            .metadata_mut()
            .insert(METADATA_KEY, token.parse().expect("ascii"));
        request
    }
    let signed = |message, role| signed_by(&key, message, role);
    let anonymous = client
        .list_tickets(pb::ListTicketsRequest::default())
        .await
        .expect_err("no principal");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let input = pb::Ticket {
        supplier_id: desk.supplier.clone(),
        requester: Some(pb::Requester {
            name: "Kim".into(),
            ..Default::default()
        }),
        category: pb::Category::Certification as i32,
        subject: "K-mark for a cooling plate".into(),
        description: "Which tests?".into(),
        ..Default::default()
    };
    let created = client
        .create_ticket(signed(
            pb::CreateTicketRequest {
                ticket: Some(input),
            },
            Role::Supplier(desk.supplier.clone()),
        ))
        .await
        .expect("the company opens its ticket over gRPC")
        .into_inner();
    assert_eq!(created.status, pb::TicketStatus::Assigned as i32);
    assert_eq!(created.assignee_institute, "KATECH");
    let other = client
        .get_ticket(signed_by(
            &key,
            pb::GetTicketRequest {
                id: created.id.clone(),
            },
            Role::Supplier("sup_01m8gm4vs2kh7c94aj015wccwv".into()),
        ))
        .await
        .expect_err("another company");
    assert_eq!(other.code(), tonic::Code::NotFound);
    let mine = client
        .get_ticket(signed_by(
            &key,
            pb::GetTicketRequest { id: created.id },
            Role::Institute("KATECH".into()),
        ))
        .await
        .expect("the assigned institute reads it");
    assert_eq!(mine.into_inner().subject, "K-mark for a cooling plate");
}

async fn rating_merging_and_the_figures(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    let keti = app.key_for("institute:KETI").await;
    let body = desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "URGENT");
    let a = desk.post_ok("/v1/tickets", &company, body.clone()).await;
    let b = desk.post_ok("/v1/tickets", &company, body).await;
    let (a_id, b_id) = (a["id"].as_str().expect("id"), b["id"].as_str().expect("id"));
    let (a_path, b_path) = (format!("/v1/tickets/{a_id}"), format!("/v1/tickets/{b_id}"));

    // Rating is for resolved tickets only.
    app.post(&format!("{a_path}:rate"), &company, json!({"rating": 4}))
        .await
        .assert_problem(409, "NOT_RESOLVED");

    // The duplicate is merged by an operator; its conversation stays.
    desk.post_ok(
        &format!("{b_path}/comments"),
        &company,
        json!({"body": "Same question as the other ticket, sorry."}),
    )
    .await;
    app.post(
        &format!("{b_path}:merge"),
        &keti,
        json!({"intoTicketId": a_id}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .post(
            &format!("{b_path}:merge"),
            &op,
            json!({"intoTicketId": b_id}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    let merged = desk
        .post_ok(
            &format!("{b_path}:merge"),
            &op,
            json!({"intoTicketId": a_id, "reason": "duplicate"}),
        )
        .await;
    assert_eq!(merged["status"], "CLOSED");
    assert_eq!(merged["mergedInto"], json!(a_id));
    let seen = desk.get_ok(&format!("{b_path}/comments"), &company).await;
    assert_eq!(seen["comments"].as_array().map(Vec::len), Some(1));
    assert!(
        desk.event_types(a_id)
            .await
            .iter()
            .any(|t| t == "ticket.merge_received")
    );
    app.post(
        &format!("{b_path}:merge"),
        &op,
        json!({"intoTicketId": a_id}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");

    // KETI answers in 30 minutes and resolves; the company rates once.
    desk.post_ok(&format!("{a_path}:start"), &keti, json!({}))
        .await;
    desk.advance(SignedDuration::from_mins(30));
    desk.post_ok(
        &format!("{a_path}/comments"),
        &keti,
        json!({"body": "On it."}),
    )
    .await;
    desk.advance(SignedDuration::from_mins(90));
    desk.post_ok(
        &format!("{a_path}:resolve"),
        &keti,
        json!({"resolution": "Firmware 2.1 fixes the drift."}),
    )
    .await;
    app.post(&format!("{a_path}:rate"), &op, json!({"rating": 5}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.post(&format!("{a_path}:rate"), &company, json!({"rating": 6}))
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    let rated = desk
        .post_ok(
            &format!("{a_path}:rate"),
            &company,
            json!({"rating": 5, "comment": "빠르고 정확했습니다"}),
        )
        .await;
    assert_eq!(rated["satisfaction"]["rating"], 5);
    app.post(&format!("{a_path}:rate"), &company, json!({"rating": 1}))
        .await
        .assert_problem(409, "ALREADY_RATED");

    // The figures: operators see every institute, KETI its own, a company none.
    let stats = desk.get_ok("/v1/support/stats", &op).await;
    assert_eq!(stats["total"], 2, "{stats}");
    assert_eq!(stats["satisfactionAverage"], 5.0);
    assert_eq!(stats["satisfactionCount"], 1);
    assert_eq!(stats["medianFirstResponseMinutes"], 30.0);
    assert_eq!(stats["medianResolutionMinutes"], 120.0);
    let keti_row = stats["institutes"]
        .as_array()
        .expect("institutes")
        .iter()
        .find(|i| i["institute"] == "KETI")
        .expect("KETI's figures")
        .clone();
    assert_eq!(keti_row["firstResponse"]["met"], 1);
    assert_eq!(keti_row["resolution"]["met"], 1);
    assert_eq!(keti_row["months"][0]["month"], "2026-11");
    assert_eq!(keti_row["months"][0]["created"], 2);
    let open_total: i64 = stats["openByStatus"]
        .as_array()
        .expect("statuses")
        .iter()
        .map(|s| s["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(open_total, 0);
    let own = desk.get_ok("/v1/support/stats", &keti).await;
    assert!(
        own["institutes"]
            .as_array()
            .expect("institutes")
            .iter()
            .all(|i| i["institute"] == "KETI")
    );
    app.get("/v1/support/stats", &company)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
}

async fn institute_desks_assign_people_and_keep_their_own_hours(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    let keti = app.key_for("institute:KETI").await;
    let etri = app.key_for("institute:ETRI").await;
    let people =
        json!({"people": [{"id": "kim", "name": "김연구원"}, {"id": "lee", "name": "이연구원"}]});

    // Operators and the institute itself manage a desk; nobody else.
    app.patch("/v1/supportDesks/KETI", &company, people.clone())
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    app.get("/v1/supportDesks/KETI", &etri)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .patch(
            "/v1/supportDesks/KETI",
            &keti,
            json!({"people": [{"id": "Kim!", "name": "x"}]}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["supportDesk.people[0].id"]);
    let r = app.patch("/v1/supportDesks/KETI", &keti, people).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // New tickets go to the person with the fewest open ones, equals in turn.
    let mut given = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = desk
            .post_ok(
                "/v1/tickets",
                &company,
                desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "NORMAL"),
            )
            .await;
        given.push(t["assigneePerson"].as_str().unwrap_or_default().to_string());
        ids.push(t["id"].as_str().expect("id").to_string());
    }
    assert_eq!(given, ["kim", "lee", "kim"]);

    // The institute hands a ticket over, only to one of its people.
    let path = format!("/v1/tickets/{}", ids[2]);
    let r = app
        .post(
            &format!("{path}:assign"),
            &keti,
            json!({"person": "nobody"}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["person"]);
    let t = desk
        .post_ok(&format!("{path}:assign"), &keti, json!({"person": "lee"}))
        .await;
    assert_eq!(t["assigneePerson"], "lee");
    let d = desk.get_ok("/v1/supportDesks/KETI", &keti).await;
    assert_eq!(d["people"][0]["openTickets"], 1, "{d}");
    assert_eq!(d["people"][1]["openTickets"], 2, "{d}");

    // Switched off, new tickets stay with the institute as a whole.
    let r = app
        .patch("/v1/supportDesks/KETI", &op, json!({"autoAssign": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["people"].as_array().map(Vec::len),
        Some(2),
        "people kept"
    );
    let t = desk
        .post_ok(
            "/v1/tickets",
            &company,
            desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "NORMAL"),
        )
        .await;
    assert_eq!(t["assigneePerson"], "");

    // KATECH works 08:00-17:00: an urgent certification question at 17:30
    // on Wednesday is due at 10:00 on Thursday (by the platform's
    // 09:00-18:00 it would be 10:30).
    app.patch(
        "/v1/supportDesks/KATECH",
        &op,
        json!({"businessHours": "Mon-Fri 8:00"}),
    )
    .await
    .assert_problem(400, "INVALID_ARGUMENT");
    let r = app
        .patch(
            "/v1/supportDesks/KATECH",
            &op,
            json!({"businessHours": "Mon-Fri 08:00-17:00"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    desk.advance(SignedDuration::from_mins(450));
    let t = desk
        .post_ok(
            "/v1/tickets",
            &company,
            desk.ticket_body("CERTIFICATION", "", "URGENT"),
        )
        .await;
    assert_eq!(t["assigneeInstitute"], "KATECH");
    let fr = &t["serviceLevels"]["firstResponse"];
    assert!(
        same_instant(&fr["dueTime"], &seoul("2026-11-26T10:00")),
        "{fr}"
    );
}

async fn an_institutes_open_tickets_by_due_time_in_one_call(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    let keti = app.key_for("institute:KETI").await;
    let mut ids = Vec::new();
    for priority in ["LOW", "URGENT", "NORMAL", "HIGH"] {
        let t = desk
            .post_ok(
                "/v1/tickets",
                &company,
                desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", priority),
            )
            .await;
        ids.push((priority, t["id"].as_str().expect("id").to_string()));
        desk.advance(SignedDuration::from_mins(1));
    }
    // One resolved ticket drops out of "open".
    let low = &ids[0].1;
    desk.post_ok(&format!("/v1/tickets/{low}:start"), &keti, json!({}))
        .await;
    desk.post_ok(
        &format!("/v1/tickets/{low}:resolve"),
        &keti,
        json!({"resolution": "answered by phone"}),
    )
    .await;
    let first = desk
        .get_ok("/v1/tickets?open=true&orderBy=dueTime&pageSize=2", &keti)
        .await;
    let second = desk
        .get_ok(
            &format!(
                "/v1/tickets?open=true&orderBy=dueTime&pageSize=2&pageToken={}",
                first["nextPageToken"].as_str().expect("a second page")
            ),
            &keti,
        )
        .await;
    let order: Vec<&str> = first["tickets"]
        .as_array()
        .into_iter()
        .chain(second["tickets"].as_array())
        .flatten()
        .map(|t| t["priority"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(order, ["URGENT", "HIGH", "NORMAL"]);
    assert_eq!(second["nextPageToken"], "");
}

/// Two replicas of the support centre on one database, both sweeping every
/// 20 ms: each breach is recorded once.
async fn two_replicas_sweeping_record_each_breach_once(engine: Engine) {
    let desk = Desk::open(engine).await;
    let op = desk.app.admin_key.clone();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let t = desk
            .post_ok(
                "/v1/tickets",
                &op,
                desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "URGENT"),
            )
            .await;
        ids.push(t["id"].as_str().expect("id").to_string());
    }
    // The second replica: the support target alone, on the same database,
    // finding the registry of the first.
    let mut args = desk.args.clone();
    args.common.target = vec![gearshift::Target::Support];
    args.support.listen = "127.0.0.1:0".parse().expect("addr");
    args.support.sweep_interval = std::time::Duration::from_millis(20);
    args.registry.addr = format!("http://{}", desk.app.registry_addr);
    let (clock, time) = Clock::manual(WEDNESDAY_10.parse().expect("time"));
    let replica = gearshift::Platform::build_with_clock(&args, clock)
        .await
        .expect("the replica builds");
    let stop = gearshift_platform::shutdown::Shutdown::new();
    let running = tokio::spawn(replica.run(stop.clone()));

    // Both clocks past every first-response due time at once.
    time.advance(SignedDuration::from_mins(121));
    desk.advance(SignedDuration::from_mins(121));
    for id in &ids {
        eventually(&desk, "a breach event", async |d| {
            d.event_types(id)
                .await
                .iter()
                .any(|t| t == "ticket.sla_breached")
        })
        .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for id in &ids {
        let breaches = desk
            .event_types(id)
            .await
            .iter()
            .filter(|t| *t == "ticket.sla_breached")
            .count();
        assert_eq!(
            breaches, 1,
            "{id}: one breach event, whichever replica saw it"
        );
    }
    stop.trigger();
    running
        .await
        .expect("joins")
        .expect("the replica stops cleanly");
}

async fn operators_set_the_targets_of_each_priority(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let company = app.key_for(&format!("supplier:{}", desk.supplier)).await;
    let listed = desk.get_ok("/v1/serviceLevelPolicies", &company).await;
    assert_eq!(listed["policies"][0]["priority"], "URGENT");
    assert_eq!(listed["policies"][0]["firstResponseMinutes"], 120);
    assert_eq!(listed["policies"][3]["resolutionMinutes"], 10800);

    app.patch(
        "/v1/serviceLevelPolicies/URGENT",
        &company,
        json!({"firstResponseMinutes": 60}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let r = app
        .patch(
            "/v1/serviceLevelPolicies/URGENT",
            &op,
            json!({"firstResponseMinutes": 600}),
        )
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(
        r.violation_fields(),
        ["serviceLevelPolicy.resolutionMinutes"]
    );
    let r = app
        .patch(
            "/v1/serviceLevelPolicies/URGENT",
            &op,
            json!({"firstResponseMinutes": 60}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["resolutionMinutes"], 540, "untouched");

    // A ticket opened now gets the new target.
    let t = desk
        .post_ok(
            "/v1/tickets",
            &company,
            desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "URGENT"),
        )
        .await;
    let fr = &t["serviceLevels"]["firstResponse"];
    assert_eq!(fr["targetMinutes"], 60);
    assert!(
        same_instant(&fr["dueTime"], &seoul("2026-11-25T11:00")),
        "{fr}"
    );
}

async fn the_list_filters_as_documented(engine: Engine) {
    let desk = Desk::open(engine).await;
    let app = &desk.app;
    let op = app.admin_key.clone();
    let mut body = desk.ticket_body("CERTIFICATION", "", "HIGH");
    body["subject"] = json!("K-Mark for the Cooling plate");
    let cert = desk.post_ok("/v1/tickets", &op, body).await;
    desk.advance(SignedDuration::from_hours(2));
    let battery = desk
        .post_ok(
            "/v1/tickets",
            &op,
            desk.ticket_body("TECHNOLOGY_DEVELOPMENT", "BATTERY_ENERGY_STORAGE", "LOW"),
        )
        .await;
    let ids = async |query: &str| -> Vec<String> {
        let r = desk.get_ok(&format!("/v1/tickets?{query}"), &op).await;
        r["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (c, b) = (
        cert["id"].as_str().expect("id").to_string(),
        battery["id"].as_str().expect("id").to_string(),
    );
    assert_eq!(ids("").await, [b.as_str(), c.as_str()], "newest first");
    assert_eq!(ids("category=CERTIFICATION").await, [c.as_str()]);
    assert_eq!(ids("priority=LOW").await, [b.as_str()]);
    assert_eq!(ids("institute=KATECH").await, [c.as_str()]);
    assert_eq!(ids(&format!("supplierId={}", desk.supplier)).await.len(), 2);
    assert_eq!(ids("query=cooling%20PLATE").await, [c.as_str()], "any case");
    assert_eq!(
        ids("query=100%25").await,
        Vec::<String>::new(),
        "% is literal"
    );
    let noon = seoul("2026-11-25T11:00");
    assert_eq!(ids(&format!("createTimeFrom={noon}")).await, [b.as_str()]);
    assert_eq!(ids(&format!("createTimeTo={noon}")).await, [c.as_str()]);
    assert_eq!(ids("status=ASSIGNED&open=true").await.len(), 2);
    assert_eq!(ids("open=false").await, Vec::<String>::new());
    app.get("/v1/tickets?status=SOMETHING", &op)
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
    app.get("/v1/tickets?institute=keti", &op)
        .await
        .assert_problem(400, "INVALID_ARGUMENT");
}

/// The registry accepts the connection and never answers: after the
/// support centre's deadline for it (3 s) the caller gets 503, and nothing
/// was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_slow_gives_503_within_the_deadline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = test_args(Engine::Sqlite, dir.path()).await;
    args.common.target = vec![gearshift::Target::Support, gearshift::Target::Gateway];
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    args.registry.addr = format!("http://{}", silent.local_addr().expect("addr"));
    // Accepts connections and holds them, saying nothing.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_with(args, dir).await;
    let body = json!({
        "supplierId": "sup_01m8gm4vs2kh7c94aj015wccwv",
        "requester": {"name": "Kim"},
        "category": "OTHER_CATEGORY",
        "subject": "Help",
        "description": "Please",
    });
    // 503 naming the registry: the support centre's own deadline for it
    // ran out, not the request's (that would be a 504).
    let r = app.post("/v1/tickets", &app.admin_key, body).await;
    r.assert_problem(503, "UNAVAILABLE");
    assert!(r.text.contains("registry"), "{}", r.text);
    let listed = app.get("/v1/tickets", &app.admin_key).await;
    assert_eq!(listed.body["tickets"], json!([]), "nothing was written");
    holder.abort();
}
