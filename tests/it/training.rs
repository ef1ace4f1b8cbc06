//! The R&D training centre through the gateway: the catalogue, cohorts,
//! trainees and enrolment with seats and waitlists. The platform runs on a
//! manual clock, so enrolment windows open and close when a test moves
//! time.

use std::sync::Arc;

use gearshift_platform::clock::{Clock, ManualTime};
use gearshift_platform::engine_tests;
use serde_json::{Value, json};

use crate::common::*;

engine_tests!(
    a_course_a_cohort_and_enrolment_with_a_waitlist,
    enrolment_rules_refuse_with_the_reason,
    young_people_first_when_the_cohort_says_so,
    two_hundred_at_once_for_ten_seats,
    who_sees_and_does_what,
    attendance_completion_and_certificates,
    offers_lapse_and_pass_on_with_two_replicas_sweeping,
    over_grpc_the_principal_is_checked_where_the_seats_are,
);

/// 2026-11-25, 10:00 in Seoul.
const NOW: &str = "2026-11-25T01:00:00Z";

struct Centre {
    app: TestApp,
    time: Arc<ManualTime>,
    args: gearshift::ServeArgs,
}

impl Centre {
    async fn open(engine: Engine) -> Centre {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = test_args(engine, dir.path()).await;
        args.training.sweep_interval = std::time::Duration::from_millis(50);
        let (clock, time) = Clock::manual(NOW.parse().expect("time"));
        let kept = args.clone();
        let app = spawn_with_clock(args, dir, clock).await;
        Centre {
            app,
            time,
            args: kept,
        }
    }

    async fn event_types(&self, enrolment: &str) -> Vec<String> {
        let r = self
            .app
            .get(
                &format!("/v1/training/enrollments/{enrolment}/events"),
                &self.app.admin_key,
            )
            .await;
        r.body["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|e| e["type"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn status(&self, enrolment: &str) -> String {
        let r = self
            .app
            .get(
                &format!("/v1/training/enrollments/{enrolment}"),
                &self.app.admin_key,
            )
            .await;
        status_of(&r)
    }

    /// Polls (the sweep runs every 50 ms) until `enrolment` is `status`,
    /// up to 10 s.
    async fn until(&self, enrolment: &str, status: &str) {
        for _ in 0..200 {
            if self.status(enrolment).await == status {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{enrolment} never became {status}: {}",
            self.status(enrolment).await
        );
    }

    async fn ok(&self, path: &str, key: &str, body: Value) -> Value {
        let r = self.app.post(path, key, body).await;
        assert_eq!(r.status, 200, "POST {path}: {}", r.text);
        r.body
    }

    /// A published course taught by GJTP.
    async fn course(&self, code: &str, prerequisites: &[&str]) -> String {
        let c = self
            .ok(
                "/v1/training/courses",
                &self.app.admin_key,
                json!({"code": code, "titleKo": "배터리 시스템 기초", "titleEn": "Battery systems",
                       "track": "BATTERY_SYSTEMS", "level": "INTRODUCTORY", "hours": 24,
                       "institute": "GJTP", "prerequisiteCourseIds": prerequisites}),
            )
            .await;
        let id = c["id"].as_str().expect("id").to_string();
        self.ok(
            &format!("/v1/training/courses/{id}:publish"),
            &self.app.admin_key,
            json!({}),
        )
        .await;
        id
    }

    /// An ENROLLING cohort of `course` in January 2027 with `capacity`
    /// seats; `extra` overrides fields.
    async fn cohort(&self, course: &str, capacity: i64, extra: Value) -> String {
        let mut body = json!({
            "courseId": course, "startDate": "2027-01-04", "endDate": "2027-01-15",
            "location": "광주 그린카진흥원", "capacity": capacity, "waitlist": true,
            "enrollmentOpensTime": "2026-11-01T00:00:00+09:00",
            "enrollmentClosesTime": "2026-12-31T00:00:00+09:00",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let c = self
            .ok("/v1/training/cohorts", &self.app.admin_key, body)
            .await;
        let id = c["id"].as_str().expect("id").to_string();
        self.ok(
            &format!("/v1/training/cohorts/{id}:transition"),
            &self.app.admin_key,
            json!({"status": "ENROLLING"}),
        )
        .await;
        id
    }

    async fn trainee(&self, key: &str, name: &str, birth: &str, supplier: &str) -> String {
        let t = self
            .ok(
                "/v1/training/trainees",
                key,
                json!({"name": name, "birthDate": birth, "email": "t@example.kr",
                       "supplierId": supplier}),
            )
            .await;
        t["id"].as_str().expect("id").to_string()
    }

    async fn enrol(&self, key: &str, trainee: &str, cohort: &str) -> Reply {
        self.app
            .post(
                "/v1/training/enrollments",
                key,
                json!({"traineeId": trainee, "cohortId": cohort}),
            )
            .await
    }

    async fn verified_company(&self, seed: u64) -> String {
        let r = self
            .ok(
                "/v1/suppliers",
                &self.app.admin_key,
                json!({"businessNumber": business_number(seed), "legalName": format!("회사 {seed}"),
                       "partsGroups": ["THERMAL_MANAGEMENT"], "primaryPartsGroup": "THERMAL_MANAGEMENT"}),
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
}

fn status_of(r: &Reply) -> String {
    r.body["status"].as_str().unwrap_or_default().to_string()
}

async fn a_course_a_cohort_and_enrolment_with_a_waitlist(engine: Engine) {
    let centre = Centre::open(engine).await;
    let app = &centre.app;
    let op = app.admin_key.clone();
    let course = centre.course("BAT-101", &[]).await;
    let cohort = centre.cohort(&course, 2, json!({})).await;
    let got = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(got.body["sessionDays"].as_array().map(Vec::len), Some(10));
    assert_eq!(got.body["institute"], "GJTP");

    let mut trainees = Vec::new();
    for (i, birth) in ["1990-01-01", "1995-02-02", "2000-03-03", "1980-04-04"]
        .iter()
        .enumerate()
    {
        trainees.push(centre.trainee(&op, &format!("훈련생 {i}"), birth, "").await);
    }
    let mut enrolments = Vec::new();
    for t in &trainees {
        let r = centre.enrol(&op, t, &cohort).await;
        assert_eq!(r.status, 200, "{}", r.text);
        enrolments.push(r.body);
    }
    let statuses: Vec<&str> = enrolments
        .iter()
        .map(|e| e["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["CONFIRMED", "CONFIRMED", "WAITLISTED", "WAITLISTED"]
    );
    assert_eq!(enrolments[2]["waitlistPosition"], 1);
    assert_eq!(enrolments[3]["waitlistPosition"], 2);
    let c = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(
        (c.body["seatsTaken"].clone(), c.body["waitlisted"].clone()),
        (json!(2), json!(2))
    );
    // Enrolling twice is refused.
    centre
        .enrol(&op, &trainees[0], &cohort)
        .await
        .assert_problem(409, "ALREADY_EXISTS");

    // A confirmed trainee cancels: the first in line gets the seat in the
    // same transaction; the other moves up.
    let first = enrolments[0]["id"].as_str().expect("id");
    let cancelled = centre
        .ok(
            &format!("/v1/training/enrollments/{first}:cancel"),
            &op,
            json!({"reason": "moved away"}),
        )
        .await;
    assert_eq!(cancelled["status"], "CANCELLED");
    let promoted = app
        .get(
            &format!(
                "/v1/training/enrollments/{}",
                enrolments[2]["id"].as_str().expect("id")
            ),
            &op,
        )
        .await;
    assert_eq!(status_of(&promoted), "CONFIRMED");
    let last = app
        .get(
            &format!(
                "/v1/training/enrollments/{}",
                enrolments[3]["id"].as_str().expect("id")
            ),
            &op,
        )
        .await;
    assert_eq!(last.body["waitlistPosition"], 1);
    // The waitlisted one leaves the list.
    let left = centre
        .ok(
            &format!(
                "/v1/training/enrollments/{}:cancel",
                enrolments[3]["id"].as_str().expect("id")
            ),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(left["status"], "WITHDRAWN");
    // More seats promote nobody now; the counts add up.
    let c = centre
        .ok(
            &format!("/v1/training/cohorts/{cohort}:resize"),
            &op,
            json!({"capacity": 3}),
        )
        .await;
    assert_eq!(
        (c["seatsTaken"].clone(), c["waitlisted"].clone()),
        (json!(2), json!(0))
    );
    app.post(
        &format!("/v1/training/cohorts/{cohort}:resize"),
        &op,
        json!({"capacity": 1}),
    )
    .await
    .assert_problem(409, "CAPACITY_BELOW_SEATS_TAKEN");

    // The trail of the promoted enrolment.
    let trail = app
        .get(
            &format!(
                "/v1/training/enrollments/{}/events",
                enrolments[2]["id"].as_str().expect("id")
            ),
            &op,
        )
        .await;
    let types: Vec<&str> = trail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["enrollment.waitlisted", "enrollment.promoted"]);

    // The cohort is cancelled: its enrolments are, with the reason, and
    // its trainees are free for another cohort on the same dates.
    let cancelled = centre
        .ok(
            &format!("/v1/training/cohorts/{cohort}:transition"),
            &op,
            json!({"status": "CANCELLED"}),
        )
        .await;
    assert_eq!(
        (
            cancelled["seatsTaken"].clone(),
            cancelled["waitlisted"].clone()
        ),
        (json!(0), json!(0))
    );
    let second = enrolments[1]["id"].as_str().expect("id");
    let e = app
        .get(&format!("/v1/training/enrollments/{second}"), &op)
        .await;
    assert_eq!(status_of(&e), "CANCELLED");
    assert_eq!(e.body["statusReason"], "the cohort was cancelled");
    let again = centre.cohort(&course, 2, json!({})).await;
    assert_eq!(
        status_of(&centre.enrol(&op, &trainees[1], &again).await),
        "CONFIRMED"
    );
}

async fn enrolment_rules_refuse_with_the_reason(engine: Engine) {
    let centre = Centre::open(engine).await;
    let app = &centre.app;
    let op = app.admin_key.clone();
    let basics = centre.course("BAT-101", &[]).await;
    let advanced = centre.course("BAT-201", &[&basics]).await;
    let cohort = centre.cohort(&basics, 5, json!({"companyQuota": 1})).await;
    let overlapping = centre
        .cohort(
            &basics,
            5,
            json!({"startDate": "2027-01-11", "endDate": "2027-01-22"}),
        )
        .await;
    let advanced_cohort = centre.cohort(&advanced, 5, json!({})).await;
    let full = centre
        .cohort(
            &basics,
            1,
            json!({"waitlist": false, "startDate": "2027-03-02",
        "endDate": "2027-03-05"}),
        )
        .await;
    let company = centre.verified_company(1).await;
    let a = centre.trainee(&op, "가", "1990-01-01", &company).await;
    let b = centre.trainee(&op, "나", "1990-01-01", &company).await;
    let seeker = centre.trainee(&op, "다", "1990-01-01", "").await;

    // Bad cohorts are refused with the field.
    for (body, field) in [
        (json!({"endDate": "2027-01-01"}), "cohort.endDate"),
        (json!({"capacity": 0}), "cohort.capacity"),
        (json!({"capacity": -3}), "cohort.capacity"),
    ] {
        let mut full_body = json!({
            "courseId": basics, "startDate": "2027-01-04", "endDate": "2027-01-15",
            "location": "x", "capacity": 5,
            "enrollmentOpensTime": "2026-11-01T00:00:00Z", "enrollmentClosesTime": "2026-12-31T00:00:00Z",
        });
        for (k, v) in body.as_object().expect("object") {
            full_body[k] = v.clone();
        }
        let r = app.post("/v1/training/cohorts", &op, full_body).await;
        r.assert_problem(400, "INVALID_ARGUMENT");
        assert_eq!(r.violation_fields(), [field]);
    }

    // The company quota of one: the second employee is refused.
    assert_eq!(
        status_of(&centre.enrol(&op, &a, &cohort).await),
        "CONFIRMED"
    );
    let r = centre.enrol(&op, &b, &cohort).await;
    r.assert_problem(409, "QUOTA_EXCEEDED");
    // Overlapping dates.
    centre
        .enrol(&op, &a, &overlapping)
        .await
        .assert_problem(409, "SCHEDULE_CONFLICT");
    // Prerequisites not completed.
    let r = centre.enrol(&op, &seeker, &advanced_cohort).await;
    r.assert_problem(409, "PREREQUISITES_MISSING");
    assert!(r.text.contains(&basics), "{}", r.text);
    // Full without a waitlist.
    assert_eq!(
        status_of(&centre.enrol(&op, &seeker, &full).await),
        "CONFIRMED"
    );
    centre
        .enrol(&op, &b, &full)
        .await
        .assert_problem(409, "COHORT_FULL");
    // Unknown trainee, unknown cohort.
    let r = centre
        .enrol(&op, "trn_01m8gxzvfad1tehke53vy2eehf", &cohort)
        .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["enrollment.traineeId"]);
    let r = centre
        .enrol(&op, &seeker, "coh_01m8gxzvfad1tehke53vy2eehf")
        .await;
    assert_eq!(r.violation_fields(), ["enrollment.cohortId"]);
    // A company that is not active.
    let pending = centre
        .ok(
            "/v1/suppliers",
            &op,
            json!({"businessNumber": business_number(9), "legalName": "미검증"}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let c = centre.trainee(&op, "라", "1990-01-01", &pending).await;
    centre
        .enrol(&op, &c, &cohort)
        .await
        .assert_problem(409, "COMPANY_NOT_ACTIVE");
    // A finished cohort takes nobody; neither does one past its window.
    for to in ["RUNNING", "FINISHED"] {
        centre
            .ok(
                &format!("/v1/training/cohorts/{full}:transition"),
                &op,
                json!({"status": to}),
            )
            .await;
    }
    centre
        .enrol(&op, &b, &full)
        .await
        .assert_problem(409, "ENROLLMENT_CLOSED");
    centre
        .time
        .advance(jiff::SignedDuration::from_hours(24 * 40));
    centre
        .enrol(&op, &seeker, &cohort)
        .await
        .assert_problem(409, "ENROLLMENT_CLOSED");
}

async fn young_people_first_when_the_cohort_says_so(engine: Engine) {
    let centre = Centre::open(engine).await;
    let op = centre.app.admin_key.clone();
    let course = centre.course("BAT-101", &[]).await;
    for (policy, expected) in [
        ("FIRST_COME", ["older", "young 1", "young 2"]),
        ("YOUNG_FIRST", ["young 1", "young 2", "older"]),
    ] {
        let cohort = centre
            .cohort(&course, 1, json!({"waitlistPolicy": policy}))
            .await;
        let holder = centre.trainee(&op, "holder", "1980-01-01", "").await;
        let holding = centre.enrol(&op, &holder, &cohort).await;
        assert_eq!(status_of(&holding), "CONFIRMED");
        let mut waiting = Vec::new();
        // Arrival order: the older one first; 35 is not young, 34 is.
        for (name, birth) in [
            ("older", "1991-11-25"),
            ("young 1", "1991-11-26"),
            ("young 2", "2001-01-01"),
        ] {
            let t = centre.trainee(&op, name, birth, "").await;
            let r = centre.enrol(&op, &t, &cohort).await;
            assert_eq!(status_of(&r), "WAITLISTED");
            waiting.push((name, r.body["id"].as_str().expect("id").to_string()));
        }
        // Seats go one at a time, each to the first in line by the policy.
        let mut seated = Vec::new();
        let mut current = holding.body["id"].as_str().expect("id").to_string();
        for _ in 0..3 {
            centre
                .ok(
                    &format!("/v1/training/enrollments/{current}:cancel"),
                    &op,
                    json!({}),
                )
                .await;
            let mut next = None;
            for (name, id) in &waiting {
                let e = centre
                    .app
                    .get(&format!("/v1/training/enrollments/{id}"), &op)
                    .await;
                if status_of(&e) == "CONFIRMED" && !seated.contains(name) {
                    next = Some((*name, id.clone()));
                }
            }
            let (name, id) = next.expect("someone was promoted");
            seated.push(name);
            current = id;
        }
        assert_eq!(seated, expected, "{policy}");
    }
}

/// 200 enrolments at once into a cohort of 10 seats with a waitlist:
/// exactly 10 confirmed, 190 waitlisted at positions 1 to 190, no errors.
async fn two_hundred_at_once_for_ten_seats(engine: Engine) {
    let centre = Centre::open(engine).await;
    let op = centre.app.admin_key.clone();
    let course = centre.course("BAT-101", &[]).await;
    let cohort = centre.cohort(&course, 10, json!({})).await;
    let mut trainees = Vec::new();
    for i in 0..200 {
        trainees.push(
            centre
                .trainee(&op, &format!("t{i}"), "1990-01-01", "")
                .await,
        );
    }
    let answers =
        futures_util::future::join_all(trainees.iter().map(|t| centre.enrol(&op, t, &cohort)))
            .await;
    let errors: Vec<&str> = answers
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| r.text.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let confirmed = answers
        .iter()
        .filter(|r| status_of(r) == "CONFIRMED")
        .count();
    assert_eq!(confirmed, 10);
    let listed = centre
        .app
        .get(
            &format!("/v1/training/enrollments?cohortId={cohort}&status=WAITLISTED&pageSize=500"),
            &op,
        )
        .await;
    let mut positions: Vec<i64> = listed.body["enrollments"]
        .as_array()
        .expect("enrollments")
        .iter()
        .map(|e| e["waitlistPosition"].as_i64().unwrap_or(0))
        .collect();
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=190).collect::<Vec<i64>>(),
        "a definite order"
    );
    let c = centre
        .app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(
        (c.body["seatsTaken"].clone(), c.body["waitlisted"].clone()),
        (json!(10), json!(190))
    );
    // Five more seats: the first five in line get them in the same
    // transaction.
    let grown = centre
        .ok(
            &format!("/v1/training/cohorts/{cohort}:resize"),
            &op,
            json!({"capacity": 15}),
        )
        .await;
    assert_eq!(
        (grown["seatsTaken"].clone(), grown["waitlisted"].clone()),
        (json!(15), json!(185))
    );
    let firsts: Vec<String> = listed.body["enrollments"]
        .as_array()
        .expect("enrollments")
        .iter()
        .filter(|e| e["waitlistPosition"].as_i64().is_some_and(|p| p <= 5))
        .map(|e| e["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(firsts.len(), 5);
    for id in &firsts {
        assert_eq!(centre.status(id).await, "CONFIRMED", "{id}");
    }
}

async fn who_sees_and_does_what(engine: Engine) {
    let centre = Centre::open(engine).await;
    let app = &centre.app;
    let op = app.admin_key.clone();
    let course = centre.course("BAT-101", &[]).await;
    let cohort = centre.cohort(&course, 5, json!({})).await;
    let company = centre.verified_company(1).await;
    let other = centre.verified_company(2).await;
    let company_key = app.key_for(&format!("supplier:{company}")).await;
    let other_key = app.key_for(&format!("supplier:{other}")).await;
    let gjtp = app.key_for("institute:GJTP").await;
    let keti = app.key_for("institute:KETI").await;

    // A company registers its own staff, not another's.
    app.post(
        "/v1/training/trainees",
        &company_key,
        json!({"name": "x", "ageBand": "YOUNG", "email": "x@example.kr", "supplierId": other}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let mine = centre
        .trainee(&company_key, "김민수", "1999-09-09", &company)
        .await;
    let path = format!("/v1/training/trainees/{mine}");
    assert_eq!(app.get(&path, &company_key).await.status, 200);
    app.get(&path, &other_key)
        .await
        .assert_problem(404, "NOT_FOUND");
    // An institute sees a trainee only once in a cohort it teaches.
    app.get(&path, &gjtp).await.assert_problem(404, "NOT_FOUND");
    // Another company cannot enrol or cancel this trainee.
    let r = centre.enrol(&other_key, &mine, &cohort).await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    let e = centre.enrol(&company_key, &mine, &cohort).await;
    assert_eq!(status_of(&e), "CONFIRMED", "{}", e.text);
    let enrolment = format!(
        "/v1/training/enrollments/{}",
        e.body["id"].as_str().expect("id")
    );
    assert_eq!(
        app.get(&path, &gjtp).await.status,
        200,
        "the teaching institute"
    );
    app.get(&path, &keti).await.assert_problem(404, "NOT_FOUND");
    assert_eq!(app.get(&enrolment, &gjtp).await.status, 200);
    app.get(&enrolment, &keti)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get(&enrolment, &other_key)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.post(&format!("{enrolment}:cancel"), &other_key, json!({}))
        .await
        .assert_problem(404, "NOT_FOUND");
    app.post(&format!("{enrolment}:cancel"), &gjtp, json!({}))
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    // Lists are narrowed the same way.
    let theirs = app.get("/v1/training/trainees", &other_key).await;
    assert_eq!(theirs.body["trainees"], json!([]));
    let taught = app.get("/v1/training/enrollments", &gjtp).await;
    assert_eq!(taught.body["enrollments"].as_array().map(Vec::len), Some(1));
    let none = app.get("/v1/training/enrollments", &keti).await;
    assert_eq!(none.body["enrollments"], json!([]));
    // The catalogue is written by operators; cohorts by operators and the
    // teaching institute, not another.
    app.post(
        "/v1/training/courses",
        &gjtp,
        json!({"code": "X-1", "titleKo": "x", "track": "ADAS_SOFTWARE", "level": "ADVANCED",
               "hours": 1, "institute": "GJTP"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let cohort_body = json!({
        "courseId": course, "startDate": "2027-05-03", "endDate": "2027-05-07", "online": true,
        "capacity": 5, "enrollmentOpensTime": "2026-11-01T00:00:00Z",
        "enrollmentClosesTime": "2026-12-31T00:00:00Z",
    });
    app.post("/v1/training/cohorts", &keti, cohort_body.clone())
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let own = centre.ok("/v1/training/cohorts", &gjtp, cohort_body).await;
    app.post(
        &format!(
            "/v1/training/cohorts/{}:transition",
            own["id"].as_str().expect("id")
        ),
        &keti,
        json!({"status": "ENROLLING"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    // Nor does another institute see it; a company does.
    let own_path = format!("/v1/training/cohorts/{}", own["id"].as_str().expect("id"));
    app.get(&own_path, &keti)
        .await
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(app.get(&own_path, &company_key).await.status, 200);
    let listed = app.get("/v1/training/cohorts", &keti).await;
    assert_eq!(listed.body["cohorts"], json!([]));
    // A draft course is no one's business but its makers'.
    let draft = centre
        .ok(
            "/v1/training/courses",
            &op,
            json!({"code": "DRAFT-1", "titleKo": "초안", "track": "ADAS_SOFTWARE",
                   "level": "ADVANCED", "hours": 8, "institute": "KETI"}),
        )
        .await;
    let draft_path = format!("/v1/training/courses/{}", draft["id"].as_str().expect("id"));
    app.get(&draft_path, &company_key)
        .await
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(
        app.get(&draft_path, &keti).await.status,
        200,
        "its institute"
    );
    let catalogue = app.get("/v1/training/courses", &company_key).await;
    let codes: Vec<&str> = catalogue.body["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .map(|c| c["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["BAT-101"]);
}

/// The published catalogue is read without an API key, and it is the only
/// thing that is: every other operation of the document answers 401
/// without one, and the document marks exactly the public ones as needing
/// no key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_published_catalogue_answers_without_a_key() {
    use reqwest::Method;
    let centre = Centre::open(Engine::Sqlite).await;
    let app = &centre.app;
    let course = centre.course("BAT-101", &[]).await;
    let draft = centre
        .ok(
            "/v1/training/courses",
            &app.admin_key,
            json!({"code": "DRAFT-1", "titleKo": "초안", "track": "ADAS_SOFTWARE",
                   "level": "ADVANCED", "hours": 8, "institute": "KETI"}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let anonymous = |method: Method, path: String| {
        let rb = app.request(method, &path, None);
        TestApp::send(rb)
    };
    let catalogue = anonymous(Method::GET, "/v1/training/courses".into()).await;
    assert_eq!(catalogue.status, 200, "{}", catalogue.text);
    assert_eq!(catalogue.body["courses"][0]["id"], json!(course));
    assert_eq!(catalogue.body["courses"].as_array().map(Vec::len), Some(1));
    let one = anonymous(Method::GET, format!("/v1/training/courses/{course}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    anonymous(Method::GET, format!("/v1/training/courses/{draft}"))
        .await
        .assert_problem(404, "NOT_FOUND");
    // A key that is sent is checked, and its view applies.
    let bad = app
        .get(&format!("/v1/training/courses/{draft}"), "gsk_not_a_key")
        .await;
    assert_eq!(bad.status, 401, "{}", bad.text);
    assert_eq!(
        app.get(&format!("/v1/training/courses/{draft}"), &app.admin_key)
            .await
            .status,
        200
    );

    let doc = app.openapi().await;
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            // Any value will do for a path variable: the key is asked for first.
            let concrete = path
                .split('/')
                .map(|seg| match seg.split_once('}') {
                    Some((_, rest)) if seg.starts_with('{') => format!("x{rest}"),
                    _ => seg.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = Centre::send_json(app, m, &concrete).await;
            if op.get("security") == Some(&json!([])) {
                public.push(id.clone());
                assert_ne!(r.status, 401, "{id} is public: {}", r.text);
            } else {
                assert_eq!(
                    r.status, 401,
                    "{method} {concrete} ({id}) answered without a key"
                );
            }
        }
    }
    public.sort();
    assert_eq!(public, ["GetCertificate", "GetCourse", "ListCourses"]);
}

impl Centre {
    /// A request without a key (with an empty JSON body where one goes).
    async fn send_json(app: &TestApp, method: reqwest::Method, path: &str) -> Reply {
        let mut rb = app.request(method.clone(), path, None);
        if method != reqwest::Method::GET {
            rb = rb.json(&json!({}));
        }
        TestApp::send(rb).await
    }
}

async fn attendance_completion_and_certificates(engine: Engine) {
    let centre = Centre::open(engine).await;
    let app = &centre.app;
    let op = app.admin_key.clone();
    let gjtp = app.key_for("institute:GJTP").await;
    let keti = app.key_for("institute:KETI").await;
    let company = centre.verified_company(1).await;
    let company_key = app.key_for(&format!("supplier:{company}")).await;
    let course = centre.course("BAT-101", &[]).await;
    // Ten weekdays, 4 to 15 January 2027.
    let cohort = centre.cohort(&course, 5, json!({})).await;
    let mut enrolments = Vec::new();
    for name in ["all days", "eight days", "seven days", "never came"] {
        let t = centre
            .trainee(&company_key, name, "1999-01-01", &company)
            .await;
        let e = centre.enrol(&company_key, &t, &cohort).await;
        assert_eq!(status_of(&e), "CONFIRMED", "{}", e.text);
        enrolments.push(e.body["id"].as_str().expect("id").to_string());
    }
    let days: Vec<String> = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await
        .body["sessionDays"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d.as_str().unwrap_or_default().to_string())
        .collect();
    let attend = |enrolment: &str, day: &str, present: bool| {
        let path = format!("/v1/training/enrollments/{enrolment}/attendance");
        let body = json!({"sessionDay": day, "present": present});
        let key = gjtp.clone();
        async move { app.post(&path, &key, body).await }
    };
    // Not before the cohort runs.
    attend(&enrolments[0], &days[0], true)
        .await
        .assert_problem(409, "INVALID_TRANSITION");
    centre
        .ok(
            &format!("/v1/training/cohorts/{cohort}:transition"),
            &gjtp,
            json!({"status": "RUNNING"}),
        )
        .await;
    // Only the teaching institute (or an operator) records; only session days.
    app.post(
        &format!("/v1/training/enrollments/{}/attendance", enrolments[0]),
        &keti,
        json!({"sessionDay": days[0], "present": true}),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
    app.post(
        &format!("/v1/training/enrollments/{}/attendance", enrolments[0]),
        &company_key,
        json!({"sessionDay": days[0], "present": true}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let r = attend(&enrolments[0], "2027-01-09", true).await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["record.sessionDay"]);
    for (e, attended) in enrolments.iter().zip([10, 8, 7, 0]) {
        for (i, day) in days.iter().enumerate() {
            let r = attend(e, day, i < attended).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    centre
        .ok(
            &format!("/v1/training/cohorts/{cohort}:transition"),
            &gjtp,
            json!({"status": "FINISHED"}),
        )
        .await;
    let mut outcomes = Vec::new();
    for e in &enrolments {
        let got = app
            .get(&format!("/v1/training/enrollments/{e}"), &company_key)
            .await;
        outcomes.push((
            status_of(&got),
            got.body["attendancePercent"].as_i64().unwrap_or(-1),
            got.body["certificateId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ));
    }
    let statuses: Vec<(&str, i64)> = outcomes.iter().map(|(s, p, _)| (s.as_str(), *p)).collect();
    assert_eq!(
        statuses,
        [
            ("COMPLETED", 100),
            ("COMPLETED", 80),
            ("INCOMPLETE", 70),
            ("NO_SHOW", 0)
        ]
    );
    assert!(outcomes[0].2.starts_with("crt_") && outcomes[0].2.len() == 36);
    assert!(outcomes[2].2.is_empty() && outcomes[3].2.is_empty());

    // Anyone verifies a certificate without a key: the name, course,
    // dates, hours and institute, nothing else.
    let verify = |id: String| {
        let rb = app.request(
            reqwest::Method::GET,
            &format!("/v1/training/certificates/{id}"),
            None,
        );
        TestApp::send(rb)
    };
    let cert = verify(outcomes[1].2.clone()).await;
    assert_eq!(cert.status, 200, "{}", cert.text);
    assert_eq!(cert.body["traineeName"], "eight days");
    assert_eq!(cert.body["courseCode"], "BAT-101");
    assert_eq!(cert.body["hours"], 24);
    assert_eq!(cert.body["institute"], "GJTP");
    assert_eq!(cert.body["startDate"], "2027-01-04");
    assert_eq!(cert.body["revoked"], false);
    for personal in ["t@example.kr", "1999-01-01", &company] {
        assert!(!cert.text.contains(personal), "{personal}: {}", cert.text);
    }
    verify(format!("crt_{}", "A".repeat(32)))
        .await
        .assert_problem(404, "NOT_FOUND");

    // A correction (a new record; the old one stays) drops "eight days" to
    // 70 %: the course is incomplete and the certificate revoked.
    let fix = app
        .post(
            &format!("/v1/training/enrollments/{}/attendance", enrolments[1]),
            &gjtp,
            json!({"sessionDay": days[0], "present": false, "note": "signed in for a colleague"}),
        )
        .await;
    assert_eq!(fix.status, 200, "{}", fix.text);
    let after = app
        .get(&format!("/v1/training/enrollments/{}", enrolments[1]), &op)
        .await;
    assert_eq!(status_of(&after), "INCOMPLETE");
    let cert = verify(outcomes[1].2.clone()).await;
    assert_eq!(cert.body["revoked"], true);
    assert!(
        cert.body["revokeReason"]
            .as_str()
            .unwrap_or_default()
            .contains("70 %")
    );
    let records = app
        .get(
            &format!("/v1/training/enrollments/{}/attendance", enrolments[1]),
            &company_key,
        )
        .await;
    assert_eq!(
        records.body["records"].as_array().map(Vec::len),
        Some(11),
        "append-only"
    );
    // Corrected back: completed again, with a new certificate.
    app.post(
        &format!("/v1/training/enrollments/{}/attendance", enrolments[1]),
        &gjtp,
        json!({"sessionDay": days[0], "present": true}),
    )
    .await;
    let again = app
        .get(&format!("/v1/training/enrollments/{}", enrolments[1]), &op)
        .await;
    assert_eq!(status_of(&again), "COMPLETED");
    let new_cert = again.body["certificateId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!new_cert.is_empty() && new_cert != outcomes[1].2);

    // An operator revokes a certificate, with a reason; it shows.
    app.post(
        &format!("/v1/training/certificates/{}:revoke", outcomes[0].2),
        &gjtp,
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "PERMISSION_DENIED");
    let revoked = centre
        .ok(
            &format!("/v1/training/certificates/{}:revoke", outcomes[0].2),
            &op,
            json!({"reason": "issued to the wrong person"}),
        )
        .await;
    assert_eq!(revoked["revoked"], true);
    assert_eq!(
        verify(outcomes[0].2.clone()).await.body["revokeReason"],
        "issued to the wrong person"
    );

    // The trail: each step an event.
    let trail = app
        .get(
            &format!("/v1/training/enrollments/{}/events", enrolments[1]),
            &op,
        )
        .await;
    let types: Vec<&str> = trail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .filter(|t| *t != "enrollment.attendance_recorded")
        .collect();
    assert_eq!(
        types,
        [
            "enrollment.confirmed",
            "enrollment.completed",
            "enrollment.certificate_revoked",
            "enrollment.incomplete",
            "enrollment.completed",
        ]
    );

    // The figures.
    app.get("/v1/training/stats", &company_key)
        .await
        .assert_problem(403, "PERMISSION_DENIED");
    let stats = app.get("/v1/training/stats", &op).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let s = &stats.body;
    assert_eq!(
        s["seats"],
        json!([{"track": "BATTERY_SYSTEMS", "quarter": "2027-Q1", "cohorts": "1",
                "offered": "5", "filled": "4", "waitlisted": "0"}])
    );
    assert_eq!(s["completionRate"], 0.5);
    assert_eq!(s["youngCompleted"], "2");
    assert_eq!(s["youngEnrolled"], "4");
    assert_eq!(
        s["bySupplier"],
        json!([{"supplierId": company, "trainees": "4"}])
    );
    assert_eq!(
        s["byPartsGroup"],
        json!([{"partsGroup": "THERMAL_MANAGEMENT", "trainees": "4"}])
    );

    // Each completion reached the company's transition record in the
    // registry (by the sweep), and so did each revocation: three
    // certificates, one still valid.
    let evidence_path = format!("/v1/suppliers/{company}/trainingEvidence");
    let mut seen = Value::Null;
    for _ in 0..200 {
        seen = app.get(&evidence_path, &company_key).await.body;
        let list = seen["evidence"].as_array().cloned().unwrap_or_default();
        let valid: Vec<&Value> = list.iter().filter(|e| e["revoked"] == false).collect();
        if list.len() == 3 && valid.len() == 1 {
            assert_eq!(valid[0]["certificateId"], json!(new_cert));
            assert_eq!(valid[0]["courseCode"], "BAT-101");
            assert_eq!(valid[0]["hours"], 24);
            assert_eq!(valid[0]["completionDate"], "2027-01-15");
            let other = centre.verified_company(77).await;
            let other_key = app.key_for(&format!("supplier:{other}")).await;
            app.get(&evidence_path, &other_key)
                .await
                .assert_problem(404, "NOT_FOUND");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the registry never had the evidence: {seen}");
}

/// A cohort that offers freed seats for 24 hours: the first in line is
/// offered the seat, lets it lapse, and the sweep (in two replicas on one
/// database) records the lapse once and offers the seat to the next, who
/// accepts. The clock is moved, never waited for.
async fn offers_lapse_and_pass_on_with_two_replicas_sweeping(engine: Engine) {
    let centre = Centre::open(engine).await;
    let app = &centre.app;
    let op = app.admin_key.clone();
    let course = centre.course("BAT-101", &[]).await;
    let bad = app
        .post(
            "/v1/training/cohorts",
            &op,
            json!({"courseId": course, "startDate": "2027-01-04", "endDate": "2027-01-15",
                   "online": true, "capacity": 1, "offerHours": 400,
                   "enrollmentOpensTime": "2026-11-01T00:00:00Z",
                   "enrollmentClosesTime": "2026-12-31T00:00:00Z"}),
        )
        .await;
    assert_eq!(bad.violation_fields(), ["cohort.offerHours"]);
    let cohort = centre.cohort(&course, 1, json!({"offerHours": 24})).await;
    let mut ids = Vec::new();
    for name in ["holder", "first", "second"] {
        let t = centre.trainee(&op, name, "1990-01-01", "").await;
        let e = centre.enrol(&op, &t, &cohort).await;
        ids.push(e.body["id"].as_str().expect("id").to_string());
    }
    // The second replica: the training target alone, on the same database.
    let mut args = centre.args.clone();
    args.common.target = vec![gearshift::Target::Training];
    args.training.listen = "127.0.0.1:0".parse().expect("addr");
    args.training.sweep_interval = std::time::Duration::from_millis(20);
    args.registry.addr = format!("http://{}", app.registry_addr);
    let (clock, time) = Clock::manual(NOW.parse().expect("time"));
    let replica = gearshift::Platform::build_with_clock(&args, clock)
        .await
        .expect("the replica builds");
    let stop = gearshift_platform::shutdown::Shutdown::new();
    let running = tokio::spawn(replica.run(stop.clone()));

    // The holder leaves: the seat is offered, not given.
    centre
        .ok(
            &format!("/v1/training/enrollments/{}:cancel", ids[0]),
            &op,
            json!({}),
        )
        .await;
    let offered = app
        .get(&format!("/v1/training/enrollments/{}", ids[1]), &op)
        .await;
    assert_eq!(status_of(&offered), "OFFERED");
    assert_eq!(offered.body["offerExpireTime"], "2026-11-26T01:00:00Z");
    let c = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(
        (c.body["seatsTaken"].clone(), c.body["waitlisted"].clone()),
        (json!(1), json!(1))
    );

    // A day and a minute later, on both replicas' clocks.
    let later = jiff::SignedDuration::from_mins(24 * 60 + 1);
    time.advance(later);
    centre.time.advance(later);
    centre.until(&ids[1], "OFFER_EXPIRED").await;
    centre.until(&ids[2], "OFFERED").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lapses = centre
        .event_types(&ids[1])
        .await
        .iter()
        .filter(|t| *t == "enrollment.offer_expired")
        .count();
    assert_eq!(lapses, 1, "one lapse, whichever replica saw it");
    let offers = centre
        .event_types(&ids[2])
        .await
        .iter()
        .filter(|t| *t == "enrollment.offered")
        .count();
    assert_eq!(offers, 1);
    app.post(
        &format!("/v1/training/enrollments/{}:accept", ids[1]),
        &op,
        json!({}),
    )
    .await
    .assert_problem(409, "INVALID_TRANSITION");
    let accepted = centre
        .ok(
            &format!("/v1/training/enrollments/{}:accept", ids[2]),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(accepted["status"], "CONFIRMED");
    let c = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(
        (c.body["seatsTaken"].clone(), c.body["waitlisted"].clone()),
        (json!(1), json!(0))
    );
    stop.trigger();
    running
        .await
        .expect("joins")
        .expect("the replica stops cleanly");
}

/// The registry goes away: registering a company's employee and enrolling
/// one are 503s naming the registry, with nothing written (no trainee, no
/// enrolment, no seat taken); once it is back, both go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_registry_down_nothing_is_half_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut registry_args = test_args(Engine::Sqlite, dir.path()).await;
    registry_args.common.target = vec![gearshift::Target::Registry];
    let registry = gearshift::Platform::build(&registry_args)
        .await
        .expect("registry builds");
    let relay = Relay::start(registry.registry_addr().expect("registry")).await;
    let stop_registry = gearshift_platform::shutdown::Shutdown::new();
    let _registry = tokio::spawn(registry.run(stop_registry.clone()));
    let mut args = registry_args.clone();
    args.common.target = vec![gearshift::Target::Training, gearshift::Target::Gateway];
    args.registry.addr = format!("http://{}", relay.addr);
    let (clock, time) = Clock::manual(NOW.parse().expect("time"));
    let app = spawn_with_clock(args.clone(), tempfile::tempdir().expect("temp dir"), clock).await;
    let centre = Centre { app, time, args };
    let app = &centre.app;
    let op = app.admin_key.clone();
    let company = centre.verified_company(5).await;
    let course = centre.course("BAT-101", &[]).await;
    let cohort = centre.cohort(&course, 3, json!({})).await;
    let employee = centre.trainee(&op, "직원", "1990-01-01", &company).await;

    relay.cut();
    let r = app
        .post(
            "/v1/training/trainees",
            &op,
            json!({"name": "신입", "ageBand": "YOUNG", "email": "n@example.kr", "supplierId": company}),
        )
        .await;
    r.assert_problem(503, "UNAVAILABLE");
    assert!(r.text.contains("registry"), "{}", r.text);
    let r = centre.enrol(&op, &employee, &cohort).await;
    r.assert_problem(503, "UNAVAILABLE");
    assert!(r.text.contains("registry"), "{}", r.text);
    let trainees = app.get("/v1/training/trainees", &op).await;
    assert_eq!(trainees.body["trainees"].as_array().map(Vec::len), Some(1));
    let enrolments = app.get("/v1/training/enrollments", &op).await;
    assert_eq!(enrolments.body["enrollments"], json!([]));
    let c = app
        .get(&format!("/v1/training/cohorts/{cohort}"), &op)
        .await;
    assert_eq!(c.body["seatsTaken"], 0);

    relay.restore().await;
    assert_eq!(
        status_of(&centre.enrol(&op, &employee, &cohort).await),
        "CONFIRMED"
    );
    stop_registry.trigger();
}

/// Called directly over gRPC, as another service would: no principal is
/// UNAUTHENTICATED (public reads are the gateway's to open), and a company
/// principal enrols its own staff only.
async fn over_grpc_the_principal_is_checked_where_the_seats_are(engine: Engine) {
    use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
    use gearshift_platform::{Principal, Role};
    use gearshift_proto::training::v1 as pb;
    use pb::training_client::TrainingClient;

    fn signed<T>(key: &PrincipalKey, role: Role, message: T) -> tonic::Request<T> {
        let token = key.sign(&Principal {
            subject: "key_direct".into(),
            role,
        });
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert(METADATA_KEY, token.parse().expect("ascii"));
        request
    }
    let centre = Centre::open(engine).await;
    let op = centre.app.admin_key.clone();
    let addr = centre
        .app
        .training_addr
        .expect("training runs in the test platform");
    let mut client = TrainingClient::connect(format!("http://{addr}"))
        .await
        .expect("connects");
    let key = PrincipalKey::load_or_create(None, &centre.app.data_dir).expect("key");
    let anonymous = client
        .list_courses(pb::ListCoursesRequest::default())
        .await
        .expect_err("no principal");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let course = centre.course("BAT-101", &[]).await;
    let cohort = centre.cohort(&course, 2, json!({})).await;
    let company = centre.verified_company(1).await;
    let other = centre.verified_company(2).await;
    let theirs = centre.trainee(&op, "남의 직원", "1990-01-01", &other).await;
    let mine = client
        .create_trainee(signed(
            &key,
            Role::Supplier(company.clone()),
            pb::CreateTraineeRequest {
                trainee: Some(pb::Trainee {
                    name: "우리 직원".into(),
                    age_band: pb::trainee::AgeBand::Young as i32,
                    email: "w@example.kr".into(),
                    supplier_id: company.clone(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("the company registers its employee")
        .into_inner();
    let enrol = |trainee: &str| pb::CreateEnrollmentRequest {
        enrollment: Some(pb::Enrollment {
            trainee_id: trainee.to_string(),
            cohort_id: cohort.clone(),
            ..Default::default()
        }),
    };
    let refused = client
        .create_enrollment(signed(
            &key,
            Role::Supplier(company.clone()),
            enrol(&theirs),
        ))
        .await
        .expect_err("another company's employee");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let confirmed = client
        .create_enrollment(signed(
            &key,
            Role::Supplier(company.clone()),
            enrol(&mine.id),
        ))
        .await
        .expect("its own")
        .into_inner();
    assert_eq!(confirmed.status, pb::enrollment::Status::Confirmed as i32);
    assert!(confirmed.young);
}
